"""The `crm` command: a click group of our own (our options, our version). A command opens
the org it works on (:func:`_org`); the few that render or translate as a request does
also build the web app around it (:func:`_app`)."""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .assembly import open_org
from .core import CrmError, ValidationFailed, load_settings
from .core.migrate import upgrade_platform
from .core.tables import SYSTEM_USER_ID
from .metadata import CandidateModel, read_snapshot
from .metadata.validate import validate_candidate
from .runtime import Org, create_token, find_user, initialise_org, list_tokens, revoke_token
from .runtime.directory import create_user_record, grant_administration, list_users
from .runtime.org import ensure_admin_permission_set
from .runtime.security import ADMIN_PERMISSION_SET
from .yamlio import KIND_FOLDERS, read_definitions, write_definitions

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_ADMIN_EMAIL = "admin@example.com"
ORG_KEY = "crm_org"  # the root context's meta: the command's org, and its app
APP_KEY = "crm_app"


def _org() -> Org:
    """The org, opened at a command's first need (so `--help` opens none) and closed when
    the command ends. No web app is built for it: the app's modules and blueprints (pages,
    API, admin UI) cost every command a third of a second before it did anything (ADR
    0056)."""
    root = click.get_current_context().find_root()
    org = root.meta.get(ORG_KEY)
    if org is None:
        org = root.meta[ORG_KEY] = open_org(load_settings())
        root.call_on_close(org.dispose)
    return org


def _app() -> Flask:
    """The web app around the command's org, its context entered until the command ends:
    for the commands that render or translate as a request does."""
    from .app import create_app

    root = click.get_current_context().find_root()
    app = root.meta.get(APP_KEY)
    if app is None:
        app = root.meta[APP_KEY] = create_app(org=_org())
        root.with_resource(app.app_context())
    return app


def _fail(error: CrmError) -> None:
    click.secho(f"error: {error.detail}", fg="red", err=True)
    lines = [
        f"{path}: {message}"
        for path, messages in getattr(error, "errors", {}).items()
        for message in messages
    ]
    if lines != [error.detail]:  # one problem is said once (the detail names it)
        for line in lines:
            click.echo(f"  {line}", err=True)
    sys.exit(1)


def _require_org(org: Org) -> None:
    """Stop unless the org exists and its platform tables are this version's: a newer
    crm-platform on older tables would fail half-way with SQL errors."""
    if not org.exists():
        click.secho("no org here yet: run `crm init` first", fg="red", err=True)
        sys.exit(1)
    if org.needs_upgrade():
        click.secho("the platform tables are behind: run `crm upgrade`", fg="red", err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crm-platform", prog_name="crm")
def main() -> None:
    """crm-platform: a low-code CRM platform.

    The org's database is CRM_DATABASE_URL (default: sqlite:///crm.db in this folder);
    see the README's Configuration section for the other variables.
    """


@main.command()
@click.option("--admin-email", default=DEFAULT_ADMIN_EMAIL, show_default=True)
@click.option("--admin-password", help="Generated and printed when not given.")
@click.option("--org-name", default="My Company", show_default=True)
@click.option("--time-zone", default="UTC", show_default=True)
@click.option("--currency", default="USD", show_default=True)
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="The org's default language (en, zh, pt_BR…): labels fall back to it.",
)
@click.option(
    "--fiscal-year-start-month",
    type=click.IntRange(1, 12),
    default=1,
    show_default=True,
    help="The first month of the fiscal year (4: April 2026 to March 2027 is FY2027).",
)
def init(
    admin_email: str,
    admin_password: str | None,
    org_name: str,
    time_zone: str,
    currency: str,
    language: str,
    fiscal_year_start_month: int,
):
    """Create the database, the platform tables and the first admin (safe to run twice)."""
    if not LANGUAGE_TAG.fullmatch(language):
        raise click.BadParameter("a language code such as en, zh or pt_BR", param_hint="--language")
    _initialise(
        _org(),
        admin_email,
        admin_password,
        org_name,
        time_zone,
        currency,
        language,
        fiscal_year_start_month,
    )


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}([_-][A-Za-z]{2,4})?")


def _initialise(
    org: Org,
    admin_email: str,
    admin_password: str | None,
    org_name: str = "My Company",
    time_zone: str = "UTC",
    currency: str = "USD",
    language: str = "en",
    fiscal_year_start_month: int = 1,
) -> bool:
    password = admin_password or secrets.token_urlsafe(12)
    try:
        admin = initialise_org(
            org,
            admin_email=admin_email,
            admin_password=password,
            name=org_name,
            time_zone=time_zone,
            currency=currency,
            locale=language,
            fiscal_year_start_month=fiscal_year_start_month,
        )
    except CrmError as error:
        _fail(error)
    if admin is None:
        click.echo(f"The org already exists at {org.db.engine.url!r}; nothing changed.")
        return False
    click.echo(f"Created the org at {org.db.engine.url!r}.")
    click.echo(f"Admin login: {admin.email}")
    if admin_password is None:
        click.echo(f"Admin password: {password}")
    return True


