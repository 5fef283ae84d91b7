"""Reading an object's history: its revisions, its definition as of a version, diffs."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy import Connection

from crm_platform.core.tables import metadata_components, metadata_revisions, users


def _component_ids(conn: Connection, object_name: str) -> list[str]:
    mc = metadata_components
    rows = conn.execute(
        sa.select(mc.c.id).where(
            sa.or_(
                sa.and_(mc.c.kind == "object", mc.c.name == object_name),
                sa.and_(mc.c.kind == "field", mc.c.parent == object_name),
            )
        )
    )
    return [r[0] for r in rows]


def object_history(conn: Connection, object_name: str) -> list[dict[str, Any]]:
    """The object's revisions, newest first: one entry per metadata version that touched it."""
    ids = _component_ids(conn, object_name)
    mr = metadata_revisions
    rows = conn.execute(
        sa.select(mr, users.c.email)
        .join(users, users.c.id == mr.c.author_id, isouter=True)
        .where(mr.c.component_id.in_(ids))
        .order_by(mr.c.metadata_version.desc(), mr.c.kind.desc(), mr.c.name)
    ).mappings()
    entries: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = entries.setdefault(
            row["metadata_version"],
            {
                "revision": row["metadata_version"],
                "at": row["created_at"],
                "by": {"id": row["author_id"], "email": row["email"]},
                "changes": [],
            },
        )
        entry["changes"].append(
            {
                "kind": row["kind"],
                "name": row["name"],
                "action": row["action"],
                "before": (row["before"] or {}).get("definition"),
                "after": (row["after"] or {}).get("definition"),
            }
        )
    return list(entries.values())


def _revisions_at(conn: Connection, object_name: str, version: int, key: sa.Column) -> list:
    """(``key``, after) of each of the object's components, as of its last revision at or
    before ``version``."""
    mr = metadata_revisions
    latest = (
        sa.select(mr.c.component_id, sa.func.max(mr.c.metadata_version).label("v"))
        .where(
            mr.c.component_id.in_(_component_ids(conn, object_name)),
            mr.c.metadata_version <= version,
        )
        .group_by(mr.c.component_id)
        .subquery()
    )
    return conn.execute(
        sa.select(key, mr.c.after).join(
            latest,
            sa.and_(
                latest.c.component_id == mr.c.component_id,
                latest.c.v == mr.c.metadata_version,
            ),
        )
    ).all()


def object_definition_at(conn: Connection, object_name: str, version: int) -> dict | None:
    """The object's full definition as it was right after ``version`` (None if absent then)."""
    rows = _revisions_at(conn, object_name, version, metadata_revisions.c.kind)
    header = None
    fields = []
    for kind, after in rows:
        if not after or after["status"] != "active":
            continue
        if kind == "object":
            header = after["definition"]
        else:
            fields.append((after["position"], after["definition"]))
    if header is None:
        return None
    return {**header, "fields": [d for _, d in sorted(fields, key=lambda item: item[0])]}


def diff_definitions(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict:
    """A readable diff: a unified YAML diff plus the list of changed paths."""
    old = yaml.safe_dump(before, sort_keys=False, allow_unicode=True) if before else ""
    new = yaml.safe_dump(after, sort_keys=False, allow_unicode=True) if after else ""
    text = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), "before", "after"
        )
    )
    return {"changes": _changed_paths(before, after, ""), "text": text}


def _changed_paths(before: Any, after: Any, path: str) -> list[dict[str, Any]]:
    if before == after:
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        before_items, after_items = dict(before), dict(after)
        if "fields" in before_items and "fields" in after_items:
            before_items["fields"] = {f["api_name"]: f for f in before_items["fields"]}
            after_items["fields"] = {f["api_name"]: f for f in after_items["fields"]}
        out = []
        for key in list(dict.fromkeys([*before_items, *after_items])):
            sub = f"{path}.{key}" if path else key
            out.extend(_changed_paths(before_items.get(key), after_items.get(key), sub))
        return out
    return [{"path": path or "(root)", "before": before, "after": after}]


def names_at(conn: Connection, object_name: str, version: int) -> dict[str, str]:
    """The API names the object and its fields had right after ``version``, by component
    id (a rollback across a rename renames them back)."""
    rows = _revisions_at(conn, object_name, version, metadata_revisions.c.component_id)
    return {
        component_id: after["definition"]["api_name"]
        for component_id, after in rows
        if after and after.get("definition", {}).get("api_name")
    }
