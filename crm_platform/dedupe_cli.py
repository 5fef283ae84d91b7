"""``crm duplicates``, ``crm merge`` and ``crm data-quality`` (ADR 0042): the same
operations as the API, as a user (``--as``; default the system user, who sees all)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .core import CrmError


def _user(org, email: str | None):
    from .runtime import find_user
    from .runtime.users import system_user

    with org.db.read() as conn:
        user = find_user(conn, email) if email else system_user(conn)
    if user is None:
        click.secho(f"no user '{email}'", fg="red", err=True)
        sys.exit(1)
    return user


def _setup(email: str | None):
    from .cli import _org, _require_org

    org = _org()
    _require_org(org)
    return org, _user(org, email)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


AS_OPTION = click.option(
    "--as", "email", help="Act as this user (default: the system user, who sees all)."
)
FORMAT_OPTION = click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True
)


@click.command("duplicates")
@click.argument("object_name")
@click.option("--rule", help="One duplicate rule (default: every active rule).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@AS_OPTION
@FORMAT_OPTION
def duplicates(
    object_name: str, rule: str | None, limit: int, email: str | None, output: str
) -> None:
    """List the likely duplicate clusters of OBJECT_NAME."""
    from rich.console import Console
    from rich.table import Table

    from .cli import _fail
    from .dedupe import MAX_BLOCK, duplicate_clusters

    org, user = _setup(email)
    try:
        with org.records.session(user, write=False) as session:
            report = duplicate_clusters(session, object_name, rule_name=rule, limit=limit)
            name_field = session.object(object_name).name_field
    except CrmError as error:
        _fail(error)
        return
    if output == "json":
        clusters = [
            {"rule": c.rule, "records": [r["id"] for r in c.records]} for c in report.clusters
        ]
        body = {
            "total": report.total,
            "clusters": clusters,
            "skipped_rules": report.skipped_rules,
            "truncated_blocks": report.truncated_blocks,
        }
        click.echo(json.dumps(body, indent=2))
        return
    console = Console()
    console.print(f"{object_name}: {report.total} likely duplicate clusters")
    table = Table()
    for column in ("cluster", "rule", "id", "name"):
        # an id is copied into `crm merge`: whole on one line, however narrow the terminal
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for number, cluster in enumerate(report.clusters, 1):
        for index, record in enumerate(cluster.records):
            table.add_row(
                str(number) if index == 0 else "",
                cluster.rule if index == 0 else "",
                record["id"],
                _text(record.get(name_field)),
            )
    if report.clusters:
        console.print(table)
    if report.skipped_rules:
        click.echo(
            f"skipped (they compare fields you may not read): {', '.join(report.skipped_rules)}"
        )
    if report.truncated_blocks:
        click.echo(
            f"incomplete: {report.truncated_blocks} group(s) of records alike by the rules' "
            f"blocking keys hold more than {MAX_BLOCK}; only the first {MAX_BLOCK} of each "
            "were compared, so clusters among the rest may be missing"
        )


@click.command("merge")
@click.argument("object_name")
@click.argument("master")
@click.argument("others", nargs=-1, required=True)
@click.option(
    "--keep",
    multiple=True,
    metavar="FIELD=ID",
    help="Keep this record's value of FIELD on the master (repeatable).",
)
@AS_OPTION
def merge(object_name: str, master: str, others: tuple[str, ...], keep, email) -> None:
    """Merge the OTHERS records of OBJECT_NAME into MASTER (undo: restore one of them)."""
    from .cli import _fail
    from .dedupe import merge_records

    values = {}
    for item in keep:
        name, sep, source = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}': write FIELD=ID", param_hint="--keep")
        values[name.strip()] = source.strip()
    org, user = _setup(email)
    try:
        with org.records.session(user) as session:
            result = merge_records(session, object_name, master, list(others), values)
    except CrmError as error:
        _fail(error)
        return
    click.echo(
        f"merged {len(result.merged)} into {result.master['id']}: "
        f"{result.moved_children} children moved (merge {result.merge_id}; "
        "restore a merged record to undo)"
    )


@click.command("data-quality")
@click.argument("object_name")
@click.option("--stale-days", type=click.IntRange(1, 36_500), default=365, show_default=True)
@AS_OPTION
@FORMAT_OPTION
def data_quality(object_name: str, stale_days: int, email: str | None, output: str) -> None:
    """The data-quality report of OBJECT_NAME: completeness, uniqueness, invalid values,
    duplicate clusters and stale records."""
    from rich.console import Console
    from rich.table import Table

    from .api.data_quality_api import report_body
    from .cli import _fail
    from .quality import data_quality as compute

    org, user = _setup(email)
    try:
        with org.records.session(user, write=False) as session:
            report = compute(session, object_name, stale_days=stale_days)
    except CrmError as error:
        _fail(error)
        return
    if output == "json":
        click.echo(json.dumps(report_body(report), indent=2))
        return
    console = Console()
    console.print(
        f"{report.object}: {report.total} records, {report.stale} not modified in "
        f"{report.stale_days} days"
    )
    table = Table(title="Completeness")
    for column in ("field", "filled", "%"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for figures in report.fields:
        table.add_row(figures.field, str(figures.filled), f"{figures.completeness:.1f}")
    console.print(table)
    if report.uniqueness:
        table = Table(title="Uniqueness")
        for column in ("field", "filled", "distinct", "duplicate values", "records in duplicates"):
            table.add_column(column)
        for u in report.uniqueness:
            table.add_row(
                u.field,
                str(u.filled),
                str(u.distinct),
                str(u.duplicate_values),
                str(u.records_in_duplicates),
            )
        console.print(table)
    table = Table(title="Invalid values")
    for column in ("field", "kind", "count"):
        table.add_column(column)
    for invalid in report.invalid:
        table.add_row(invalid.field, invalid.kind, str(invalid.count))
    console.print(table)
    table = Table(title="Duplicate clusters")
    table.add_column("rule")
    table.add_column("clusters", justify="right")
    for rule, count in report.duplicate_clusters.items():
        table.add_row(rule, str(count))
    console.print(table)
