"""IS_UNDER with a literal id and with an id computed per record, at scale.

Per database and size: a private ``account`` object with a hierarchy lookup
(``parent_account``) and a plain lookup to another account (``referred_by``), records
bulk-inserted with SQLAlchemy Core as a forest of trees ``--depth`` levels deep (each
account's parent drawn from the level above), every account referred by a random
ancestor or a random account. Then the median time of a report counting

* ``IS_UNDER(parent_account, '<a root>')``: walked once, down from the literal id;
* ``IS_UNDER(parent_account, referred_by)``: walked up from every record's parent;

as the admin, beside a plain count of the same table (the floor). Nothing is asserted
(DESIGN §11).

    python bench/hierarchy_bench.py --databases sqlite --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Any

from bench_org import ADMIN_EMAIL, DEFAULT_POSTGRES_URL
from support import scratch_database, server_version

from crm_platform.assembly import open_org
from crm_platform.core import load_settings, new_id, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.reports import run_report
from crm_platform.runtime import find_user, initialise_org

ACCOUNT = {
    "api_name": "account",
    "sharing": "private",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "parent_account", "type": "lookup", "target": "account", "hierarchy": True},
        {"api_name": "referred_by", "type": "lookup", "target": "account"},
    ],
}


def report(name: str, condition: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"api_name": name, "object": "account", "aggregates": ["count"]}
    if condition:
        out["filter"] = condition
    return out


def build(url: str, folder, size: int, depth: int):
    org = open_org(load_settings(url, instance_path=folder / "instance"))
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password="S3cure-pass!")
    org.metadata.apply_definitions([("object", ACCOUNT)], author_id=SYSTEM_USER_ID)
    rng = random.Random(11)
    per_level = max(size // depth, 1)
    levels: list[list[str]] = []
    chains: dict[str, list[str]] = {}  # id -> its ancestors
    rows = []
    now = utc_now()
    with org.db.write() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
        obj = org.models.model_for(conn).objects["account"]
        column = {n: obj.fields[n].columns[""].name for n in ("name", "parent_account")}
        referred = obj.fields["referred_by"].columns[""].name
        for level in range(depth):
            ids = [new_id() for _ in range(per_level)]
            for i, record_id in enumerate(ids):
                parent = rng.choice(levels[-1]) if levels else None
                chains[record_id] = [parent, *chains[parent]] if parent else []
                above = chains[record_id]
                pool = above if above and rng.random() < 0.5 else None
                rows.append(
                    {
                        "id": record_id,
                        "owner_id": admin.id,
                        "created_by": SYSTEM_USER_ID,
                        "updated_by": SYSTEM_USER_ID,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                        column["name"]: f"Account {level}-{i}",
                        column["parent_account"]: parent,
                        referred: rng.choice(pool) if pool else None,
                    }
                )
            levels.append(ids)
        for row in rows:  # the other half: any account (mostly not above)
            if row[referred] is None and rng.random() < 0.9:
                row[referred] = rng.choice(rows)["id"]
        for start in range(0, len(rows), 5000):
            conn.execute(obj.table.insert(), rows[start : start + 5000])
    root = levels[0][0]
    reports = [
        report("plain_count", None),
        report("under_literal", f"IS_UNDER(parent_account, '{root}')"),
        report("under_per_row", "IS_UNDER(parent_account, referred_by)"),
    ]
    org.metadata.apply_definitions([("report", r) for r in reports], author_id=SYSTEM_USER_ID)
    return org, admin


def median_ms(action, runs: int) -> float:
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    options = parser.parse_args()
    print("| database | accounts | plain count ms | literal id ms | per-record id ms | matched |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in options.databases.split(","):
        for size in (int(s) for s in options.sizes.split(",")):
            with scratch_database(kind, options.postgres_url) as (url, folder):
                org, admin = build(url, folder, size, options.depth)
                try:
                    figures = {}
                    for name in ("plain_count", "under_literal", "under_per_row"):

                        def run(name=name, org=org, admin=admin):
                            with org.records.session(admin, write=False) as session:
                                return run_report(session, name).total.values["count"]

                        figures[name] = (median_ms(run, options.runs), run())
                    print(
                        f"| {server_version(org)} | {size:,} | {figures['plain_count'][0]:.1f} | "
                        f"{figures['under_literal'][0]:.1f} | {figures['under_per_row'][0]:.1f} | "
                        f"{figures['under_per_row'][1]:,} |",
                        flush=True,
                    )
                finally:
                    org.dispose()


if __name__ == "__main__":
    main()
