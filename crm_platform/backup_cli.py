"""``crm backup FILE`` and ``crm restore FILE``: the whole org in one file, and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _files_root(org) -> Path | None:
    """The folder of the org's files (None when they live elsewhere, e.g. a bucket)."""
    from .ui import LocalFileStorage, files_of

    storage = files_of(org)
    return storage.root if isinstance(storage, LocalFileStorage) else None


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path) -> None:
    """Write the whole org to FILE (a zip): metadata with its history, every record,
    users and their assignments, sharing, automation and pack state, and files."""
    from .backup import backup_org
    from .backup.archive import BackupRefused
    from .cli import _org, _require_org

    org = _org()
    _require_org(org)
    try:
        done = backup_org(org, path, _files_root(org))
    except BackupRefused as refused:
        click.secho(f"error: {refused}", fg="red", err=True)
        sys.exit(1)
    click.echo(
        f"wrote {done.path}: {done.tables} platform tables, {done.objects} objects, "
        f"{done.rows} rows, {done.files} files"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(path: Path) -> None:
    """Restore the org in FILE (made by `crm backup`) into an EMPTY database
    (CRM_DATABASE_URL), on SQLite or PostgreSQL whichever the backup came from."""
    from .backup import RestoreRefused, restore_org
    from .cli import _org
    from .dedupe.indexes import index_org_rules

    org = _org()
    try:
        done = restore_org(org, path, _files_root(org))
    except RestoreRefused as refused:
        click.secho(f"error: {refused}", fg="red", err=True)
        sys.exit(1)
    index_org_rules(org)  # the duplicate rules' key indexes: not in a backup
    click.echo(
        f"restored {done.rows} rows of {done.tables} platform tables and {done.objects} "
        f"objects, {done.files} files; {done.indexed} records indexed for search"
    )
