"""Record exports, backup and restore at scale: time and the process's memory.

Per database and size (``--sizes 10000,50000``) the org of ``report_bench.py`` (a
private ``opportunity`` object of ``size`` records, ``size // 10`` cases, ``size // 50``
accounts, bulk-inserted) is built, then each step runs in a fresh process of its own
while a thread samples that process's resident memory (VmRSS) every 20 ms:

* ``raw``: the baseline — one ``SELECT`` of every opportunity column, rows fetched
  in batches and dropped (no shaping, no security);
* ``export jsonl`` / ``export csv``: ``crm export --object opportunity`` as the admin
  (``write_record_export``: pages of 1,000 through the records list) to a file;
* ``backup``: ``crm backup`` of the whole org to a zip;
* ``restore``: ``crm restore`` of that zip into a fresh database of the same engine.

Figures: seconds, opportunities per second, the ratio of the raw read's time to the
step's, and the peak resident memory above the process's just before the step. Memory
that stays flat does not grow with the size. Nothing is asserted (DESIGN §11).

    python bench/backup_bench.py                   # 10,000 and 50,000, both databases
    python bench/backup_bench.py --quick           # a small smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from bench_org import ADMIN_EMAIL, DEFAULT_POSTGRES_URL, build_org
from export_bench import PeakSampler, resident_bytes
from support import scratch_database, server_version

STEPS = ("raw", "export jsonl", "export csv", "backup", "restore")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,50000", help="opportunities per run")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args(argv)
    if options.quick:
        options.sizes = "2000"
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    options.sizes = [int(s) for s in options.sizes.split(",")]
    return options


def _open(url: str, folder: Path):
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    return open_org(load_settings(url, instance_path=folder / "instance"))


def step(name: str, url: str, folder: Path, target: str) -> dict:
    """One step in this (fresh) process: its seconds and peak resident growth."""
    org = _open(url, folder)
    with org.db.read() as conn:  # connect and compile before measuring
        org.models.model_for(conn)
    before = resident_bytes()
    started = time.perf_counter()
    with PeakSampler() as sampler:
        extra = _run_step(name, org, url, folder, target)
    seconds = time.perf_counter() - started
    org.dispose()
    return {"seconds": seconds, "growth": sampler.peak - before, **extra}


def _run_step(name: str, org, url: str, folder: Path, target: str) -> dict:
    if name == "raw":
        with org.db.read() as conn:
            table = org.models.model_for(conn).objects["opportunity"].table
            result = conn.execution_options(yield_per=1000).execute(sa.select(table))
            return {"rows": sum(len(p) for p in result.partitions())}
    if name.startswith("export"):
        from crm_platform.exports import write_record_export
        from crm_platform.runtime import find_user

        fmt = name.split()[1]
        with org.db.read() as conn:
            admin = find_user(conn, ADMIN_EMAIL)
        out = folder / f"export.{fmt}"
        with org.records.session(admin, write=False) as session, out.open("wb") as file:
            rows = write_record_export(session, "opportunity", fmt, file)
        return {"rows": rows, "bytes": out.stat().st_size}
    if name == "backup":
        from crm_platform.backup import backup_org

        done = backup_org(org, folder / "org.zip")
        return {"rows": done.rows, "bytes": done.path.stat().st_size}
    from crm_platform.backup import restore_org

    moved = _open(target, folder / "moved")
    try:
        done = restore_org(moved, folder / "org.zip")
    finally:
        moved.dispose()
    return {"rows": done.rows}


def run_database(kind: str, options) -> None:
    for size in options.sizes:
        with (
            scratch_database(kind, options.postgres_url) as (url, folder),
            scratch_database(kind, options.postgres_url) as (target, target_folder),
        ):
            if kind == "sqlite":
                target = f"sqlite:///{target_folder / 'moved.db'}"
            progress(f"{kind}: building {size:,} opportunities")
            org, _people = build_org(url, folder, size)
            version = server_version(org)
            org.dispose()
            print(f"\n### {version}: {size:,} opportunities\n")
            print("| step | seconds | opportunities/s | × raw time | MB | peak RSS growth MB |")
            print("|---|---:|---:|---:|---:|---:|")
            raw = None
            for name in STEPS:
                progress(f"  {name}")
                measured = subprocess.run(
                    [sys.executable, __file__, "--step", name, url, str(folder), target],
                    capture_output=True,
                    text=True,
                )
                if measured.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{measured.stderr[-3000:]}")
                figures = json.loads(measured.stdout.strip().splitlines()[-1])
                seconds = figures["seconds"]
                raw = raw or seconds
                size_mb = f"{figures['bytes'] / 1e6:.1f}" if "bytes" in figures else ""
                print(
                    f"| {name} | {seconds:.2f} | {size / seconds:,.0f} | {seconds / raw:.1f} | "
                    f"{size_mb} | {figures['growth'] / 1e6:.1f} |",
                    flush=True,
                )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--step"]:
        name, url, folder, target = argv[1:5]
        print(json.dumps(step(name, url, Path(folder), target)))
        return
    options = parse_args(argv)
    print(
        f"# backup_bench — Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        run_database(kind, options)


if __name__ == "__main__":
    main()
