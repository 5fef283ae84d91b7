"""A 500-field object against a 20-field one: create, get, and a list of 50 selecting 10 columns.

Prints, per database (a temporary SQLite file; a fresh PostgreSQL schema that is
dropped at the end), one table. An org gets two objects of the same field mix:
``narrow`` (20 fields) and ``wide`` (500 fields, the first 20 the same as narrow's).
Each gets ``--rows`` records (created through the record service, 200 per batch)
that set the same 19 fields (the wide object's other 480 are empty, as most fields
of a wide CRM object are on most records). Then each operation runs for a fixed
time on each object, two ways:

- **service**: ``org.records.session(user)`` in this process, one transaction per
  operation, as the API does per request;
- **HTTP**: the Flask app in this process through its test client (routing, the
  bearer token, JSON in and out; no network, no server process).

The operations: create a record setting the 19 fields; get a record by id (every
field comes back: 20 on narrow, 500 on wide), and the same selecting 10 fields; a
list of 50 sorted by a field, filtered, selecting 10 columns. The gets are measured a
third way too, **raw Core**: the same SELECT through SQLAlchemy Core alone, the floor
of what returning 500 columns costs over 20. Figures are
operations per second and the cost ratio wide/narrow (time per operation on wide
over time per operation on narrow; the goal of issue 9 is ≤ 1.2×). Nothing is
asserted (DESIGN §11).

    python bench/wide_objects.py                     # both databases, 5 s per measurement
    python bench/wide_objects.py --quick             # a small smoke run
    python bench/wide_objects.py --databases sqlite --seconds 2 --rows 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from support import scratch_database, server_version

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "Bench-pass-1!"
NARROW_FIELDS, WIDE_FIELDS = 20, 500
LOAD_CHUNK = 1_000
LIST_LIMIT = 50
ROUNDS = 5  # alternating slices of each measurement

# The field mix of both objects after `name`, cycled in this order.
FIELD_MIX = (
    "text",
    "integer",
    "currency",
    "picklist",
    "date",
    "boolean",
    "email",
    "decimal",
    "phone",
    "url",
    "long_text",
    "percent",
    "datetime",
)
PICKLIST_VALUES = ("Alpha", "Beta", "Gamma", "Delta")
WORDS = ("orbit", "delta", "harbor", "summit", "lumen", "vertex", "cobalt", "meridian")


# --- options -----------------------------------------------------------------------------


@dataclass
class Options:
    databases: list[str]
    rows: int
    seconds: float
    warmup: float
    postgres_url: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=10_000, help="records per object")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up per measurement")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args(argv)
    options = Options(
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        rows=args.rows,
        seconds=args.seconds,
        warmup=args.warmup,
        postgres_url=args.postgres_url,
    )
    if args.quick:
        options.rows = 1_000
        options.seconds = 1.0
        options.warmup = 0.2
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    return options


# --- generated metadata and values -------------------------------------------------------


def field_definition(position: int) -> dict[str, Any]:
    """Field number ``position`` (1-based, after `name`): the same in both objects."""
    kind = FIELD_MIX[(position - 1) % len(FIELD_MIX)]
    definition: dict[str, Any] = {"api_name": f"{kind}_{position:03d}", "type": kind}
    if kind == "picklist":
        definition["values"] = list(PICKLIST_VALUES)
    return definition


def object_definition(api_name: str, fields: int) -> dict[str, Any]:
    defs = [{"api_name": "name", "type": "text", "required": True, "max_length": 120}]
    defs += [field_definition(p) for p in range(1, fields)]
    return {"api_name": api_name, "sharing": "public_read_write", "fields": defs}


SET_FIELDS = [field_definition(p) for p in range(1, NARROW_FIELDS)]  # what every record sets
INTEGER_FIELD = next(f["api_name"] for f in SET_FIELDS if f["type"] == "integer")
PICKLIST_FIELD = next(f["api_name"] for f in SET_FIELDS if f["type"] == "picklist")
LIST_FIELDS = ("name", *(f["api_name"] for f in SET_FIELDS[:9]))  # 10 columns
LIST_WHERE = f"{PICKLIST_FIELD} != 'Delta'"
LIST_ORDER = (f"-{INTEGER_FIELD}", "name")


def value_of(kind: str, rng: random.Random) -> Any:
    """A random valid value of ``kind``, as the API takes it."""
    if kind == "text":
        return f"{rng.choice(WORDS)} {rng.randrange(10_000)}"
    if kind == "integer":
        return rng.randrange(1_000_000)
    if kind in {"currency", "decimal"}:
        return Decimal(rng.randrange(10_000_000)) / 100
    if kind == "percent":
        return Decimal(rng.randrange(10_000)) / 100
    if kind == "picklist":
        return rng.choice(PICKLIST_VALUES)
    if kind == "date":
        return (date(2026, 1, 1) + timedelta(days=rng.randrange(365))).isoformat()
    if kind == "datetime":
        return f"2026-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T12:30:00+00:00"
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "email":
        return f"{rng.choice(WORDS)}{rng.randrange(100_000)}@example.com"
    if kind == "phone":
        return f"+1 555 {rng.randrange(10_000):04d}"
    if kind == "url":
        return f"https://example.com/{rng.choice(WORDS)}/{rng.randrange(100_000)}"
    if kind == "long_text":
        return " ".join(rng.choice(WORDS) for _ in range(12))
    raise ValueError(kind)


def payload(rng: random.Random) -> dict[str, Any]:
    """A record setting `name` and the 19 fields both objects have."""
    body: dict[str, Any] = {"name": f"Record {rng.randrange(1_000_000)}"}
    for definition in SET_FIELDS:
        body[definition["api_name"]] = value_of(definition["type"], rng)
    return body


# --- the org -----------------------------------------------------------------------------


@dataclass
class Setup:
    org: Any
    app: Any
    user: Any
    token: str
    ids: dict[str, list[str]]  # a sample of existing record ids per object
    load_s: float


def arrange(url: str, folder: Path, options: Options) -> Setup:
    from crm_platform.app import create_app
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import Org, create_token, find_user, initialise_org
    from crm_platform.runtime.records.composite import parse_operations, run_composite

    settings = load_settings(url, instance_path=folder / "instance")
    org = Org.open(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    org.metadata.apply_objects(
        [object_definition("narrow", NARROW_FIELDS), object_definition("wide", WIDE_FIELDS)],
        author_id=SYSTEM_USER_ID,
    )
    with org.db.write() as conn:
        user = find_user(conn, ADMIN_EMAIL)
        assert user is not None
        token = create_token(conn, user.id, "wide_objects")
    rng = random.Random(1234)
    started = time.perf_counter()
    ids: dict[str, list[str]] = {}
    for obj in ("narrow", "wide"):
        found: list[str] = []
        # through the record service in batches of 200, so search entries exist as usual
        for first in range(0, options.rows, 200):
            count = min(200, options.rows - first)
            operations, all_or_none = parse_operations(
                {
                    "operations": [
                        {"method": "POST", "url": f"/records/{obj}", "body": payload(rng)}
                        for _ in range(count)
                    ]
                }
            )
            with org.records.session(user) as session:
                results = run_composite(session, operations, all_or_none)
            found.extend(r["body"]["id"] for r in results)
            if (first // 200) % 10 == 0:
                progress(f"{obj}: {first + count:,} records loaded")
        ids[obj] = rng.sample(found, min(2_000, len(found)))
    load_s = time.perf_counter() - started
    with org.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE" if org.db.is_sqlite else "VACUUM ANALYZE")
    return Setup(org, create_app(settings, org=org), user, token, ids, load_s)


# --- the operations ----------------------------------------------------------------------


class Service:
    """The record service in this process: one session (transaction) per operation."""

    def __init__(self, setup: Setup, obj: str) -> None:
        from crm_platform.runtime.records import ListRequest

        self.records = setup.org.records
        self.setup = setup
        self.obj = obj
        self.rng = random.Random(11)
        self.list_request = ListRequest(
            where=LIST_WHERE, order_by=LIST_ORDER, fields=LIST_FIELDS, limit=LIST_LIMIT
        )

    def create(self) -> Any:
        with self.records.session(self.setup.user) as session:
            return session.create(self.obj, payload(self.rng))

    def get(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            return session.get(self.obj, self.rng.choice(self.setup.ids[self.obj]))

    def get_ten(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            record_id = self.rng.choice(self.setup.ids[self.obj])
            return session.get(self.obj, record_id, list(LIST_FIELDS))

    def list(self) -> Any:
        with self.records.session(self.setup.user, write=False) as session:
            return session.list(self.obj, self.list_request)


class RawCore:
    """The floor: SQLAlchemy Core on the compiled table, one transaction per operation,
    selecting what the platform's get selects (every column, or the 10 fields' columns)
    with the column types' result processing, and nothing else: no access, no sharing,
    no names, no JSON. What it costs on wide over narrow, no code built on Core beats."""

    def __init__(self, setup: Setup, obj: str) -> None:
        with setup.org.db.read() as conn:
            model = setup.org.models.model_for(conn)
        table = model.objects[obj].table
        fields = model.objects[obj].fields
        ten = [c for name in LIST_FIELDS for c in fields[name].columns.values()]
        where = (table.c.id == sa.bindparam("id"), table.c.deleted_at.is_(None))
        self.all_query = sa.select(table).where(*where)
        self.ten_query = sa.select(table.c.id, *ten).where(*where)
        self.engine = setup.org.db.engine
        self.ids = setup.ids[obj]
        self.rng = random.Random(11)

    def _one(self, query: Any) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(query, {"id": self.rng.choice(self.ids)}).mappings().one()

    def get(self) -> Any:
        return self._one(self.all_query)

    def get_ten(self) -> Any:
        return self._one(self.ten_query)


class Http:
    """The Flask app through its test client: routing, auth and JSON, in this process."""

    def __init__(self, setup: Setup, obj: str) -> None:
        self.client = setup.app.test_client()
        self.headers = {"Authorization": f"Bearer {setup.token}"}
        self.setup = setup
        self.obj = obj
        self.rng = random.Random(11)
        self.list_url = (
            f"/api/v1/records/{obj}?where={quote(LIST_WHERE)}&order_by={','.join(LIST_ORDER)}"
            f"&fields={','.join(LIST_FIELDS)}&limit={LIST_LIMIT}"
        )

    def _check(self, response: Any, status: int) -> Any:
        if response.status_code != status:
            raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response

    def create(self) -> Any:
        body = {k: str(v) if isinstance(v, Decimal) else v for k, v in payload(self.rng).items()}
        response = self.client.post(f"/api/v1/records/{self.obj}", json=body, headers=self.headers)
        return self._check(response, 201)

    def get(self) -> Any:
        record_id = self.rng.choice(self.setup.ids[self.obj])
        response = self.client.get(f"/api/v1/records/{self.obj}/{record_id}", headers=self.headers)
        return self._check(response, 200)

    def get_ten(self) -> Any:
        record_id = self.rng.choice(self.setup.ids[self.obj])
        url = f"/api/v1/records/{self.obj}/{record_id}?fields={','.join(LIST_FIELDS)}"
        return self._check(self.client.get(url, headers=self.headers), 200)

    def list(self) -> Any:
        return self._check(self.client.get(self.list_url, headers=self.headers), 200)


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Runs of one operation on one object: how many, wall time and this process's CPU time."""

    count: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    def run(self, fn: Callable[[], Any], seconds: float) -> None:
        start, start_cpu = time.perf_counter(), time.process_time()
        deadline = start + seconds
        now = start
        while now < deadline:
            fn()
            self.count += 1
            now = time.perf_counter()
        self.wall += now - start
        self.cpu += time.process_time() - start_cpu

    @property
    def per_s(self) -> float:
        return self.count / self.wall

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.count


