"""What writing search entries costs: one entry per record and visibility group (ADR
0052) beside one entry per text field (the layout before it), in the same run.

Per database (SQLite in a temporary file, PostgreSQL in a fresh schema) an org gets the
import bench's ``contact`` object (nine indexed text fields) and ``--rows`` contacts
created through the record service. Then, in
alternating rounds, every contact's entries are written the way the record service
writes them after a batch of creates (``search.index_records``, batches of 1,000, one
transaction each) — once with the platform's grouping (no permission set hides a
contact field: one entry per record), once with every field a group of its own (nine
entries per record, as before ADR 0052). It prints the best and median round of each
and their ratio, and the entries written.

Nothing is asserted (DESIGN §11); the host's speed drifts between runs, so only the
ratio of one run means much.

    python bench/search_index_bench.py                # 20,000 contacts, both databases
    python bench/search_index_bench.py --quick        # 2,000 contacts
    python bench/search_index_bench.py --databases postgresql --rows 50000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any

import sqlalchemy as sa
from import_bench import ACCOUNT, ADMIN, CAMPAIGN, CONTACT, SOURCES
from support import scratch_database, server_version

from crm_platform.assembly import open_org
from crm_platform.core import load_settings
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import find_user, initialise_org
from crm_platform.runtime.records import search
from crm_platform.runtime.records.search_groups import SearchGroup, group_columns, group_key

DEFAULT_POSTGRES_URL = os.environ.get(
    "CRM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BATCH = 1000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 contacts, 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.rounds = 2_000, 2
    return args


def build_org(url: str, folder, rows: int) -> Any:
    """An org with ``rows`` contacts (each round rewrites their entries)."""
    org = open_org(load_settings(url, instance_path=folder / "instance"))
    initialise_org(org, admin_email=ADMIN, admin_password="Bench-pass-1!")
    definitions = [("object", ACCOUNT), ("object", CAMPAIGN), ("object", CONTACT)]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN)
    for first in range(0, rows, 5000):
        batch = [
            {
                "external_id": f"C-{i:07}",
                "first_name": ["Ann", "Bo", "Chen", "Dana", "李"][i % 5],
                "last_name": f"Last{i}",
                "email": f"person{i}@example.com",
                "phone": f"+1 555 {i % 10_000:04}",
                "title": ["CEO", "CTO", "Buyer", "经理"][i % 4],
                "department": ["Sales", "IT", "Finance"][i % 3],
                "lead_source": SOURCES[i % len(SOURCES)],
                "description": "Met at the fair; wants a demo.",
            }
            for i in range(first, min(rows, first + 5000))
        ]
        with org.records.session(admin) as session:
            session.create_many("contact", batch)
        progress(f"  {first + len(batch):,} contacts")
    return org


def write_entries(org: Any, groups: tuple[SearchGroup, ...] | None) -> tuple[float, int]:
    """Every contact's entries written in batches, as after creates; ``groups``: the
    grouping to use instead of the platform's. Seconds and entries written."""
    with org.db.write() as conn:
        conn.execute(search.search_table.delete())
        model = org.models.model_for(conn, for_write=True)
        contact = model.objects["contact"]
        ids = [r[0] for r in conn.execute(sa.select(contact.table.c.id).order_by("id"))]
    cache = model.runtime_cache.setdefault("search_groups", {})
    cache.pop("contact", None)
    if groups is not None:
        cache["contact"] = groups
    statements = search.entry_statements(model, contact, org.db.engine.dialect.name)
    started = time.perf_counter()
    for first in range(0, len(ids), BATCH):
        with org.db.write() as conn:
            batch = ids[first : first + BATCH]
            search.index_records(conn, model, contact, batch, statements, new=True)
    seconds = time.perf_counter() - started
    cache.pop("contact", None)
    with org.db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(search.search_table))
        return seconds, count.scalar_one()


def per_field(org: Any) -> tuple[SearchGroup, ...]:
    """Every indexed field a group of its own: the entries before ADR 0052."""
    with org.db.read() as conn:
        contact = org.models.model_for(conn).objects["contact"]
    fields = search.indexed_fields(contact)
    return tuple(SearchGroup(group_key([f]), (f.name,), group_columns([f])) for f in fields)


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with scratch_database(kind, args.postgres_url) as (url, folder):
        progress(f"{kind}: {args.rows:,} contacts")
        org = build_org(url, folder, args.rows)
        try:
            baseline = per_field(org)
            times: dict[str, list[float]] = {"group": [], "field": []}
            entries = {}
            for round_ in range(args.rounds):
                for layout, groups in (("group", None), ("field", baseline)):
                    seconds, entries[layout] = write_entries(org, groups)
                    times[layout].append(seconds)
                    progress(f"  round {round_ + 1}, per {layout}: {seconds:.2f} s")
            return {"server": server_version(org), "times": times, "entries": entries}
        finally:
            org.dispose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = [run(kind, args) for kind in args.databases.split(",")]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"## search_index_bench: {args.rows:,} contacts, {args.rounds} rounds\n")
    print(f"{platform.platform()}, {os.cpu_count()} cores, load {load} at the end\n")
    print(
        "| database | per visibility group: best s (median) | entries "
        "| per field: best s (median) | entries | ratio field/group (best) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for result in results:
        group, field = result["times"]["group"], result["times"]["field"]
        print(
            f"| {result['server']} | {min(group):.2f} ({statistics.median(group):.2f}) "
            f"| {result['entries']['group']:,} "
            f"| {min(field):.2f} ({statistics.median(field):.2f}) "
            f"| {result['entries']['field']:,} | {min(field) / min(group):.1f}× |"
        )


if __name__ == "__main__":
    main()
