"""Record operations through the HTTP API, through the record service and in raw SQL.

Prints, per database (a temporary SQLite file; a fresh PostgreSQL schema that is
dropped at the end), one table. An org gets an ``account`` object (1,000 rows)
and a 12-field ``deal`` object (text, currency, percent, a 6-value picklist, a
lookup to account, a date, a formula ``amount * probability / 100``, integer,
boolean, email, long text, external id) whose table is bulk-loaded with
100,000 rows. Then each operation is run for a fixed time three ways, in the
same run, on the same table:

- **raw**: SQLAlchemy Core on the compiled table, one transaction per operation
  (the baseline: the same SQL a hand-written service would send);
- **service**: ``org.records.session(user)`` in this process, one transaction
  per operation, as the API does per request;
- **HTTP**: gunicorn (``--workers`` processes, ``--threads`` threads each) in a
  subprocess, driven by a load generator in other processes (1 client, then
  ``--clients`` clients, each a ``requests.Session`` in its own process).

The operations: create a deal; get a deal by id (random existing ids); a
filtered, sorted list of 50 rows with a dotted field and the formula; update
one field of a random deal; a composite batch of 200 creates; a count grouped
by the picklist. Figures are operations per second (for the batch: batches and
records per second) and ratios against raw. Nothing is asserted (DESIGN §11).

    python bench/api_bench.py                       # full run, both databases
    python bench/api_bench.py --quick               # a small smoke run
    python bench/api_bench.py --databases sqlite --records 20000 --seconds 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests
import simplejson
import sqlalchemy as sa
from support import running_server, scratch_database, server_version

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "Bench-pass-1!"
ACCOUNTS = 1_000
BATCH = 200  # operations in one composite request (the API's maximum)
LOAD_CHUNK = 5_000  # rows per executemany while bulk-loading
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
INDUSTRIES = ("Technology", "Retail", "Finance", "Health", "Energy")
# fmt: off
WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray",
)
# fmt: on

LIST_WHERE = "stage == 'Proposal' and amount > 1000"
LIST_ORDER = "-amount,name"
LIST_FIELDS = "name,amount,account.name,expected"
LIST_LIMIT = 50

# Order of the printed table (the brief's); measurement runs reads first, then writes,
# so the reads all see exactly the bulk-loaded table.
OPERATIONS = ("create", "get", "list", "update", "composite", "aggregate")
MEASURE_ORDER = ("get", "list", "aggregate", "update", "create", "composite")
LABELS = {
    "create": "create (POST /records/deal)",
    "get": "get by id (GET /records/deal/{id})",
    "list": "filtered list, 50 rows sorted",
    "update": "update one field (PATCH)",
    "composite": f"composite, {BATCH} creates (batches)",
    "aggregate": "grouped count (aggregate)",
}

ACCOUNT_OBJECT: dict[str, Any] = {
    "api_name": "account",
    "label": "Account",
    "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "industry", "type": "picklist", "values": list(INDUSTRIES)},
    ],
}
DEAL_OBJECT: dict[str, Any] = {
    "api_name": "deal",
    "label": "Deal",
    "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "probability", "type": "percent"},
        {"api_name": "stage", "type": "picklist", "values": list(STAGES)},
        {"api_name": "account", "type": "lookup", "target": "account", "on_delete": "set_null"},
        {"api_name": "close_date", "type": "date"},
        {
            "api_name": "expected",
            "type": "formula",
            "return_type": "currency",
            "expression": "amount * probability / 100",
        },
        {"api_name": "quantity", "type": "integer"},
        {"api_name": "priority", "type": "boolean"},
        {"api_name": "contact_email", "type": "email"},
        {"api_name": "notes", "type": "long_text"},
        {"api_name": "reference", "type": "external_id"},
    ],
}


# --- options -----------------------------------------------------------------------------


@dataclass
class Options:
    databases: list[str]
    records: int
    seconds: float
    warmup: float
    workers: int
    threads: int
    clients: int
    search_entries: bool
    postgres_url: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--records", type=int, default=100_000, help="deal rows bulk-loaded")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    parser.add_argument("--warmup", type=float, default=0.5, help="untimed warm-up per measurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP client processes")
    parser.add_argument(
        "--no-search-entries",
        action="store_true",
        help="leave the bulk-loaded records out of the search index (it is built by default)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 records, 1 s")
    args = parser.parse_args(argv)
    options = Options(
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        records=args.records,
        seconds=args.seconds,
        warmup=args.warmup,
        workers=args.workers,
        threads=args.threads,
        clients=args.clients,
        search_entries=not args.no_search_entries,
        postgres_url=args.postgres_url,
    )
    if args.quick:
        options.records = 1_000
        options.seconds = 1.0
        options.warmup = 0.2
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if options.records < 100 or options.seconds <= 0 or min(options.workers, options.clients) < 1:
        parser.error("--records must be at least 100; --seconds, --workers, --clients positive")
    return options


# --- generated data (used by all three ways, and by the client processes) ------------------


def deal_values(rng: random.Random, account_ids: list[str]) -> dict[str, Any]:
    """Random field values of one deal, by API name, as Python values."""
    words = rng.sample(WORDS, 3)
    amount = None if rng.random() < 0.05 else Decimal(rng.randrange(0, 10_000_000)) / 100
    return {
        "name": f"{words[0].title()} {words[1]} {rng.randrange(100_000)}",
        "amount": amount,
        "probability": Decimal(rng.randrange(0, 101)),
        "stage": rng.choice(STAGES),
        "account": rng.choice(account_ids) if rng.random() < 0.9 else None,
        "close_date": date(2024, 1, 1) + timedelta(days=rng.randrange(730)),
        "quantity": rng.randrange(1, 500),
        "priority": rng.random() < 0.2,
        "contact_email": f"{words[2]}.{rng.randrange(10_000)}@example.com",
        "notes": " ".join(rng.choices(WORDS, k=rng.randrange(5, 40))),
        "reference": f"R-{uuid.uuid4().hex}",
    }


def deal_payload(rng: random.Random, account_ids: list[str]) -> dict[str, Any]:
    """A deal as the API takes it (JSON values; decimals stay Decimal for exact JSON)."""
    values = deal_values(rng, account_ids)
    values["close_date"] = values["close_date"].isoformat()
    return values


def list_query() -> str:
    return urlencode(
        {"where": LIST_WHERE, "order_by": LIST_ORDER, "limit": LIST_LIMIT, "fields": LIST_FIELDS},
        quote_via=quote,
    )


# --- the HTTP load generator (runs in its own processes) ---------------------------------


@dataclass
class ClientTask:
    base_url: str
    token: str
    op: str
    start_at: float  # time.time() at which counting starts (warm-up before it)
    seconds: float
    ids: list[str]
    account_ids: list[str]
    seed: int


@dataclass
class ClientResult:
    pid: int
    count: int  # requests completed in the measured window
    warm: int  # requests sent during the warm-up
    elapsed: float
    cpu: float  # this client's CPU seconds in the measured window
    errors: int
    samples: list[str] = field(default_factory=list)


def _request_maker(task: ClientTask, session: requests.Session) -> Callable[[], requests.Response]:
    rng = random.Random(task.seed)
    api = f"{task.base_url}/api/v1"
    json_headers = {"Content-Type": "application/json"}

    def body(value: Any) -> str:
        return simplejson.dumps(value, use_decimal=True)

    if task.op == "create":
        return lambda: session.post(
            f"{api}/records/deal",
            data=body(deal_payload(rng, task.account_ids)),
            headers=json_headers,
        )
    if task.op == "get":
        return lambda: session.get(f"{api}/records/deal/{rng.choice(task.ids)}")
    if task.op == "list":
        url = f"{api}/records/deal?{list_query()}"
        return lambda: session.get(url)
    if task.op == "update":
        return lambda: session.patch(
            f"{api}/records/deal/{rng.choice(task.ids)}",
            data=body({"amount": Decimal(rng.randrange(0, 10_000_000)) / 100}),
            headers=json_headers,
        )
    if task.op == "composite":

        def composite() -> requests.Response:
            operations = [
                {
                    "method": "POST",
                    "url": "/records/deal",
                    "body": deal_payload(rng, task.account_ids),
                }
                for _ in range(BATCH)
            ]
            return session.post(
                f"{api}/composite",
                data=body({"operations": operations, "all_or_none": True}),
                headers=json_headers,
            )

        return composite
    if task.op == "aggregate":
        url = f"{api}/records/deal/aggregate?group_by=stage&metrics=count"
        return lambda: session.get(url)
    raise ValueError(task.op)


def http_client(task: ClientTask) -> ClientResult:
    """One client: warm up until ``start_at``, then send requests for ``seconds``."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {task.token}"
    send = _request_maker(task, session)
    errors, samples = 0, []

    def one() -> bool:
        nonlocal errors
        try:
            response = send()
        except requests.RequestException as exc:
            errors += 1
            if len(samples) < 3:
                samples.append(f"{type(exc).__name__}: {exc}"[:300])
            return False
        if 200 <= response.status_code < 300:
            return True
        errors += 1
        if len(samples) < 3:
            samples.append(f"{response.status_code}: {response.text[:300]}")
        return False

    warm = 0
    while time.time() < task.start_at:
        one()
        warm += 1
    count = 0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + task.seconds
    now = start
    while now < deadline:
        count += one()
        now = time.perf_counter()
    cpu = time.process_time() - cpu
    session.close()
    # errors counts warm-up failures too: every request must succeed
    return ClientResult(os.getpid(), count, warm, now - start, cpu, errors, samples)


