"""Expected report figures computed in plain Python from the rows the tests created,
and the API's answer flattened to the same shape: {group path: values}."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Row = dict[str, Any]


def visible(rows: Iterable[Row], person) -> list[Row]:
    """The rows a user's sharing lets them see (private objects: by owner)."""
    return [r for r in rows if r["owner_id"] in person.sees]


def total(values: Iterable[Any]) -> Decimal | None:
    """SQL's SUM: NULLs skipped; NULL when nothing is left."""
    found = [v for v in values if v is not None]
    return sum(found, Decimal(0)) if found else None


def average(values: Iterable[Any], scale: int) -> Decimal | None:
    found = [Decimal(v) for v in values if v is not None]
    if not found:
        return None
    exact = sum(found, Decimal(0)) / len(found)
    return exact.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def grouped(rows: list[Row], keys: list[Callable[[Row], Any]]) -> dict[tuple[Any, ...], list[Row]]:
    """The rows of every group and subtotal: by each prefix of ``keys``, () the total."""
    out: dict[tuple[Any, ...], list[Row]] = {(): list(rows)}
    for row in rows:
        path: tuple[Any, ...] = ()
        for key in keys:
            path = (*path, key(row))
            out.setdefault(path, []).append(row)
    return out


def flat(body: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A run's groups and total by key path (the total under ())."""
    out = {(): body["total"]["values"]}

    def walk(groups, prefix):
        for group in groups:
            path = (*prefix, group["key"]["value"])
            assert path not in out, f"group {path} twice"
            out[path] = group["values"]
            walk(group["groups"], path)

    walk(body["groups"], ())
    return out


def cells(body: dict[str, Any]) -> dict[tuple[Any, Any], dict[str, Any]]:
    """A matrix's cells by (row key, column key); None for the column totals' row."""
    columns = [tuple(k["value"] for k in keys) for keys in body["column_keys"]]
    out = {}
    for group in [*body["groups"], {"key": None, **body["total"]}]:
        row = group["key"]["value"] if group["key"] else None
        got = [tuple(k["value"] for k in cell["keys"]) for cell in group["by_column"]]
        assert got == columns, "every row has one cell per column key, in order"
        for column, cell in zip(columns, group["by_column"], strict=True):
            out[(row, column[0])] = cell["values"]
    return out