@main.command()
def upgrade() -> None:
    """Migrate the platform tables to this version of crm-platform."""
    org = _org()
    upgrade_platform(org.db)
    click.echo("Platform tables are up to date.")
    if org.exists():
        from .runtime.records.handlers import seal_plaintext_history

        with org.db.write() as conn:
            sealed = seal_plaintext_history(conn, org.models.model_for(conn), org.records.cipher)
        if sealed:
            click.echo(f"Encrypted the history of encrypted fields in {sealed} rows.")
        from .dedupe.indexes import index_org_rules

        if made := index_org_rules(org):
            click.echo(f"Indexed the keys of duplicate rules ({made} indexes made).")
        _keep_key_statistics(org)
        if batches := org.work.run_search_backfills():
            click.echo(f"Rebuilt the search index ({batches} batches).")


def _keep_key_statistics(org: Any) -> None:
    """Statistics of case-insensitive unique keys made before they were kept (ADR 0049)."""
    from .metadata import CandidateModel, keep_key_statistics

    with org.db.write(ddl=True) as conn:
        model = CandidateModel(org.metadata.snapshots.read(conn))
        if kept := keep_key_statistics(conn, model):
            click.echo(f"Made planner statistics for {kept} case-insensitive unique fields.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app (gunicorn). Initialises an org first if there is none."""
    org = _org()
    if not org.exists():
        if _initialise(org, DEFAULT_ADMIN_EMAIL, None):
            with org.db.write() as conn:
                user = find_user(conn, DEFAULT_ADMIN_EMAIL)
                assert user is not None
                token = create_token(conn, user.id, "created by crm serve")
            click.echo(f"API token for the admin: {token}")
    elif org.needs_upgrade():
        click.secho("the platform tables are behind: run `crm upgrade`", fg="red", err=True)
        sys.exit(1)
    org.dispose()  # each worker opens its own engine after fork
    click.echo(f"Serving on http://{host}:{port}/ (API under /api/v1)")
    _run_gunicorn(host, port, workers, threads)


def _run_gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads}
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("accesslog", "-")

        def load(self) -> Flask:
            from .app import create_serving_app

            return create_serving_app()  # in each worker, after the fork

    _Server().run()


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="The user's email.")
@click.option("--name", default="API token", show_default=True)
def token_create(email: str, name: str) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    org = _org()
    _require_org(org)
    with org.db.write() as conn:
        user = find_user(conn, email)
        if user is None or user.is_system:
            click.secho(f"no user '{email}'", fg="red", err=True)
            sys.exit(1)
        click.echo(create_token(conn, user.id, name))


