"""The assignment rule builder's form: an assignment rule as inputs an admin fills in
(object, labels, active) with its entries as rows of a table in order: the criteria
checked as typed, and whom the record goes to (a user, a queue, a group's members in turn,
or the least-loaded member of a group with its open-records criteria and skill), and
whether the new owner is notified. Rows are ordered by their position input and removed
by emptying whom they assign to; one empty spare row adds one without JavaScript. A rule
the form cannot show (labels in other languages, keys it does not know) opens in the YAML
editor instead, so saving the form never drops part of a definition."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import by_position, header_from_form, label_fits_form, label_parts, posted_rows

FORM_KEYS = frozenset({"api_name", "object", "label", "description", "active", "entries"})
ENTRY_KEYS = frozenset({"when", "assign_to", "notify"})
# Whom an entry assigns to, as the schema allows (least_loaded also takes open and skill).
TARGETS = ("user", "queue", "round_robin", "least_loaded")
LEAST_LOADED = "least_loaded"
# The inputs of one entry row, posted as ``entry_<part>:<row>``.
ENTRY_PARTS = ("when", "target", "value", "open", "skill", "notify", "position")
_ENTRY_PATH = re.compile(r"(?:^|\.)entries\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?")


def assignment_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new rule always fits)."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS:
        return False
    if not label_fits_form(stored.get("label")):
        return False
    for entry in stored.get("entries", ()):
        if not isinstance(entry, Mapping) or set(entry) - ENTRY_KEYS:
            return False
        if not isinstance(entry.get("notify", True), bool):
            return False
        target = entry.get("assign_to")
        if not isinstance(target, Mapping) or not all(isinstance(v, str) for v in target.values()):
            return False
        kinds = [k for k in TARGETS if k in target]
        if len(kinds) != 1:
            return False
        allowed = {kinds[0], "open", "skill"} if kinds[0] == LEAST_LOADED else {kinds[0]}
        if set(target) - allowed:
            return False
    return True


def assignment_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored rule (a new one is active)."""
    if not stored:
        return {"active": "on"}
    english, chinese = label_parts(stored.get("label"))
    out = {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "label": english,
        "label_zh": chinese,
        "description": str(stored.get("description", "")),
        "active": "on" if stored.get("active", True) else "",
    }
    for row, entry in enumerate(stored.get("entries", ())):
        target = entry["assign_to"]
        kind = next(k for k in TARGETS if k in target)
        out.update(
            {
                f"entry_when:{row}": entry.get("when", ""),
                f"entry_target:{row}": kind,
                f"entry_value:{row}": target[kind],
                f"entry_open:{row}": target.get("open", ""),
                f"entry_skill:{row}": target.get("skill", ""),
                f"entry_notify:{row}": "on" if entry.get("notify", True) else "",
                f"entry_position:{row}": str(row),
            }
        )
    return out


def assignment_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A rule definition from the form's inputs (the metadata service checks it)."""
    out = header_from_form(form)
    out["active"] = form.get("active") == "on"
    out["entries"] = [_entry(row) for row in entry_rows(form)]
    return out


def _entry(row: Mapping[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if row["when"]:
        entry["when"] = row["when"]
    target: dict[str, Any] = {row["target"]: row["value"]}
    if row["target"] == LEAST_LOADED:
        target["open"] = row["open"]  # required: an empty one is refused beside its input
        if row["skill"]:
            target["skill"] = row["skill"]
    entry["assign_to"] = target
    if row["notify"] != "on":
        entry["notify"] = False
    return entry


def entry_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The posted entries that name whom they assign to, in the order of their positions
    (ties: as posted)."""
    rows = posted_rows(form, "entry", ENTRY_PARTS, "value")
    for _row, values in rows:
        if values["target"] not in TARGETS:
            values["target"] = TARGETS[0]
    return by_position(rows)


def assignment_context(form: Mapping[str, str]) -> dict[str, Any]:
    """What the template shows of the inputs: the entry rows renumbered in their order
    (so a problem's ``entries[1]`` is the second row) with an empty spare row, and the
    keys shown beside inputs."""
    spare = dict.fromkeys(ENTRY_PARTS, "")
    spare.update(target="user", notify="on")
    rows = [*entry_rows(form), spare]
    shown = ["api_name", "object", "label", "description", "active", "entries"]
    for index in range(len(rows)):
        shown += [f"entry_{part}:{index}" for part in ("when", "value", "open", "skill")]
    return {"entry_rows": rows, "assignment_targets": TARGETS, "shown_keys": shown}


def assignment_input(path: str) -> str | None:
    """The input a problem's path is shown beside: ``….entries[1].when`` ->
    ``entry_when:1``, ``….entries[0].assign_to.open`` -> ``entry_open:0``, any other
    problem of whom an entry assigns to -> ``entry_value:<row>``; None for other paths."""
    found = _ENTRY_PATH.search(path)
    if found is None:
        return None
    row, part, inner = found.groups()
    if part == "when":
        return f"entry_when:{row}"
    if part == "assign_to" and inner in ("open", "skill"):
        return f"entry_{inner}:{row}"
    return f"entry_value:{row}"
