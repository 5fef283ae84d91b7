"""``GET /api/v1/openapi.json``: the document as the metadata is *now*, cached per version.

It is built once per metadata version and audience and kept in a cache object in
``app.extensions`` (never a module global): adding a field moves the version, so
the next fetch describes it. The document describes what the caller may read: a user
who does not administer the org gets the objects and fields their permissions show
(``runtime.security.setup_view``), so it names no hidden field; users with the same
access share one cached document.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, current_app, request

from crm_platform.api.auth import current_access, current_org
from crm_platform.api.languages import document_language, fixed_chooser
from crm_platform.api.metadata_api import VERSION_HEADER
from crm_platform.metadata import KindRegistry, label_languages
from crm_platform.runtime import OrgModel
from crm_platform.runtime.security import setup_view

from .components import JSON, error_responses
from .document import build_openapi

bp = Blueprint("openapi", __name__)

EXTENSION = "crm_openapi"
MAX_AUDIENCES = 64  # documents kept per metadata version (one per distinct access)


class DocumentCache:
    """Serialised documents of the newest metadata version seen, per server URL, kinds and
    language, and the languages that version's labels are written in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._documents: dict[tuple[Any, ...], bytes] = {}
        self._languages: frozenset[str] | None = None  # of ``_version``, once found

    def languages(self, model: OrgModel) -> frozenset[str]:
        """The languages of the model's labels (found once per version: a request's cost
        must not grow with the number of fields)."""
        with self._lock:
            if self._version == model.version and self._languages is not None:
                return self._languages
        definitions = [
            {**obj.definition, "fields": [f.definition for f in obj.fields.values()]}
            for obj in model.objects.values()
        ]
        found = frozenset(label_languages(definitions))
        with self._lock:
            self._start(model.version)
            if model.version == self._version:
                self._languages = found
        return found

    def get(
        self,
        model: OrgModel,
        server_url: str,
        dumps: Callable[[Any], str],
        registry: KindRegistry | None = None,
        language: str = "en",
        audience: tuple[Any, ...] = ("all",),
        shown: Callable[[], OrgModel] | None = None,
    ) -> bytes:
        """The document for ``model`` in ``language`` (else the org's default language),
        built (outside the lock) only when not cached yet.

        ``audience`` names what the caller may read (``setup_view.audience_key``) and
        ``shown()`` gives the model as they may see it (``model`` itself by default).
        """
        key = (
            server_url,
            tuple(registry.kinds) if registry is not None else (),
            language,
            audience,
        )
        with self._lock:
            if self._version == model.version and key in self._documents:
                return self._documents[key]
        seen = shown() if shown is not None else model
        labels = fixed_chooser(language, model.default_language)
        body = dumps(build_openapi(seen, server_url, registry, labels=labels)).encode("utf-8")
        with self._lock:
            self._start(model.version)
            if model.version == self._version:
                if len(self._documents) >= MAX_AUDIENCES:
                    self._documents.clear()
                self._documents[key] = body
        return body

    def _start(self, version: int) -> None:
        """Forget an older version's documents (under the lock)."""
        if self._version is None or version > self._version:
            self._version, self._documents, self._languages = version, {}, None


@bp.record_once
def _install_cache(state: Any) -> None:
    state.app.extensions.setdefault(EXTENSION, DocumentCache())


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document for the metadata version this request sees."""
    org = current_org()
    access = current_access()
    model = access.model  # the version the request's authentication read
    server_url = request.script_root + request.path.removesuffix("/openapi.json")
    cache: DocumentCache = current_app.extensions[EXTENSION]
    language = document_language(cache.languages(model), model.default_language)
    audience = setup_view.audience_key(model, access)
    body = cache.get(
        model,
        server_url,
        current_app.json.dumps,
        org.registry,
        language,
        audience,
        lambda: setup_view.visible_model(model, access),
    )
    response = Response(body, mimetype=JSON)
    response.headers[VERSION_HEADER] = str(model.version)
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    tag = f"metadata-{model.version}-{language}"
    response.set_etag(tag if audience == ("all",) else f"{tag}-{_digest(audience)}")
    return response.make_conditional(request)


def _digest(audience: tuple[Any, ...]) -> str:
    """A short stable digest of an audience key, for the ETag (documents differ per access)."""
    return hashlib.sha256(repr(audience).encode()).hexdigest()[:16]


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """This endpoint."""
    del model, registry  # the same for every model
    spec.tag({"name": "openapi", "description": "This document."})
    spec.path(
        "/openapi.json",
        operations={
            "get": {
                "operationId": "openapi_document",
                "summary": "This OpenAPI document, for the metadata as it is now",
                "tags": ["openapi"],
                "parameters": [
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "description": "The ETag of a copy you have.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "Accept-Language",
                        "in": "header",
                        "description": "The language of titles taken from labels: the best "
                        "match among the languages the org's labels use, else the org's "
                        "default language.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The document",
                        "headers": {
                            VERSION_HEADER: "MetadataVersion",
                            "ETag": {
                                "description": "Changes with the metadata version and the "
                                "document's language.",
                                "schema": {"type": "string"},
                            },
                            "Content-Language": {
                                "description": "The document's language.",
                                "schema": {"type": "string"},
                            },
                        },
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    "304": {"description": "Your copy is current"},
                    **error_responses("Unauthorized"),
                },
            }
        },
    )
