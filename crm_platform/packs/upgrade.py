"""Upgrading an installed pack by a three-way merge of the version installed (as
recorded), the new version and the org as it is now (see :mod:`.merge`).

Components the new version adds are created; those both sides kept merge attribute by
attribute; a field or object the new version drops is kept with its data and marked
deprecated in its description; another kind the new version drops is removed unless
the org changed it. An admin's own components (fields added to a pack's object...)
are never touched. Dependencies the new version adds are installed by the same change
set, with their ``data/`` records; the new version's ``data/`` records the org lacks are
loaded (those it holds, found by external id or values, are left as the org keeps them).
Everything runs in one transaction: a failure changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version

from crm_platform.core import Conflict as ConflictError
from crm_platform.core import CrmError, NotFound, ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import (
    DELETED,
    CandidateModel,
    KindRegistry,
    canonical_field,
    canonical_object,
)
from crm_platform.metadata import operations as ops
from crm_platform.metadata.canonical import object_header
from crm_platform.metadata.history import diff_definitions
from crm_platform.runtime import Org

from .catalog import Catalog, DependencyError, check_platform, resolve
from .components import PackComponent, component_name, locate_paths, put_pack
from .install import record_session
from .loader import Pack
from .manifest import satisfies
from .merge import CHOICES, PACK, Conflict, merge_definitions
from .plan import CHANGE, CREATE, LEAVE, PlanItem, plan_items_from, refuse_collisions
from .problems import PackInvalid
from .records import load_records, records_owner
from .state import InstalledComponent, read_components, read_installed, record_install
from .validate import definition_problems

DEPRECATE, REMOVE, KEEP = "deprecate", "remove", "keep"
DEPRECATED = "Deprecated: removed from {pack} {version}; kept with its data until purged."


@dataclass(frozen=True)
class UpgradePlan:
    """What upgrading would do: components and their actions, the conflicts met."""

    pack: str
    from_version: str
    to_version: str
    items: tuple[PlanItem, ...]
    conflicts: tuple[Conflict, ...]
    problems: tuple[str, ...] = ()
    dependencies: tuple[tuple[str, str], ...] = ()  # installed first: (name, version)
    records: int = 0  # data records of the new version (the org's twins are skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "install_dependencies": [{"name": n, "version": v} for n, v in self.dependencies],
            "components": [i.as_dict() for i in self.items if i.action != LEAVE],
            "conflicts": [c.as_dict() for c in self.conflicts],
            "data_records": self.records,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class UpgradeResult:
    pack: str
    from_version: str
    to_version: str
    version: int
    components: int
    resolved: tuple[Conflict, ...] = field(default=())
    deprecated: tuple[str, ...] = field(default=())
    dependencies: tuple[tuple[str, str], ...] = field(default=())
    records: int = 0  # data records created


@dataclass
class _Merge:
    """The edit of an upgrade, with what it found."""

    registry: KindRegistry
    pack: Pack
    base: Mapping[tuple[str, str], InstalledComponent]
    theirs: list[PackComponent]
    prefer: str | None
    choices: Mapping[str, str]
    dependencies: Sequence[Pack] = ()  # new dependencies, installed first
    conflicts: list[Conflict] = field(default_factory=list)
    actions: dict[tuple[str, str], str] = field(default_factory=dict)

    def choice(self, kind: str, name: str) -> str | None:
        return self.choices.get(f"{kind}:{name}", self.prefer)

    def __call__(self, model: CandidateModel) -> dict[str, list[PackComponent]]:
        installed: dict[str, list[PackComponent]] = {}
        if self.dependencies:
            refuse_collisions(model, self.registry, self.dependencies)
            installed = put_pack(model, self.registry, self.dependencies)
        self._merge(model)
        return installed

    def _merge(self, model: CandidateModel) -> None:
        definitions = {(d.kind, d.definition["api_name"]): d for d in self.pack.definitions}
        for comp in self.theirs:
            self._merge_one(model, comp, definitions)
        for key, installed in self.base.items():
            if key not in {c.key for c in self.theirs}:
                self._dropped(model, installed)

    def _merge_one(self, model: CandidateModel, comp: PackComponent, definitions) -> None:
        kind, name = comp.key
        base = self.base.get(comp.key)
        current = model.get(kind, name)
        if (
            kind == "field"
            and self.actions.get(("object", current.parent if current else "")) == CREATE
        ):
            self.actions[comp.key] = CREATE  # came with its object, created by this upgrade
            return
        if current is None:
            self.actions[comp.key] = CREATE
            if kind == "object":
                raw = definitions[("object", name)].definition
                ops.create_object(model, self.registry, raw, owner=self.pack.name)
            elif kind == "field":
                obj = model.get("object", name.split(".", 1)[0])
                if obj is not None:
                    ops.put_field(model, obj, comp.definition, owner=self.pack.name)
            else:
                ops.put_component(model, self.registry, kind, comp.definition, owner=self.pack.name)
            return
        if base is None and current.owner != self.pack.name:
            found = Conflict(kind, name, "(component)", None, comp.definition, current.definition)
            self.conflicts.append(found)
            if self.choice(kind, name) == PACK:
                model.update(current, definition=dict(comp.definition), owner=self.pack.name)
                self.actions[comp.key] = CHANGE
            return
        if current.status == DELETED:
            self.actions[comp.key] = KEEP  # deleted by the org: stays in the recycle bin
            return
        merged, found = merge_definitions(
            kind,
            name,
            base.definition if base else current.definition,
            comp.definition,
            current.definition,
            self.choice(kind, name),
        )
        self.conflicts.extend(found)
        if merged != dict(current.definition):
            if kind not in ("object",):
                ops.require_shape(self.registry, kind, merged, name)
            model.update(current, definition=merged)
            self.actions[comp.key] = CHANGE
        else:
            self.actions[comp.key] = LEAVE

    def _dropped(self, model: CandidateModel, installed: InstalledComponent) -> None:
        current = model.get(installed.kind, installed.name)
        if current is None or current.status == DELETED:
            return
        if installed.kind in ("object", "field"):
            note = DEPRECATED.format(pack=self.pack.name, version=self.pack.version)
            description = current.definition.get("description", "")
            if not description.startswith("Deprecated:"):
                text = f"{note} {description}".strip()[:1000]
                model.update(current, definition={**current.definition, "description": text})
            self.actions[installed.key] = DEPRECATE
        elif dict(current.definition) == dict(installed.definition):
            ops.remove_component(model, installed.kind, installed.name)
            self.actions[installed.key] = REMOVE
        else:
            self.actions[installed.key] = KEEP  # changed by the org: now the org's own


def new_components(
    registry: KindRegistry, pack: Pack, extended: frozenset[str] = frozenset()
) -> list[PackComponent]:
    """The components ``pack`` ships, canonical as the store would hold them (its
    definitions' shapes are checked already: see ``_prepare``); of the ``extended``
    objects (a dependency's), only the fields."""
    out = []
    for item in pack.definitions:
        if item.kind == "object" and item.definition["api_name"] in extended:
            name = item.definition["api_name"]
            out.extend(
                PackComponent("field", f"{name}.{f['api_name']}", canonical_field(f))
                for f in item.definition.get("fields", [])
            )
        elif item.kind == "object":
            definition = canonical_object(item.definition)
            name = definition["api_name"]
            out.append(PackComponent("object", name, object_header(definition)))
            out.extend(
                PackComponent("field", f"{name}.{f['api_name']}", f) for f in definition["fields"]
            )
        else:
            out.append(PackComponent(item.kind, component_name(registry, item), item.definition))
    return out


def _extended(org: Org, pack: Pack, dependencies: Sequence[Pack] = ()) -> frozenset[str]:
    """The objects ``pack`` extends: those its dependencies own (installed ones, and the
    new ``dependencies`` the upgrade installs)."""
    snapshot = org.metadata.snapshot()
    incoming = {
        d.definition["api_name"]
        for dep in dependencies
        for d in dep.definitions
        if d.kind == "object"
    }
    return frozenset(
        d.definition["api_name"]
        for d in pack.definitions
        if d.kind == "object"
        and (
            d.definition["api_name"] in incoming
            or (
                (comp := snapshot.get("object", d.definition["api_name"])) is not None
                and comp.owner in pack.manifest.depends
            )
        )
    )


def _prepare(
    org: Org, name: str, from_path: str | Path | None, search: Sequence[Path]
) -> tuple[Pack, str, dict[tuple[str, str], InstalledComponent], list[Pack]]:
    """The new version, the version installed, the components it installed and the
    dependencies the new version adds (to install first, dependencies first)."""
    catalog = Catalog(org.registry, tuple(search))
    pack = catalog.open(from_path) if from_path else catalog.find(name)
    if pack is None:
        raise NotFound(f"no new version of '{name}' found: give its folder with --from-path")
    if pack.name != name:
        raise CrmError(f"the folder holds the pack {pack.name}, not {name}")
    with org.db.read() as conn:
        installed = read_installed(conn)
        base = read_components(conn, name)
    if name not in installed:
        raise NotFound(f"{name} is not installed: install it first")
    current = installed[name].version
    if Version(pack.version) < Version(current):
        raise ConflictError(f"{name} {current} is installed; {pack.version} is older")
    problems = [p for p in [check_platform(pack)] if p]
    for dependency, spec in pack.manifest.depends.items():
        have = installed.get(dependency)
        if have is not None and not satisfies(Version(have.version), spec):
            state = f"{have.version} is installed"
            problems.append(f"{name} {pack.version} needs {dependency} {spec}, but {state}")
    for other in installed.values():
        spec_text = other.depends.get(name)
        if spec_text and not satisfies(Version(pack.version), _spec(spec_text)):
            problems.append(f"{other.name} {other.version} needs {name} {spec_text}")
    if problems:
        raise DependencyError(problems)
    others = {n: p.version for n, p in installed.items() if n != name}
    dependencies = resolve(pack, catalog, others)[:-1]
    for each in (*dependencies, pack):
        if found := definition_problems(each, org.registry, shapes=each is pack):
            raise PackInvalid(each.name, found)
    return pack, current, base, dependencies


def _spec(text: str):
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


def _check_choices(prefer: str | None, choices: Mapping[str, str]) -> None:
    for value in [prefer, *choices.values()]:
        if value is not None and value not in CHOICES:
            raise ValidationFailed({"prefer": f"'{value}' is not one of: pack, local"})


def plan_upgrade(
    org: Org,
    name: str,
    *,
    from_path: str | Path | None = None,
    prefer: str | None = None,
    choices: Mapping[str, str] | None = None,
    search: Sequence[Path] = (),
) -> UpgradePlan:
    """What upgrading ``name`` would do, changing nothing."""
    _check_choices(prefer, choices or {})
    pack, current, base, dependencies = _prepare(org, name, from_path, search)
    theirs = new_components(org.registry, pack, _extended(org, pack, dependencies))
    merge = _Merge(org.registry, pack, base, theirs, prefer, choices or {}, dependencies)
    result, problems = org.metadata.preview(merge)
    changed = {c.after.key: c for c in result.changes}
    items = plan_items_from(result, org) if result.value else []
    for key, action in merge.actions.items():
        diff = ""
        if key in changed and changed[key].before is not None:
            before, after = changed[key].before.definition, changed[key].after.definition
            diff = diff_definitions(before, after)["text"] if before != after else ""
        items.append(PlanItem(name, key[0], key[1], action, diff))
    located = [str(p) for p in locate_paths(problems, [*dependencies, pack], org.registry)]
    return UpgradePlan(
        name,
        current,
        pack.version,
        tuple(items),
        tuple(merge.conflicts),
        tuple(located),
        tuple((d.name, d.version) for d in dependencies),
        sum(1 for r in pack.records if not r.sample),
    )


def upgrade(
    org: Org,
    name: str,
    *,
    from_path: str | Path | None = None,
    prefer: str | None = None,
    choices: Mapping[str, str] | None = None,
    search: Sequence[Path] = (),
    author_id: str = SYSTEM_USER_ID,
) -> UpgradeResult:
    """Upgrade the installed pack ``name`` to the version found (or at ``from_path``).

    Conflicts without a choice (``prefer``, or ``choices`` per ``kind:name``) refuse the
    whole upgrade, listing them."""
    _check_choices(prefer, choices or {})
    pack, current, base, dependencies = _prepare(org, name, from_path, search)
    theirs = new_components(org.registry, pack, _extended(org, pack, dependencies))
    merge = _Merge(org.registry, pack, base, theirs, prefer, choices or {}, dependencies)

    def edit(model: CandidateModel) -> dict[str, list[PackComponent]]:
        installed = merge(model)
        unsettled = [c for c in merge.conflicts if merge.choice(c.kind, c.name) is None]
        if unsettled:
            raise ConflictError(
                f"upgrading {name} meets {len(unsettled)} conflict(s): choose --prefer pack "
                "or --prefer local (or per component)",
                extra={"conflicts": [c.as_dict() for c in unsettled]},
            )
        return installed

    packs = [*dependencies, pack]
    with org.db.write(ddl=True) as conn:
        try:
            result = org.metadata.change_in(conn, edit, author_id=author_id)
        except ValidationFailed as error:
            if isinstance(error, PackInvalid):
                raise
            raise PackInvalid(name, locate_paths(error.errors, packs, org.registry)) from error
        for dependency in dependencies:
            record_install(conn, dependency, result.value[dependency.name], author_id=author_id)
        record_install(conn, pack, theirs, author_id=author_id)
        created = _load_data(org, conn, packs)
    deprecated = tuple(f"{k}:{n}" for (k, n), a in merge.actions.items() if a == DEPRECATE)
    return UpgradeResult(
        name,
        current,
        pack.version,
        result.version,
        len(result.changes),
        tuple(merge.conflicts),
        deprecated,
        tuple((d.name, d.version) for d in dependencies),
        created,
    )


def _load_data(org: Org, conn: Any, packs: Sequence[Pack]) -> int:
    """Load the ``data/`` records of ``packs`` (new dependencies, then the upgraded pack)
    that the org does not hold yet; the number created."""
    chosen = [[r for r in p.records if not r.sample] for p in packs]
    if not any(chosen):
        return 0
    session = record_session(org, conn)
    owner = records_owner(conn)
    return sum(
        load_records(session, p.name, records, owner_id=owner, skip_existing=True)
        for p, records in zip(packs, chosen, strict=True)
        if records
    )
