"""The OpenAPI 3.1 document of /api/v1: the common parts, then what each area describes.

Each area of the API (``api/areas.py``) is a blueprint with the function that
describes its endpoints, kept beside its views; the records area describes one
set of endpoints and schemas per object. apispec assembles the document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from apispec import APISpec

from crm_platform.metadata import Chooser, KindRegistry, build_registry
from crm_platform.runtime import OrgModel

from .components import add_common_components
from .objects import DOCUMENT_LABELS

OPENAPI_VERSION = "3.1.0"

Describe = Callable[[APISpec, OrgModel, KindRegistry], None]
"""Adds an area's tags, schemas and paths to the spec, for one compiled model and the
metadata kinds the server knows."""


def build_openapi(
    model: OrgModel,
    server_url: str = "/api/v1",
    registry: KindRegistry | None = None,
    describers: Sequence[Describe] | None = None,
    labels: Chooser | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API for one compiled model (a plain JSON-ready dict).

    ``registry`` holds the metadata kinds the server knows (the org's); by default
    the kinds the metadata package defines. ``describers`` are the areas' (by
    default every area the API serves, in order). ``labels`` picks the language of
    the titles and descriptions taken from labels (English by default).
    """
    token = DOCUMENT_LABELS.set(labels)
    try:
        return _build(model, server_url, registry, describers)
    finally:
        DOCUMENT_LABELS.reset(token)


def _build(
    model: OrgModel,
    server_url: str,
    registry: KindRegistry | None,
    describers: Sequence[Describe] | None,
) -> dict[str, Any]:
    registry = registry if registry is not None else build_registry()
    if describers is None:
        # Imported here, not above: the areas' modules import this package's parts.
        from crm_platform.api.areas import AREAS

        describers = [area.describe for area in AREAS]
    spec = APISpec(
        title="CRM platform API",
        version=f"1.0.0+metadata.{model.version}",
        openapi_version=OPENAPI_VERSION,
        info={
            "description": (
                "The REST API of this org, generated from its metadata: every object has "
                "record endpoints under /records/<object>. Errors are application/problem+json "
                "(RFC 9457). Decimal values are exact: they are written from decimals, never "
                "from floating point, and may be sent as JSON numbers or numeric strings."
            ),
            "x-metadata-version": model.version,
        },
        servers=[{"url": server_url}],
        security=[{"bearer": []}],
    )
    # Operation ids never collide: a record operation is `<verb>_<object>` (`__` before
    # what follows the object, and API names never hold `__`); the others are one word or
    # start with `metadata_`, `directory_` or `audit_`, which no record verb is.
    add_common_components(spec)
    for describe in describers:
        describe(spec, model, registry)
    return spec.to_dict()
