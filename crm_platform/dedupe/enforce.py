"""Duplicate rules enforced on every write (DESIGN §5 step 6): a before-create and
before-update handler of the record events, so the API, the pages, mass edit, composite
requests, imports and automation all meet the same rules.

A matching ``block`` rule refuses the record with a 409 that names the rule and the
matching records the writer may read (a duplicate they may not read is only counted:
"a duplicate exists that you cannot see"); a ``warn`` rule lets the write through and
leaves a :class:`~.notices.DuplicateNotice` for after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm_platform.core import Conflict
from crm_platform.runtime.records.events import EventContext, RecordEvent

from . import notices
from .candidates import comparable, find_matches
from .kind import DuplicateRule, dedupe_model

SHOWN = 5  # matching records named in a message at most


def rule_label(rule: DuplicateRule) -> str:
    label = rule.label
    if isinstance(label, Mapping):
        label = label.get("en") or next(iter(label.values()), rule.name)
    return str(label)


def enforce_duplicate_rules(ctx: EventContext) -> None:
    """Check the records about to be written against the object's active rules."""
    operation = "create" if ctx.event == RecordEvent.BEFORE_CREATE else "update"
    for rule in dedupe_model(ctx.model).of(ctx.object.api_name):
        if operation not in rule.events:
            continue
        subjects = []
        for change in ctx.changes:
            if operation == "update" and not set(rule.fields) & set(change.changed):
                continue  # nothing the rule compares moved
            if ctx.refused(change.record_id):
                continue  # refused by an earlier rule: one reason is enough
            values = ctx.values(change)
            if comparable(rule, values):
                subjects.append((change.record_id, dict(values)))
        if not subjects:
            continue
        exclude = [rid for rid, _ in subjects] if operation == "update" else ()
        found = find_matches(ctx.connection, ctx.object, rule, subjects, exclude=exclude)
        batch = {rid for rid, _ in subjects}
        names = _names(ctx, found, batch)
        for record_id, ids in found.items():
            # matching only records of the batch, it stands while one of them does
            because = ids if batch.issuperset(ids) else ()
            _act(ctx, rule, record_id, _shown(ctx, ids, batch, names), because)


def _names(
    ctx: EventContext, found: Mapping[str, Sequence[str]], batch: set[str]
) -> Mapping[str, str | None]:
    """The stored matches the writer may read, with their names as they may read them:
    one query for the batch's matches (the system user is shown none)."""
    if ctx.user.is_system:
        return {}
    wanted = {i for ids in found.values() for i in ids if i not in batch}
    return ctx.services.visible_names(ctx.object, wanted) if wanted else {}


def _act(
    ctx: EventContext,
    rule: DuplicateRule,
    record_id: str,
    matches: tuple[list[tuple[str, str | None]], int],
    because: Sequence[str],
) -> None:
    shown, hidden = matches
    what = _describe(ctx, shown, hidden)
    label = rule_label(rule)
    if rule.blocks:
        detail = f"duplicate rule '{label}' ({rule.name}) refuses this record: {what}"
        readable = [
            f for f in rule.fields if ctx.services.access.field_readable(ctx.object.api_name, f)
        ]
        extra: dict[str, Any] = {
            "duplicate_rule": rule.name,
            "duplicates": [{"id": i, "name": n} for i, n in shown],
            "hidden_duplicates": hidden,
        }
        if readable:
            extra["errors"] = {readable[0]: [f"duplicate ({label}): {what}"]}
        ctx.refuse(record_id, Conflict(detail, extra=extra), because)
        return
    notice = notices.DuplicateNotice(
        rule=rule.name,
        object=ctx.object.api_name,
        record_id=record_id,
        message=f"possible duplicate ({label}): {what}",
        label=label,
        labels=rule.label,
        duplicates=tuple(i for i, _ in shown),
        names=tuple(n or i for i, n in shown),
        hidden=hidden,
    )
    ctx.after_commit(lambda: notices.report(notice))


def _shown(
    ctx: EventContext, ids: Sequence[str], batch: set[str], names: Mapping[str, str | None]
) -> tuple[list[tuple[str, str | None]], int]:
    """The first matches the writer may read, as (id, name), and how many others exist
    (``names``: the stored matches they may read)."""
    shown: list[tuple[str, str | None]] = []
    hidden = 0
    if ctx.user.is_system:  # automation's writes: the person who caused them is unknown
        return shown, len(ids)
    for record_id in ids:
        if record_id in batch:
            shown.append((record_id, None))
        elif len(shown) >= SHOWN or record_id not in names:
            hidden += 1  # beyond the first few, or not theirs to see: only counted
        else:
            shown.append((record_id, names[record_id]))
    return shown, hidden


def _describe(ctx: EventContext, shown, hidden: int) -> str:
    noun = ctx.object.api_name
    if ctx.user.is_system:
        return f"it matches {hidden} existing {noun} record(s)"
    parts = []
    if shown:
        named = ", ".join(f"{name} ({rid})" if name else rid for rid, name in shown)
        parts.append(f"it matches {noun} {named}")
    if hidden:
        if shown:
            parts.append(f"and {hidden} more you cannot see")
        else:
            parts.append(
                f"a duplicate {noun} exists that you cannot see"
                if hidden == 1
                else f"{hidden} duplicate {noun} records exist that you cannot see"
            )
    return " ".join(parts)
