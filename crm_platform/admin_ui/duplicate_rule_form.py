"""The duplicate rule builder's form: a rule as inputs an admin fills in (object, labels,
active, the action — block, or allow with a warning — and the events it is enforced on)
with its criteria as rows of a table: the field compared, how (exactly, ignoring case and
spaces, as emails, as phone numbers, or by similarity above a threshold), the similarity
threshold and the phone region. A row is removed by emptying its field; one empty spare
row adds one without JavaScript. A rule the form cannot show (labels in other languages,
keys it does not know) opens in the YAML editor instead, so saving the form never drops
part of a definition."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crm_platform.dedupe.kind import ACTIONS, EVENTS
from crm_platform.dedupe.matchers import METHODS

from .base import header_from_form, label_fits_form, label_parts, posted_rows

FORM_KEYS = frozenset(
    {"api_name", "object", "label", "description", "active", "action", "events", "criteria"}
)
CRITERION_KEYS = frozenset({"field", "method", "threshold", "region"})
# The inputs of one criterion row, posted as ``criterion_<part>:<row>``.
CRITERION_PARTS = ("field", "method", "threshold", "region")
_CRITERION_PATH = re.compile(r"(?:^|\.)criteria\[(\d+)\](?:\.(\w+))?")


def duplicate_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new rule always fits)."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS or not label_fits_form(stored.get("label")):
        return False
    for criterion in stored.get("criteria", ()):
        if not isinstance(criterion, Mapping) or set(criterion) - CRITERION_KEYS:
            return False
        if not all(isinstance(criterion.get(k, ""), str) for k in ("field", "method", "region")):
            return False
        if not isinstance(criterion.get("threshold", 0), int):
            return False
    return True


def duplicate_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored rule (a new one is active, warns, on both events)."""
    if not stored:
        return {"active": "on", "action": "warn", **{f"event_{e}": "on" for e in EVENTS}}
    english, chinese = label_parts(stored.get("label"))
    out = {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "label": english,
        "label_zh": chinese,
        "description": str(stored.get("description", "")),
        "active": "on" if stored.get("active", True) else "",
        "action": str(stored.get("action", "warn")),
    }
    for event in stored.get("events", EVENTS):
        out[f"event_{event}"] = "on"
    for row, criterion in enumerate(stored.get("criteria", ())):
        for part in CRITERION_PARTS:
            out[f"criterion_{part}:{row}"] = str(criterion.get(part, ""))
    return out


def duplicate_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A rule definition from the form's inputs (the metadata service checks it)."""
    out = header_from_form(form)
    out["active"] = form.get("active") == "on"
    out["action"] = form.get("action", "").strip() or "warn"
    out["events"] = [e for e in EVENTS if form.get(f"event_{e}") == "on"]
    out["criteria"] = [_criterion(row) for row in criterion_rows(form)]
    return out


def _criterion(row: Mapping[str, str]) -> dict[str, Any]:
    criterion: dict[str, Any] = {"field": row["field"], "method": row["method"]}
    if row["method"] == "fuzzy" and row["threshold"]:
        # a number as a number; anything else as typed, for the schema to refuse
        threshold = row["threshold"]
        criterion["threshold"] = int(threshold) if threshold.isdigit() else threshold
    if row["method"] == "phone" and row["region"]:
        criterion["region"] = row["region"].upper()
    return criterion


def criterion_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The posted criteria that name a field, in their rows' order."""
    rows = [values for _row, values in posted_rows(form, "criterion", CRITERION_PARTS, "field")]
    for values in rows:
        if values["method"] not in METHODS:
            values["method"] = METHODS[0]
    return rows


def duplicate_context(form: Mapping[str, str]) -> dict[str, Any]:
    """What the template shows of the inputs: the criterion rows renumbered in their
    order (so a problem's ``criteria[1]`` is the second row) with an empty spare row, the
    choices, and the keys shown beside inputs."""
    spare = dict.fromkeys(CRITERION_PARTS, "")
    spare["method"] = METHODS[0]
    rows = [*criterion_rows(form), spare]
    shown = ["api_name", "object", "label", "description", "active", "action", "events"]
    shown.append("criteria")
    for index in range(len(rows)):
        shown += [f"criterion_{part}:{index}" for part in CRITERION_PARTS]
    return {
        "criterion_rows": rows,
        "duplicate_methods": METHODS,
        "duplicate_actions": ACTIONS,
        "duplicate_events": EVENTS,
        "shown_keys": shown,
    }


def duplicate_input(path: str) -> str | None:
    """The input a problem's path is shown beside: ``….criteria[1].threshold`` ->
    ``criterion_threshold:1``, any other problem of a criterion -> its field's input;
    None for other paths."""
    found = _CRITERION_PATH.search(path)
    if found is None:
        return None
    row, part = found.groups()
    if part in CRITERION_PARTS:
        return f"criterion_{part}:{row}"
    return f"criterion_field:{row}"
