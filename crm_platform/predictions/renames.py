"""A rename of an object or a field, applied to the predictions that name it (and so the
where-used list, which refuses to delete a field a prediction reads or writes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.expressions import ExpressionError
from crm_platform.expressions.rename import rename_paths
from crm_platform.metadata.renames import RenameContext

EXPRESSIONS = ("training", "target", "scoring")
FIELDS = ("score_field", "factors_field")


def rename_prediction(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """The prediction with the rename applied, and the places it changed."""
    del comp
    start = definition["object"]
    out: dict[str, Any] = dict(definition)
    places: list[str] = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    if ctx.rename.kind != "field":
        return out, places

    def expression(source: str) -> str:
        try:
            return rename_paths(source, lambda p: ctx.rename_path(start, p))
        except ExpressionError:
            return source  # names nothing; its own check reports it

    for key in FIELDS:
        if definition.get(key) and ctx.is_renamed_field(start, definition[key]):
            out[key] = ctx.field_name(start, definition[key])
            places.append(key)
    for key in EXPRESSIONS:
        new = expression(definition[key])
        if new != definition[key]:
            out[key] = new
            places.append(key)
    features = [expression(f) for f in definition["features"]]
    for index, (old, new) in enumerate(zip(definition["features"], features, strict=True)):
        if old != new:
            places.append(f"features[{index}]")
    out["features"] = features
    return out, places
