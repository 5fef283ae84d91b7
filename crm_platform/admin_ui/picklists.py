"""Picklist values as the field page edits them: one row per value with its label, an
active box and a position; a new value at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def value_rows(values: list[Any]) -> list[dict[str, Any]]:
    """Stored values (strings or maps) as rows of the form."""
    rows = []
    for value in values:
        entry = value if isinstance(value, Mapping) else {"value": value}
        rows.append({**entry, "active": entry.get("active", True)})
    return rows


def values_from_form(values: list[Any], form: Mapping[str, str]) -> list[Any]:
    """The values after the form: each kept with its other keys (colour, attributes),
    ``active`` as ticked, in the order of the position inputs; a new value last.

    A value is never removed here: deactivating keeps the records that hold it valid.
    """
    rows = value_rows(values)
    ordered: list[tuple[float, int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        position = _position(form.get(f"position:{index}"), index)
        changed = {**row, "active": form.get(f"active:{index}") == "on"}
        if changed["active"]:
            changed.pop("active")  # active is the default: keep definitions minimal
        ordered.append((position, index, changed))
    ordered.sort(key=lambda item: (item[0], item[1]))
    out: list[Any] = [_compact(row) for _, _, row in ordered]
    new = form.get("new_value", "").strip()
    if new:
        out.append(new)
    return out


def _position(raw: str | None, default: int) -> float:
    try:
        return float(raw) if raw not in (None, "") else float(default)
    except ValueError:
        return float(default)


def _compact(row: dict[str, Any]) -> Any:
    """A value with nothing but its text as the plain string."""
    return row["value"] if set(row) == {"value"} else row
