"""What layouts, list views and apps name, for renames, the where-used list of a field
and re-validation when an object they read changes (``KindRegistry.add_paths``)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.expressions import ExpressionError, parse
from crm_platform.expressions.rename import rename_paths
from crm_platform.metadata.renames import RenameContext

from .schemas import CONDITIONS
from .shapes import HOME, split_sort

Paths = Iterator[tuple[str, tuple[str, ...]]]


def _expression_paths(source: str | None) -> frozenset[tuple[str, ...]]:
    if not source:
        return frozenset()
    try:
        return parse(source).field_paths
    except ExpressionError:
        return frozenset()


def _sections(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = list(definition.get("sections", ()))
    for tab in definition.get("tabs", ()):
        found.extend(tab["sections"])
    return found


def layout_paths(definition: Mapping[str, Any]) -> Paths:
    """Its fields and their conditions on the object, and each related list's link and
    columns on the child."""
    start = definition["object"]
    for section in _sections(definition):
        for item in section["fields"]:
            entry = {"field": item} if isinstance(item, str) else item
            yield (start, (entry["field"],))
            for condition in CONDITIONS:
                for path in _expression_paths(entry.get(condition)):
                    yield (start, path)
    for related in definition.get("related", ()):
        child, link = related["relation"].split(".", 1)
        yield (child, (link,))
        for column in related.get("columns", ()):
            yield (child, tuple(column.split(".")))
        for item in related.get("sort", ()):
            yield (child, tuple(split_sort(item)[0].split(".")))


def list_view_paths(definition: Mapping[str, Any]) -> Paths:
    start = definition["object"]
    for column in definition["columns"]:
        yield (start, tuple(column.split(".")))
    for path in _expression_paths(definition.get("filter")):
        yield (start, path)
    for item in definition.get("sort", ()):
        yield (start, tuple(split_sort(item)[0].split(".")))
    if "kanban_by" in definition:
        yield (start, (definition["kanban_by"],))


def app_references(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("object", tab) for tab in definition["tabs"] if tab != HOME]


# --- renamers ----------------------------------------------------------------------------


def _dotted(ctx: RenameContext, start: str, dotted: str) -> str:
    return ".".join(ctx.rename_path(start, tuple(dotted.split("."))))


def _sort(ctx: RenameContext, start: str, item: str) -> str:
    path, descending = split_sort(item)
    return ("-" if descending else "") + _dotted(ctx, start, path)


def _expression(ctx: RenameContext, start: str, source: str) -> str:
    if ctx.rename.kind != "field":
        return source
    try:
        return rename_paths(source, lambda path: ctx.rename_path(start, path))
    except ExpressionError:
        return source  # names nothing; its own check reports it


def rename_layout(ctx: RenameContext, comp: Any, definition: Mapping[str, Any]):
    """A rename of the layout's object, of a field it places or a condition reads, or of
    a related list's child, link or columns."""
    del comp
    out = copy.deepcopy(dict(definition))
    start = definition["object"]
    places: list[str] = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    sections = [(f"sections[{i}]", s) for i, s in enumerate(out.get("sections", ()))]
    for t, tab in enumerate(out.get("tabs", ())):
        sections += [(f"tabs[{t}].sections[{i}]", s) for i, s in enumerate(tab["sections"])]
    for prefix, section in sections:
        for index, item in enumerate(section["fields"]):
            where = f"{prefix}.fields[{index}]"
            if isinstance(item, str):
                if (new := ctx.field_name(start, item)) != item:
                    section["fields"][index] = new
                    places.append(where)
                continue
            if (new := ctx.field_name(start, item["field"])) != item["field"]:
                item["field"] = new
                places.append(f"{where}.field")
            for condition in CONDITIONS:
                if condition in item:
                    new = _expression(ctx, start, item[condition])
                    if new != item[condition]:
                        item[condition] = new
                        places.append(f"{where}.{condition}")
    for index, related in enumerate(out.get("related", ())):
        where = f"related[{index}]"
        child, link = related["relation"].split(".", 1)
        relation = f"{ctx.object_name(child)}.{ctx.field_name(child, link)}"
        if relation != related["relation"]:
            related["relation"] = relation
            places.append(f"{where}.relation")
        for key, rename in (("columns", _dotted), ("sort", _sort)):
            if key in related:
                new_items = [rename(ctx, child, c) for c in related[key]]
                if new_items != related[key]:
                    related[key] = new_items
                    places.append(f"{where}.{key}")
    return out, places


def rename_list_view(ctx: RenameContext, comp: Any, definition: Mapping[str, Any]):
    """A rename of the view's object or of a field its columns, filter, sort or Kanban
    grouping name."""
    del comp
    out = copy.deepcopy(dict(definition))
    start = definition["object"]
    places: list[str] = []
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    for index, column in enumerate(definition["columns"]):
        if (new := _dotted(ctx, start, column)) != column:
            out["columns"][index] = new
            places.append(f"columns[{index}]")
    if "filter" in out and (new := _expression(ctx, start, out["filter"])) != out["filter"]:
        out["filter"] = new
        places.append("filter")
    for index, item in enumerate(definition.get("sort", ())):
        if (new := _sort(ctx, start, item)) != item:
            out["sort"][index] = new
            places.append(f"sort[{index}]")
    kanban = definition.get("kanban_by")
    if kanban and (new := ctx.field_name(start, kanban)) != kanban:
        out["kanban_by"] = new
        places.append("kanban_by")
    return out, places


def rename_app(ctx: RenameContext, comp: Any, definition: Mapping[str, Any]):
    """A renamed object keeps its tab and the list view its tab opens."""
    del comp
    tabs = [tab if tab == HOME else ctx.object_name(tab) for tab in definition["tabs"]]
    places = [
        f"tabs[{i}]"
        for i, (a, b) in enumerate(zip(tabs, definition["tabs"], strict=False))
        if a != b
    ]
    out = {**definition, "tabs": tabs} if places else dict(definition)
    if "views" in definition:
        views = {ctx.object_name(tab): view for tab, view in definition["views"].items()}
        places += [f"views.{tab}" for tab in definition["views"] if ctx.object_name(tab) != tab]
        out["views"] = views
    return (out if places else definition), places
