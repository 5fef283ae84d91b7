"""Likely duplicate clusters of an object, as one reader sees them.

Set-based: per rule, the database finds the blocking keys that two visible records
share (``GROUP BY key HAVING count(*) > 1``) and returns only the records of those
blocks; the rule's criteria are compared within each block in Python (``rapidfuzz`` for
fuzzy names) and matches are joined transitively into clusters. Only records the reader
may see take part, and a rule comparing a field the reader may not read is skipped
(its clusters would tell what the field holds). The records of the clusters are read
back through the record service's list, so sharing and field-level security apply to
what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ID_LENGTH, NotFound
from crm_platform.expressions import MAX_SOURCE_LENGTH
from crm_platform.runtime.records import ListRequest, RecordSession
from crm_platform.runtime.records.query import MAX_LIMIT

from .candidates import clusters_in, column
from .keys import blocking_criterion, criterion_keys
from .kind import DuplicateRule, dedupe_model

MAX_BLOCK = 500  # records compared pairwise in one block at most (a larger one is cut)
DEFAULT_CLUSTERS = 100
# ids one list request reads back: as many as its page holds and its `where` fits
# ("id in ('…', …)": an id and four characters each)
IDS_PER_LIST = min(MAX_LIMIT, (MAX_SOURCE_LENGTH - len("id in ()")) // (ID_LENGTH + 4))


@dataclass(frozen=True)
class Cluster:
    rule: str
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class ClusterReport:
    object: str
    clusters: list[Cluster]
    total: int  # clusters found (``clusters`` holds at most the limit)
    skipped_rules: list[str] = field(default_factory=list)
    truncated_blocks: int = 0


def readable_rules(session: RecordSession, object_name: str, rule_name: str | None = None):
    """The object's active rules whose fields the reader may read, and those skipped."""
    rules = dedupe_model(session.model).of(object_name)
    if rule_name is not None:
        rules = tuple(r for r in rules if r.name == rule_name)
        if not rules:
            raise NotFound(f"no active duplicate rule '{rule_name}' on {object_name}")
    readable, skipped = [], []
    for rule in rules:
        if all(session.access.field_readable(object_name, f) for f in rule.fields):
            readable.append(rule)
        else:
            skipped.append(rule.name)
    return readable, skipped


def cluster_ids(session: RecordSession, rule: DuplicateRule) -> tuple[list[list[str]], int]:
    """The clusters of one rule among the records the reader may see (ids), and how many
    blocks were too large and cut."""
    obj = session.object(rule.object)
    table = obj.table
    criterion = blocking_criterion(rule)
    keys = criterion_keys(session.dialect, criterion, column(obj, criterion.field))
    fields = [column(obj, f).label(f) for f in rule.fields]
    live = [table.c.deleted_at.is_(None), *session.visible(obj)]
    rows: list[dict[str, Any]] = []
    cut = 0
    for i, key in enumerate(keys):
        shared = sa.select(key).where(*live, key.is_not(None)).group_by(key)
        shared = shared.having(sa.func.count() > 1)
        query = (
            sa.select(table.c.id, *fields, key.label("_key"))
            .where(*live, key.in_(shared))
            .order_by(key.label("_key"), table.c.id)
        )
        per_block: dict[Any, int] = {}
        for row in session.conn.execute(query).mappings():
            seen = per_block.get(row["_key"], 0)
            if seen >= MAX_BLOCK:
                cut += seen == MAX_BLOCK
                per_block[row["_key"]] = seen + 1
                continue
            per_block[row["_key"]] = seen + 1
            found = {f: row[f] for f in rule.fields}
            found.update({"id": row["id"], **{f"_k{j}": None for j in range(len(keys))}})
            found[f"_k{i}"] = row["_key"]
            rows.append(found)
    return clusters_in(rule, rows, len(keys)), cut


def duplicate_clusters(
    session: RecordSession,
    object_name: str,
    *,
    rule_name: str | None = None,
    limit: int = DEFAULT_CLUSTERS,
) -> ClusterReport:
    """The likely duplicate clusters of an object for the session's user."""
    obj = session.object(object_name)
    session.require(obj, "read")
    rules, skipped = readable_rules(session, obj.api_name, rule_name)
    found: list[tuple[str, list[str]]] = []
    cut = 0
    for rule in rules:
        ids, rule_cut = cluster_ids(session, rule)
        cut += rule_cut
        found.extend((rule.name, group) for group in ids)
    shown = found[:limit]
    records = _records(session, obj.api_name, rules, [i for _, g in shown for i in g])
    clusters = [Cluster(name, [records[i] for i in group if i in records]) for name, group in shown]
    return ClusterReport(obj.api_name, clusters, len(found), skipped, cut)


def _records(session: RecordSession, object_name: str, rules, ids: list[str]):
    """The clusters' records read through the service (sharing and field access apply)."""
    obj = session.object(object_name)
    names = [obj.name_field, *(f for r in rules for f in r.fields)]
    fields = tuple(dict.fromkeys(n for n in names if session.access.field_readable(object_name, n)))
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), IDS_PER_LIST):
        chunk = unique[start : start + IDS_PER_LIST]
        where = "id in (" + ", ".join(f"'{i}'" for i in chunk) + ")"
        request = ListRequest(where=where, fields=fields or None, limit=MAX_LIMIT)
        for record in session.list(object_name, request).records:
            found[record["id"]] = record
    return found
