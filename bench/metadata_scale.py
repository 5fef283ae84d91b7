"""Metadata at scale: model compile time, per-request version check, adding a field to a big table.

Prints, per database (a temporary SQLite file; a fresh PostgreSQL schema that is
dropped at the end), three tables:

1. building orgs of 10, 100 and 500 objects of 50 fields each (change sets of 25
   objects) and the time to compile the org model, ``compile_org_model(read_snapshot(conn))``
   (median of several runs, with the snapshot read and the compile shown apart);
2. the per-request cost of the version check and model lookup,
   ``org.models.model_for(conn)`` inside ``org.db.read()`` when the version has not
   moved, beside a bare ``SELECT 1`` read transaction measured in the same run, and
   ``org.metadata.add_field`` on a small empty object at each size, and the first
   ``model_for`` after it (the incremental model recompile every worker pays once);
3. ``org.metadata.add_field`` on an object whose table holds 1,000,000 rows (a
   nullable text field and a currency field), beside a raw
   ``ALTER TABLE ... ADD COLUMN`` on a same-sized copy of that table. It runs right
   after the smallest org is built, so it shows what the row count costs; what the
   org size costs shows in the add_field column of table 2.

Nothing is asserted: the figures are printed with ratios against a baseline
measured in the same run (DESIGN §11).

    python bench/metadata_scale.py                       # full run, both databases
    python bench/metadata_scale.py --quick               # a small smoke run
    python bench/metadata_scale.py --databases sqlite --sizes 10,100
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from support import scratch_database, server_version

from crm_platform.core import ExactDecimal, load_settings, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import read_snapshot
from crm_platform.runtime import Org, initialise_org
from crm_platform.runtime.model import compile_org_model

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

# The field mix of every generated object (after its `name` field), cycled in this order.
FIELD_MIX = (
    "text",
    "integer",
    "currency",
    "picklist",
    "date",
    "lookup",
    "boolean",
    "email",
    "decimal",
    "percent",
    "datetime",
    "phone",
    "url",
    "long_text",
    "multi_picklist",
)

PROBE_OBJECT = "bench_probe"  # small object that receives add_field probes at every size
BIG_OBJECT = "bench_big"  # the object whose table gets the big row count
COPY_TABLE = "bench_alter_copy"  # raw copy of the big table for the ALTER TABLE baseline


# --- options -----------------------------------------------------------------------------


@dataclass
class Options:
    databases: list[str]
    sizes: list[int]
    fields: int
    rows: int
    batch: int
    compile_runs: int
    calls: int
    add_field_runs: int
    postgres_url: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--sizes", default="10,100,500", help="org sizes, in objects")
    parser.add_argument("--fields", type=int, default=50, help="fields per object (name included)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the big table")
    parser.add_argument("--batch", type=int, default=25, help="objects per change set")
    parser.add_argument("--compile-runs", type=int, default=5, help="compile runs per size")
    parser.add_argument("--calls", type=int, default=2000, help="model_for / SELECT 1 calls")
    parser.add_argument("--add-field-runs", type=int, default=3, help="add_field runs per case")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args(argv)
    options = Options(
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        sizes=sorted({int(s) for s in args.sizes.split(",") if s.strip()}),
        fields=args.fields,
        rows=args.rows,
        batch=args.batch,
        compile_runs=args.compile_runs,
        calls=args.calls,
        add_field_runs=args.add_field_runs,
        postgres_url=args.postgres_url,
    )
    if args.quick:
        options.sizes = [5, 20]
        options.fields = 12
        options.rows = 20_000
        options.batch = 10
        options.compile_runs = 3
        options.calls = 300
        options.add_field_runs = 2
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if options.fields < 2:
        parser.error("--fields must be at least 2 (the name field and one more)")
    return options


# --- scratch databases -------------------------------------------------------------------


# --- generated metadata ------------------------------------------------------------------


def object_name(index: int) -> str:
    return f"obj_{index:04d}"


def field_definition(object_index: int, position: int, lookups_so_far: int) -> dict[str, Any]:
    """Field number ``position`` (1-based, after `name`) of generated object ``object_index``."""
    kind = FIELD_MIX[(position - 1) % len(FIELD_MIX)]
    definition: dict[str, Any] = {"api_name": f"{kind}_{position:03d}", "type": kind}
    if kind in {"picklist", "multi_picklist"}:
        definition["values"] = ["Alpha", "Beta", "Gamma", "Delta"]
    elif kind == "lookup":
        # point at an earlier object (the first ones point at themselves)
        target = object_index - 1 - lookups_so_far
        definition["target"] = object_name(target if target >= 0 else object_index)
    elif kind == "text":
        definition["max_length"] = 120
    return definition


def object_definition(index: int, fields: int, name: str | None = None) -> dict[str, Any]:
    """A generated object: a required `name` plus ``fields - 1`` fields of the mix."""
    api_name = name or object_name(index)
    defs: list[dict[str, Any]] = [
        {"api_name": "name", "type": "text", "label": "Name", "required": True}
    ]
    lookups = 0
    for position in range(1, fields):
        definition = field_definition(index, position, lookups)
        lookups += definition["type"] == "lookup"
        defs.append(definition)
    return {
        "api_name": api_name,
        "label": f"Bench {api_name}",
        "name_field": "name",
        "sharing": "public_read_write",
        "fields": defs,
    }


# --- timing helpers ----------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall time, CPU time of this process): the second is the Python side of the work."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:,.2f}×" if baseline > 0 else "n/a"


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


# --- 1 and 2: org size -------------------------------------------------------------------


@dataclass
class SizeResult:
    objects: int
    added: int
    setup_s: float
    setup_cpu_s: float
    last_batch_s: float
    snapshot_s: float
    compile_s: float
    total_s: float
    model_for_s: float
    select1_s: float
    model_for_p90_s: float
    select1_p90_s: float
    add_field_s: float
    add_field_cpu_s: float
    recompile_s: float
    recompile_cpu_s: float


def grow_org(org: Org, start: int, stop: int, options: Options) -> tuple[float, float, float]:
    """Add objects ``start..stop-1`` in change sets; (total, its CPU time, last change set)."""
    total = total_cpu = last = 0.0
    for first in range(start, stop, options.batch):
        batch = [
            object_definition(i, options.fields)
            for i in range(first, min(first + options.batch, stop))
        ]
        last, cpu = timed_cpu(
            lambda b=batch: org.metadata.apply_objects(b, author_id=SYSTEM_USER_ID)
        )
        total += last
        total_cpu += cpu
        progress(f"{min(first + options.batch, stop)} objects built ({last:.2f} s last batch)")
    return total, total_cpu, last


def measure_compile(org: Org, runs: int) -> tuple[float, float, float]:
    """Median (snapshot read, compile, both) of ``compile_org_model(read_snapshot(conn))``."""
    snapshots, compiles, totals = [], [], []
    for _ in range(runs):
        with org.db.read() as conn:
            start = time.perf_counter()
            snapshot = read_snapshot(conn)
            middle = time.perf_counter()
            compile_org_model(snapshot)
            end = time.perf_counter()
        snapshots.append(middle - start)
        compiles.append(end - middle)
        totals.append(end - start)
    return median(snapshots), median(compiles), median(totals)


def measure_request_overhead(org: Org, calls: int) -> tuple[list[float], list[float]]:
    """Per-call times of model_for (version unchanged) and of a bare SELECT 1, interleaved."""
    select_one = sa.text("SELECT 1")

    def with_model() -> None:
        with org.db.read() as conn:
            org.models.model_for(conn)

    def with_select() -> None:
        with org.db.read() as conn:
            conn.execute(select_one).scalar_one()

    with_model()  # make sure the cached model is the current version's
    for _ in range(50):  # warm both paths (pool, statement caches)
        with_model()
        with_select()
    model_times, select_times = [], []
    for i in range(calls):
        # alternate which goes first, so neither always follows the other
        pair = (with_model, with_select) if i % 2 == 0 else (with_select, with_model)
        for fn in pair:
            elapsed = timed(fn)
            (model_times if fn is with_model else select_times).append(elapsed)
    return model_times, select_times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def measure_probe_add_field(org: Org, size: int, runs: int) -> tuple[float, float, float, float]:
    """Median (wall, CPU) time of add_field (nullable text) on the small, empty probe object,
    and of the first ``model_for`` after it (the model recompile a worker pays at its next
    request)."""

    def next_request() -> None:
        with org.db.read() as conn:
            org.models.model_for(conn)

    next_request()  # the cached model is the current version's
    walls, cpus, recompiles, recompile_cpus = [], [], [], []
    for run in range(runs):
        definition = {"api_name": f"probe_{size}_{run}", "type": "text"}
        wall, cpu = timed_cpu(
            lambda d=definition: org.metadata.add_field(PROBE_OBJECT, d, author_id=SYSTEM_USER_ID)
        )
        walls.append(wall)
        cpus.append(cpu)
        recompile, recompile_cpu = timed_cpu(next_request)
        recompiles.append(recompile)
        recompile_cpus.append(recompile_cpu)
    return median(walls), median(cpus), median(recompiles), median(recompile_cpus)


def run_sizes(
    org: Org, options: Options, after_first: Callable[[], None] | None = None
) -> list[SizeResult]:
    """Grow the org through each size and measure it; ``after_first`` runs after the first."""
    results = []
    built = 0
    for size in options.sizes:
        added = size - built
        setup_s, setup_cpu_s, last_batch_s = grow_org(org, built, size, options)
        built = size
        progress(f"compiling the model of {size} objects ×{options.compile_runs}")
        snapshot_s, compile_s, total_s = measure_compile(org, options.compile_runs)
        progress(f"model_for vs SELECT 1 ×{options.calls}")
        model_times, select_times = measure_request_overhead(org, options.calls)
        progress("add_field on the probe object")
        add_field_s, add_field_cpu_s, recompile_s, recompile_cpu_s = measure_probe_add_field(
            org, size, options.add_field_runs
        )
        results.append(
            SizeResult(
                objects=size,
                added=added,
                setup_s=setup_s,
                setup_cpu_s=setup_cpu_s,
                last_batch_s=last_batch_s,
                snapshot_s=snapshot_s,
                compile_s=compile_s,
                total_s=total_s,
                model_for_s=median(model_times),
                select1_s=median(select_times),
                model_for_p90_s=p90(model_times),
                select1_p90_s=p90(select_times),
                add_field_s=add_field_s,
                add_field_cpu_s=add_field_cpu_s,
                recompile_s=recompile_s,
                recompile_cpu_s=recompile_cpu_s,
            )
        )
        if after_first is not None and len(results) == 1:
            after_first()
    return results


# --- 3: add a field to a big table ---------------------------------------------------------


@dataclass
class BigTableResult:
    rows: int
    copy_rows: int
    objects: int
    fill_s: float
    copy_s: float
    # (label, platform wall, platform CPU of this process, raw ALTER wall)
    cases: list[tuple[str, float, float, float]] = field(default_factory=list)


def fill_rows(org: Org, object_name_: str, rows: int) -> None:
    """Fill ``rows`` rows (system columns and the name) with one INSERT ... SELECT."""
    with org.db.read() as conn:
        obj = org.models.model_for(conn).objects[object_name_]
    table = obj.table
    name_column = obj.fields["name"].columns[""]
    now = sa.literal(utc_now(), type_=table.c.created_at.type)
    user = sa.literal(SYSTEM_USER_ID)
    if org.db.is_sqlite:
        seq = sa.select(sa.literal(1).label("n")).cte("seq", recursive=True)
        seq = seq.union_all(sa.select(seq.c.n + 1).where(seq.c.n < rows))
        n = seq.c.n
        padded = sa.func.printf("%012d", n)
        source: Any = seq
    else:
        source = sa.func.generate_series(1, rows).table_valued("n").render_derived(name="seq")
        n = source.c.n
        padded = sa.func.lpad(sa.cast(n, sa.Text), 12, "0")
    record_id = sa.literal("00000000-0000-7000-8000-") + padded
    select = sa.select(
        record_id,
        user,
        now,
        user,
        now,
        user,
        sa.literal(1),
        sa.literal("Record ") + sa.cast(n, sa.Text),
    ).select_from(source)
    columns = [
        table.c.id,
        table.c.owner_id,
        table.c.created_at,
        table.c.created_by,
        table.c.updated_at,
        table.c.updated_by,
        table.c.version,
        name_column,
    ]
    with org.db.write() as conn:
        conn.execute(table.insert().from_select(columns, select))


def count_rows(org: Org, table: str) -> int:
    with org.db.read() as conn:
        return conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one()


def raw_add_column(org: Org, table: str, column: str, sql_type: str) -> float:
    """A plain ALTER TABLE ... ADD COLUMN in a write transaction of its own (begin to commit)."""
    start = time.perf_counter()
    with org.db.write(ddl=True) as conn:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql_type}')
    return time.perf_counter() - start


def run_big_table(org: Org, options: Options) -> BigTableResult:
    progress(f"creating {BIG_OBJECT} and filling {options.rows:,} rows")
    org.metadata.create_object(
        object_definition(0, options.fields, name=BIG_OBJECT), author_id=SYSTEM_USER_ID
    )
    with org.db.read() as conn:
        table = org.models.model_for(conn).objects[BIG_OBJECT].table.name
    fill_s = timed(lambda: fill_rows(org, BIG_OBJECT, options.rows))
    copy_s = timed(lambda: _copy_table(org, table))
    rows = count_rows(org, table)
    copy_rows = count_rows(org, COPY_TABLE)
    with org.db.read() as conn:
        objects = len(org.models.model_for(conn).objects)
    result = BigTableResult(
        rows=rows, copy_rows=copy_rows, objects=objects, fill_s=fill_s, copy_s=copy_s
    )
    dialect = org.db.engine.dialect
    cases = [
        ("nullable text", {"type": "text"}, sa.Text()),
        ("currency (18, 2)", {"type": "currency", "precision": 18, "scale": 2}, ExactDecimal()),
    ]
    add = org.metadata.add_field
    for label, spec, column_type in cases:
        sql_type = column_type.compile(dialect=dialect)
        platform_times, platform_cpu, raw_times = [], [], []
        for run in range(options.add_field_runs):
            progress(f"add_field {label} on {rows:,} rows, run {run + 1}")
            name = f"added_{spec['type']}_{run}"
            definition = {"api_name": name, **spec}
            wall, cpu = timed_cpu(lambda d=definition: add(BIG_OBJECT, d, author_id=SYSTEM_USER_ID))
            platform_times.append(wall)
            platform_cpu.append(cpu)
            raw_times.append(raw_add_column(org, COPY_TABLE, f"raw_{name}", sql_type))
        result.cases.append(
            (
                f"{label} [{sql_type}]",
                median(platform_times),
                median(platform_cpu),
                median(raw_times),
            )
        )
    return result


def _copy_table(org: Org, table: str) -> None:
    with org.db.write(ddl=True) as conn:
        conn.exec_driver_sql(f'CREATE TABLE "{COPY_TABLE}" AS SELECT * FROM "{table}"')


# --- report ------------------------------------------------------------------------------


def report(
    title: str, options: Options, sizes: list[SizeResult], big: BigTableResult | None
) -> None:
    print(f"\n### {title}\n")
    print(
        f"{options.fields} fields per object (name + {', '.join(FIELD_MIX)}, cycled), "
        f"change sets of {options.batch} objects. Two more objects: `{PROBE_OBJECT}` (a name "
        f"only) receives the add_field probes, and `{BIG_OBJECT}` (the same field mix) holds "
        f"the big table; it is made after the first size. Times are wall-clock "
        f'(time.perf_counter); "CPU" is the CPU time of the benchmark process itself '
        f"(Python, plus SQLite's own work on SQLite), which other load on the machine "
        f"inflates far less than wall time.\n"
    )
    print(f"**Building the org and compiling its model** (median of {options.compile_runs})\n")
    print_table(
        [
            "objects",
            "fields",
            "setup s (added)",
            "of which CPU s",
            "last change set s",
            "read_snapshot ms",
            "compile ms",
            "snapshot+compile ms",
            "per object ms",
        ],
        [
            [
                f"{r.objects}",
                f"{r.objects * options.fields:,}",
                f"{r.setup_s:.1f} (+{r.added})",
                f"{r.setup_cpu_s:.1f}",
                f"{r.last_batch_s:.2f}",
                ms(r.snapshot_s),
                ms(r.compile_s),
                ms(r.total_s),
                f"{r.total_s * 1e3 / r.objects:.2f}",
            ]
            for r in sizes
        ],
    )
    print(
        f"**Per request: version check + model lookup, version unchanged** "
        f"(median and p90 of {options.calls:,} calls each, interleaved)\n"
    )
    print_table(
        [
            "objects",
            "model_for in db.read() µs",
            "SELECT 1 in db.read() µs",
            "ratio",
            "p90 model_for µs",
            "p90 SELECT 1 µs",
            "add_field, empty object ms",
            "of which CPU ms",
            "next model_for (recompile) ms",
            "of which CPU ms",
        ],
        [
            [
                f"{r.objects}",
                us(r.model_for_s),
                us(r.select1_s),
                ratio(r.model_for_s, r.select1_s),
                us(r.model_for_p90_s),
                us(r.select1_p90_s),
                ms(r.add_field_s),
                ms(r.add_field_cpu_s),
                ms(r.recompile_s),
                ms(r.recompile_cpu_s),
            ]
            for r in sizes
        ],
    )
    if big is None:
        return
    print(
        f"**Adding a field to an object with {big.rows:,} rows** "
        f"(org of {big.objects} objects; median of {options.add_field_runs}; baseline: raw "
        f"ALTER TABLE ADD COLUMN on a same-sized copy table)\n"
    )
    print_table(
        [
            "field",
            "org.metadata.add_field ms",
            "of which CPU ms",
            "raw ALTER TABLE ms",
            "ratio",
            "difference ms",
        ],
        [
            [
                label,
                ms(platform_s),
                ms(cpu_s),
                ms(raw_s),
                ratio(platform_s, raw_s),
                ms(platform_s - raw_s),
            ]
            for label, platform_s, cpu_s, raw_s in big.cases
        ],
    )
    first = sizes[0] if sizes else None
    if first is not None:
        print(
            f"For reference: add_field (nullable text) on the empty `{PROBE_OBJECT}` object "
            f"of an org of {first.objects} objects: {ms(first.add_field_s)} ms "
            f"({ms(first.add_field_cpu_s)} ms CPU); the cost that grows with the org is in "
            f"the add_field column of the table above.\n"
        )
    print(
        f"Setup: {big.rows:,} rows inserted in {big.fill_s:.1f} s (one INSERT ... SELECT); "
        f"copy table ({big.copy_rows:,} rows, CREATE TABLE AS SELECT) made in "
        f"{big.copy_s:.1f} s.\n",
        flush=True,
    )


def run_database(kind: str, options: Options) -> None:
    with scratch_database(kind, options.postgres_url) as (url, folder):
        org = Org.open(load_settings(url, instance_path=folder / "instance"))
        try:
            initialise_org(org, admin_email="bench@example.com", admin_password="Bench-pass-1!")
            org.metadata.create_object(
                {
                    "api_name": PROBE_OBJECT,
                    "name_field": "name",
                    "fields": [{"api_name": "name", "type": "text", "required": True}],
                },
                author_id=SYSTEM_USER_ID,
            )
            title = server_version(org) + (" (temporary file)" if kind == "sqlite" else "")
            started = time.perf_counter()
            # The big table is made right after the smallest org, so that its figures show
            # what the row count costs; what the org size costs shows at each size above.
            big: list[BigTableResult] = []
            sizes = run_sizes(
                org,
                options,
                after_first=(lambda: big.append(run_big_table(org, options)))
                if options.rows > 0
                else None,
            )
            report(title, options, sizes, big[0] if big else None)
            print(f"({kind}: {time.perf_counter() - started:.0f} s in all)\n", flush=True)
        finally:
            org.dispose()


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    print(
        f"# metadata_scale — Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        print(f"\n== {kind} ==", file=sys.stderr, flush=True)
        run_database(kind, options)


if __name__ == "__main__":
    main()
