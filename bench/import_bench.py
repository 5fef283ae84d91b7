"""Imports at scale: ``crm import`` of 100,000 contacts beside a raw bulk insert.

Per database (SQLite in a temporary file, PostgreSQL in a fresh schema) an org gets
accounts (1,000), campaigns (50) and a private ``contact`` object; a CSV file of
``--rows`` contacts × 15 columns is written as real files come (dates like ``2024/3/5``,
amounts like ``1,234.50``, booleans 是/否, picklist values in any case) with two lookup
columns (the account and the campaign, by name). Then:

- **import**: ``crm import FILE --object contact --mapping FILE`` in a fresh process
  (what a user runs: every row through the record service, batches of 1,000); its wall
  time, its CPU time (with the process converting the file beside it: its children's)
  and its peak resident memory (``ru_maxrss``, the two processes' peaks added);
- **raw**: the same file read with ``csv``, converted by hand (dates, decimals,
  booleans, lookups from a dict) and inserted with SQLAlchemy Core ``executemany`` in
  batches of 1,000, one transaction each, into a copy of the contact table — no
  validation, no history, no search index, no permissions: the floor;
- **raw with indexes**: the same into a copy that also has every index of the contact
  table (what storing these rows in that table costs the database in any case).

It prints both, and the ratio raw time / import time (the importer's speed as a share of
the raw insert's; the goal is ≥ 0.3, with the whole import under 2 minutes).

``--duplicate-rule``: a duplicate rule on the contact's email is applied before the
import when this build has the ``duplicate_rule`` kind (issue 17 item 4, built
separately); :func:`duplicate_rule` is the one place that names its definition.

``--not-searchable``: the contact object is applied with ``searchable: false``, so the
record service writes no search entries: the same import without the search index's
cost, to show what share of the gap to the raw insert the index is.

Nothing is asserted (DESIGN §11).

    python bench/import_bench.py                       # 100,000 rows, both databases
    python bench/import_bench.py --quick               # 5,000 rows
    python bench/import_bench.py --databases sqlite --rows 20000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import re
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from support import scratch_database, server_version

from crm_platform.assembly import open_org
from crm_platform.core import load_settings, new_id, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import find_user, initialise_org

DEFAULT_POSTGRES_URL = os.environ.get(
    "CRM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN = "admin@example.com"
# `crm` itself, printing its peak resident memory (kB) when it ends, with that of the
# process converting a large file beside it
PEAK_SCRIPT = (
    "import resource, sys\n"
    "from crm_platform.cli import main\n"
    "main(sys.argv[1:], standalone_mode=False)\n"
    "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "converter = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print('PEAK', own + converter)\n"
)
SOURCES = ["Web", "Referral", "Partner", "Event", "Phone"]

ACCOUNT = {
    "api_name": "account",
    "sharing": "private",
    "fields": [{"api_name": "name", "type": "text", "required": True}],
}
CAMPAIGN = {
    "api_name": "campaign",
    "sharing": "public_read",
    "fields": [{"api_name": "name", "type": "text", "required": True}],
}
CONTACT = {
    "api_name": "contact",
    "sharing": "private",
    "name_field": "last_name",
    "fields": [
        {"api_name": "external_id", "type": "external_id"},
        {"api_name": "first_name", "type": "text"},
        {"api_name": "last_name", "type": "text", "required": True},
        {"api_name": "email", "type": "email"},
        {"api_name": "phone", "type": "phone"},
        {"api_name": "title", "type": "text"},
        {"api_name": "department", "type": "text"},
        {"api_name": "birthdate", "type": "date"},
        {"api_name": "lead_source", "type": "picklist", "values": SOURCES},
        {"api_name": "score", "type": "decimal", "precision": 12, "scale": 2},
        {"api_name": "employees", "type": "integer"},
        {"api_name": "do_not_call", "type": "boolean"},
        {"api_name": "description", "type": "long_text"},
        {"api_name": "account", "type": "lookup", "target": "account"},
        {"api_name": "campaign", "type": "lookup", "target": "campaign"},
    ],
}
HEADERS = [
    "External Id",
    "First name",
    "Last name",
    "Email",
    "Phone",
    "Title",
    "Department",
    "Birthdate",
    "Lead source",
    "Score",
    "Employees",
    "Do not call",
    "Description",
    "Company",
    "Campaign",
]
FIELDS = [f["api_name"] for f in CONTACT["fields"]]


def duplicate_rule(action: str = "warn") -> dict[str, Any]:
    """The duplicate rule ``--duplicate-rule`` applies (issue 17 item 4): contacts with the
    same email, allowed with a warning (or blocked, ``--duplicate-rule block``)."""
    return {
        "api_name": "contact_email",
        "object": "contact",
        "action": action,
        "criteria": [{"field": "email", "method": "email"}],
    }


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--duplicate-rule",
        nargs="?",
        const="warn",
        choices=("warn", "block"),
        help="a duplicate rule on the contact's email: warn (the default) or block",
    )
    parser.add_argument(
        "--reimport",
        action="store_true",
        help="then import a corrected file of the same people with --upsert-on external_id "
        "(every row an update), beside a raw executemany UPDATE by external id",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="then import the same file again, without --upsert-on: every row is refused "
        "(its external id is taken; with --duplicate-rule block, the rule refuses it first)",
    )
    parser.add_argument(
        "--not-searchable",
        action="store_true",
        help="the contact object left out of search (searchable: false): what the search "
        "entries cost the import",
    )
    parser.add_argument("--quick", action="store_true", help="5,000 rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = 5_000
    return args


def write_file(
    path: Path, rows: int, accounts: list[str], campaigns: list[str], seed: int = 17
) -> None:
    """The messy file: 15 columns, formats as spreadsheets give them (another ``seed``:
    the same people, external ids, names and emails, with other values elsewhere)."""
    pick = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADERS)
        for i in range(rows):
            born = dt.date(1960, 1, 1) + dt.timedelta(days=pick.randrange(15_000))
            out.writerow(
                [
                    f"C-{i:07}",
                    pick.choice(["Ann", "Bo", "Chen", "Dana", "李"]),
                    f"Last{i}",
                    f"person{i}@example.com",
                    f"+1 555 {i % 10_000:04}",
                    pick.choice(["CEO", "CTO", "Buyer", "经理"]),
                    pick.choice(["Sales", "IT", "Finance"]),
                    f"{born.year}/{born.month}/{born.day}",
                    pick.choice(SOURCES).lower(),
                    f"{pick.randrange(100_000_00) / 100:,.2f}",
                    f"{pick.randrange(50_000):,}",
                    pick.choice(["是", "否"]),
                    "Met at the fair; wants a demo.",
                    pick.choice(accounts),
                    pick.choice(campaigns),
                ]
            )


def write_mapping(path: Path) -> None:
    lines = ["object: contact", "columns:"]
    for header, name in zip(HEADERS, FIELDS, strict=True):
        extra = ", lookup: name" if name in ("account", "campaign") else ""
        extra += ', date_format: "%Y/%m/%d"' if name == "birthdate" else ""
        lines.append(f'  "{header}": {{field: {name}{extra}}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_org(
    url: str, folder: Path, action: str | None, searchable: bool = True
) -> tuple[Any, list[str], list[str], str]:
    settings = load_settings(url, instance_path=folder / "instance")
    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN, admin_password="Bench-pass-1!")
    contact = CONTACT if searchable else {**CONTACT, "searchable": False}
    definitions = [("object", ACCOUNT), ("object", CAMPAIGN), ("object", contact)]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    rule = "none"
    if action is not None:
        if "duplicate_rule" in org.registry.kinds:
            org.metadata.apply_definitions(
                [("duplicate_rule", duplicate_rule(action))], author_id=SYSTEM_USER_ID
            )
            rule = f"contact email ({'allow' if action == 'warn' else 'block'})"
        else:
            rule = "not in this build (no duplicate_rule kind): none"
    accounts = [f"Account {i:04}" for i in range(1000)]
    campaigns = [f"Campaign {i:02}" for i in range(50)]
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN)
    with org.records.session(admin) as session:
        session.create_many("account", [{"name": n} for n in accounts])
        session.create_many("campaign", [{"name": n} for n in campaigns])
    return org, accounts, campaigns, rule


def run_import(
    url: str, folder: Path, path: Path, mapping: Path, batch: int, *extra: str
) -> dict[str, float]:
    """``crm import`` in a fresh process: wall seconds, CPU seconds, peak RSS (MB)."""
    env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_INSTANCE_PATH": str(folder / "instance")}
    command = [
        sys.executable, "-c", PEAK_SCRIPT, "import", str(path), "--object", "contact",
        "--mapping", str(mapping), "--batch-size", str(batch), *extra,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    lines = done.stdout.strip().splitlines()
    progress("  " + lines[-2])
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # (created, updated, rejected); rows left unchanged, said only when there are any, apart
    counts = re.search(
        r"(\d+) created, (\d+) updated, (?:\d+ unchanged, )?(\d+) rejected", done.stdout
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": int(lines[-1].split()[1]) / 1024,
        "counts": tuple(int(n) for n in counts.groups()) if counts else None,
    }


def _raw_setup(org: Any) -> tuple[Any, list[Any], dict[str, dict[str, str]], str]:
    """The contact object, its columns in file order, the lookups' ids by name, the owner."""
    with org.reading() as (conn, model):
        contact = model.objects["contact"]
        ids = {}
        for name in ("account", "campaign"):
            target = model.objects[name]
            query = sa.select(target.fields["name"].columns[""], target.table.c.id)
            ids[name] = dict(conn.execute(query).all())
        admin = find_user(conn, ADMIN)
    return contact, [contact.fields[f].columns[""] for f in FIELDS], ids, admin.id


