"""``crm import``: a CSV or XLSX file into an object (see ``crm_platform.imports``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from .core import CrmError, batch_collection


@click.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--object", "object_name", help="The object the rows become records of.")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A mapping file (YAML); without it one is inferred and written beside FILE.",
)
@click.option("--dry-run", is_flag=True, help="Validate every row and count; change nothing.")
@click.option(
    "--upsert-on",
    help="id (an export's records), or a unique or external-id field: rows it finds update.",
)
@click.option(
    "--all-or-none/--partial",
    default=False,
    help="Roll everything back when a row fails, or keep the good rows (the default).",
)
@click.option("--resume", "job_id", help="Go on with an interrupted import job.")
@click.option("--encoding", help="The CSV file's encoding (default: detected).")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--as", "email", help="Import as this user (default: the first admin; a resumed job: its own)."
)
def import_command(
    file: Path | None,
    object_name: str | None,
    mapping_path: Path | None,
    dry_run: bool,
    upsert_on: str | None,
    all_or_none: bool,
    job_id: str | None,
    encoding: str | None,
    batch_size: int,
    email: str | None,
) -> None:
    """Import the rows of FILE (CSV or XLSX) as records of --object.

    Rows go through the record service in batches: defaults, validation rules,
    auto-numbers, duplicate rules, triggers and permissions all apply. Rows that fail
    are written with the reason to FILE's name + .errors.csv.
    """
    from .cli import _fail, _org, _require_org

    org = _org()
    _require_org(org)
    try:
        if job_id:
            state = _resume(org, job_id)
        else:
            if file is None or object_name is None:
                raise click.UsageError("give FILE and --object (or --resume JOB)")
            state = _import(
                org,
                file,
                object_name,
                mapping_path,
                dry_run=dry_run,
                upsert_on=upsert_on,
                all_or_none=all_or_none,
                encoding=encoding,
                batch_size=batch_size,
                email=email,
            )
    except CrmError as error:
        _fail(error)
    _report(state, dry_run)


def _import(org, file: Path, object_name: str, mapping_path, *, dry_run, email, **options):
    from .imports import (
        Importer,
        ImportOptions,
        Source,
        dump_mapping,
        infer,
        load_mapping,
    )

    source = Source(file, encoding=options["encoding"])
    if source.kind == "csv":
        how = "given" if options["encoding"] else "detected: --encoding to change it"
        click.echo(
            f"Reading {file.name} as {source.encoding} ({how}), {source.delimiter!r}-separated"
        )
    if mapping_path is not None:
        mapping = load_mapping(mapping_path)
        if mapping.object and mapping.object != object_name:
            raise click.UsageError(f"the mapping is for {mapping.object}, not {object_name}")
    else:
        inferred = infer(org, source, object_name)
        mapping = inferred.mapping
        written = file.with_name(f"{file.stem}.mapping.yaml")
        text = dump_mapping(mapping, inferred.notes)
        if written.exists() and written.read_text(encoding="utf-8") != text:
            # an edited mapping left beside the file: used by --mapping, never overwritten
            raise click.UsageError(
                f"{written.name} exists and differs from the mapping the headers suggest: "
                f"pass it with --mapping {written} to use it, or delete it to infer again"
            )
        written.write_text(text, encoding="utf-8")
        if not inferred.complete:
            click.secho(
                f"error: {len(inferred.unplaced)} column(s) not placed:", fg="red", err=True
            )
            for header, why in inferred.unplaced.items():
                click.echo(f"  {header}: {why}", err=True)
            if source.kind == "csv" and not (source.encoding or "").startswith("utf"):
                # guessed from the bytes (UTF-8 decodes strictly or not at all): a wrong
                # guess shows as headers no field matches
                click.echo(
                    f"(the file was read as {source.encoding}: headers that look garbled "
                    "need --encoding)",
                    err=True,
                )
            click.echo(f"Edit {written} and run again with --mapping {written}", err=True)
            sys.exit(1)
        click.echo(f"Mapping inferred from the headers: {written} (edit it, pass --mapping)")
    mapping = type(mapping)(object_name, mapping.columns)
    user = _user(org, email)
    importer_options = ImportOptions(**options)
    with _Bar() as progress:
        importer = Importer(org, user, source, mapping, importer_options, progress=progress)
        if dry_run:
            return importer.dry_run()
        job = importer.start()
        click.echo(f"Import job {job.id} (resume with --resume {job.id})")
        with batch_collection():  # this process is the job's
            return importer.run(job)


def _resume(org, job_id: str):
    from .imports import get_job, sheet_row
    from .imports.background import importer_for

    with org.db.read() as conn:
        job = get_job(conn, job_id)
    if job.status == "done":
        raise click.UsageError(f"import job {job_id} is done already")
    if job.status == "running":
        click.echo(
            f"Import job {job_id} was left running: its process stopped, or it still runs "
            "and stops at its next batch, this one going on from there"
        )
    if job.options.all_or_none:  # nothing of it landed: it runs again from the start
        click.echo(f"Running import job {job_id} again from its first row (all or none)")
    else:
        click.echo(f"Resuming import job {job_id} after row {sheet_row(job.position)}")
    with _Bar() as progress, batch_collection():
        return importer_for(org, job, progress=progress).run(job)


def _user(org, email: str | None) -> Any:
    """The user the import runs as: --as, or the first active administrator."""
    from .core.tables import users
    from .runtime import find_user, get_user

    with org.db.read() as conn:
        if email is not None:
            user = find_user(conn, email)
            if user is None or not user.active:
                raise click.UsageError(f"no active user {email}")
            return user
        query = (
            sa.select(users.c.id)
            .where(users.c.active.is_(True), users.c.is_system.is_(False))
            .order_by(users.c.created_at, users.c.id)
        )
        for (user_id,) in conn.execute(query):
            user = get_user(conn, user_id)
            model = org.models.model_for(conn)
            from .runtime.security import load_access

            if load_access(conn, user, model, model.security).has("modify_all_data"):
                return user
    raise click.UsageError("no active administrator: give --as EMAIL")


def _report(state, dry_run: bool) -> None:
    verb = "would be " if dry_run else ""
    # every row read that is not blank was created, updated, left unchanged or rejected
    # (an all-or-none import that failed wrote nothing: its counts are not the rows')
    handled = state.created + state.updated + state.unchanged + state.rejected
    blank = state.rows_read - handled
    skipped = f" ({blank} blank skipped)" if blank > 0 and state.status != "failed" else ""
    # rows matching a record that already held their values: said only when there are any
    unchanged = f"{state.unchanged} {verb}unchanged, " if state.unchanged else ""
    click.echo(
        f"{state.rows_read} rows read{skipped}: {state.created} {verb}created, "
        f"{state.updated} {verb}updated, {unchanged}{state.rejected} rejected."
    )
    if state.message:
        click.echo(state.message)
    if state.warned:
        click.echo(
            f"{state.warned} row(s) may duplicate other records (a duplicate rule that warns "
            f"let them in): `crm duplicates {state.object}` lists the clusters."
        )
    if state.error_file is not None:
        click.echo(f"Rejected rows and why: {state.error_file}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
    if state.status in ("failed", "cancelled"):
        sys.exit(1)


class _Bar:
    """A rich progress bar (rows/s, ETA) on a terminal; nothing otherwise."""

    def __enter__(self):
        if not sys.stdout.isatty():
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeRemainingColumn(),
        )
        self.bar.start()
        self.task = self.bar.add_task("importing", total=None, rate="-")
        return self.update

    def update(self, state) -> None:
        task = self.bar.tasks[0]
        speed = task.speed or 0
        self.bar.update(
            self.task,
            completed=state.rows_read,
            total=state.total,
            description=(
                f"importing ({state.created} new, {state.updated} updated, "
                + (f"{state.unchanged} unchanged, " if state.unchanged else "")
                + f"{state.rejected} rejected)"
            ),
            rate=f"{speed:,.0f}",
        )

    def __exit__(self, *exc) -> None:
        if hasattr(self, "bar"):
            self.bar.stop()