# --- scratch databases and the server ----------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(url: str, folder: Path, options: Options) -> Iterator[tuple[str, int]]:
    """``gunicorn 'crm_platform.app:create_app()'`` on a free port; its base URL and pid."""
    port = free_port()
    log_path = folder / "gunicorn.log"
    env = {
        **os.environ,
        "CRM_DATABASE_URL": url,
        "CRM_INSTANCE_PATH": str(folder / "instance"),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.workers),
        "--threads",
        str(options.threads),
        "--timeout",
        "300",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
        "crm_platform.app:create_app()",
    ]
    root = Path(__file__).resolve().parent.parent
    with running_server(
        command, port=port, env=env, log_path=log_path, cwd=root, start_seconds=60
    ) as found:
        yield found


def worker_cpu(server_pid: int) -> dict[int, float]:
    """CPU seconds used so far by each gunicorn worker (children of the arbiter; Linux)."""
    try:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for child in children:
            stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            out[int(child)] = (int(stat[11]) + int(stat[12])) / ticks  # utime + stime
        return out
    except (OSError, ValueError, IndexError):
        return {}


# --- arrangement (not measured) ----------------------------------------------------------


@dataclass
class Setup:
    org: Any
    user: Any
    token: str
    account_ids: list[str]
    sample_ids: list[str]
    load_s: float
    index_s: float