def _in_batches(org: Any, path: Path, batch: int, statement: Any, row_of) -> dict[str, float]:
    """Read the file, turn each line into a row with ``row_of`` and execute ``statement``
    per ``batch`` rows, a transaction each; wall and CPU seconds."""
    started, cpu0 = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows: list[dict[str, Any]] = []
        for cells in reader:
            rows.append(row_of(cells))
            if len(rows) == batch:
                _execute(org, statement, rows)
                rows = []
        if rows:
            _execute(org, statement, rows)
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu0}


def run_raw(org: Any, path: Path, batch: int) -> dict[str, float]:
    """The floor: the same rows converted by hand and bulk-inserted with Core."""
    contact, columns, ids, owner = _raw_setup(org)
    raw = _raw_table(contact)
    with org.db.engine.begin() as conn:
        raw.create(conn)
        # as the platform's external id has one: the raw re-import finds rows by it
        sa.Index("bench_raw_contact_key", raw.c[columns[0].name], unique=True).create(conn)
    return _in_batches(
        org, path, batch, raw.insert(), lambda cells: _raw_row(cells, columns, ids, owner)
    )


def run_raw_indexed(org: Any, path: Path, batch: int) -> dict[str, float]:
    """The same raw insert into a copy that has every index the contact table has (its
    owner and lookup indexes, the external id's unique index, the duplicate rule's
    blocking key): what the database does to store these rows in this table at all."""
    contact, columns, ids, owner = _raw_setup(org)
    raw = _raw_table(contact, INDEXED_COPY)
    with org.db.engine.begin() as conn:
        raw.create(conn)
        for ddl in _index_ddl(conn, contact.table.name):
            conn.exec_driver_sql(ddl.replace(contact.table.name, INDEXED_COPY))
    return _in_batches(
        org, path, batch, raw.insert(), lambda cells: _raw_row(cells, columns, ids, owner)
    )


