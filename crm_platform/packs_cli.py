"""``crm pack``: validate, plan, install and list packs (see ``crm_platform.packs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .core import CrmError


@click.group("pack")
def pack() -> None:
    """Packs of metadata and records: validate, plan, install, list."""


def _failed(error: CrmError) -> None:
    from .cli import _fail

    problems = getattr(error, "problems", None)
    if problems and not getattr(error, "errors", None):
        click.secho(
            f"error: {error.detail.split('; ')[0] if len(problems) == 1 else 'refused'}",
            fg="red",
            err=True,
        )
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    _fail(error)


@pack.command("validate")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def pack_validate(path: Path) -> None:
    """Check the pack folder PATH; name every problem with its file (and line)."""
    from .cli import _org
    from .packs import validate_folder

    found, problems = validate_folder(path, _org().registry)
    if problems:
        click.secho(f"{path}: {len(problems)} problem(s)", fg="red", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    assert found is not None
    click.echo(
        f"{found.name} {found.version}: valid ({len(found.definitions)} definitions, "
        f"{len(found.records)} records)"
    )


@pack.command("plan")
@click.argument("target")
@click.option("--with-sample-data", is_flag=True, help="Count the sample/ records too.")
def pack_plan(target: str, with_sample_data: bool) -> None:
    """What installing the pack TARGET (a name or a folder) would do; changes nothing."""
    from .cli import _org, _require_org
    from .packs import plan
    from .packs.install import prepare

    org = _org()
    _require_org(org)
    try:
        pack, _packs, installed = prepare(org, target)
        if installed.get(pack.name, pack.version) != pack.version:
            click.echo(f"{pack.name} {installed[pack.name]} is installed: this is an upgrade.")
            ctx = click.get_current_context()
            from_path = Path(target) if Path(target).is_dir() else None
            ctx.invoke(pack_upgrade, name=pack.name, from_path=from_path, plan_only=True)
            return
        found = plan(org, target, with_sample=with_sample_data)
    except CrmError as error:
        _failed(error)
    if found.already:
        click.echo(f"{', '.join(found.already)}: installed at this version; nothing to do.")
        return
    for name, version in found.packs:
        click.echo(f"install {name} {version}")
    for item in found.items:
        click.echo(f"  {item.action:7} {item.kind} {item.name}")
        for line in item.diff.splitlines():
            click.echo(f"            {line}")
    for name, count in found.records.items():
        if count:
            click.echo(f"  records {name}: {count}")
    for collision in found.collisions:
        click.secho(f"  collision: {collision}", fg="yellow")
    for problem in found.problems:
        click.secho(f"  problem: {problem}", fg="red")
    click.echo(
        f"{found.count('create')} to create, {found.count('change')} to change, "
        f"{found.count('leave')} to leave."
    )


@pack.command("install")
@click.argument("target")
@click.option("--with-sample-data", is_flag=True, help="Load the sample/ records too.")
def pack_install(target: str, with_sample_data: bool) -> None:
    """Install the pack TARGET (a name or a folder) and the dependencies it lacks."""
    from .cli import _org, _require_org
    from .packs import install

    org = _org()
    _require_org(org)
    try:
        with _progress() as progress:
            result = install(org, target, with_sample=with_sample_data, progress=progress)
    except CrmError as error:
        _failed(error)
    names = ", ".join(f"{n} {v}" for n, v in result.packs)
    if result.already:
        click.echo(f"{names} is installed already: nothing changed.")
        return
    click.echo(
        f"Installed {names}: {result.components} components, {result.records} records; "
        f"metadata version {result.version}."
    )


class _progress:
    """A rich progress bar on a terminal; nothing otherwise (scripts, tests)."""

    def __enter__(self):
        if not sys.stdout.isatty():
            return None
        from rich.progress import Progress

        self.bar = Progress()
        self.bar.start()
        self.task = self.bar.add_task("installing", total=None)
        return self.update

    def update(self, what: str, done: int, total: int) -> None:
        self.bar.update(self.task, description=f"installing {what}", completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if hasattr(self, "bar"):
            self.bar.stop()


def _choices(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        component, sep, choice = value.rpartition("=")
        if not sep or choice not in ("pack", "local") or ":" not in component:
            raise click.BadParameter("KIND:NAME=pack|local", param_hint="--choose")
        out[component] = choice
    return out


@pack.command("upgrade")
@click.argument("name")
@click.option("--from-path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--prefer",
    type=click.Choice(["pack", "local"]),
    help="How to settle every conflict: the pack's version or the org's.",
)
@click.option(
    "--choose",
    multiple=True,
    metavar="KIND:NAME=pack|local",
    help="Settle the conflicts of one component (repeat).",
)
@click.option("--plan", "plan_only", is_flag=True, help="Show what it would do; change nothing.")
def pack_upgrade(
    name: str, from_path: Path | None, prefer: str | None, choose: tuple[str, ...], plan_only: bool
) -> None:
    """Upgrade the installed pack NAME, merging the org's own changes."""
    from .cli import _org, _require_org
    from .packs import plan_upgrade, upgrade

    org = _org()
    _require_org(org)
    choices = _choices(choose)
    try:
        planned = plan_upgrade(org, name, from_path=from_path, prefer=prefer, choices=choices)
        click.echo(f"upgrade {name} {planned.from_version} -> {planned.to_version}")
        for dep_name, dep_version in planned.dependencies:
            click.echo(f"  install   {dep_name} {dep_version} (a new dependency)")
        for item in planned.items:
            if item.action != "leave":
                click.echo(f"  {item.action:9} {item.kind} {item.name}")
                for line in item.diff.splitlines():
                    click.echo(f"              {line}")
        for conflict in planned.conflicts:
            click.secho(f"  conflict: {conflict}", fg="yellow")
        for problem in planned.problems:
            click.secho(f"  problem: {problem}", fg="red")
        if plan_only:
            return
        result = upgrade(org, name, from_path=from_path, prefer=prefer, choices=choices)
    except CrmError as error:
        _failed(error)
    click.echo(
        f"Upgraded {name} {result.from_version} -> {result.to_version}: "
        f"{result.components} changes, {result.records} new data records; "
        f"metadata version {result.version}."
    )
    if result.dependencies:
        installed = ", ".join(f"{n} {v}" for n, v in result.dependencies)
        click.echo(f"Installed its new dependencies: {installed}.")


