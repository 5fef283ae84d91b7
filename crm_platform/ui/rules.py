"""A layout's field conditions — ``visible_if``, ``required_if``, ``read_only_if`` —
evaluated by the server, and ``required_if`` enforced by the record service on every
write path (ADR 0037).

The conditions are expressions of the one language; there is no second evaluator (the
form's script asks the server, ``web/pages/form_rules.py``). Which layout a write is held
to: the one the object's forms use (``layout_for``: ``default``, else its first), so an
API write meets exactly the rules a person meets in the form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crm_platform.core import ValidationFailed
from crm_platform.expressions import ExpressionError, ValueType, parse
from crm_platform.runtime.records.events import EventContext, RecordEvent
from crm_platform.runtime.records.validation import blank

from .shapes import Layout, PlacedField, layout_for, ui_model

# a condition that cannot be evaluated for this viewer (it reads a field they may not read)
UNKNOWN = None


@dataclass(frozen=True)
class FieldState:
    """How a placed field shows in a form for the values typed so far."""

    visible: bool = True
    required: bool = False
    read_only: bool = False


def condition_names(source: str) -> frozenset[str]:
    """The top-level fields a condition reads (``account.industry`` reads ``account``)."""
    try:
        return frozenset(path[0] for path in parse(source).field_paths)
    except ExpressionError:
        return frozenset()


def field_states(
    fields: Iterable[PlacedField], holds: Callable[[str], bool | None]
) -> dict[str, FieldState]:
    """The state of each placed field; ``holds(source)`` evaluates a condition (UNKNOWN
    when it may not be evaluated: the field then shows, optional and editable, so that
    nothing about a hidden field leaks through the form)."""
    states = {}
    for placed in fields:
        visible = placed.visible_if is None or holds(placed.visible_if) is not False
        required = visible and placed.required_if is not None and holds(placed.required_if) is True
        read_only = placed.read_only_if is not None and holds(placed.read_only_if) is True
        states[placed.name] = FieldState(visible, required, read_only)
    return states


def required_message(source: str) -> str:
    return f"required (when {source})"


def _applies(placed: PlacedField, ctx: EventContext, change) -> bool:
    """On create every rule applies; on update, one whose field or condition moves."""
    if ctx.event == RecordEvent.BEFORE_CREATE:
        return True
    reads = condition_names(placed.required_if or "") | condition_names(placed.visible_if or "")
    return placed.name in change.changed or bool(reads & set(change.changed))


def _holds(ctx: EventContext, change, source: str, what: str) -> bool:
    return ctx.evaluate(change, source, what=what, expected=ValueType.BOOLEAN) is True


def _rules(ctx: EventContext) -> tuple[PlacedField, ...]:
    """The object's ``required_if`` fields (kept per metadata version: most objects have
    none, and a derived layout never has any)."""
    if not ui_model(ctx.model).layouts.get(ctx.object.api_name):
        return ()
    layout: Layout = layout_for(ctx.model, ctx.object)
    return tuple(f for f in layout.fields if f.required_if and f.name in ctx.object.fields)


def enforce_required_if(ctx: EventContext) -> None:
    """Before create and update: a field whose layout ``required_if`` holds (and whose
    ``visible_if`` does, when it has one) may not be left blank — for every writer, the
    API, composite requests, imports and automation alike. Cascaded changes are the
    platform's own and are not held to a form's rules."""
    rules = ctx.compiled(("required_if", ctx.object.api_name), lambda: _rules(ctx))
    if not rules:
        return
    for change in ctx.changes:
        if change.cascaded:
            continue
        values = ctx.values(change)
        errors: dict[str, list[str]] = {}
        for placed in rules:
            if not blank(values.get(placed.name)) or not _applies(placed, ctx, change):
                continue
            if placed.visible_if and not _holds(
                ctx, change, placed.visible_if, f"{placed.name}.visible_if"
            ):
                continue
            if _holds(ctx, change, placed.required_if, f"{placed.name}.required_if"):
                errors[placed.name] = [required_message(placed.required_if)]
        if errors:
            raise ValidationFailed(errors)
