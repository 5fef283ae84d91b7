"""Reading and writing metadata components, their revisions and the metadata version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import new_id, utc_now
from crm_platform.core.tables import metadata_components, metadata_revisions, org

ACTIVE, DELETED, PURGED = "active", "deleted", "purged"
LOCAL_OWNER = "local"


@dataclass(frozen=True)
class Component:
    """One stored piece of metadata: an object header, a field, a validation rule, ..."""

    id: str
    kind: str
    name: str
    parent: str | None
    owner: str
    status: str
    position: int
    definition: Mapping[str, Any]
    physical: Mapping[str, Any] = field(default_factory=dict)
    revision: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def state(self) -> dict[str, Any]:
        """What a revision records of the component."""
        return {
            "status": self.status,
            "position": self.position,
            "owner": self.owner,
            "definition": dict(self.definition),
        }

    def evolve(self, **changes: Any) -> Component:
        return replace(self, **changes)


@dataclass(frozen=True)
class Snapshot:
    """Every non-purged component and the metadata version, read in one transaction."""

    version: int
    components: Mapping[tuple[str, str], Component]

    def of_kind(self, kind: str, *, include_deleted: bool = False) -> list[Component]:
        return sorted(
            (
                c
                for c in self.components.values()
                if c.kind == kind and (include_deleted or c.status == ACTIVE)
            ),
            key=lambda c: (c.position, c.name),
        )

    def children(self, parent: str, kind: str = "field", *, include_deleted: bool = False):
        return [
            c for c in self.of_kind(kind, include_deleted=include_deleted) if c.parent == parent
        ]

    def get(self, kind: str, name: str) -> Component | None:
        return self.components.get((kind, name))


def read_version(conn: Connection) -> int:
    """The current metadata version: one indexed read, done at the start of every request."""
    return int(conn.execute(sa.select(org.c.metadata_version).where(org.c.id == 1)).scalar_one())


def share_version(conn: Connection) -> int:
    """Read the version and keep metadata changes out until commit (record writes do this).

    On PostgreSQL a shared row lock: writers never block each other, but a DDL
    change set waits until they finish, so no write runs against a table the
    model it was compiled from no longer describes. SQLite serialises writers anyway.
    """
    query = sa.select(org.c.metadata_version).where(org.c.id == 1)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(read=True)
    return int(conn.execute(query).scalar_one())


def lock_version(conn: Connection) -> int:
    """Read the version and hold the org row until commit, so metadata changes serialise."""
    query = sa.select(org.c.metadata_version).where(org.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already serialises writers
        query = query.with_for_update()
    return int(conn.execute(query).scalar_one())


def read_snapshot(conn: Connection) -> Snapshot:
    """All live components (active and soft-deleted) with the version they belong to."""
    version = read_version(conn)
    rows = conn.execute(
        sa.select(metadata_components).where(metadata_components.c.status != PURGED)
    ).mappings()
    components = {}
    for row in rows:
        comp = Component(
            id=row["id"],
            kind=row["kind"],
            name=row["name"],
            parent=row["parent"],
            owner=row["owner"],
            status=row["status"],
            position=row["position"],
            definition=row["definition"],
            physical=row["physical"] or {},
            revision=row["revision"],
        )
        components[comp.key] = comp
    return Snapshot(version=version, components=components)


@dataclass(frozen=True)
class ComponentChange:
    """A component before and after a change set (None when it did not / no longer exists)."""

    before: Component | None
    after: Component

    @property
    def action(self) -> str:
        if self.before is None:
            return "create"
        if self.after.status == PURGED:
            return "purge"
        if self.before.status != self.after.status:
            return "restore" if self.after.status == ACTIVE else "delete"
        return "update"


def write_changes(
    conn: Connection, changes: Iterable[ComponentChange], *, version: int, author_id: str
) -> None:
    """Store the changed components and one revision each, stamped with the new version."""
    now = utc_now()
    for change in changes:
        comp = change.after
        values = {
            "kind": comp.kind,
            "name": comp.name,
            "parent": comp.parent,
            "owner": comp.owner,
            "status": comp.status,
            "position": comp.position,
            "definition": dict(comp.definition),
            "physical": dict(comp.physical),
            "revision": comp.revision,
            "updated_at": now,
        }
        if change.before is None:
            conn.execute(metadata_components.insert().values(id=comp.id, created_at=now, **values))
        else:
            conn.execute(
                metadata_components.update().where(metadata_components.c.id == comp.id),
                values,
            )
        conn.execute(
            metadata_revisions.insert().values(
                id=new_id(),
                metadata_version=version,
                component_id=comp.id,
                kind=comp.kind,
                name=comp.name,
                parent=comp.parent,
                action=change.action,
                before=change.before.state() if change.before else None,
                after=None if comp.status == PURGED else comp.state(),
                author_id=author_id,
                created_at=now,
            )
        )


def bump_version(conn: Connection, version: int) -> int:
    """Move the metadata version on; every process recompiles at its next request."""
    conn.execute(org.update().where(org.c.id == 1).values(metadata_version=version + 1))
    return version + 1
