"""``crm demo``: a working CRM in one command — a SQLite org in this folder with the
shipped packs, their sample records and demo users, then served."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from .core import CrmError


@click.command("demo")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--packs",
    "packs",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="The packs to install (default: every shipped pack; dependencies come along).",
)
@click.option("--no-serve", is_flag=True, help="Build the demo org, then stop.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where the demo org's files go (default: this folder).",
)
def demo(port: int, host: str, packs: tuple[str, ...], no_serve: bool, folder: Path) -> None:
    """Create a demo org here (SQLite), install the shipped packs with sample data and
    demo users, print the logins, and serve it."""
    from .cli import _fail, _run_gunicorn
    from .demo import (
        ADMIN_EMAIL,
        DATABASE,
        PASSWORD,
        build_demo,
        demo_url,
        initialise_demo,
        open_demo_org,
    )

    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for chunk in packs for n in chunk.split(",") if n.strip()] or None
    existed = (folder / DATABASE).exists()
    org = open_demo_org(folder)
    try:
        if existed:
            click.echo(f"A demo org exists in {folder.resolve()}: serving it as it is.")
            result = None
        else:
            initialise_demo(org)
            result = build_demo(org, names, report=lambda text: click.echo(f"  {text}"))
    except CrmError as error:
        _fail(error)
    finally:
        org.dispose()
    elapsed = time.monotonic() - started
    since_start = _process_age()
    url = f"http://{host}:{port}/"
    if result is not None:
        installed = ", ".join(f"{n} {v}" for n, v in result.packs)
        took = f"{elapsed:.1f} s" + (
            f" ({since_start:.1f} s since `crm` started)" if since_start else ""
        )
        click.echo(f"Demo org ready in {took}: {installed}; {result.records} records.")
    click.echo(f"URL: {url}")
    click.echo(f"Logins (password {PASSWORD} for all):")
    from .demo import DEMO_USERS

    click.echo(f"  {ADMIN_EMAIL:24} administrator")
    for user in DEMO_USERS:
        click.echo(f"  {user.email:24} {user.what}")
    if no_serve:
        return
    os.environ["CRM_DATABASE_URL"] = demo_url(folder)
    os.environ["CRM_INSTANCE_PATH"] = str((folder / "instance").resolve())
    click.echo(f"Serving on {url} (Ctrl+C stops)")
    sys.stdout.flush()
    _run_gunicorn(host, port, 1, 4)


def _process_age() -> float | None:
    """Seconds since this process started (Linux's /proc), imports included; None elsewhere."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(stat[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