def column(obj: Any, name: str) -> sa.Column:
    return obj.fields[name].columns[""]


def system_values(record_id: str, now: Any, user_id: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "owner_id": user_id,
        "created_at": now,
        "created_by": user_id,
        "updated_at": now,
        "updated_by": user_id,
        "version": 1,
    }


def deal_row(obj: Any, values: dict[str, Any], now: Any, user_id: str) -> dict[str, Any]:
    """A deal table row (physical names) for field values by API name."""
    from crm_platform.core import new_id

    row = system_values(new_id(), now, user_id)
    for name, value in values.items():
        row[column(obj, name).name] = value
    return row


def arrange(url: str, folder: Path, options: Options) -> Setup:
    from crm_platform.core import load_settings, new_id, utc_now
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import Org, create_token, find_user, initialise_org
    from crm_platform.runtime.records.search import reindex_object

    org = Org.open(load_settings(url, instance_path=folder / "instance"))
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    org.metadata.apply_objects([ACCOUNT_OBJECT, DEAL_OBJECT], author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        user = find_user(conn, ADMIN_EMAIL)
        assert user is not None
        token = create_token(conn, user.id, "api_bench")
        model = org.models.model_for(conn)
    account, deal = model.objects["account"], model.objects["deal"]
    rng = random.Random(1234)
    started = time.perf_counter()
    now = utc_now()
    account_rows = []
    for i in range(ACCOUNTS):
        row = system_values(new_id(), now, user.id)
        row[column(account, "name").name] = f"Account {i:04d} {rng.choice(WORDS)}"
        row[column(account, "industry").name] = rng.choice(INDUSTRIES)
        account_rows.append(row)
    account_ids = [r["id"] for r in account_rows]
    with org.db.write() as conn:
        conn.execute(account.table.insert(), account_rows)
    all_ids: list[str] = []
    for first in range(0, options.records, LOAD_CHUNK):
        rows = [
            deal_row(deal, deal_values(rng, account_ids), now, user.id)
            for _ in range(min(LOAD_CHUNK, options.records - first))
        ]
        all_ids.extend(r["id"] for r in rows)
        with org.db.write() as conn:
            conn.execute(deal.table.insert(), rows)
        progress(f"{first + len(rows):,} deals loaded")
    load_s = time.perf_counter() - started
    index_s = 0.0
    if options.search_entries:
        # as in an org whose records came in through the platform: every record has its
        # search entry (what `crm search reindex` builds)
        progress("building the search entries of accounts and deals")
        started = time.perf_counter()
        with org.db.write() as conn:
            reindex_object(conn, model, account)
            reindex_object(conn, model, deal)
        index_s = time.perf_counter() - started
    with org.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE" if org.db.is_sqlite else "VACUUM ANALYZE")
    sample_ids = rng.sample(all_ids, min(5_000, len(all_ids)))
    return Setup(org, user, token, account_ids, sample_ids, load_s, index_s)


# --- the three ways of running an operation ------------------------------------------------


class Raw:
    """The baseline: SQLAlchemy Core on the compiled tables, one transaction per operation."""

    def __init__(self, setup: Setup) -> None:
        from crm_platform.core import utc_now

        self.engine = setup.org.db.engine
        self.setup = setup
        self.rng = random.Random(7)
        self.utc_now = utc_now
        with setup.org.db.read() as conn:
            model = setup.org.models.model_for(conn)
        self.deal = deal = model.objects["deal"]
        account = model.objects["account"]
        t, a = deal.table, account.table.alias("a")
        amount, probability = column(deal, "amount"), column(deal, "probability")
        name, stage = column(deal, "name"), column(deal, "stage")
        # the formula as a hand-written query would compute it (rounded to the currency scale);
        # on SQLite currency and percent are integers scaled by 100 (ExactDecimal)
        scale = "1000000.0" if setup.org.db.is_sqlite else "100"
        self.expected = sa.func.round(amount * probability / sa.literal_column(scale), 2)
        # the platform sorts text by code point (COLLATE "C" on PostgreSQL); so does this
        sort_name = name if setup.org.db.is_sqlite else name.collate("C")
        self.get_query = sa.select(t, self.expected.label("expected")).where(
            t.c.id == sa.bindparam("id"), t.c.deleted_at.is_(None)
        )
        self.list_query = (
            sa.select(
                t.c.id,
                name,
                amount,
                a.c[column(account, "name").name].label("account_name"),
                self.expected.label("expected"),
            )
            .select_from(t.outerjoin(a, a.c.id == column(deal, "account")))
            .where(t.c.deleted_at.is_(None), stage == "Proposal", amount > 1000)
            .order_by(amount.desc().nulls_last(), sort_name.asc().nulls_last(), t.c.id)
            .limit(LIST_LIMIT)
        )
        self.aggregate_query = (
            sa.select(stage, sa.func.count())
            .where(t.c.deleted_at.is_(None))
            .group_by(stage)
            .order_by(stage.asc().nulls_last())
        )
        self.amount = amount

    def _row(self) -> dict[str, Any]:
        values = deal_values(self.rng, self.setup.account_ids)
        return deal_row(self.deal, values, self.utc_now(), self.setup.user.id)

    def create(self) -> Any:
        with self.engine.begin() as conn:
            conn.execute(self.deal.table.insert(), self._row())

    def get(self) -> Any:
        with self.engine.begin() as conn:
            return (
                conn.execute(self.get_query, {"id": self.rng.choice(self.setup.sample_ids)})
                .mappings()
                .one()
            )

    def list(self) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(self.list_query).mappings().all()

    def update(self) -> Any:
        t = self.deal.table
        with self.engine.begin() as conn:
            conn.execute(
                t.update()
                .where(t.c.id == self.rng.choice(self.setup.sample_ids))
                .values(
                    {
                        self.amount.name: Decimal(self.rng.randrange(0, 10_000_000)) / 100,
                        "updated_at": self.utc_now(),
                        "updated_by": self.setup.user.id,
                        "version": t.c.version + 1,
                    }
                )
            )

    def composite(self) -> Any:
        rows = [self._row() for _ in range(BATCH)]
        with self.engine.begin() as conn:
            conn.execute(self.deal.table.insert(), rows)

    def aggregate(self) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(self.aggregate_query).all()


class Service:
    """The record service in this process: one session (transaction) per operation."""

    def __init__(self, setup: Setup) -> None:
        from crm_platform.runtime.records import ListRequest

        self.records = setup.org.records
        self.setup = setup
        self.rng = random.Random(11)
        self.list_request = ListRequest(
            where=LIST_WHERE,
            order_by=tuple(LIST_ORDER.split(",")),
            fields=tuple(LIST_FIELDS.split(",")),
            limit=LIST_LIMIT,
        )

    def _payload(self) -> dict[str, Any]:
        return deal_payload(self.rng, self.setup.account_ids)

    def create(self) -> Any:
        with self.records.session(self.setup.user) as session:
            return session.create("deal", self._payload())

    def get(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            return session.get("deal", self.rng.choice(self.setup.sample_ids))

    def list(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            return session.list("deal", self.list_request)

    def update(self) -> Any:
        amount = Decimal(self.rng.randrange(0, 10_000_000)) / 100
        with self.records.session(self.setup.user) as session:
            return session.update(
                "deal", self.rng.choice(self.setup.sample_ids), {"amount": amount}
            )

    def composite(self) -> Any:
        from crm_platform.runtime.records.composite import parse_operations, run_composite

        payload = {
            "operations": [
                {"method": "POST", "url": "/records/deal", "body": self._payload()}
                for _ in range(BATCH)
            ],
            "all_or_none": True,
        }
        operations, all_or_none = parse_operations(payload)
        with self.records.session(self.setup.user) as session:
            return run_composite(session, operations, all_or_none)

    def aggregate(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            return session.aggregate("deal", ["stage"], ["count"], None)


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Rate:
    per_s: float
    count: int
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    server_cpu_ms: float | None = None  # gunicorn workers' CPU per request (warm-up included)
    client_cpu_ms: float | None = None  # load generator's CPU per request
    split: str = ""  # each worker's share of the server CPU, in %


@dataclass
class OpResult:
    raw: Rate
    service: Rate
    http_one: Rate
    http_many: Rate
    raw_statements: float
    service_statements: float
    note: str = ""


def timed_loop(fn: Callable[[], Any], seconds: float, warmup: float) -> Rate:
    """Run ``fn`` for ``warmup`` seconds (at least once), then count runs for ``seconds``."""
    fn()
    warm_until = time.perf_counter() + warmup
    while time.perf_counter() < warm_until:
        fn()
    count = 0
    start = now = time.perf_counter()
    deadline = start + seconds
    while now < deadline:
        fn()
        count += 1
        now = time.perf_counter()
    return Rate(count / (now - start), count)


def statements_per_call(engine: sa.Engine, fn: Callable[[], Any], calls: int = 5) -> float:
    """SQL statements sent per call of ``fn`` (BEGIN / SET TRANSACTION included)."""
    sent = 0

    def count(*_args: Any) -> None:
        nonlocal sent
        sent += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(calls):
            fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return sent / calls


def http_rate(server: tuple[str, int], pool: Any, setup: Setup, op: str, clients: int, options):
    base_url, server_pid = server
    cpu_before = worker_cpu(server_pid)
    start_at = time.time() + max(options.warmup, 0.3)
    tasks = [
        ClientTask(
            base_url=base_url,
            token=setup.token,
            op=op,
            start_at=start_at,
            seconds=options.seconds,
            ids=setup.sample_ids,
            account_ids=setup.account_ids,
            seed=1000 * clients + i,
        )
        for i in range(clients)
    ]
    results: list[ClientResult] = pool.map(http_client, tasks, chunksize=1)
    if len({r.pid for r in results}) < clients:
        progress(f"warning: {clients} HTTP clients shared processes")
    cpu_after = worker_cpu(server_pid)
    used = {pid: cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after}
    rate = sum(r.count / r.elapsed for r in results if r.elapsed > 0)
    count = sum(r.count for r in results)
    sent = count + sum(r.warm for r in results) + sum(r.errors for r in results)
    total_cpu = sum(used.values())
    return Rate(
        rate,
        count,
        sum(r.errors for r in results),
        [s for r in results for s in r.samples][:3],
        server_cpu_ms=1e3 * total_cpu / sent if used and sent else None,
        client_cpu_ms=1e3 * sum(r.cpu for r in results) / count if count else None,
        split="/".join(f"{100 * v / total_cpu:.0f}" for v in sorted(used.values(), reverse=True))
        if total_cpu > 0
        else "",
    )


def check_same_results(raw: Raw, service: Service) -> str:
    """Whether raw and service answer the list and the aggregate alike (a sanity check)."""
    notes = []
    raw_ids = [r["id"] for r in raw.list()]
    service_ids = [r["id"] for r in service.list().records]
    if raw_ids != service_ids:
        notes.append("list: raw and service return different rows")
    raw_groups = [(s, c) for s, c in raw.aggregate()]
    service_groups = [(g["stage"], g["count"]) for g in service.aggregate()]
    if raw_groups != service_groups:
        notes.append("aggregate: raw and service differ")
    return "; ".join(notes) or "raw and service return the same list page and groups"


def run_operations(setup: Setup, server: tuple[str, int], pool: Any, options: Options):
    raw, service = Raw(setup), Service(setup)
    engine = setup.org.db.engine
    check = check_same_results(raw, service)
    results: dict[str, OpResult] = {}
    for op in MEASURE_ORDER:
        raw_fn, service_fn = getattr(raw, op), getattr(service, op)
        progress(f"{op}: statements per call")
        raw_statements = statements_per_call(engine, raw_fn, 1 if op == "composite" else 5)
        service_statements = statements_per_call(engine, service_fn, 1 if op == "composite" else 5)
        progress(f"{op}: raw Core for {options.seconds:g} s")
        raw_rate = timed_loop(raw_fn, options.seconds, options.warmup)
        progress(f"{op}: record service for {options.seconds:g} s")
        service_rate = timed_loop(service_fn, options.seconds, options.warmup)
        progress(f"{op}: HTTP, 1 client")
        http_one = http_rate(server, pool, setup, op, 1, options)
        progress(f"{op}: HTTP, {options.clients} clients")
        http_many = http_rate(server, pool, setup, op, options.clients, options)
        results[op] = OpResult(
            raw_rate, service_rate, http_one, http_many, raw_statements, service_statements
        )
        progress(
            f"{op}: raw {raw_rate.per_s:,.1f}/s, service {service_rate.per_s:,.1f}/s, "
            f"HTTP {http_one.per_s:,.1f}/s (1) {http_many.per_s:,.1f}/s ({options.clients})"
        )
    return results, check


# --- report ------------------------------------------------------------------------------


def rate_text(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:,.3f}×" if baseline > 0 else "n/a"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A Markdown pipe table (first column left, figures right), readable in a terminal too."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join([first, *rest]) + " |"

    print(line(headers))
    rule = ["-" * (widths[0] + 1), *("-" * (w + 1) + ":" for w in widths[1:])]
    print("|:" + "|".join(rule) + "|")
    for row in rows:
        print(line(row))
    print(flush=True)


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def report(title: str, setup: Setup, results: dict[str, OpResult], check: str, options: Options):
    c = options.clients
    print(f"\n### {title}\n")
    print(
        f"{options.records:,} deals (12 fields) and {ACCOUNTS:,} accounts, bulk-loaded in "
        f"{setup.load_s:.1f} s; "
        + (
            f"their search entries built in {setup.index_s:.1f} s (`reindex_object`); "
            if options.search_entries
            else "no search entries for them (--no-search-entries); "
        )
        + f"{options.seconds:g} s per measurement after "
        f"{options.warmup:g} s of warm-up. raw and service: one thread in this process, "
        f"one transaction per operation. HTTP: gunicorn with {options.workers} workers × "
        f"{options.threads} threads, driven by 1 and by {c} client processes "
        f"(requests.Session, keep-alive). Ratios are throughput over raw throughput.\n"
    )
    rows = []
    for op in OPERATIONS:
        r = results[op]
        errors = r.http_one.errors + r.http_many.errors
        rows.append(
            [
                LABELS[op],
                rate_text(r.raw.per_s),
                rate_text(r.service.per_s),
                ratio(r.service.per_s, r.raw.per_s),
                rate_text(r.http_one.per_s),
                rate_text(r.http_many.per_s),
                ratio(r.http_one.per_s, r.raw.per_s),
                ratio(r.http_many.per_s, r.raw.per_s),
                f"{r.raw_statements:,.0f} / {r.service_statements:,.0f}",
                f"{errors}",
            ]
        )
        if op == "composite":
            rows.append(
                [
                    "  … the same, in records/s",
                    rate_text(r.raw.per_s * BATCH),
                    rate_text(r.service.per_s * BATCH),
                    "",
                    rate_text(r.http_one.per_s * BATCH),
                    rate_text(r.http_many.per_s * BATCH),
                    "",
                    "",
                    "",
                    "",
                ]
            )
    print_table(
        [
            "operation",
            "raw ops/s",
            "service ops/s",
            "service/raw",
            "HTTP 1 client/s",
            f"HTTP {c} clients/s",
            "HTTP 1/raw",
            f"HTTP {c}/raw",
            "SQL statements raw / service",
            "HTTP errors",
        ],
        rows,
    )

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.2f}"

    print(
        f"**Where the time goes** (per operation; for the composite, per batch of {BATCH}). "
        f"Server CPU is the gunicorn workers' CPU time per request, read from /proc; the "
        f"split is each worker's share of it with {c} clients (keep-alive connections stay "
        f"with the worker that accepted them).\n"
    )
    print_table(
        [
            "operation",
            "service ms/op",
            "HTTP 1 client ms/req",
            "server CPU ms/req (1)",
            "client CPU ms/req (1)",
            f"server CPU ms/req ({c})",
            f"worker split % ({c})",
        ],
        [
            [
                LABELS[op],
                ms(1e3 / results[op].service.per_s),
                ms(1e3 / results[op].http_one.per_s if results[op].http_one.per_s else None),
                ms(results[op].http_one.server_cpu_ms),
                ms(results[op].http_one.client_cpu_ms),
                ms(results[op].http_many.server_cpu_ms),
                results[op].http_many.split or "n/a",
            ]
            for op in OPERATIONS
        ],
    )
    samples = [(op, s) for op in OPERATIONS for s in results[op].http_one.samples]
    samples += [(op, s) for op in OPERATIONS for s in results[op].http_many.samples]
    for op, sample in samples[:6]:
        print(f"- HTTP error in {op}: `{sample}`")
    print(
        f"Check: {check}. SQL statements are those the process sends per operation "
        f"(BEGIN / SET TRANSACTION / SAVEPOINT included; per batch for the composite); "
        f"an HTTP request also sends those of its authentication.\n",
        flush=True,
    )


def run_database(kind: str, options: Options, pool: Any) -> None:
    with scratch_database(kind, options.postgres_url) as (url, folder):
        progress(f"setting up {kind}: {options.records:,} deals")
        setup = arrange(url, folder, options)
        try:
            title = server_version(setup.org) + (" (temporary file)" if kind == "sqlite" else "")
            started = time.perf_counter()
            load_before = os.getloadavg()
            with gunicorn_server(url, folder, options) as server:
                results, check = run_operations(setup, server, pool, options)
            load_after = os.getloadavg()
            report(title, setup, results, check, options)
            print(
                f"({kind}: {time.perf_counter() - started:.0f} s of measuring; load average "
                f"(1, 5, 15 min) {' '.join(f'{x:.2f}' for x in load_before)} before, "
                f"{' '.join(f'{x:.2f}' for x in load_after)} after)\n",
                flush=True,
            )
        finally:
            setup.org.dispose()


def _stop(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds: stops gunicorn, drops the schema


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)  # also when started in the background
    print(
        f"# api_bench — Python {platform.python_version()}, SQLAlchemy {sa.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    context = multiprocessing.get_context("spawn")
    with context.Pool(options.clients) as pool:
        for kind in options.databases:
            print(f"\n== {kind} ==", file=sys.stderr, flush=True)
            run_database(kind, options, pool)


if __name__ == "__main__":
    main()
