"""``crm report run``: a report run as a user, printed as a table or as JSON."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from .core import CrmError


@click.group("report")
def report() -> None:
    """Reports (definitions are applied with `crm metadata apply`)."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.rows:
        table = Table(title=result.label)
        names = [*(g.label for g in result.groupings), *(c.label for c in result.columns)]
        for name in names:
            table.add_column(name)
        for row in result.rows:
            keys = [_text(k) for k in row.group]
            table.add_row(*keys, *(_text(v) for v in row.shown(result.columns)))
        console.print(table)
    values = result.aggregates
    table = Table(title=f"{result.label}: totals" if result.rows else result.label)
    groupings = result.groupings
    for grouping in groupings:
        table.add_column(grouping.label)
    if result.column_keys:
        table.add_column(" / ".join(g.label for g in result.column_groupings))
    for column in values:
        table.add_column(column.label, justify="right")

    def add(prefix: list[str], group) -> None:
        pad = [""] * (len(groupings) - len(prefix))
        table.add_row(
            *prefix,
            *pad,
            *([""] if result.column_keys else []),
            *(_text(group.values.get(v.key)) for v in values),
        )
        for cell in group.by_column:
            label = " / ".join(_text(k.label) for k in cell.keys)
            table.add_row(
                *[""] * len(groupings), label, *(_text(cell.values.get(v.key)) for v in values)
            )

    def walk(groups, prefix: list[str]) -> None:
        for group in groups:
            here = [*prefix, _text(group.key.label) or "(blank)"]
            add(here, group)
            walk(group.groups, here)

    walk(result.groups, [])
    add(["Total"] if groupings else [], result.total)
    console.print(table)
    if result.rows_truncated:
        console.print(f"(first {len(result.rows)} rows)")


@report.command("run")
@click.argument("name")
@click.option("--as", "email", help="Run as this user (default: the system user, who sees all).")
@click.option("--filter", "where", help="An expression ANDed with the report's filter.")
@click.option("--limit", type=click.IntRange(1, 50_000), help="Detail rows at most.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "path",
    type=click.Path(dir_okay=False, writable=True),
    help="The file a csv or xlsx export is written to (every row, no cap).",
)
def report_run(
    name: str,
    email: str | None,
    where: str | None,
    limit: int | None,
    output: str,
    path: str | None,
) -> None:
    """Run the report NAME as a user and print its rows, groups and totals (or export
    every row to a CSV or XLSX file)."""
    from .api.jsonio import ExactJSONProvider
    from .cli import _fail, _org, _require_org
    from .reports.run import result_json, run_report
    from .runtime import find_user
    from .runtime.users import system_user

    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        user = find_user(conn, email) if email else system_user(conn)
    if user is None:
        click.secho(f"no user '{email}'", fg="red", err=True)
        sys.exit(1)
    if output in ("csv", "xlsx"):
        _export(org, user, name, output, path, where)
        return
    try:
        with org.records.session(user, write=False) as session:
            result = run_report(session, name, filter=where, limit=limit)
    except CrmError as error:
        _fail(error)
        return
    if output == "json":
        from .cli import _app

        click.echo(ExactJSONProvider(_app()).dumps(result_json(result), indent=2))
        return
    _print_table(result)


def _export(org, user, name: str, fmt: str, path: str | None, where: str | None) -> None:
    """``--format csv|xlsx --output FILE``: the export, streamed from the cursor."""
    from .cli import _fail
    from .reports.export import export_report_file

    if path is None:
        click.secho(f"--format {fmt} writes a file: give --output FILE", fg="red", err=True)
        sys.exit(2)
    try:
        with org.records.session(user, write=False) as session, open(path, "wb") as file:
            export_report_file(session, name, fmt, file, filter=where)
    except CrmError as error:
        Path(path).unlink(missing_ok=True)  # no half-written file
        _fail(error)
        return
    click.echo(f"wrote {path}")
