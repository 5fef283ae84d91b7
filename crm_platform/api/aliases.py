"""Old names after a rename: the record API still answers to them, deprecated.

After an object or a field is renamed, requests that use the old name (in the
URL, in ``fields=``, ``where=``, ``order_by=``, ``group_by=``, ``metrics=`` or as
body keys) are translated to the new name and answered with a ``Deprecation``
header (RFC 9745: the time of the rename) and ``Link: <new>; rel="successor-version"``.
The old name works until the component is renamed again, the name is taken by
another object or field, or the alias is removed (``DELETE .../aliases/<old>``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, g, request

from crm_platform.expressions import ExpressionError
from crm_platform.expressions.rename import rename_paths
from crm_platform.fieldtypes import split_step
from crm_platform.runtime import ObjectModel, OrgModel

_METRIC = re.compile(r"^\s*(\w+)\s*\(\s*([\w.]+)\s*\)\s*$")


def _note(since: str, successor: str) -> None:
    g.setdefault("crm_deprecations", []).append((since, successor))


def object_name(model: OrgModel, name: str, path: str | None = None) -> str:
    """The current name of object ``name`` (itself, unless it is an old name); ``path``
    is the record URL that named it (the request's by default)."""
    if name in model.objects or name not in model.object_aliases:
        return name
    new, since = model.object_aliases[name]
    prefix = "/api/v1/records/"
    path = path or request.path
    successor = prefix + new + path[len(prefix) + len(name) :] if path.startswith(prefix) else path
    _note(since, successor)
    return new


_RECORD_URL = re.compile(r"^/records/(?P<object>[a-z0-9_]+)(?P<rest>/.*)?$")


def operation(model: OrgModel, op: Any) -> Any:
    """A composite operation with old object and field names in its url and body replaced."""
    match = _RECORD_URL.match(op.url) if isinstance(op.url, str) else None
    if match is None:
        return op
    name = object_name(model, match["object"], "/api/v1" + op.url)
    obj = model.object(name)
    rest = match["rest"] or ""
    if obj is not None and rest.startswith("/by/"):
        _by, field, *value = rest[1:].split("/")
        rest = "/".join(["", "by", dotted(model, obj, field), *value])
    data = body(model, obj, op.body) if obj is not None else op.body
    return dataclasses.replace(op, url=f"/records/{name}{rest}", body=data)


def field_path(model: OrgModel, obj: ObjectModel, path: tuple[str, ...]) -> tuple[str, ...]:
    """A dotted field path with old names replaced, following lookups: old field names,
    and in a step narrowing a polymorphic lookup (``related_to[account]``) the old name
    of the object it narrows to."""
    out = []
    current: ObjectModel | None = obj
    for step in path:
        name, narrowed = split_step(step)
        if current is not None and name not in current.fields and name in current.field_aliases:
            new, since = current.field_aliases[name]
            _note(since, f"/api/v1/metadata/objects/{current.api_name}/fields/{new}")
            name = new
        if narrowed in model.object_aliases and narrowed not in model.objects:
            narrowed, since = model.object_aliases[narrowed]
            _note(since, f"/api/v1/metadata/objects/{narrowed}")
        out.append(name if narrowed is None else f"{name}[{narrowed}]")
        field = current.fields.get(name) if current is not None else None
        target = _target(field.definition, narrowed) if field is not None else None
        current = model.object(target) if isinstance(target, str) else None
    return tuple(out)


def _target(definition: Mapping[str, Any], narrowed: str | None) -> str | None:
    if narrowed is not None:
        return narrowed if narrowed in definition.get("targets", ()) else None
    return definition.get("target")


def _has_aliases(model: OrgModel) -> bool:
    return bool(model.object_aliases) or any(o.field_aliases for o in model.objects.values())


def dotted(model: OrgModel, obj: ObjectModel, text: str) -> str:
    """``fields=``/``group_by=`` items and sort keys (``-name``)."""
    if not _has_aliases(model):
        return text
    sign = "-" if text.startswith("-") else ""
    parts = tuple(text.removeprefix("-").strip().split("."))
    return sign + ".".join(field_path(model, obj, parts))


def expression(model: OrgModel, obj: ObjectModel, source: str | None) -> str | None:
    """A ``where=`` expression with old field names replaced (through its syntax tree)."""
    if not source or not _has_aliases(model):
        return source
    try:
        return rename_paths(source, lambda path: field_path(model, obj, path))
    except ExpressionError:
        return source  # the record service reports the error, naming the position


def metric(model: OrgModel, obj: ObjectModel, text: str) -> str:
    match = _METRIC.match(text)
    if not match:
        return text
    return f"{match.group(1)}({dotted(model, obj, match.group(2))})"


def body(model: OrgModel, obj: ObjectModel, data: Any) -> Any:
    """A record body with old field names as keys replaced."""
    if not isinstance(data, Mapping) or not obj.field_aliases:
        return data
    return {field_path(model, obj, (key,))[0]: value for key, value in data.items()}


def add_deprecation_headers(response: Response) -> Response:
    """``Deprecation`` and ``Link`` headers when the request used an old name."""
    notes = g.pop("crm_deprecations", None)
    if not notes:
        return response
    since = min(datetime.fromisoformat(s) for s, _ in notes)
    response.headers["Deprecation"] = f"@{int(since.timestamp())}"
    links = dict.fromkeys(successor for _, successor in notes)
    response.headers["Link"] = ", ".join(f'<{url}>; rel="successor-version"' for url in links)
    return response