@token.command("list")
@click.option("--user", "email", required=True, help="The user's email.")
def token_list(email: str) -> None:
    """List a user's API tokens (id, name, created, revoked); secrets are never shown."""
    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        user = find_user(conn, email)
        if user is None or user.is_system:
            click.secho(f"no user '{email}'", fg="red", err=True)
            sys.exit(1)
        tokens = list_tokens(conn, user.id)
    for info in tokens:
        revoked = f"revoked {info.revoked_at.isoformat()}" if info.revoked_at else "active"
        click.echo(f"{info.id}  {info.created_at.isoformat()}  {revoked}  {info.name}")


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after `crm_` in the token, or from `token list`)."""
    org = _org()
    _require_org(org)
    try:
        with org.db.write() as conn:
            revoke_token(conn, token_id)
    except CrmError as error:
        _fail(error)
    click.echo(f"Revoked token {token_id}.")


@main.group()
def user() -> None:
    """Users."""


@user.command("list")
def user_list() -> None:
    """List the users: email, active or not, profile, extra permission sets, role."""
    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        people = list_users(conn)
    for person in people:
        state = "active" if person["active"] else "inactive"
        sets = ",".join(person["permission_sets"]) or "-"
        click.echo(
            f"{person['email']}  {state}  profile={person['profile'] or '-'}  "
            f"sets={sets}  role={person['role'] or '-'}"
        )


@user.command("grant-admin")
@click.option("--email", required=True, help="The user to make an administrator.")
def user_grant_admin(email: str) -> None:
    """Recovery with database access: give a user the system_administrator permission set
    (restoring its permissions if someone stripped them) and reactivate them."""
    org = _org()
    _require_org(org)
    try:
        ensure_admin_permission_set(org, repair=True)
        with org.db.write() as conn:
            granted = grant_administration(conn, org.models.model_for(conn), email)
    except CrmError as error:
        _fail(error)
    click.echo(
        f"{granted['email']} is active and holds {ADMIN_PERMISSION_SET}; "
        f"`crm token create --user {granted['email']}` gives them a token."
    )


@user.command("create")
@click.option("--email", required=True)
@click.option("--name")
@click.option("--password", help="Leave out for an API-only user.")
@click.option("--admin", is_flag=True, help="Give the system_administrator profile.")
@click.option("--profile", help="The base permission set.")
@click.option("--permission-set", "permission_sets", multiple=True, help="An extra set (repeat).")
@click.option("--role", help="The user's role in the hierarchy.")
@click.option("--manager", "manager_email", help="The manager's email.")
def user_create(
    email: str,
    name: str | None,
    password: str | None,
    admin: bool,
    profile: str | None,
    permission_sets: tuple[str, ...],
    role: str | None,
    manager_email: str | None,
) -> None:
    """Add a user with their profile, extra permission sets, role and manager."""
    org = _org()
    _require_org(org)
    data: dict[str, Any] = {"email": email}
    for key, value in (("name", name), ("password", password), ("role", role)):
        if value is not None:
            data[key] = value
    if admin or profile:
        data["profile"] = ADMIN_PERMISSION_SET if admin else profile
    if permission_sets:
        data["permission_sets"] = list(permission_sets)
    try:
        with org.db.write() as conn:
            if manager_email:
                manager = find_user(conn, manager_email)
                if manager is None:
                    raise ValidationFailed({"manager": f"no user '{manager_email}'"})
                data["manager_id"] = manager.id
            created = create_user_record(conn, org.models.model_for(conn), data)
    except CrmError as error:
        _fail(error)
    click.echo(f"Created user {created['email']} ({created['id']}).")


@main.group()
def metadata() -> None:
    """Metadata as YAML: apply, dump, check."""


@metadata.command("apply")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def metadata_apply(path: Path) -> None:
    """Validate every definition under PATH, then apply them all (or nothing)."""
    org = _org()
    _require_org(org)
    try:
        definitions: list[tuple[str, dict[str, Any]]] = []
        for kind, definition, source in read_definitions(path):
            if kind not in org.registry.kinds or kind == "field":
                raise CrmError(f"{source}: unknown metadata kind '{kind}'")
            definitions.append((kind, definition))
        result = org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    except CrmError as error:
        _fail(error)
    if result.changed:
        click.echo(f"Applied {len(result.changes)} changes; metadata version {result.version}.")
    else:
        click.echo("Nothing to change: the org already matches.")


@metadata.command("dump")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def metadata_dump(out: Path) -> None:
    """Write the org's metadata as YAML files under OUT (loadable by `apply`)."""
    org = _org()
    _require_org(org)
    by_folder = {
        folder: org.metadata.list_components(kind)
        for folder, kind in KIND_FOLDERS.items()
        if kind != "object"
    }
    by_folder["objects"] = org.metadata.list_objects()
    for file in write_definitions(by_folder, out):
        click.echo(str(file))


@metadata.command("check")
def metadata_check() -> None:
    """Re-validate all stored metadata with today's rules (e.g. formulas stored earlier)."""
    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        model = CandidateModel(read_snapshot(conn))
    try:
        validate_candidate(model, org.registry)
    except CrmError as error:
        _fail(error)
    click.echo("All metadata is valid.")


@main.group("search")
def search_group() -> None:
    """The search index."""


@search_group.command("reindex")
@click.argument("objects", nargs=-1)
def search_reindex(objects: tuple[str, ...]) -> None:
    """Rebuild the search entries of OBJECTS (all searchable objects when none are named)."""
    from .runtime.records.search import reindex_object, searchable

    org = _org()
    _require_org(org)
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        names = objects or tuple(n for n, o in model.objects.items() if searchable(o))
        for name in names:
            obj = model.object(name)
            if obj is None:
                click.secho(f"no object '{name}'", fg="red", err=True)
                sys.exit(1)
            click.echo(f"{name}: {reindex_object(conn, model, obj)} records indexed")


def _add_groups() -> None:
    """Command groups that live in modules of their own."""
    from .backup_cli import backup, restore
    from .dedupe_cli import data_quality, duplicates, merge
    from .demo_cli import demo
    from .exports_cli import export
    from .imports_cli import import_command
    from .mail_cli import mail
    from .mailin_cli import mail_in
    from .packs_cli import pack
    from .portal_cli import portal
    from .predictions_cli import predictions
    from .reports_cli import report
    from .web_forms_cli import web_forms

    main.add_command(backup)
    main.add_command(demo)
    main.add_command(restore)
    main.add_command(export)
    main.add_command(import_command)
    main.add_command(data_quality)
    main.add_command(duplicates)
    main.add_command(merge)
    main.add_command(mail)
    main.add_command(mail_in)
    main.add_command(pack)
    main.add_command(portal)
    main.add_command(predictions)
    main.add_command(report)
    main.add_command(web_forms)


_add_groups()


def _add_automation_commands() -> None:
    from .cli_automation import automation, worker

    main.add_command(worker)
    main.add_command(automation)


_add_automation_commands()