@pack.command("uninstall")
@click.argument("name")
@click.option(
    "--delete-data",
    is_flag=True,
    help="Delete the records of its objects too (a backup file is written first).",
)
def pack_uninstall(name: str, delete_data: bool) -> None:
    """Remove the installed pack NAME and its components."""
    from .cli import _org, _require_org
    from .packs import uninstall

    org = _org()
    _require_org(org)
    try:
        result = uninstall(org, name, delete_data=delete_data)
    except CrmError as error:
        _failed(error)
    if result.backup is not None:
        click.echo(f"Backup of {result.records_deleted} records: {result.backup}")
    click.echo(f"Uninstalled {name} {result.version}: {result.components} components removed.")


@pack.command("export")
@click.option("--name", required=True, help="The new pack's name.")
@click.option(
    "--include",
    multiple=True,
    metavar="KIND:NAME[,...]",
    help="Components to export (object:project brings its fields and rules).",
)
@click.option(
    "--changed-since-install",
    "since",
    metavar="PACK",
    help="Export what the org changed or added to PACK's components since installing it, "
    "with what they need, as a pack that installs alone into a fresh org.",
)
@click.option("--version", "version", default="1.0.0", show_default=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def pack_export(
    name: str, include: tuple[str, ...], since: str | None, version: str, output: Path
) -> None:
    """Write the org's configuration as a new pack folder OUTPUT/NAME."""
    from .cli import _org, _require_org
    from .packs import export_changed, export_included, parse_include

    org = _org()
    _require_org(org)
    try:
        items = parse_include(include)
        if since:
            folder = export_changed(
                org, output, name=name, pack=since, include=items, version=version
            )
            what = f"what changed in {since} since it was installed"
        else:
            folder = export_included(org, output, name=name, include=items, version=version)
            what = f"{len(items)} component(s)"
    except CrmError as error:
        _failed(error)
    click.echo(f"Exported {what} to {folder}")


@pack.command("list")
def pack_list() -> None:
    """The packs shipped with this installation, and those installed here (versions)."""
    from .cli import _org
    from .packs import read_installed, shipped_packs

    org = _org()
    installed = {}
    if org.exists():
        with org.db.read() as conn:
            installed = read_installed(conn)
    click.echo("shipped:")
    for pack in shipped_packs():
        click.echo(f"  {pack.name} {pack.version}: {pack.description}")
    click.echo("installed:" if installed else "installed: none")
    for name, found in installed.items():
        click.echo(f"  {name} {found.version}")
