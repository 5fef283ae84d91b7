"""The approval process builder's form: an approval process as inputs an admin fills in
(object, labels, entry criteria checked as typed, record lock, escalation) with its steps
as rows of a table (name, label, criteria, who approves, mode) and the field updates run
on submit, approve, reject and recall as rows (field, expression). Rows are ordered by
their position input and removed by emptying their name (or field); one empty spare row
adds one without JavaScript. A process the form cannot show (actions other than one
update of the record's own fields, labels in other languages) opens in the YAML editor
instead, so saving the form never drops part of a definition."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crm_platform.workflow.approvals.definition import APPROVER_KINDS, FIRST_RESPONSE, UNANIMOUS

from .base import by_position, header_from_form, label_fits_form, label_parts, posted_rows

# The keys the form edits; a stored process with any other key is edited as YAML.
FORM_KEYS = frozenset(
    {
        "api_name",
        "object",
        "label",
        "description",
        "active",
        "entry",
        "lock_record",
        "steps",
        "on_submit",
        "on_approve",
        "on_reject",
        "on_recall",
        "escalate_after",
        "escalate_to",
    }
)
STEP_KEYS = frozenset({"name", "label", "when", "approver", "mode"})
ACTION_LISTS = ("on_submit", "on_approve", "on_reject", "on_recall")
MODES = (FIRST_RESPONSE, UNANIMOUS)
# The inputs of one step row, posted as ``step_<part>:<row>``.
STEP_PARTS = ("name", "label", "when", "approver", "value", "mode", "position")
# A problem's path inside a process -> the input it is shown beside.
_STEP_PATH = re.compile(r"(?:^|\.)steps\[(\d+)\](?:\.(\w+))?")
_ACTION_PATH = re.compile(r"(?:^|\.)(on_submit|on_approve|on_reject|on_recall)\[\d+\](.*)$")


def approval_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new process always fits)."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS:
        return False
    if not label_fits_form(stored.get("label")):
        return False
    for step in stored.get("steps", ()):
        if not isinstance(step, Mapping) or set(step) - STEP_KEYS:
            return False
        approver = step.get("approver")
        if not isinstance(approver, Mapping) or len(approver) != 1:
            return False
        ((kind, value),) = approver.items()
        if kind not in APPROVER_KINDS or not isinstance(value, str | bool):
            return False
    return all(_field_updates(stored.get(key, ())) is not None for key in ACTION_LISTS)


def _field_updates(actions: Any) -> dict[str, str] | None:
    """The ``{field: expression}`` of an action list the form shows (no action, or one
    update of the record's own fields); None when the form cannot show it."""
    if not actions:
        return {}
    if not isinstance(actions, list) or len(actions) != 1:
        return None
    action = actions[0]
    if not isinstance(action, Mapping) or set(action) != {"type", "values"}:
        return None
    values = action["values"]
    if action["type"] != "update_record" or not isinstance(values, Mapping):
        return None
    if not all(isinstance(v, str) for v in values.values()):
        return None
    return dict(values)


def approval_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored process (a new one: active, locking its record)."""
    if not stored:
        return {"active": "on", "lock_record": "on"}
    english, chinese = label_parts(stored.get("label"))
    out = {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "label": english,
        "label_zh": chinese,
        "description": str(stored.get("description", "")),
        "active": "on" if stored.get("active", True) else "",
        "entry": str(stored.get("entry", "")),
        "lock_record": "on" if stored.get("lock_record", True) else "",
        "escalate_after": str(stored.get("escalate_after", "")),
        "escalate_to": str(stored.get("escalate_to", "")),
    }
    for row, step in enumerate(stored.get("steps", ())):
        ((kind, value),) = step["approver"].items()
        out.update(
            {
                f"step_name:{row}": step["name"],
                f"step_label:{row}": step.get("label", ""),
                f"step_when:{row}": step.get("when", ""),
                f"step_approver:{row}": kind,
                f"step_value:{row}": "" if kind == "submitter_manager" else str(value),
                f"step_mode:{row}": step.get("mode", FIRST_RESPONSE),
                f"step_position:{row}": str(row),
            }
        )
    for key in ACTION_LISTS:
        for row, (field, value) in enumerate((_field_updates(stored.get(key)) or {}).items()):
            out[f"{key}_field:{row}"] = field
            out[f"{key}_value:{row}"] = value
    return out


def approval_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A process definition from the form's inputs (the metadata service checks it)."""
    out = header_from_form(form)
    if form.get("active") != "on":
        out["active"] = False
    if entry := form.get("entry", "").strip():
        out["entry"] = entry
    out["lock_record"] = form.get("lock_record") == "on"
    out["steps"] = [_step(row) for row in step_rows(form)]
    for key in ACTION_LISTS:
        if updates := {row["field"]: row["value"] for row in action_rows(form, key)}:
            out[key] = [{"type": "update_record", "values": updates}]
    for key in ("escalate_after", "escalate_to"):
        if value := form.get(key, "").strip():
            out[key] = value
    return out


def _step(row: Mapping[str, str]) -> dict[str, Any]:
    step: dict[str, Any] = {"name": row["name"]}
    if row["label"]:
        step["label"] = row["label"]
    if row["when"]:
        step["when"] = row["when"]
    kind = row["approver"]
    step["approver"] = {kind: True} if kind == "submitter_manager" else {kind: row["value"]}
    if row["mode"] == UNANIMOUS:
        step["mode"] = UNANIMOUS
    return step


def step_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The posted steps with a name, in the order of their positions (ties: as posted)."""
    rows = posted_rows(form, "step", STEP_PARTS, "name")
    for _row, values in rows:
        if values["approver"] not in APPROVER_KINDS:
            values["approver"] = APPROVER_KINDS[0]
    return by_position(rows)


def action_rows(form: Mapping[str, str], key: str) -> list[dict[str, str]]:
    """The posted field updates of one action list that name a field, in posted order."""
    pattern = re.compile(rf"^{key}_field:(\d+)$")
    rows = sorted(int(m.group(1)) for k in form if (m := pattern.match(k)))
    out = []
    for row in rows:
        field = form.get(f"{key}_field:{row}", "").strip()
        if field:
            out.append({"field": field, "value": form.get(f"{key}_value:{row}", "").strip()})
    return out


def approval_context(form: Mapping[str, str]) -> dict[str, Any]:
    """What the template shows of the inputs: the step rows renumbered in their order
    (so a problem's ``steps[1]`` is the second row) with an empty spare row, the field
    update rows of each action list with a spare row, and the keys shown beside inputs."""
    steps = step_rows(form)
    spare = dict.fromkeys(STEP_PARTS, "")
    spare["approver"] = "submitter_manager"
    rows = [*steps, spare]
    actions = {key: [*action_rows(form, key), {"field": "", "value": ""}] for key in ACTION_LISTS}
    shown = ["api_name", "object", "label", "description", "entry", "steps"]
    shown += ["lock_record", "escalate_after", "escalate_to", *ACTION_LISTS]
    for index in range(len(rows)):
        shown += [f"step_{part}:{index}" for part in ("name", "label", "when", "value", "mode")]
    for key, updates in actions.items():
        shown += [f"{key}:{row['field']}" for row in updates if row["field"]]
    return {
        "step_rows": rows,
        "action_rows": actions,
        "approver_kinds": APPROVER_KINDS,
        "approval_modes": MODES,
        "shown_keys": shown,
    }


def approval_input(path: str) -> str | None:
    """The input a problem's path is shown beside: ``….steps[1].approver.role`` ->
    ``step_value:1``, ``….steps[0].when`` -> ``step_when:0``, ``….on_approve[0].values.stage``
    -> ``on_approve:stage``; None for a path outside the steps and action lists."""
    if found := _STEP_PATH.search(path):
        row, part = found.group(1), found.group(2)
        if part in ("label", "when", "mode"):
            return f"step_{part}:{row}"
        if part == "approver":
            return f"step_value:{row}"
        return f"step_name:{row}"
    if found := _ACTION_PATH.search(path):
        key, rest = found.group(1), found.group(2)
        if rest.startswith(".values."):
            return f"{key}:{rest[len('.values.') :]}"
        return key
    return None
