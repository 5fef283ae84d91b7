"""Installing packs: the pack and the dependencies it lacks (in order), the metadata of
all of them as one change set, then their records through the record service — all in
one transaction, so a pack that fails anywhere leaves nothing behind.

The records are written on the change set's own connection with a model compiled from
the uncommitted version. That model and its codecs must never reach the org's caches
(a rolled-back version number is used again by the next change), so the records go
through a record service of their own sharing the org's record events, and the model
is compiled without the model cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import CandidateModel, read_snapshot
from crm_platform.runtime import Org, system_user
from crm_platform.runtime.model import read_org_settings
from crm_platform.runtime.records import RecordService, RecordSession

from .catalog import Catalog, resolve
from .components import PackComponent, locate_paths, put_pack
from .loader import Pack
from .plan import Plan, plan_install, refuse_collisions
from .problems import PackInvalid
from .records import load_records, records_owner
from .state import read_installed, record_install
from .validate import definition_problems

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class InstallResult:
    """What an install did: the packs installed (name, version), metadata version,
    components changed and records created; ``already`` when nothing needed doing."""

    packs: tuple[tuple[str, str], ...]
    version: int
    components: int
    records: int
    already: bool = False


def prepare(
    org: Org, target: str | Path, search: Sequence[Path] = ()
) -> tuple[Pack, list[Pack], dict[str, str]]:
    """The pack named or found at ``target``, the packs to install (dependencies first),
    and the installed versions by name."""
    catalog = Catalog(org.registry, tuple(search))
    pack = catalog.open(target)
    with org.db.read() as conn:
        installed = {name: p.version for name, p in read_installed(conn).items()}
    if pack.name in installed:
        return pack, [], installed
    return pack, resolve(pack, catalog, installed), installed


def plan(
    org: Org, target: str | Path, *, with_sample: bool = False, search: Sequence[Path] = ()
) -> Plan:
    """What ``install`` would do, changing nothing (see :mod:`.plan`)."""
    pack, packs, installed = prepare(org, target, search)
    if not packs:
        if installed[pack.name] != pack.version:
            raise Conflict(
                f"{pack.name} {installed[pack.name]} is installed; this is {pack.version}: "
                "an upgrade, not an install"
            )
        return Plan(((pack.name, pack.version),), (), {}, already=(pack.name,))
    return plan_install(org, packs, with_sample=with_sample)


def install(
    org: Org,
    target: str | Path,
    *,
    with_sample: bool = False,
    search: Sequence[Path] = (),
    author_id: str = SYSTEM_USER_ID,
    owner_id: str | None = None,
    progress: Progress | None = None,
) -> InstallResult:
    """Install the pack ``target`` (a folder or a name) with the dependencies it lacks."""
    pack, packs, installed = prepare(org, target, search)
    if not packs:
        if installed[pack.name] == pack.version:
            return InstallResult(((pack.name, pack.version),), org.metadata.version(), 0, 0, True)
        raise Conflict(
            f"{pack.name} {installed[pack.name]} is installed: "
            f"upgrade it to {pack.version} with `crm pack upgrade {pack.name}`"
        )
    for each in packs:
        if problems := definition_problems(each, org.registry, shapes=False):
            raise PackInvalid(each.name, problems)
    return install_packs(
        org, packs, with_sample=with_sample, author_id=author_id, progress=progress
    )


def install_packs(
    org: Org,
    packs: Sequence[Pack],
    *,
    with_sample: bool,
    author_id: str,
    owner_id: str | None = None,
    progress: Progress | None = None,
) -> InstallResult:
    """Install ``packs`` (in order; none installed yet) in one transaction; their records
    are owned by ``owner_id`` (default: the first active administrator)."""

    def edit(model: CandidateModel) -> dict[str, list[PackComponent]]:
        refuse_collisions(model, org.registry, packs)
        return put_pack(model, org.registry, packs)

    chosen = [[r for r in p.records if with_sample or not r.sample] for p in packs]
    total = sum(map(len, chosen))
    with org.db.write(ddl=True) as conn:
        if progress:
            progress("metadata", 0, total)
        try:
            result = org.metadata.change_in(conn, edit, author_id=author_id)
        except ValidationFailed as error:
            if isinstance(error, PackInvalid):
                raise
            raise PackInvalid(
                packs[-1].name, locate_paths(error.errors, packs, org.registry)
            ) from error
        created = 0
        if total:
            session = record_session(org, conn)
            owner = owner_id or records_owner(conn)
            for pack, records in zip(packs, chosen, strict=True):

                def step(n: int, _name: str = pack.name) -> None:
                    nonlocal created
                    created += n
                    if progress:
                        progress(_name, created, total)

                shift = _shift(org, pack)
                load_records(session, pack.name, records, step, owner_id=owner, sample_shift=shift)
        for pack in packs:
            record_install(conn, pack, result.value[pack.name], author_id=author_id)
    return InstallResult(
        tuple((p.name, p.version) for p in packs), result.version, len(result.changes), created
    )


def record_session(org: Org, conn: Any) -> RecordSession:
    """A record session on ``conn`` (a write transaction that may hold an uncommitted
    change set), kept away from the org's caches (see the module's docstring)."""
    snapshot = read_snapshot(conn)
    model = dataclasses.replace(org.models.compiler.compile(snapshot), **read_org_settings(conn))
    service = RecordService(org)
    service.events = org.records.events
    return RecordSession(service, conn, model, system_user(conn))


def load_sample(
    org: Org,
    names: Sequence[str],
    *,
    search: Sequence[Path] = (),
    owner_id: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Load the ``sample/`` records of the installed packs ``names`` (in order), in one
    transaction through the record service: for an org whose users (the owners the
    sample names by email) were made after the packs were installed. The number made."""
    catalog = Catalog(org.registry, tuple(search))
    with org.db.read() as conn:
        installed = read_installed(conn)
    packs = []
    for name in names:
        pack = catalog.find(name)
        if pack is None or name not in installed or installed[name].version != pack.version:
            raise Conflict(f"{name} is not installed at the version found: install it first")
        packs.append(pack)
    chosen = [[r for r in p.records if r.sample] for p in packs]
    total = sum(map(len, chosen))
    created = 0
    with org.db.write() as conn:
        session = record_session(org, conn)
        owner = owner_id or records_owner(conn)
        for pack, records in zip(packs, chosen, strict=True):

            def step(n: int, _name: str = pack.name) -> None:
                nonlocal created
                created += n
                if progress:
                    progress(_name, created, total)

            load_records(
                session, pack.name, records, step, owner_id=owner, sample_shift=_shift(org, pack)
            )
    return created


def _shift(org: Org, pack: Pack) -> timedelta:
    """How far the pack's sample dates move, installed on the org's today."""
    return pack.manifest.sample_shift(org.clock().date())
