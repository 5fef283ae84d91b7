"""Save-time checks of layouts, list views and apps against the candidate model.

A layout names fields of its object (each once), expressions that must be true/false,
related lists that point at its object and columns that exist on the child; a layout
used to create records holds every required field a person must fill. A list view's
columns, filter and sort must compile; ``kanban_by`` names a picklist. An app's tabs are
``home`` or objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crm_platform.expressions import ExpressionError, ValueType, check, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime.checks import ExpressionChecks

from .schemas import CONDITIONS
from .shapes import HOME, field_item, layout_sections, split_sort

RELATION_TYPES = frozenset({"lookup", "master_detail"})
UNSORTABLE = frozenset({ValueType.MULTI, ValueType.ANY})


class UIChecks:
    """The validators of the three kinds, sharing one expression checker."""

    def __init__(self, expressions: ExpressionChecks) -> None:
        self.expressions = expressions

    # --- layout ----------------------------------------------------------------------

    def layout(self, model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
        name = definition["object"]
        obj = model.object(name)
        if obj is None:
            yield ("object", f"no object '{name}'")
            return
        fields = {f["api_name"]: f for f in obj["fields"]}
        seen: set[str] = set()
        scope = None
        for path, item in _placed(definition):
            field_name = item["field"]
            if field_name not in fields:
                yield (path, f"no field '{field_name}' on {name}")
                continue
            if field_name in seen:
                yield (path, f"'{field_name}' is already in the layout")
            seen.add(field_name)
            for condition in CONDITIONS:
                if condition in item:
                    scope = scope or self.expressions.scope(model, name)
                    yield from _expression(
                        item[condition], scope, ValueType.BOOLEAN, f"{path}.{condition}"
                    )
        if definition.get("create", True):
            for field in obj["fields"]:
                if _must_fill(field) and field["api_name"] not in seen:
                    yield (
                        "sections",
                        f"required field '{field['api_name']}' is missing: a layout used to "
                        "create records holds every required field (or set create: false)",
                    )
        for index, related in enumerate(definition.get("related", ())):
            yield from self._related(model, name, related, f"related[{index}]")

    def _related(self, model: CandidateModel, parent: str, related, path: str):
        child, link = related["relation"].split(".", 1)
        child_obj = model.object(child)
        field = next(
            (f for f in (child_obj or {}).get("fields", ()) if f["api_name"] == link), None
        )
        if child_obj is None or field is None:
            yield (f"{path}.relation", f"no field '{link}' on '{child}'")
            return
        targets = [field.get("target")] if "target" in field else list(field.get("targets", ()))
        if field["type"] not in RELATION_TYPES or parent not in targets:
            yield (f"{path}.relation", f"'{child}.{link}' does not point at {parent}")
            return
        scope = self.expressions.scope(model, child)
        for index, column in enumerate(related.get("columns", ())):
            if scope.resolve(tuple(column.split("."))) is None:
                yield (f"{path}.columns[{index}]", f"no field '{column}' on {child}")
        for index, item in enumerate(related.get("sort", ())):
            yield from _sortable(scope, item, child, f"{path}.sort[{index}]")

    # --- list view -------------------------------------------------------------------

    def list_view(self, model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
        name = definition["object"]
        obj = model.object(name)
        if obj is None:
            yield ("object", f"no object '{name}'")
            return
        scope = self.expressions.scope(model, name)
        for index, column in enumerate(definition["columns"]):
            if scope.resolve(tuple(column.split("."))) is None:
                yield (f"columns[{index}]", f"no field '{column}' on {name}")
        if "filter" in definition:
            yield from _expression(definition["filter"], scope, ValueType.BOOLEAN, "filter")
        for index, item in enumerate(definition.get("sort", ())):
            yield from _sortable(scope, item, name, f"sort[{index}]")
        kanban = definition.get("kanban_by")
        if kanban is not None:
            field = next((f for f in obj["fields"] if f["api_name"] == kanban), None)
            if field is None or field["type"] != "picklist":
                yield ("kanban_by", f"'{kanban}' is not a picklist field of {name}")

    # --- app -------------------------------------------------------------------------

    def app(self, model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
        for index, tab in enumerate(definition["tabs"]):
            if tab != HOME and model.object(tab) is None:
                yield (f"tabs[{index}]", f"no object '{tab}' (a tab is 'home' or an object)")
        for tab, view in definition.get("views", {}).items():
            if tab not in definition["tabs"] or tab == HOME:
                yield (f"views.{tab}", f"'{tab}' is not an object tab of this app")
            elif model.get("list_view", f"{tab}.{view}") is None:
                yield (f"views.{tab}", f"no list view '{view}' on {tab}")
        dashboard = definition.get("dashboard")
        if dashboard and model.get("dashboard", dashboard) is None:
            yield ("dashboard", f"no dashboard '{dashboard}'")
        for index, name in enumerate(definition.get("profiles", ())):
            if model.get("permission_set", name) is None:
                yield (f"profiles[{index}]", f"no permission set '{name}'")


def _placed(definition: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path in the definition, {field, conditions}) of every field the layout places."""
    for prefix, section in layout_sections(definition):
        for index, item in enumerate(section["fields"]):
            yield f"{prefix}.fields[{index}]", field_item(item)


def _must_fill(field: Mapping[str, Any]) -> bool:
    """A required field a person writes, with nothing to fill it in for them."""
    kind = field_type(field["type"])
    if kind.read_only or not field.get("required"):
        return False
    return (
        "default" not in field
        and "default_expression" not in field
        and (kind.implied_default(field) is None)
    )


def _expression(source: str, scope, expected, path: str) -> Iterator[Problem]:
    try:
        check(parse(source), scope, expected)
    except ExpressionError as exc:
        yield (path, exc.detail)


def _sortable(scope, item: str, object_name: str, path: str) -> Iterator[Problem]:
    column, _descending = split_sort(item)
    info = scope.resolve(tuple(column.split(".")))
    if info is None:
        yield (path, f"no field '{column}' on {object_name}")
    elif info.value_type in UNSORTABLE:
        yield (path, f"cannot sort by '{column}'")