def measure_pair(
    fns: dict[str, Callable[[], Any]], seconds: float, warmup: float, rounds: int = ROUNDS
) -> dict[str, Tally]:
    """Each function for ``seconds`` in all, in ``rounds`` alternating slices, so that a
    change in the machine's load falls on both objects alike."""
    for fn in fns.values():
        fn()
        Tally().run(fn, warmup)
    tallies = {name: Tally() for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            tallies[name].run(fn, seconds / rounds)
    return tallies


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


OPERATIONS = (
    ("create", "create (19 fields set)"),
    ("get", "get by id (all fields back)"),
    ("get_ten", "get by id, 10 fields (fields=)"),
    ("list", f"list of {LIST_LIMIT}, 10 columns, filtered, sorted"),
)


def run_operations(setup: Setup, options: Options) -> list[list[str]]:
    rows = []
    for op, label in OPERATIONS:
        ways: list[tuple[str, Any]] = [("service", Service), ("HTTP", Http)]
        if hasattr(RawCore, op):
            ways.insert(0, ("raw Core (the floor)", RawCore))
        for way, make in ways:
            fns = {obj: getattr(make(setup, obj), op) for obj in ("narrow", "wide")}
            progress(f"{way} {op}")
            tallies = measure_pair(fns, options.seconds, options.warmup)
            statements = {
                obj: statements_per_call(setup.org.db.engine, fn) for obj, fn in fns.items()
            }
            narrow, wide = tallies["narrow"], tallies["wide"]
            rows.append(
                [
                    f"{label}, {way}",
                    rate_text(narrow.per_s),
                    rate_text(wide.per_s),
                    f"{narrow.per_s / wide.per_s:.2f}×",
                    f"{narrow.cpu_ms:.2f}",
                    f"{wide.cpu_ms:.2f}",
                    f"{wide.cpu_ms / narrow.cpu_ms:.2f}×",
                    f"{statements['narrow']:g} / {statements['wide']:g}",
                ]
            )
    return rows


# --- report ------------------------------------------------------------------------------


def rate_text(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


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


def run_database(kind: str, options: Options) -> None:
    with scratch_database(kind, options.postgres_url) as (url, folder):
        progress(f"setting up {kind}: {options.rows:,} records per object")
        setup = arrange(url, folder, options)
        try:
            title = server_version(setup.org) + (" (temporary file)" if kind == "sqlite" else "")
            load_before = os.getloadavg()
            started = time.perf_counter()
            rows = run_operations(setup, options)
            load_after = os.getloadavg()
            print(f"\n### {title}\n")
            print(
                f"{options.rows:,} records per object, created through the record service "
                f"in {setup.load_s:.1f} s; {options.seconds:g} s per measurement after "
                f"{options.warmup:g} s of warm-up, one thread, narrow and wide alternating in "
                f"{ROUNDS} slices. Ratios are time per operation on wide (500 fields) over "
                f"narrow (20 fields): wall time, and this process's CPU time (SQLite runs in "
                f"the process; PostgreSQL's server time is not in it).\n"
            )
            print_table(
                [
                    "operation",
                    "narrow ops/s",
                    "wide ops/s",
                    "wide/narrow (wall)",
                    "narrow CPU ms/op",
                    "wide CPU ms/op",
                    "wide/narrow (CPU)",
                    "SQL statements narrow / wide",
                ],
                rows,
            )
            print(
                f"({kind}: {time.perf_counter() - started:.0f} s of measuring; load average "
                f"(1, 5, 15 min) {' '.join(f'{x:.2f}' for x in load_before)} before, "
                f"{' '.join(f'{x:.2f}' for x in load_after)} after)\n",
                flush=True,
            )
        finally:
            setup.org.dispose()


def _stop(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds: drops the scratch schema


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(
        f"# wide_objects — Python {platform.python_version()}, SQLAlchemy {sa.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        print(f"\n== {kind} ==", file=sys.stderr, flush=True)
        run_database(kind, options)


if __name__ == "__main__":
    main()
