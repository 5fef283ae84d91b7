"""Reading and writing metadata components, their revisions and the metadata version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import new_id, utc_now
from crm_platform.core.tables import metadata_components, metadata_revisions, org

ACTIVE, DELETED, PURGED = "active", "deleted", "purged"
RENAME = "rename"  # the action of a revision that changed a component's name
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


Groups = Mapping[tuple[str, str | None], Mapping[str, Component]]


@dataclass(frozen=True)
class Snapshot:
    """Every non-purged component and the metadata version, read in one transaction.

    Never changed once built: a newer version is a new snapshot (see :meth:`advanced`),
    which shares the unchanged components with this one.
    """

    version: int
    components: Mapping[tuple[str, str], Component]

    @cached_property
    def groups(self) -> Groups:
        """Components by (kind, parent), then by name: children without scanning the org."""
        groups: dict[tuple[str, str | None], dict[str, Component]] = {}
        for comp in self.components.values():
            groups.setdefault((comp.kind, comp.parent), {})[comp.name] = comp
        return groups

    def of_kind(self, kind: str, *, include_deleted: bool = False) -> list[Component]:
        found = [
            c
            for (group_kind, _parent), members in self.groups.items()
            if group_kind == kind
            for c in members.values()
            if include_deleted or c.status == ACTIVE
        ]
        return sorted(found, key=lambda c: (c.position, c.name))

    def children(self, parent: str, kind: str = "field", *, include_deleted: bool = False):
        members = self.groups.get((kind, parent), {}).values()
        found = [c for c in members if include_deleted or c.status == ACTIVE]
        return sorted(found, key=lambda c: (c.position, c.name))

    def get(self, kind: str, name: str) -> Component | None:
        return self.components.get((kind, name))

    def advanced(self, version: int, rows: Iterable[Component]) -> Snapshot:
        """This snapshot with ``rows`` (components stored since, purged ones included) applied.

        Unchanged components and groups are shared, not copied one by one.
        """
        components = dict(self.components)
        groups = dict(self.groups)
        touched: set[tuple[str, str | None]] = set()
        for comp in rows:
            group = (comp.kind, comp.parent)
            if group not in touched:
                groups[group] = dict(groups.get(group, {}))
                touched.add(group)
            members = groups[group]
            if comp.status != PURGED:
                components[comp.key] = comp
                members[comp.name] = comp
            elif (current := components.get(comp.key)) is not None and current.id == comp.id:
                # purged; a new component of the same name may replace it in the same set
                del components[comp.key]
                del members[comp.name]
        snapshot = Snapshot(version=version, components=components)
        snapshot.__dict__["groups"] = {k: v for k, v in groups.items() if v}
        return snapshot


# Built once: a statement object executed again keeps its SQLAlchemy cache key.
VERSION_QUERY = sa.select(org.c.metadata_version).where(org.c.id == 1)
SHARED_VERSION_QUERY = VERSION_QUERY.with_for_update(read=True)


def read_version(conn: Connection) -> int:
    """The current metadata version: one indexed read, done at the start of every request."""
    return int(conn.execute(VERSION_QUERY).scalar_one())


def share_version(conn: Connection) -> int:
    """Read the version and keep metadata changes out until commit (record writes do this).

    On PostgreSQL a shared row lock: writers never block each other, but a DDL
    change set waits until they finish, so no write runs against a table the
    model it was compiled from no longer describes. SQLite serialises writers anyway.
    """
    query = VERSION_QUERY if conn.dialect.name == "sqlite" else SHARED_VERSION_QUERY
    return int(conn.execute(query).scalar_one())


def lock_version(conn: Connection) -> int:
    """Read the version and hold the org row until commit, so metadata changes serialise."""
    query = sa.select(org.c.metadata_version).where(org.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already serialises writers
        query = query.with_for_update()
    return int(conn.execute(query).scalar_one())


def read_snapshot(conn: Connection, since: Snapshot | None = None) -> Snapshot:
    """All live components (active and soft-deleted) with the version they belong to.

    Given ``since``, an older snapshot of the same org, only the components stored
    after its version are read (the revisions name them) and applied to it.
    """
    version = read_version(conn)
    if since is not None and since.version == version:
        return since
    if since is not None and since.version < version and not _renamed_since(conn, since.version):
        changed = sa.select(metadata_revisions.c.component_id).where(
            metadata_revisions.c.metadata_version > since.version
        )
        rows = conn.execute(
            sa.select(metadata_components).where(metadata_components.c.id.in_(changed))
        ).mappings()
        return since.advanced(version, (_component(row) for row in rows))
    rows = conn.execute(
        sa.select(metadata_components).where(metadata_components.c.status != PURGED)
    ).mappings()
    components = {}
    for row in rows:
        comp = _component(row)
        components[comp.key] = comp
    return Snapshot(version=version, components=components)


def _renamed_since(conn: Connection, version: int) -> bool:
    """Whether a component was renamed after ``version`` (then a snapshot is read whole:
    renames are rare, and the old name must vanish from every group)."""
    mr = metadata_revisions
    query = sa.select(mr.c.id).where(mr.c.metadata_version > version, mr.c.action == RENAME)
    return conn.execute(query.limit(1)).first() is not None


def _component(row: Mapping[str, Any]) -> Component:
    return Component(
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
        if self.before.name != self.after.name:
            return RENAME
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
