"""The HTTP API side by side with a minimal Flask + raw SQL endpoint, on the same table.

Per database (a temporary SQLite file; a fresh PostgreSQL schema, dropped at the end)
an org gets a ``bench_deal`` object (sharing private; text, currency, picklist,
integer, date and long text fields; history tracked on amount and stage; a validation
rule on amount), a permission set ``bench_rep`` (read, create, edit, delete on it, and
api_enabled) and a non-admin user with that profile and an API token: authentication,
permissions, sharing, validation and history are all on. Two gunicorn servers with the
same workers (``--workers``, sync) serve that one physical table in turn: crm-platform
(``crm_platform.app:create_app()``) and ``raw_endpoint.py`` (hand-written SQLAlchemy
Core, no checks). The table is emptied before each server's run.

The workload, one sequential keep-alive client (``requests.Session``), in this order:

1. 10,000 creates in batches of 100 (crm: ``POST /api/v1/composite``);
2. 200 single creates;
3. 200 filtered and sorted lists of 50 (``stage == 'Proposal' and amount > 1000``,
   by amount descending then name);
4. 50 grouped sums (crm: ``/records/bench_deal/aggregate?group_by=stage&metrics=sum(amount)``);
5. 500 gets by id (random ids among the created records).

Printed per step: requests per second for both, the ratio crm/raw, and the SQL
statements per request (counted in this process with a ``before_cursor_execute``
listener while the same requests run through each app's Flask test client, after one
warm-up request per step); and the peak RSS of the workers (their sum, sampled every
50 ms from /proc). Nothing is asserted (DESIGN §11).

    python bench/http_bench.py                          # both databases
    python bench/http_bench.py --database sqlite --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import simplejson
import sqlalchemy as sa
from support import running_server, scratch_database, server_version

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "Bench-pass-1!"
REP_EMAIL = "rep@example.com"
OBJECT = "bench_deal"
BATCH = 100
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india")
LIST_LIMIT = 50
BENCH = Path(__file__).resolve().parent

DEFINITIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "object",
        {
            "api_name": OBJECT,
            "label": "Bench deal",
            "name_field": "name",
            "sharing": "private",
            "fields": [
                {"api_name": "name", "type": "text", "required": True, "max_length": 120},
                {"api_name": "amount", "type": "currency", "track_history": True},
                {
                    "api_name": "stage",
                    "type": "picklist",
                    "values": list(STAGES),
                    "track_history": True,
                },
                {"api_name": "quantity", "type": "integer"},
                {"api_name": "close_date", "type": "date"},
                {"api_name": "notes", "type": "long_text"},
            ],
        },
    ),
    (
        "validation_rule",
        {
            "api_name": "amount_not_negative",
            "object": OBJECT,
            "condition": "amount < 0",
            "message": "The amount cannot be negative",
            "field": "amount",
        },
    ),
    (
        "permission_set",
        {
            "api_name": "bench_rep",
            "label": "Bench rep",
            "objects": {OBJECT: {"read": True, "create": True, "edit": True, "delete": True}},
            "system": ["api_enabled"],
        },
    ),
]


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    count: int  # requests
    rows: int = 1  # records written per request


STEPS = (
    Step("batch", f"creates in batches of {BATCH} (requests)", 100, BATCH),
    Step("create", "single creates", 200),
    Step("list", f"filtered, sorted lists of {LIST_LIMIT}", 200),
    Step("sum", "grouped sums", 50),
    Step("get", "gets by id", 500),
)


@dataclass
class Options:
    databases: list[str]
    workers: int
    scale: float
    postgres_url: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite,postgresql", help="sqlite|postgresql|both")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of every step")
    args = parser.parse_args(argv)
    names = args.database.replace("both", "sqlite,postgresql")
    databases = [d.strip() for d in names.split(",") if d.strip()]
    if set(databases) - {"sqlite", "postgresql"}:
        parser.error("--database: sqlite, postgresql or both")
    return Options(databases, args.workers, 0.1 if args.quick else 1.0, args.postgres_url)


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# --- the workload, as requests to either server --------------------------------------------


def deal(rng: random.Random) -> dict[str, Any]:
    """One record's field values, as JSON."""
    words = rng.sample(WORDS, 2)
    return {
        "name": f"{words[0].title()} {words[1]} {rng.randrange(100_000)}",
        "amount": Decimal(rng.randrange(0, 10_000_000)) / 100,
        "stage": rng.choice(STAGES),
        "quantity": rng.randrange(1, 500),
        "close_date": (date(2025, 1, 1) + timedelta(days=rng.randrange(730))).isoformat(),
        "notes": " ".join(rng.choices(WORDS, k=rng.randrange(3, 20))),
    }


def body(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True)


