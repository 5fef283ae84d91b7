"""The trigger builder's form: a trigger as inputs an admin fills in (object, events,
timing before or after save, criteria checked as typed, active) and its actions as a
repeatable list of rows — each an action type and that type's inputs, a position to order
them, one spare row to add one, and a row whose type is set to none is removed.

A trigger using what the form cannot show (a schedule, an action type or option it does
not list, recipients given as a list, labels in other languages) opens in the YAML
editor instead, so saving the form never drops part of a definition."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext

from crm_platform.workflow.triggers.schema import AFTER_SAVE, BEFORE_SAVE, EVENTS

from .base import label_fits_form

TOP_KEYS = frozenset(
    {
        "api_name",
        "object",
        "label",
        "description",
        "active",
        "events",
        "when",
        "only_when_changed_to_meet",
        "timing",
        "actions",
    }
)
TIMINGS = (AFTER_SAVE, BEFORE_SAVE)
# Input kinds: "text" (a name or a literal), "expression" (checked as typed), "list"
# (comma-separated names).
TEXT, EXPRESSION, LIST = "text", "expression", "list"


@dataclass(frozen=True)
class Option:
    key: str
    label: Any
    input: str = TEXT
    placeholder: str = ""


@dataclass(frozen=True)
class ActionForm:
    """One action type the form shows: its options as inputs, and whether it takes a
    ``values`` table (field = expression)."""

    name: str
    label: Any
    options: tuple[Option, ...] = ()
    values: bool = False


ACTION_FORMS: tuple[ActionForm, ...] = (
    ActionForm(
        "update_record",
        lazy_gettext("Update fields"),
        (
            Option(
                "record",
                lazy_gettext("Of the parent in lookup field (optional)"),
                placeholder="account",
            ),
        ),
        values=True,
    ),
    ActionForm(
        "create_record",
        lazy_gettext("Create a record"),
        (Option("object", lazy_gettext("Object of the new record"), placeholder="task"),),
        values=True,
    ),
    ActionForm(
        "send_email",
        lazy_gettext("Send an email template"),
        (
            Option("template", lazy_gettext("Email template")),
            Option("to", lazy_gettext("To (owner, owner.email or an expression)"), EXPRESSION),
            Option("cc", lazy_gettext("Cc (optional)"), EXPRESSION),
        ),
    ),
    ActionForm(
        "notify",
        lazy_gettext("Notify in the app"),
        (
            Option("to", lazy_gettext("To (owner, or an expression giving a user)"), EXPRESSION),
            Option(
                "message", lazy_gettext("Message (an expression)"), EXPRESSION, "'Won: ' + name"
            ),
        ),
    ),
    ActionForm(
        "webhook",
        lazy_gettext("Call a webhook"),
        (
            Option("url", lazy_gettext("URL"), placeholder="https://"),
            Option("secret_ref", lazy_gettext("Secret reference")),
            Option("fields", lazy_gettext("Fields sent (optional, all when empty)"), LIST),
        ),
    ),
    ActionForm(
        "submit_for_approval",
        lazy_gettext("Submit for approval"),
        (
            Option("process", lazy_gettext("Approval process (optional)")),
            Option("comment", lazy_gettext("Comment (optional)")),
        ),
    ),
    ActionForm(
        "assign",
        lazy_gettext("Assign with a rule"),
        (Option("rule", lazy_gettext("Assignment rule (optional: the active one)")),),
    ),
    ActionForm(
        "count_records",
        lazy_gettext("Count records"),
        (
            Option("object", lazy_gettext("Object to count (an expression)"), EXPRESSION),
            Option("where", lazy_gettext("Criteria (an expression)"), EXPRESSION),
            Option("into", lazy_gettext("Into number field")),
        ),
    ),
)
BY_NAME = {a.name: a for a in ACTION_FORMS}
SPARE_VALUES = 2  # empty field = value rows under a table's filled ones


def trigger_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new trigger always fits)."""
    if not stored:
        return True
    if set(stored) - TOP_KEYS or stored.get("timing", AFTER_SAVE) not in TIMINGS:
        return False
    if not label_fits_form(stored.get("label")):
        return False
    if not all(isinstance(e, str) for e in stored.get("events", [])):
        return False
    actions = stored.get("actions", [])
    return isinstance(actions, list) and all(_action_fits(a) for a in actions)


