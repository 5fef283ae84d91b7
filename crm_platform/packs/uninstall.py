"""Uninstalling a pack: refused while another installed pack depends on it, or while
records of its objects exist (naming the counts) unless told to delete them — then a
backup file of those records and the pack's definitions is written first. The
components go as one change set, with the pack's record of them: all or nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crm_platform.core import Conflict, NotFound, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import CandidateModel
from crm_platform.metadata import operations as ops
from crm_platform.metadata.store import PURGED
from crm_platform.runtime import Org

from .state import InstalledComponent, forget_pack, read_components, read_installed


@dataclass(frozen=True)
class UninstallResult:
    pack: str
    version: str
    components: int
    records_deleted: int
    backup: Path | None


def record_counts(org: Org, objects: list[str]) -> dict[str, int]:
    """Records (the recycle bin's too) of each object that has any."""
    counts = {}
    with org.db.read() as conn:
        model = org.models.model_for(conn)
        for name in objects:
            obj = model.object(name)
            if obj is None:
                continue
            count = conn.execute(sa.select(sa.func.count()).select_from(obj.table)).scalar_one()
            if count:
                counts[name] = count
    return counts


def uninstall(
    org: Org,
    name: str,
    *,
    delete_data: bool = False,
    backup_dir: Path | None = None,
    author_id: str = SYSTEM_USER_ID,
) -> UninstallResult:
    """Remove the installed pack ``name`` and its components (see the module's doc)."""
    with org.db.read() as conn:
        installed = read_installed(conn)
        components = read_components(conn, name)
    if name not in installed:
        raise NotFound(f"{name} is not installed")
    dependents = sorted(p.name for p in installed.values() if name in p.depends)
    if dependents:
        raise Conflict(
            f"{', '.join(dependents)} depend(s) on {name}: uninstall that first",
            extra={"dependents": dependents},
        )
    objects = [c.name for c in components.values() if c.kind == "object"]
    counts = record_counts(org, objects)
    if counts and not delete_data:
        listed = ", ".join(f"{obj}: {n} record(s)" for obj, n in counts.items())
        raise Conflict(
            f"{name}'s objects hold records ({listed}); uninstall with --delete-data "
            "to delete them (a backup file is written first)",
            extra={"records": counts},
        )
    backup = None
    if counts:
        folder = backup_dir or org.settings.instance_path / "backups"
        backup = write_backup(org, name, installed[name].version, components, folder)

    def edit(model: CandidateModel) -> None:
        removed = set(objects)
        for comp in components.values():
            if comp.kind == "object":
                if model.get("object", comp.name) is not None:
                    ops.purge_object(model, comp.name, confirm=comp.name)
                    for kind in org.registry.kinds.values():
                        if kind.per_object:
                            _purge_children(model, kind.name, comp.name)
            elif comp.kind == "field":
                parent = comp.name.split(".", 1)[0]
                if parent not in removed and model.get("field", comp.name) is not None:
                    field = comp.name.split(".", 1)[1]
                    ops.purge_field(model, parent, field, confirm=field)
            elif model.get(comp.kind, comp.name) is not None:
                ops.remove_component(model, comp.kind, comp.name)

    with org.db.write(ddl=True) as conn:
        result = org.metadata.change_in(conn, edit, author_id=author_id)
        forget_pack(conn, name)
    return UninstallResult(
        name, installed[name].version, len(result.changes), sum(counts.values()), backup
    )


def _purge_children(model: CandidateModel, kind: str, object_name: str) -> None:
    """Components of a per-object kind (rules...) of an object that is going."""
    for comp in list(model.group(kind, object_name).values()):
        if comp.status != PURGED:
            model.update(comp, status=PURGED)


def write_backup(
    org: Org,
    name: str,
    version: str,
    components: dict[tuple[str, str], InstalledComponent],
    folder: Path,
) -> Path:
    """Every record of the pack's objects and the definitions as they are now, as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{name}-{version}-{stamp}.json"
    data: dict[str, Any] = {"pack": name, "version": version, "written_at": utc_now()}
    with org.db.read() as conn:
        model = org.models.model_for(conn)
        snapshot = org.metadata.snapshot()
        data["definitions"] = [
            {"kind": c.kind, "name": c.name, "definition": dict(found.definition)}
            for c in components.values()
            if (found := snapshot.get(c.kind, c.name)) is not None
        ]
        data["records"] = {}
        for comp in components.values():
            obj = model.object(comp.name) if comp.kind == "object" else None
            if obj is not None:
                rows = conn.execute(sa.select(obj.table)).mappings()
                data["records"][comp.name] = [dict(r) for r in rows]
    path.write_text(json.dumps(data, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