class Client:
    """The requests of each step for one server; ``send`` is requests.Session or a test client."""

    def __init__(self, kind: str, send: Callable[..., Any], seed: int) -> None:
        self.kind = kind
        self.send = send
        self.rng = random.Random(seed)
        self.ids: list[str] = []

    def _ok(self, response: Any) -> Any:
        status = response.status_code
        if not 200 <= status < 300:
            raise RuntimeError(f"{self.kind}: HTTP {status}: {response.text[:500]}")
        if isinstance(response, requests.Response):
            return response.json()
        return response.get_json()  # a Flask test client's response

    def batch(self) -> None:
        records = [deal(self.rng) for _ in range(BATCH)]
        if self.kind == "crm":
            operations = [
                {"method": "POST", "url": f"/records/{OBJECT}", "body": r} for r in records
            ]
            payload = {"operations": operations, "all_or_none": True}
            out = self._ok(self.send("POST", "/api/v1/composite", body(payload)))
            self.ids.extend(r["body"]["id"] for r in out["results"])
        else:
            out = self._ok(self.send("POST", "/deals/batch", body({"records": records})))
            self.ids.extend(out["ids"])

    def create(self) -> None:
        path = f"/api/v1/records/{OBJECT}" if self.kind == "crm" else "/deals"
        self.ids.append(self._ok(self.send("POST", path, body(deal(self.rng))))["id"])

    def list(self) -> None:
        if self.kind == "crm":
            path = (
                f"/api/v1/records/{OBJECT}?where=stage%20%3D%3D%20%27Proposal%27%20and%20"
                f"amount%20%3E%201000&order_by=-amount,name&limit={LIST_LIMIT}"
            )
        else:
            path = f"/deals?stage=Proposal&min_amount=1000&limit={LIST_LIMIT}"
        assert len(self._ok(self.send("GET", path))["records"]) == LIST_LIMIT

    def sum(self) -> None:
        if self.kind == "crm":
            path = f"/api/v1/records/{OBJECT}/aggregate?group_by=stage&metrics=sum(amount)"
        else:
            path = "/deals/sum"
        assert self._ok(self.send("GET", path))["groups"]

    def get(self) -> None:
        record_id = self.rng.choice(self.ids)
        path = (
            f"/api/v1/records/{OBJECT}/{record_id}" if self.kind == "crm" else f"/deals/{record_id}"
        )
        assert self._ok(self.send("GET", path))["id"] == record_id


def http_sender(base_url: str, token: str | None) -> Callable[..., Any]:
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    headers = {"Content-Type": "application/json"}

    def send(method: str, path: str, data: str | None = None) -> requests.Response:
        return session.request(method, base_url + path, data=data, headers=headers)

    return send


def test_client_sender(app: Any, token: str | None) -> Callable[..., Any]:
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def send(method: str, path: str, data: str | None = None) -> Any:
        return client.open(path, method=method, data=data, headers=headers)

    return send


# --- servers and their memory --------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_rss(arbiter: int) -> int:
    """The summed resident set of the arbiter's children (the workers), in bytes."""
    total = 0
    try:
        children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    except OSError:
        return 0
    for child in children:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class PeakRss:
    """Samples the workers' summed RSS every 50 ms in a thread; ``peak`` is the maximum."""

    def __init__(self, arbiter: int) -> None:
        self.arbiter = arbiter
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, workers_rss(self.arbiter))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, workers_rss(self.arbiter))
        return self.peak


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], folder: Path, workers: int, chdir: Path
) -> Iterator[tuple[str, int]]:
    """gunicorn serving ``app`` (sync workers) on a free port: its base URL and pid."""
    port = free_port()
    log_path = folder / f"gunicorn-{port}.log"
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--timeout", "300", "--log-level", "warning",
        "--chdir", str(chdir), app,
    ]  # fmt: skip
    with running_server(command, port=port, env={**os.environ, **env}, log_path=log_path) as found:
        yield found


# --- arrangement ---------------------------------------------------------------------------


@dataclass
class Setup:
    org: Any
    token: str
    raw_config: dict[str, Any]