def _action_fits(action: Any) -> bool:
    if not isinstance(action, Mapping) or action.get("type") not in BY_NAME:
        return False
    shape = BY_NAME[action["type"]]
    known = {"type", *(o.key for o in shape.options), *(["values"] if shape.values else [])}
    if set(action) - known:
        return False
    for option in shape.options:
        value = action.get(option.key)
        if value is None:
            continue
        if option.input == LIST:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return False
        elif not isinstance(value, str):
            return False
    values = action.get("values", {})
    return isinstance(values, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in values.items()
    )


def _prefix(row: int, kind: str) -> str:
    return f"actions-{row}-{kind}"


def trigger_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored trigger (defaults for a new one)."""
    if not stored:
        return {"timing": AFTER_SAVE, "event_create": "on", "event_update": "on", "active": "on"}
    label = stored.get("label") or ""
    labels = dict(label) if isinstance(label, Mapping) else {"en": label}
    out = {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "label": labels.get("en", ""),
        "label_zh": labels.get("zh", ""),
        "description": str(stored.get("description", "")),
        "timing": str(stored.get("timing", AFTER_SAVE)),
        "when": str(stored.get("when", "")),
        "only_when_changed_to_meet": "on" if stored.get("only_when_changed_to_meet") else "",
        "active": "" if stored.get("active", True) is False else "on",
    }
    for event in stored.get("events", []):
        out[f"event_{event}"] = "on"
    for row, action in enumerate(stored.get("actions", [])):
        kind = action["type"]
        out[f"actions-{row}-type"] = kind
        out[f"actions-{row}-position"] = str(row + 1)
        prefix = _prefix(row, kind)
        for option in BY_NAME[kind].options:
            value = action.get(option.key)
            if value is not None:
                out[f"{prefix}-{option.key}"] = ", ".join(value) if option.input == LIST else value
        for number, (name, source) in enumerate((action.get("values") or {}).items()):
            out[f"{prefix}-field-{number}"] = name
            out[f"{prefix}-value-{number}"] = source
    return out


@dataclass
class Row:
    """One action row of the form: where it is in the form (``row``), its type, position,
    its inputs per type, and its index in the definition saved from it (errors are keyed
    by that index)."""

    row: int
    type: str
    position: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    index: int | None = None

    @property
    def path(self) -> str:
        """The path of the row's action in the definition (problems are keyed by it)."""
        return f"actions[{self.index}]" if self.index is not None else ""


def trigger_rows(form: Mapping[str, str]) -> list[Row]:
    """The action rows of the form's inputs, in form order, each with its index in the
    definition built from them; one spare empty row last (to add an action)."""
    numbers = sorted(
        int(m.group(1)) for key in form if (m := re.fullmatch(r"actions-(\d+)-type", key))
    )
    rows = []
    for number in numbers:
        row = Row(
            number,
            form.get(f"actions-{number}-type", "").strip(),
            form.get(f"actions-{number}-position", "").strip(),
        )
        for shape in ACTION_FORMS:
            prefix = _prefix(number, shape.name)
            row.inputs[shape.name] = {
                o.key: form.get(f"{prefix}-{o.key}", "") for o in shape.options
            }
            if shape.values:
                row.values[shape.name] = _value_rows(form, prefix)
        rows.append(row)
    for index, row in enumerate(_ordered(r for r in rows if r.type)):
        row.index = index
    if not rows or rows[-1].type:
        spare = Row(max(numbers, default=-1) + 1, "", str(sum(1 for r in rows if r.type) + 1))
        for shape in ACTION_FORMS:
            spare.inputs[shape.name] = {o.key: "" for o in shape.options}
            if shape.values:
                spare.values[shape.name] = [("", "")] * SPARE_VALUES
        rows.append(spare)
    return rows


def _value_rows(form: Mapping[str, str], prefix: str) -> list[tuple[str, str]]:
    numbers = sorted(
        int(m.group(1))
        for key in form
        if (m := re.fullmatch(re.escape(prefix) + r"-field-(\d+)", key))
    )
    filled = [
        (form.get(f"{prefix}-field-{n}", ""), form.get(f"{prefix}-value-{n}", "")) for n in numbers
    ]
    filled = [(f, v) for f, v in filled if f.strip() or v.strip()]
    return filled + [("", "")] * SPARE_VALUES


def _ordered(rows: Any) -> list[Row]:
    """Rows by their position input (a row with none or a bad one keeps its place)."""
    listed = list(rows)

    def key(pair: tuple[int, Row]) -> tuple[float, int]:
        place, row = pair
        try:
            return (float(row.position), place)
        except ValueError:
            return (float(place + 1), place)

    return [row for _place, row in sorted(enumerate(listed), key=key)]