def _index_ddl(conn: Any, table: str) -> list[str]:
    """The CREATE INDEX statements of ``table``'s secondary indexes, as the database
    keeps them (the duplicate rule's expression index included)."""
    if conn.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        return [ddl for (ddl,) in conn.exec_driver_sql(query, (table,)) if ddl]
    query = (
        "SELECT indexdef FROM pg_indexes WHERE tablename = %(t)s "
        "AND schemaname = current_schema() AND indexname <> %(t)s || '_pkey'"
    )
    return [ddl for (ddl,) in conn.exec_driver_sql(query, {"t": table})]


def run_raw_update(org: Any, path: Path, batch: int) -> dict[str, float]:
    """The floor of a re-import: the corrected rows converted by hand and written with an
    executemany UPDATE by external id, into the raw table :func:`run_raw` filled."""
    contact, columns, ids, owner = _raw_setup(org)
    raw = _raw_table(contact)
    key = columns[0].name

    def changes(cells: list[str]) -> dict[str, Any]:
        row = _raw_row(cells, columns, ids, owner)
        for unchanged in ("id", "created_at", "created_by", "version", key):
            row.pop(unchanged)
        return {**row, "where_key": cells[0]}

    statement = raw.update().where(raw.c[key] == sa.bindparam("where_key"))
    return _in_batches(org, path, batch, statement, changes)


