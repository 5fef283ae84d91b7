"""Automation: what active triggers cost a create, and how fast workers drain the outbox.

Prints, per database (a temporary SQLite file; a fresh PostgreSQL schema that is
dropped at the end), two tables:

- **creates per second with 0, 5 and 20 active triggers** on a ``deal`` object, through
  the record service in this process (one transaction per create, as the API does per
  request), with the ratio against no triggers (the goal: 20 triggers ≥ 0.5× of none).
  Half of the triggers are before-save field updates whose criteria hold; the other
  half are after-save triggers whose criteria do not hold for the created deals (their
  criteria are evaluated, their actions are not run). This part needs the ``trigger``
  kind; when this build has none it says so and measures only the baseline.
- **outbox drain rate**: ``--runs`` ping runs (``crm automation ping``: a claim, one
  transaction with the job's effect, a finish — the outbox's own cost, with no network
  call) delivered in-process by one thread (the baseline: the embedded default), then
  by a ``crm worker`` process with a pool of 1 and of 2 on Redis (``--broker-url``).
  The runs are committed first and their messages wait in the queue; the worker is
  then started, and the rate is the runs divided by the time from the first run's
  start to the last run's finish (read from the runs themselves, so the worker's own
  start-up is not counted).

Nothing is asserted (DESIGN §11).

    python bench/automation_bench.py                 # full run, both databases
    python bench/automation_bench.py --quick         # a small smoke run
    python bench/automation_bench.py --databases sqlite --runs 500 --seconds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import scratch_database, server_version
from crm_platform.assembly import open_org
from crm_platform.core import load_settings
from crm_platform.core.tables import SYSTEM_USER_ID, automation_runs
from crm_platform.runtime import Org, find_user, initialise_org
from crm_platform.workflow import automation_of, outbox

ADMIN = "admin@example.com"
DEAL = {
    "api_name": "deal",
    "fields": [
        {"api_name": "amount", "type": "currency", "precision": 18, "scale": 2},
        {
            "api_name": "stage",
            "type": "picklist",
            "values": [{"value": "Prospecting", "default": True}, "Negotiation", "Closed Won"],
        },
        {"api_name": "note", "type": "text", "max_length": 80},
        {"api_name": "closed_on", "type": "date"},
    ],
}
TRIGGER_COUNTS = (0, 5, 20)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- creates with triggers -------------------------------------------------------------


def trigger_definition(index: int) -> dict[str, Any]:
    """The ``index``-th trigger on ``deal``, in the issue's definition format."""
    if index % 2 == 0:  # a before-save field update whose criteria hold
        return {
            "api_name": f"bench_{index}",
            "object": "deal",
            "events": ["create", "update"],
            "when": f"amount > {index}",
            "timing": "before_save",
            "actions": [{"type": "update_record", "values": {"note": f"'rule {index}'"}}],
        }
    return {  # an after-save trigger whose criteria the created deals do not meet
        "api_name": f"bench_{index}",
        "object": "deal",
        "events": ["create", "update"],
        "when": "stage == 'Closed Won'",
        "only_when_changed_to_meet": True,
        "timing": "after_save",
        "actions": [{"type": "update_record", "values": {"closed_on": "TODAY()"}}],
    }


def creates_per_second(org: Org, seconds: float) -> float:
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN)
    assert admin is not None
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        with org.records.session(admin) as session:
            session.create("deal", {"name": f"Deal {done}", "amount": 1000 + done})
        done += 1
    return done / (time.perf_counter() - started)


def bench_triggers(org: Org, seconds: float) -> list[tuple[str, str, str]]:
    """Rows of (active triggers, creates/s, ratio against none)."""
    rows: list[tuple[str, str, str]] = []
    has_triggers = "trigger" in org.registry.kinds
    baseline = 0.0
    active = 0
    for count in TRIGGER_COUNTS:
        if count and not has_triggers:
            rows.append((str(count), "no `trigger` kind in this build", "—"))
            continue
        if count > active:
            definitions = [("trigger", trigger_definition(i)) for i in range(active, count)]
            try:
                org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
            except Exception as exc:  # the kind exists but reads definitions differently
                rows.append((str(count), f"definitions refused: {exc}", "—"))
                continue
            active = count
        log(f"  creates with {count} triggers…")
        rate = creates_per_second(org, seconds)
        baseline = baseline or rate
        rows.append((str(count), f"{rate:,.0f}", f"{rate / baseline:.2f}×"))
    return rows


# --- the outbox drain rate --------------------------------------------------------------


def enqueue_pings(org: Org, runs: int, due_in: timedelta = timedelta(0)) -> None:
    """``runs`` ping runs committed in one transaction (dispatched after it commits)."""
    automation = automation_of(org)
    with org.db.write() as conn:
        for _ in range(runs):
            automation.enqueue(
                conn,
                job="ping",
                source="bench",
                payload={},
                user_id=SYSTEM_USER_ID,
                due_at=org.clock() + due_in if due_in else None,
            )


