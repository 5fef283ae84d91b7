"""Report exports at scale: the server's memory while it streams every row.

Per database and size (``--sizes 100000,1000000``) the org of ``report_bench.py`` (a
private ``opportunity`` object, records bulk-inserted, owners over a role chain) gets a
tabular report listing every deal (name, account name, owner, amount, probability,
stage, close date). The admin then exports it through the app, as
``GET /api/v1/reports/deal_list/export?format=csv|xlsx``, the body read chunk by chunk
and dropped, in a fresh process (the "server": its heap holds nothing of the build),
while a thread samples that process's resident memory (VmRSS) every 20 ms: the
figures are the peak above the resident memory just before the request (after one
warm-up export of 10 rows), the time, and the rows per second. Memory that stays flat
does not grow with the size.

Nothing is asserted (DESIGN §11).

    python bench/export_bench.py                        # 100,000 and 1,000,000, both databases
    python bench/export_bench.py --quick                # a small smoke run
    python bench/export_bench.py --databases sqlite --sizes 100000 --formats csv
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from bench_org import DEFAULT_POSTGRES_URL, build_org
from support import scratch_database, server_version

from crm_platform.app import create_app
from crm_platform.runtime import create_token

DEAL_LIST = {
    "api_name": "deal_list",
    "object": "opportunity",
    "columns": [
        "name",
        "account.name",
        "owner.name",
        "amount",
        "probability",
        "stage",
        "close_date",
    ],
}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--sizes", default="100000,1000000", help="opportunities per run")
    parser.add_argument("--formats", default="csv,xlsx", help="csv,xlsx")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    options = parser.parse_args(argv)
    if options.quick:
        options.sizes = "5000"
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    options.sizes = [int(s) for s in options.sizes.split(",")]
    options.formats = [f.strip() for f in options.formats.split(",") if f.strip()]
    return options


def resident_bytes() -> int:
    """The process's resident memory now (Linux: VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakSampler:
    """Samples the resident memory in a thread; ``peak`` is the highest seen."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.peak = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, resident_bytes())
            time.sleep(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())


def export_once(client, token: str, fmt: str) -> tuple[int, float, int]:
    """(bytes, seconds, peak resident growth) of one export read to its end."""
    url = f"/api/v1/reports/deal_list/export?format={fmt}"
    before = resident_bytes()
    started = time.perf_counter()
    size = 0
    with PeakSampler() as sampler:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"}, buffered=False)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.get_data(as_text=True)}")
        for chunk in response.response:
            size += len(chunk)
        response.close()
    return size, time.perf_counter() - started, sampler.peak - before


def run_database(kind: str, options) -> None:
    for size in options.sizes:
        with scratch_database(kind, options.postgres_url) as (url, folder):
            progress(f"{kind}: building {size:,} opportunities")
            org, people = build_org(url, folder, size, [DEAL_LIST])
            try:
                with org.db.write() as conn:
                    token = create_token(conn, people["admin"].id, "bench")
                version = server_version(org)
            finally:
                org.dispose()
            print(f"\n## {version}: {size:,} rows\n")
            print("| format | MB out | seconds | rows/s | peak RSS growth MB |")
            print("|---|---:|---:|---:|---:|")
            for fmt in options.formats:
                progress(f"  {fmt}")
                measured = subprocess.run(
                    [sys.executable, __file__, "--serve", url, str(folder), token, fmt],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                out, seconds, growth = json.loads(measured.stdout.strip().splitlines()[-1])
                print(
                    f"| {fmt} | {out / 1e6:.1f} | {seconds:.1f} | {size / seconds:,.0f} | "
                    f"{growth / 1e6:.1f} |",
                    flush=True,
                )


def serve(url: str, folder: str, token: str, fmt: str) -> None:
    """The server's side, in a process of its own: one export, its figures as JSON."""
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    org = open_org(load_settings(url, instance_path=Path(folder) / "instance"))
    client = create_app(org.settings, org=org).test_client()
    warm = client.get(
        "/api/v1/reports/deal_list/export?format=" + fmt + "&filter=amount < 0",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert warm.status_code == 200, warm.get_data(as_text=True)
    print(json.dumps(export_once(client, token, fmt)))
    org.dispose()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(*argv[1:5])
        return
    options = parse_args(argv)
    print(
        f"# export_bench — Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        run_database(kind, options)


if __name__ == "__main__":
    main()