def arrange(url: str, folder: Path) -> Setup:
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import Org, create_token, create_user, initialise_org

    org = Org.open(load_settings(url, instance_path=folder / "instance"))
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    org.metadata.apply_definitions(DEFINITIONS, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(conn, email=REP_EMAIL, profile="bench_rep")
        token = create_token(conn, rep.id, "http_bench")
        model = org.models.model_for(conn)
    obj = model.objects[OBJECT]
    raw_config = {
        "table": obj.table.name,
        "columns": {name: f.columns[""].name for name, f in obj.fields.items()},
        "scaled_amount": org.db.is_sqlite,
        "owner_id": rep.id,
    }
    return Setup(org, token, raw_config)


def empty_table(setup: Setup) -> None:
    with setup.org.db.engine.begin() as conn:
        conn.exec_driver_sql(f'DELETE FROM "{setup.raw_config["table"]}"')
    with setup.org.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE" if setup.org.db.is_sqlite else "VACUUM ANALYZE")


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    per_s: dict[str, float]
    peak_rss: int
    statements: dict[str, float]


def run_steps(client: Client, scale: float) -> dict[str, float]:
    rates = {}
    for step in STEPS:
        count = max(1, round(step.count * scale))
        action = getattr(client, step.key)
        started = time.perf_counter()
        for _ in range(count):
            action()
        rates[step.key] = count / (time.perf_counter() - started)
        progress(f"{client.kind}: {count} × {step.key}: {rates[step.key]:,.1f}/s")
    return rates


def count_statements(client: Client, engine: sa.Engine, scale: float) -> dict[str, float]:
    """Statements per request of each step, run in this process (after one warm-up)."""
    counter = {"n": 0}

    def count(*_args: Any) -> None:
        counter["n"] += 1

    out = {}
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for step in STEPS:
            action = getattr(client, step.key)
            action()
            requests_ = max(2, round(step.count * scale / 10))
            counter["n"] = 0
            for _ in range(requests_):
                action()
            out[step.key] = counter["n"] / requests_
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return out


def measure_crm(setup: Setup, url: str, folder: Path, options: Options) -> Run:
    from crm_platform.app import create_app

    empty_table(setup)
    env = {"CRM_DATABASE_URL": url, "CRM_INSTANCE_PATH": str(folder / "instance")}
    root = BENCH.parent
    with gunicorn("crm_platform.app:create_app()", env, folder, options.workers, root) as (
        base,
        pid,
    ):
        rss = PeakRss(pid)
        rates = run_steps(Client("crm", http_sender(base, setup.token), 1), options.scale)
        peak = rss.stop()
    app = create_app(setup.org.settings, org=setup.org)
    client = Client("crm", test_client_sender(app, setup.token), 2)
    client.batch()
    return Run(rates, peak, count_statements(client, setup.org.db.engine, options.scale))


def measure_raw(setup: Setup, url: str, folder: Path, options: Options) -> Run:
    import raw_endpoint

    empty_table(setup)
    env = {"RAW_BENCH_DATABASE_URL": url, "RAW_BENCH_TABLE": json.dumps(setup.raw_config)}
    with gunicorn("raw_endpoint:create_app()", env, folder, options.workers, BENCH) as (
        base,
        pid,
    ):
        rss = PeakRss(pid)
        rates = run_steps(Client("raw", http_sender(base, None), 1), options.scale)
        peak = rss.stop()
    app = raw_endpoint.create_app(url, setup.raw_config)
    client = Client("raw", test_client_sender(app, None), 2)
    client.batch()
    engine = app.extensions["raw_deals"].engine
    statements = count_statements(client, engine, options.scale)
    engine.dispose()
    return Run(rates, peak, statements)


# --- report -------------------------------------------------------------------------------


def report(title: str, crm: Run, raw: Run, options: Options) -> None:
    print(f"\n#### {title}\n")
    print(
        f"One sequential keep-alive client; gunicorn, {options.workers} sync workers each; "
        "requests per second (for the batches: rows per second in brackets)."
    )
    print()
    print("| step | requests | crm req/s | raw req/s | crm / raw | crm stmts/req | raw stmts/req |")
    print("|:-----|---------:|----------:|----------:|----------:|--------------:|--------------:|")
    for step in STEPS:
        count = max(1, round(step.count * options.scale))
        c, r = crm.per_s[step.key], raw.per_s[step.key]
        rows = f" ({c * step.rows:,.0f} / {r * step.rows:,.0f} rows/s)" if step.rows > 1 else ""
        print(
            f"| {step.label}{rows} | {count:,} | {c:,.1f} | {r:,.1f} | {c / r:.2f}× "
            f"| {crm.statements[step.key]:.1f} | {raw.statements[step.key]:.1f} |"
        )
    mb = 1024 * 1024
    print(
        f"\nPeak RSS of the {options.workers} workers (sum): crm-platform "
        f"{crm.peak_rss / mb:,.0f} MB, raw endpoint {raw.peak_rss / mb:,.0f} MB."
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    print("### http_bench\n")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform(terse=True)}; scale {options.scale:g}."
    )
    for kind in options.databases:
        started = time.perf_counter()
        with scratch_database(kind, options.postgres_url) as (url, folder):
            progress(f"{kind}: arranging the org")
            setup = arrange(url, folder)
            try:
                crm = measure_crm(setup, url, folder, options)
                raw = measure_raw(setup, url, folder, options)
                report(server_version(setup.org), crm, raw, options)
            finally:
                setup.org.dispose()
        progress(f"{kind}: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