INDEXED_COPY = "bench_raw_indexed_contact"


def _raw_table(contact: Any, name: str = "bench_raw_contact") -> sa.Table:
    """A copy of the contact table's columns, with their types (a decimal is text on
    SQLite, as the platform stores it)."""
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in contact.table.columns),
    )


def _execute(org: Any, statement: Any, rows: list[dict[str, Any]]) -> None:
    with org.db.write() as conn:
        conn.execute(statement, rows)


def _raw_row(cells, columns, ids, owner) -> dict[str, Any]:
    values: list[Any] = list(cells)
    values[7] = dt.datetime.strptime(cells[7], "%Y/%m/%d").date()
    values[8] = cells[8].title()
    values[9] = Decimal(cells[9].replace(",", ""))
    values[10] = int(cells[10].replace(",", ""))
    values[11] = cells[11] == "是"
    values[13] = ids["account"][cells[13]]
    values[14] = ids["campaign"][cells[14]]
    now = utc_now()
    row = {c.name: v for c, v in zip(columns, values, strict=True)}
    row.update(
        id=new_id(),
        owner_id=owner,
        created_at=now,
        created_by=owner,
        updated_at=now,
        updated_by=owner,
        version=1,
    )
    return row


def count(org: Any) -> int:
    with org.reading() as (conn, model):
        table = model.objects["contact"].table
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with scratch_database(kind, args.postgres_url) as (url, folder):
        progress(f"{kind}: building the org")
        org, accounts, campaigns, rule = build_org(
            url, folder, args.duplicate_rule, not args.not_searchable
        )
        try:
            path, mapping = folder / "contacts.csv", folder / "contacts.mapping.yaml"
            write_file(path, args.rows, accounts, campaigns)
            write_mapping(mapping)
            size = path.stat().st_size / 1e6
            progress(f"{kind}: importing {args.rows:,} rows ({size:.1f} MB)")
            imported = run_import(url, folder, path, mapping, args.batch_size)
            landed = count(org)
            progress(f"{kind}: raw bulk insert")
            raw = run_raw(org, path, args.batch_size)
            progress(f"{kind}: raw bulk insert into a copy with the table's indexes")
            raw_indexed = run_raw_indexed(org, path, args.batch_size)
            again = None
            if args.reimport:
                corrected = folder / "contacts.corrected.csv"
                write_file(corrected, args.rows, accounts, campaigns, seed=18)
                progress(f"{kind}: re-importing {args.rows:,} corrected rows (upserts)")
                upserted = run_import(
                    url, folder, corrected, mapping, args.batch_size, "--upsert-on", "external_id"
                )
                progress(f"{kind}: raw executemany UPDATE")
                again = {"import": upserted, "raw": run_raw_update(org, corrected, args.batch_size)}
            repeated = None
            if args.again:
                progress(f"{kind}: importing the same {args.rows:,} rows again (duplicates)")
                repeated = run_import(url, folder, path, mapping, args.batch_size)
            return {
                "repeated": repeated,
                "kind": kind,
                "server": server_version(org),
                "size": size,
                "rule": rule,
                "landed": landed,
                "import": imported,
                "raw": raw,
                "raw_indexed": raw_indexed,
                "reimport": again,
            }
        finally:
            org.dispose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = [bench(kind, args) for kind in args.databases.split(",")]
    load = os.getloadavg()
    print(
        f"## import_bench: {args.rows:,} rows × 15 columns, 2 lookups, batches of "
        f"{args.batch_size}{'; contact not searchable' if args.not_searchable else ''}"
        f"\n\n{platform.platform()}, {os.cpu_count()} cores, load "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end\n"
    )
    print(
        "| database | duplicate rule | rows landed | import s (CPU s) | rows/s | raw s (CPU s) "
        "| ratio raw/import (wall) | ratio (CPU) | importer peak RSS |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        imp, raw = r["import"], r["raw"]
        print(
            f"| {r['server']} | {r['rule']} | {r['landed']:,} | {imp['wall']:.1f} "
            f"({imp['cpu']:.1f}) | {args.rows / imp['wall']:,.0f} | {raw['wall']:.1f} "
            f"({raw['cpu']:.1f}) | {raw['wall'] / imp['wall']:.2f}× | "
            f"{raw['cpu'] / imp['cpu']:.2f}× | {imp['peak_mb']:.0f} MB |"
        )
    print(
        "\nThe raw insert again, into a copy with every index of the contact table (owner, "
        "lookups, the external id's unique index, the duplicate rule's key):\n"
    )
    print("| database | raw with indexes s (CPU s) | ratio raw/import (wall) | ratio (CPU) |")
    print("| --- | --- | --- | --- |")
    for r in results:
        imp, raw = r["import"], r["raw_indexed"]
        print(
            f"| {r['server']} | {raw['wall']:.1f} ({raw['cpu']:.1f}) | "
            f"{raw['wall'] / imp['wall']:.2f}× | {raw['cpu'] / imp['cpu']:.2f}× |"
        )
    reimports = [r for r in results if r["reimport"]]
    if reimports:
        print(
            "\nRe-import of the corrected file with `--upsert-on external_id` (every row "
            "an update), beside a raw executemany UPDATE by external id:\n"
        )
        print(
            "| database | re-import s (CPU s) | rows/s | raw UPDATE s (CPU s) "
            "| ratio raw/import (wall) | ratio (CPU) | importer peak RSS |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in reimports:
        imp, raw = r["reimport"]["import"], r["reimport"]["raw"]
        print(
            f"| {r['server']} | {imp['wall']:.1f} ({imp['cpu']:.1f}) | "
            f"{args.rows / imp['wall']:,.0f} | {raw['wall']:.1f} ({raw['cpu']:.1f}) | "
            f"{raw['wall'] / imp['wall']:.2f}× | {raw['cpu'] / imp['cpu']:.2f}× | "
            f"{imp['peak_mb']:.0f} MB |"
        )

    repeats = [r for r in results if r["repeated"]]
    if repeats:
        print(
            "\nThe same file imported again (no upsert key): every row refused (its "
            "external id taken, or the blocking rule), each named in the error file:\n"
        )
        print("| database | import s (CPU s) | rows/s | created, updated, rejected |")
        print("| --- | --- | --- | --- |")
    for r in repeats:
        imp = r["repeated"]
        print(
            f"| {r['server']} | {imp['wall']:.1f} ({imp['cpu']:.1f}) | "
            f"{args.rows / imp['wall']:,.0f} | {imp['counts']} |"
        )


if __name__ == "__main__":
    main()
