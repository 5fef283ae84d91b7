"""What is installed: the packs and the components each installed (read and written in
the caller's transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import utc_now

from .components import ComponentKey, PackComponent
from .loader import Pack
from .tables import installed_packs, pack_components


@dataclass(frozen=True)
class InstalledPack:
    name: str
    version: str
    manifest: Mapping[str, Any]
    checksum: str

    @property
    def depends(self) -> Mapping[str, str]:
        return self.manifest.get("depends") or {}


@dataclass(frozen=True)
class InstalledComponent:
    kind: str
    name: str
    pack: str
    version: str
    checksum: str
    definition: Mapping[str, Any]

    @property
    def key(self) -> ComponentKey:
        return (self.kind, self.name)


def read_installed(conn: Connection) -> dict[str, InstalledPack]:
    """The installed packs, by name."""
    rows = conn.execute(sa.select(installed_packs).order_by(installed_packs.c.installed_at))
    return {r.name: InstalledPack(r.name, r.version, r.manifest, r.checksum) for r in rows}


def read_components(
    conn: Connection, pack: str | None = None
) -> dict[ComponentKey, InstalledComponent]:
    """The components installed by ``pack`` (by every pack when None), by (kind, name)."""
    query = sa.select(pack_components)
    if pack is not None:
        query = query.where(pack_components.c.pack == pack)
    return {
        (r.kind, r.name): InstalledComponent(
            r.kind, r.name, r.pack, r.version, r.checksum, r.definition
        )
        for r in conn.execute(query)
    }


def record_install(
    conn: Connection, pack: Pack, components: Iterable[PackComponent], *, author_id: str
) -> None:
    """Record ``pack`` as installed at its version, with each component and its checksum
    (an upgrade replaces the pack's rows)."""
    now = utc_now()
    conn.execute(pack_components.delete().where(pack_components.c.pack == pack.name))
    existed = conn.execute(
        sa.select(installed_packs.c.installed_at).where(installed_packs.c.name == pack.name)
    ).scalar_one_or_none()
    conn.execute(installed_packs.delete().where(installed_packs.c.name == pack.name))
    conn.execute(
        installed_packs.insert().values(
            name=pack.name,
            version=pack.version,
            manifest=pack.manifest.as_dict(),
            checksum=pack.checksum,
            installed_at=existed or now,
            updated_at=now,
            installed_by=author_id,
        )
    )
    rows = [
        {
            "kind": c.kind,
            "name": c.name,
            "pack": pack.name,
            "version": pack.version,
            "checksum": c.checksum,
            "definition": dict(c.definition),
            "installed_at": now,
        }
        for c in components
    ]
    if rows:
        conn.execute(pack_components.insert(), rows)


def forget_pack(conn: Connection, name: str) -> None:
    conn.execute(pack_components.delete().where(pack_components.c.pack == name))
    conn.execute(installed_packs.delete().where(installed_packs.c.name == name))