def drain_seconds(org: Org) -> float:
    """From the first run's start to the last run's finish (the runs say when)."""
    T = automation_runs.c
    with org.db.read() as conn:
        first, last = conn.execute(
            sa.select(sa.func.min(T.started_at), sa.func.max(T.finished_at))
        ).one()
    return (last - first).total_seconds()


def succeeded(org: Org) -> int:
    with org.db.read() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(automation_runs.c.status == outbox.SUCCEEDED)
        ).scalar_one()


def clear_runs(org: Org) -> None:
    with org.db.write() as conn:
        conn.execute(automation_runs.delete())


def in_process_rate(org: Org, runs: int) -> float:
    """The embedded default: one thread runs the due runs (no broker)."""
    enqueue_pings(org, runs, due_in=timedelta(hours=1))  # held back: nothing runs yet
    real_clock = org.clock
    org.clock = lambda: real_clock() + timedelta(hours=1, seconds=1)
    try:
        automation_of(org).run_due()
    finally:
        org.clock = real_clock
    assert succeeded(org) == runs
    return runs / drain_seconds(org)


def worker_rate(org: Org, folder: Path, runs: int, pool: int) -> float:
    """A ``crm worker`` with a pool of ``pool`` processes drains ``runs`` queued runs."""
    enqueue_pings(org, runs)  # committed; their messages wait in the queue
    settings = org.settings
    env = {
        **os.environ,
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
        "CRM_BROKER_URL": settings.broker_url or "",
        "CRM_BROKER_QUEUE": settings.broker_queue,
    }
    command = [sys.executable, "-c", "from crm_platform.cli import main; main()", "worker"]
    command += [f"--concurrency={pool}", "--loglevel=WARNING"]
    with open(folder / f"worker-{pool}.log", "wb") as out:
        worker = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while succeeded(org) < runs:
            if worker.poll() is not None or time.monotonic() > deadline:
                tail = (folder / f"worker-{pool}.log").read_text()[-3000:]
                raise RuntimeError(f"the worker stopped or stalled: {tail}")
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(60)
    return runs / drain_seconds(org)


def delete_queue(broker_url: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker_url, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(queue)


def bench_drain(
    database_url: str, folder: Path, runs: int, broker_url: str
) -> list[tuple[str, str, str, str]]:
    """Rows of (delivery, seconds, runs/s, ratio against in-process)."""
    settings = load_settings(database_url, folder / "instance")
    org = open_org(settings)
    rows: list[tuple[str, str, str, str]] = []
    try:
        log("  in-process drain…")
        baseline = in_process_rate(org, runs)
        rows.append(
            (
                "in-process, 1 thread (no broker)",
                f"{runs / baseline:.1f}",
                f"{baseline:,.0f}",
                "1.00×",
            )
        )
    finally:
        org.dispose()
    queue = f"crm-bench-{uuid.uuid4().hex[:12]}"
    broker = dataclasses.replace(settings, broker_url=broker_url, broker_queue=queue)
    org = open_org(broker)
    try:
        for pool in (1, 2):
            clear_runs(org)
            log(f"  Redis, worker pool of {pool}…")
            rate = worker_rate(org, folder, runs, pool)
            label = f"`crm worker -c {pool}` on Redis"
            rows.append((label, f"{runs / rate:.1f}", f"{rate:,.0f}", f"{rate / baseline:.2f}×"))
    finally:
        org.dispose()
        delete_queue(broker_url, queue)
    return rows


# --- the report ---------------------------------------------------------------------------


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run_database(kind: str, args: argparse.Namespace) -> None:
    with scratch_database(kind, args.postgres_url) as (url, folder):
        settings = load_settings(url, folder / "instance")
        org = open_org(settings)
        try:
            initialise_org(org, admin_email=ADMIN, admin_password="bench-pass-123!")
            org.metadata.apply_objects([DEAL], author_id=SYSTEM_USER_ID)
            version = server_version(org)
            log(f"{version}: creates with triggers")
            trigger_rows = bench_triggers(org, args.seconds)
        finally:
            org.dispose()
        drain_rows = bench_drain(url, folder, args.runs, args.broker_url)
    print(f"\n#### {version}\n")
    print(f"Creates per second through the record service ({args.seconds:g} s per level):\n")
    print(table(("active triggers", "creates/s", "vs none"), trigger_rows))
    print(f"\nOutbox drain rate, {args.runs} ping runs:\n")
    print(table(("delivery", "seconds", "runs/s", "vs in-process"), drain_rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=2000, help="ping runs to drain")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of creates per level")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "CRM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("CRM_BENCH_BROKER_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 100, 1.0
    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)"
    print(f"automation_bench on {machine}, Python {platform.python_version()}")
    for kind in args.databases.split(","):
        run_database(kind.strip(), args)


if __name__ == "__main__":
    main()