def trigger_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A trigger definition from the form's inputs (the metadata service checks it)."""
    out: dict[str, Any] = {
        "api_name": form.get("api_name", "").strip(),
        "object": form.get("object", "").strip(),
    }
    english, chinese = form.get("label", "").strip(), form.get("label_zh", "").strip()
    if chinese:
        out["label"] = {"en": english or chinese, "zh": chinese}
    elif english:
        out["label"] = english
    if description := form.get("description", "").strip():
        out["description"] = description
    out["events"] = [e for e in EVENTS if form.get(f"event_{e}") == "on"]
    out["timing"] = form.get("timing", AFTER_SAVE)
    if when := form.get("when", "").strip():
        out["when"] = when
    if form.get("only_when_changed_to_meet") == "on":
        out["only_when_changed_to_meet"] = True
    if form.get("active") != "on":
        out["active"] = False
    out["actions"] = [
        _action(row) for row in sorted((r for r in trigger_rows(form) if r.type), key=_index)
    ]
    return out


def _index(row: Row) -> int:
    return row.index if row.index is not None else -1


def _action(row: Row) -> dict[str, Any]:
    shape = BY_NAME.get(row.type)
    out: dict[str, Any] = {"type": row.type}
    if shape is None:  # not a type the form lists: the schema names it
        return out
    for option in shape.options:
        value = row.inputs[shape.name][option.key].strip()
        if not value:
            continue
        if option.input == LIST:
            out[option.key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            out[option.key] = value
    if shape.values:
        out["values"] = {f.strip(): v.strip() for f, v in row.values[shape.name] if f.strip()}
    return out


def trigger_input(path: str) -> str:
    """A problem's path as the input it is shown beside: ``account.x.when`` -> ``when``;
    ``account.x.actions[1].values.amount`` -> ``actions[1].values.amount`` (the form's row
    for the action at index 1 shows it); other paths are kept whole."""
    found = re.search(r"(?:^|\.)(actions\[\d+\].*)$", path)
    if found:
        return found.group(1)
    last = path.split(".")[-1].split("[")[0]
    return last if last in TOP_INPUTS else path


TOP_INPUTS = frozenset(
    {"api_name", "object", "label", "description", "events", "timing", "when", "actions"}
    | {"only_when_changed_to_meet", "active"}
)


def option_problems(problems: Mapping[str, list[str]], row: Row, key: str) -> list[str]:
    """The messages an action row shows beside one of its inputs: ``key`` is an option
    (``to``, ``fields`` with its items), ``values`` or ``values.<field>``, ``type`` or
    ``""`` (the action as a whole)."""
    if row.index is None:
        return []
    where = f"{row.path}.{key}" if key else row.path
    return [
        message
        for path, messages in problems.items()
        if path == where or (key and path.startswith(where + "[") and key != "type")
        for message in messages
    ]


def other_row_problems(problems: Mapping[str, list[str]], row: Row) -> list[str]:
    """The messages of a row's paths that no input of the row shows (prefixed with the
    path inside the action)."""
    if row.index is None:
        return []
    shape = BY_NAME.get(row.type)
    keys = {"type"} | ({o.key for o in shape.options} if shape else set())
    values = {f.strip() for f, _v in row.values.get(row.type, [])} if shape else set()
    out = []
    for path, messages in problems.items():
        if not path.startswith(row.path + "."):
            continue
        rest = path[len(row.path) + 1 :]
        if rest.split(".")[0].split("[")[0] in keys:
            continue
        if shape and shape.values and (rest == "values" or rest.removeprefix("values.") in values):
            continue
        out += [f"{rest}: {m}" for m in messages]
    return out


def shown_paths(problems: Mapping[str, list[str]], rows: list[Row]) -> list[str]:
    """The problem paths the form shows beside an input (the others go on top)."""
    own = {row.path for row in rows if row.index is not None}
    return [
        *TOP_INPUTS,
        "label_zh",
        *(p for p in problems if re.match(r"actions\[\d+\]", p) and _row_of(p) in own),
    ]


def _row_of(path: str) -> str:
    return path.split(".")[0]


def trigger_choices() -> dict[str, Any]:
    """What the trigger form's template needs: the action types, events and timings, the
    rows of a form's inputs and where their problems are shown."""
    return {
        "action_forms": ACTION_FORMS,
        "trigger_events": EVENTS,
        "trigger_timings": TIMINGS,
        "trigger_rows": trigger_rows,
        "option_problems": option_problems,
        "other_row_problems": other_row_problems,
        "trigger_shown": shown_paths,
    }
