"""`crm worker` and `crm automation …`: delivery of automation runs, from the terminal."""

from __future__ import annotations

import os
import sys
import time

import click

from .core import CrmError, load_settings
from .core.tables import SYSTEM_USER_ID
from .workflow import automation_of
from .workflow.outbox import SWEEP_EVERY, Run
from .workflow.ping import ping_result, request_ping
from .workflow.runs import STATUS_WORDS, RunQuery


def _cli():  # the main command module (imported here: it imports this module)
    from . import cli

    return cli


@click.command()
@click.option("--beat", is_flag=True, help="Also run the sweep that queues due-later runs.")
@click.option("--concurrency", "-c", default=2, show_default=True, type=int)
@click.option(
    "--sweep-every",
    default=SWEEP_EVERY,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Seconds between sweeps (with --beat).",
)
@click.option("--loglevel", default="INFO", show_default=True)
def worker(beat: bool, concurrency: int, sweep_every: float, loglevel: str) -> None:
    """Run Celery worker processes that deliver automation runs (needs CRM_BROKER_URL).

    With --beat this worker also sweeps: every few seconds it queues the runs that
    fell due (scheduled triggers, retries after backoff), runs whose dispatch failed
    while the broker was down, and runs of workers that died. Run exactly one worker
    with --beat (a second is harmless, only wasteful).
    """
    from .assembly import open_org
    from .workflow.celery_app import make_celery

    settings = load_settings()
    if not settings.broker_url:
        click.secho(
            "CRM_BROKER_URL is not set: with no broker, `crm serve` runs automation in-process",
            fg="red",
            err=True,
        )
        sys.exit(1)
    org = open_org(settings)
    try:
        _cli()._require_org(org)
        if org.needs_upgrade():
            click.secho("the platform tables are behind: run `crm upgrade`", fg="red", err=True)
            sys.exit(1)
    finally:
        org.dispose()  # each worker process opens its own engine after fork
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings, open_org, sweep_every=sweep_every)
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "--pool=prefork"]
    argv += ["-Q", settings.broker_queue, "--without-mingle", "--without-gossip"]
    # a node name of its own: two workers on one machine must not share a control queue
    # (RabbitMQ refuses the second one's exclusive `<name>.celery.pidbox`)
    argv += [f"--hostname={settings.broker_queue}.{os.getpid()}@%h"]
    if beat:
        argv.append("--beat")
    app.worker_main(argv)


@click.group()
def automation() -> None:
    """Automation runs: list them, retry failed ones, check delivery."""


def _show(run: Run) -> None:
    late = " late" if run.late else ""
    where = f" {run.object}/{run.record_id}" if run.record_id else ""
    click.echo(
        f"{run.id}  {run.status}{late}  {run.job}  {run.source}{where}  "
        f"attempts={run.attempts}  due {run.due_at.isoformat()}"
    )
    if run.error:
        click.echo(f"    failed at {run.failed_step}: {run.error}")


@automation.command("runs")
@click.option("--failed", is_flag=True, help="Only failed runs (the dead-letter list).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_WORDS),
    help="Only runs with this status (repeatable); `late` lists runs that started late.",
)
@click.option("--limit", default=50, show_default=True, type=int)
def runs_list(failed: bool, statuses: tuple[str, ...], limit: int) -> None:
    """List automation runs, newest first."""
    org = _cli()._org()
    _cli()._require_org(org)
    try:
        query = RunQuery.parse((*statuses, *(["failed"] if failed else [])), limit=limit)
    except CrmError as error:
        _cli()._fail(error)
    with org.db.read() as conn:
        found = query.run(conn)
    for run in found:
        _show(run)
    if not found:
        click.echo("No runs.")


@automation.command("retry")
@click.argument("run_id")
def runs_retry(run_id: str) -> None:
    """Queue a failed run again, from the action that failed."""
    org = _cli()._org()
    _cli()._require_org(org)
    run = automation_of(org).retry(run_id)
    if run is None:
        click.secho(f"no failed run '{run_id}'", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Queued run {run_id} again, from step {run.step}.")
    if not automation_of(org).uses_broker:
        org.work.run_pending()  # no broker and no server here: deliver it now
        _show(_get(org, run_id))


def _get(org, run_id: str) -> Run:
    from .workflow import outbox

    with org.db.read() as conn:
        found = outbox.get(conn, run_id)
    assert found is not None
    return found


@automation.command("ping")
@click.option(
    "--hold", default=0.0, show_default=True, type=float, help="Seconds the worker holds it."
)
@click.option("--wait", default=30.0, show_default=True, type=float, help="Seconds to wait.")
def ping(hold: float, wait: float) -> None:
    """Check delivery end to end: queue a ping run and wait until a worker delivers it."""
    org = _cli()._org()
    _cli()._require_org(org)
    automation_ = automation_of(org)
    try:
        run_id = request_ping(automation_, SYSTEM_USER_ID, hold)
    except CrmError as error:
        _cli()._fail(error)
    if not automation_.uses_broker:
        org.work.run_pending()
    deadline = time.monotonic() + wait
    while True:
        with org.db.read() as conn:
            result = ping_result(conn, run_id)
        if result is not None:
            at = result.delivered_at.isoformat()
            click.echo(f"Ping {run_id} delivered by {result.delivered_by} at {at}.")
            return
        if time.monotonic() >= deadline:
            click.secho(
                f"ping {run_id} not delivered within {wait:g}s: are workers running?",
                fg="red",
                err=True,
            )
            sys.exit(1)
        time.sleep(0.2)
