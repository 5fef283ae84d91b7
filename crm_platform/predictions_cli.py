"""``crm predictions``: list the org's predictions, train one, show its quality, rescore."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .core import CrmError

WEAK_AUC = 0.6


@click.group("predictions")
def predictions() -> None:
    """Predictions (definitions are applied with `crm metadata apply` or a pack)."""


def _setup():
    from .cli import _org, _require_org

    org = _org()
    _require_org(org)
    return org


@predictions.command("list")
def predictions_list() -> None:
    """The predictions of the org, with when each was trained."""
    from rich.console import Console
    from rich.table import Table

    from .predictions import predictions_of
    from .predictions.report import prediction_report

    org = _setup()
    table = Table(title="Predictions")
    for column in ("name", "object", "score field", "trained at", "AUC"):
        table.add_column(column)
    with org.reading() as (conn, model):
        for prediction in predictions_of(model).predictions.values():
            report = prediction_report(conn, prediction)
            quality = report["quality"] or {}
            auc = quality.get("quality", {}).get("auc")
            table.add_row(
                prediction.name,
                prediction.object,
                prediction.score_field,
                report["trained_at"] or "never",
                "" if auc is None else f"{auc:.3f}",
            )
    Console().print(table)


@predictions.command("train")
@click.argument("name")
def predictions_train(name: str) -> None:
    """Train the prediction NAME on the org's history, report its quality on held-out
    records and score the open records (refused, with the reason, on too thin a history)."""
    from .cli import _fail
    from .predictions import train_now
    from .runtime.users import system_user

    org = _setup()
    with org.db.read() as conn:
        user = system_user(conn)
    try:
        run = train_now(org, name, user)
    except CrmError as exc:
        _fail(exc)
        return
    quality = run.quality
    click.echo(
        f"{name}: trained on {run.examples} examples ({run.positives} positive); "
        f"held out {quality['held_out']}: AUC {quality['auc']:.3f}, "
        f"Brier score {quality['brier']:.3f}"
    )
    click.echo(f"scored {quality['scored']} records ({quality['written']} changed)")


@predictions.command("score")
@click.argument("name")
def predictions_score(name: str) -> None:
    """Score the open records of NAME with its stored model (no retraining)."""
    from .cli import _fail
    from .predictions import prediction_named, score_records

    org = _setup()
    try:
        result = score_records(org, prediction_named(org, name))
    except CrmError as exc:
        _fail(exc)
        return
    click.echo(f"scored {result.scored} records ({result.written} changed)")


@predictions.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def predictions_show(name: str, as_json: bool) -> None:
    """The quality of NAME on held-out records (AUC, Brier score, reliability table)."""
    from .cli import _fail
    from .predictions import prediction_named
    from .predictions.report import prediction_report

    org = _setup()
    try:
        prediction = prediction_named(org, name)
    except CrmError as exc:
        _fail(exc)
        return
    with org.db.read() as conn:
        report = prediction_report(conn, prediction)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{report['name']}[/bold] on {report['object']} → {report['score_field']}"
        f" (features: {', '.join(report['features'])})"
    )
    console.print(f"trained at: {report['trained_at'] or 'never'}")
    console.print(f"next training: {report['next_training_at'] or 'not planned'}")
    last = report["last_run"]
    if last and last["status"] != "trained":
        console.print(f"last attempt {last['status']}: {last['message']}")
    run = report["quality"]
    if run is None:
        console.print("no trained model yet: run `crm predictions train NAME`")
        sys.exit(0)
    q = run["quality"]
    console.print(
        f"examples: {run['examples']} ({run['positives']} positive, base rate "
        f"{q['base_rate']:.1%}); held out: {q['held_out']}"
    )
    console.print(f"AUC: {q['auc']:.3f}   Brier score: {q['brier']:.3f}")
    if q["auc"] < WEAK_AUC:  # 0.5 is a coin toss: say so rather than let a percent persuade
        console.print(
            "[yellow]the model ranks held-out records little or no better than chance: "
            "its features may not carry the outcome (treat its scores with caution)[/yellow]"
        )
    table = Table(title="Reliability on held-out records")
    for column in ("predicted band", "records", "mean predicted", "observed"):
        table.add_column(column, justify="right")
    for row in q["reliability"]:
        shown = [_pct(row["predicted"]), _pct(row["observed"])]
        table.add_row(row["band"], str(row["records"]), *shown)
    console.print(table)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"
