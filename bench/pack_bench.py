"""Packs: plan, install and upgrade times of a large pack.

Generates a pack of ``--objects`` objects with ``--fields`` fields each (text, decimal,
date, picklist, lookup to the previous object) and ``--records`` sample records spread
over the objects, and a version 1.1.0 that adds a field to every object and a picklist
value. Per database (a temporary SQLite file; a fresh PostgreSQL schema dropped at the
end) it prints the seconds of: validate (no database), plan, install with the sample
records (one transaction), and the upgrade to 1.1.0 after an admin added a field.

Nothing is asserted (DESIGN §11).

    python bench/pack_bench.py                       # 30 objects, 600 fields, 2000 records
    python bench/pack_bench.py --quick               # a small smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import scratch_database, server_version
from crm_platform.assembly import open_org
from crm_platform.core import load_settings
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import install, plan, read_pack, validate_pack
from crm_platform.packs.upgrade import upgrade
from crm_platform.runtime import initialise_org


def write_pack(root: Path, objects: int, fields: int, records: int, version: str) -> Path:
    folder = root / f"big_{version.replace('.', '_')}"
    (folder / "objects").mkdir(parents=True)
    (folder / "sample").mkdir()
    (folder / "pack.yaml").write_text(yaml.safe_dump({"name": "big", "version": version}))
    newer = version != "1.0.0"
    for index in range(objects):
        name = f"thing_{index:02d}"
        defs = [{"api_name": "name", "type": "text", "required": True}]
        values = ["Open", "Closed", *(["Parked"] if newer else [])]
        defs.append({"api_name": "status", "type": "picklist", "values": values})
        if index:
            defs.append(
                {"api_name": "parent", "type": "lookup", "target": f"thing_{index - 1:02d}"}
            )
        kinds = ("text", "decimal", "date", "integer")
        while len(defs) < fields:
            kind = kinds[len(defs) % len(kinds)]
            extra = {"precision": 12, "scale": 2} if kind == "decimal" else {}
            defs.append({"api_name": f"f{len(defs):03d}", "type": kind, **extra})
        if newer:
            defs.append({"api_name": "added_in_1_1", "type": "text"})
        (folder / "objects" / f"{name}.yaml").write_text(
            yaml.safe_dump({"api_name": name, "fields": defs})
        )
        per_object = records // objects + (1 if index < records % objects else 0)
        rows = [{"name": f"{name} {i}", "status": "Open"} for i in range(per_object)]
        (folder / "sample" / f"{name}.yaml").write_text(yaml.safe_dump(rows))
    return folder


def timed(what: str, call):
    start = time.perf_counter()
    result = call()
    print(f"  {what:<34} {time.perf_counter() - start:8.2f} s")
    return result


def run_database(kind: str, args: argparse.Namespace, first: Path, second: Path) -> None:
    with scratch_database(kind, args.postgres_url) as (url, folder):
        org = open_org(load_settings(url, folder / "instance"))
        try:
            initialise_org(org, admin_email="admin@example.com", admin_password="S3cure-pass!")
            print(f"#### {server_version(org)}")
            found = timed("plan (install)", lambda: plan(org, first, with_sample=True))
            assert not found.problems
            result = timed(
                "install with sample records", lambda: install(org, first, with_sample=True)
            )
            print(f"  ({result.components} components, {result.records} records)")
            org.metadata.add_field(
                "thing_00", {"api_name": "local_note", "type": "text"}, author_id=SYSTEM_USER_ID
            )
            timed(
                "upgrade to 1.1.0 (three-way merge)", lambda: upgrade(org, "big", from_path=second)
            )
        finally:
            org.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--objects", type=int, default=30)
    parser.add_argument("--fields", type=int, default=20, help="fields per object")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.fields, args.records = 3, 6, 30
    with tempfile.TemporaryDirectory(prefix="crm-packs-") as tmp:
        first = write_pack(Path(tmp), args.objects, args.fields, args.records, "1.0.0")
        second = write_pack(Path(tmp), args.objects, args.fields, args.records, "1.1.0")
        org = open_org(load_settings("sqlite://"))
        pack, problems = read_pack(first, org.registry)
        assert pack is not None and not problems
        print(
            f"pack: {args.objects} objects, {args.objects * args.fields} fields, "
            f"{args.records} sample records"
        )
        timed("validate (no database)", lambda: validate_pack(pack, org.registry))
        org.dispose()
        for kind in args.databases.split(","):
            run_database(kind, args, first, second)


if __name__ == "__main__":
    main()
