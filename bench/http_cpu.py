"""http_bench's workload in one process: CPU per request of crm-platform and of the raw endpoint.

The same org, user, object and requests as ``http_bench.py``, but each app runs in
this process behind its Flask test client (routing, authentication, the service,
JSON in and out; no server, no network), and what is measured is this process's
CPU time per request (``time.process_time``), crm-platform and the raw endpoint in
alternating halves of each step. On a machine other work is loading, CPU time holds
far better than requests per second. On SQLite it includes the database's own work;
PostgreSQL's server time is not in it. Nothing is asserted (DESIGN §11).

    python bench/http_cpu.py                       # both databases
    python bench/http_cpu.py --database sqlite --scale 0.5
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from http_bench import DEFAULT_POSTGRES_URL, Client, arrange, progress, test_client_sender
from support import scratch_database, server_version

# (step, requests): fewer than http_bench's, as each is a measurement, not a load
STEPS = (("batch", 40), ("create", 300), ("list", 150), ("sum", 60), ("get", 600))
WARMUP = 3  # requests of each step before measuring


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="times the requests per step")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    return parser.parse_args(argv)


def measure(crm: Client, raw: Client, step: str, count: int) -> dict[str, float]:
    """CPU ms per request of each client, in alternating halves (load falls on both)."""
    for client in (crm, raw):
        for _ in range(WARMUP):
            getattr(client, step)()
    spent: dict[str, list[float]] = {"crm": [], "raw": []}
    half = max(1, count // 2)
    for client in (crm, raw, crm, raw):
        action = getattr(client, step)
        started = time.process_time()
        for _ in range(half):
            action()
        spent[client.kind].append((time.process_time() - started) / half * 1000)
    return {kind: sum(values) / len(values) for kind, values in spent.items()}


def run(kind: str, postgres_url: str, scale: float) -> None:
    import raw_endpoint

    from crm_platform.app import create_app

    with scratch_database(kind, postgres_url) as (url, folder):
        setup = arrange(url, folder)
        app = create_app(setup.org.settings, org=setup.org)
        raw_app: Any = raw_endpoint.create_app(url, setup.raw_config)
        crm = Client("crm", test_client_sender(app, setup.token), 1)
        raw = Client("raw", test_client_sender(raw_app, None), 1)
        print(f"\n#### {server_version(setup.org)}\n")
        print("| step | requests | crm CPU ms/req | raw CPU ms/req | raw / crm |")
        print("|:-----|---------:|---------------:|---------------:|----------:|")
        for step, count in STEPS:
            count = max(2, round(count * scale))
            found = measure(crm, raw, step, count)
            progress(f"{kind}: {step}: crm {found['crm']:.3f} ms, raw {found['raw']:.3f} ms")
            print(
                f"| {step} | {count:,} | {found['crm']:.3f} | {found['raw']:.3f} "
                f"| {found['raw'] / found['crm']:.2f}× |"
            )
        raw_app.extensions["raw_deals"].engine.dispose()
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"\n(load average (1, 5, 15 min) after: {load})")


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    print("### http_cpu")
    for kind in [d.strip() for d in options.database.split(",") if d.strip()]:
        run(kind, options.postgres_url, options.scale)


if __name__ == "__main__":
    main()
