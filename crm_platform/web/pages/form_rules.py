"""The layout's field conditions in forms (ADR 0037): ``visible_if``, ``required_if`` and
``read_only_if`` evaluated by the server on the values typed so far — when the form is
drawn, when it is sent (JavaScript off: the page comes back with the fields as the
conditions now say) and, with JavaScript on, as the user types: ``form_rules.js`` posts
the form to ``/o/<object>/rules`` and applies the answer. There is no evaluator in the
browser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import jsonify, request

from crm_platform.core import CrmError, NotFound, ValidationFailed
from crm_platform.expressions import ExpressionError, ValueType, parse
from crm_platform.runtime.model import ObjectModel
from crm_platform.ui import layout_for
from crm_platform.ui.rules import UNKNOWN, FieldState, field_states

from .context import Viewer, reading, viewer
from .frame import bp, object_or_404
from .lookups import POLYMORPHIC
from .present import Presenter
from .widgets import Widget, submitted, to_value

MAX_RETRIES = 3  # typed values: fields that do not parse yet are dropped, then again


def typed_values(session, obj: ObjectModel, data: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values of what was sent so far; a value that does not parse yet (half a
    date, "12x") counts as empty, as the condition would see it once cleared."""
    codec = session.codec(obj)
    pending = dict(data)
    for _attempt in range(MAX_RETRIES):
        try:
            return codec.load(pending, session.access.hidden_fields(obj.api_name))
        except ValidationFailed as error:
            bad = {path.split(".")[0].split("[")[0] for path in error.errors}
            if not bad & set(pending):
                return {}
            pending = {k: v for k, v in pending.items() if k not in bad}
    return {}


def _holder(session, obj: ObjectModel, values: Mapping[str, Any]):
    """``holds(source)``: a condition's value on ``values``, UNKNOWN when it reads a field
    the viewer may not read or cannot be evaluated yet."""
    cache: dict[str, bool | None] = {}

    def holds(source: str) -> bool | None:
        if source in cache:
            return cache[source]
        try:
            paths = parse(source).field_paths
        except ExpressionError:
            return UNKNOWN
        result: bool | None = UNKNOWN
        if all(session.access.path_readable(obj.api_name, p) for p in paths):
            try:
                result = (
                    session.evaluate_on(obj, source, values, "condition", ValueType.BOOLEAN) is True
                )
            except CrmError:
                result = UNKNOWN
        cache[source] = result
        return result

    return holds


def states_for(
    session, obj: ObjectModel, v: Viewer, values: Mapping[str, Any]
) -> dict[str, FieldState]:
    """Each placed field's state for the record's values as typed."""
    layout = layout_for(v.model, obj)
    return field_states(layout.fields, _holder(session, obj, values))


def form_values(session, obj: ObjectModel, widgets: Mapping[str, Widget], v: Viewer):
    """The typed values of the editable widgets as the request sent them (lookups typed
    by name are left out: resolving them is the save's job)."""
    data = {}
    for widget in widgets.values():
        if widget.read_only or widget.secret:
            continue
        if widget.kind == "lookup" and widget.lookup_mode in ("search", POLYMORPHIC):
            continue
        always_sent = widget.kind in ("checkbox", "multiselect") or widget.parts
        if widget.kind == "file" or (not always_sent and widget.name not in request.form):
            continue
        data[widget.name] = to_value(widget, submitted(widget, request.form), v.time_zone)
    return typed_values(session, obj, data)


def narrow_dependent(
    obj: ObjectModel, widgets: Mapping[str, Widget], v: Viewer, values: Mapping[str, Any]
) -> dict[str, list[tuple[str, str]]]:
    """A dependent picklist offers the values valid for its controlling field's value as
    typed (when the viewer may read that field: else all, and the save decides); the
    narrowed widgets' choices by name."""
    narrowed = {}
    for name, widget in widgets.items():
        controlling = widget.field.definition.get("controlling_field")
        if widget.kind != "select" or not controlling:
            continue
        if not v.access.field_readable(obj.api_name, controlling):
            continue
        current = values.get(name, widget.value)
        widget.choices = Presenter(v).choices(widget.field, current, values.get(controlling))
        narrowed[name] = widget.choices
    return narrowed


def apply_states(widgets: Mapping[str, Widget], states: Mapping[str, FieldState]) -> None:
    """Put the conditions' answer on the widgets: hidden, required, locked."""
    for name, state in states.items():
        widget = widgets.get(name)
        if widget is None:
            continue
        widget.hidden = not state.visible
        widget.required = bool(widget.field.definition.get("required")) or state.required
        widget.locked = state.read_only and not widget.read_only


@bp.post("/o/<object_name>/rules")
def form_rules(object_name: str) -> Any:
    """The state of each field of the object's form for the values posted (the form's
    own fields; ``_record`` names the record being edited): JSON for ``form_rules.js``."""
    from .forms import build_widgets  # the form builds the widgets; it imports this module

    v = viewer()
    obj = object_or_404(object_name)
    record_id = request.form.get("_record") or None
    with reading() as session:
        record = session.get(obj.api_name, record_id) if record_id else None
        if record_id and record is None:
            raise NotFound("no such record")
        _tabs, widgets = build_widgets(obj, v, record)
        values = {**(record or {}), **form_values(session, obj, widgets, v)}
        states = states_for(session, obj, v, values)
    apply_states(widgets, states)
    narrowed = narrow_dependent(obj, widgets, v, values)
    shown = {
        name: {
            "visible": not widgets[name].hidden,
            "required": widgets[name].required,  # the field's own, or its required_if
            "read_only": widgets[name].locked or widgets[name].read_only,
        }
        for name in states
        if name in widgets
    }
    for name, choices in narrowed.items():
        if name in shown:
            shown[name]["choices"] = [list(choice) for choice in choices]
    return jsonify({"fields": shown})
