"""Which stored records a set of values may duplicate: blocking keys in SQL, then the
rule's criteria compared in Python within each block (never all pairs).

Used by the write path's check (values about to be written, against the whole table:
a duplicate the writer cannot see still counts) and, with the reader's visibility, by
the duplicate clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import in_list, unnested
from crm_platform.metadata import SIMPLE
from crm_platform.runtime.model import ObjectModel

from .keys import blocking_criterion, criterion_keys
from .kind import DuplicateRule
from .matchers import blank, close_texts, matches

# values whose keys one statement looks up (the keys travel as one parameter)
CHUNK = 1000  # an import's batch in one statement each

Subject = tuple[str, Mapping[str, Any]]  # (record id, field values)


def column(obj: ObjectModel, field_name: str) -> sa.Column[Any]:
    return obj.fields[field_name].columns[SIMPLE]


def same(rule: DuplicateRule, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two records' values match on every criterion of the rule."""
    return all(matches(c, a.get(c.field), b.get(c.field)) for c in rule.criteria)


def comparable(rule: DuplicateRule, values: Mapping[str, Any]) -> bool:
    """A record with a blank value in any criterion matches nothing."""
    for criterion in rule.criteria:  # noqa: SIM110 (no generator: runs for every record written)
        if blank(values.get(criterion.field)):
            return False
    return True


def _value_keys(conn: Connection, obj: ObjectModel, rule: DuplicateRule, values: list[Any]):
    """The blocking keys of ``values`` as the database computes them: one list per key.

    An ``exact`` key is the value itself. The others are computed by the database over
    one array parameter it unnests (``json_each`` on SQLite, ``unnest`` on PostgreSQL):
    the statement is the same whatever the values. Rules compare text fields only
    (``kind.COMPARABLE_TYPES``), so every value is text or None.
    """
    criterion = blocking_criterion(rule)
    if criterion.method == "exact":
        return [list(values)]
    given = unnested(conn.dialect.name, values)
    keys = criterion_keys(conn.dialect.name, criterion, given.c.v)
    out: list[list[Any]] = [[None] * len(values) for _ in keys]
    for row in conn.execute(sa.select(given.c.i, *keys)):
        for k in range(len(keys)):
            out[k][int(row[0])] = row[k + 1]
    return out


def matching(
    rule: DuplicateRule, values: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The candidates that match ``values`` on every criterion. A fuzzy criterion is
    scored against all of them at once in rapidfuzz's C loop first, so a large block
    costs little; the other criteria are compared on the few left."""
    fuzzy = next((c for c in rule.criteria if c.method == "fuzzy"), None)
    if fuzzy is not None and len(candidates) > 1:
        texts = [c.get(fuzzy.field) for c in candidates]
        picked = close_texts(fuzzy, values.get(fuzzy.field), texts)
        candidates = [candidates[i] for i in picked]
    return [c for c in candidates if same(rule, values, c)]


def find_matches(
    conn: Connection,
    obj: ObjectModel,
    rule: DuplicateRule,
    subjects: Sequence[Subject],
    *,
    within: bool = True,
    exclude: Sequence[str] = (),
) -> dict[str, list[str]]:
    """For each subject (id, values), the ids of live records it matches under ``rule``
    (stored ones but ``exclude``, and with ``within`` the subjects before it in the same
    batch)."""
    criterion = blocking_criterion(rule)
    dialect = conn.dialect.name
    table = obj.table
    column_keys = criterion_keys(dialect, criterion, column(obj, criterion.field))
    fields = [column(obj, f).label(f) for f in rule.fields]
    labels = [k.label(f"_k{i}") for i, k in enumerate(column_keys)]
    found: dict[str, list[str]] = {}
    seen: dict[tuple[int, Any], list[Subject]] = {}  # the batch's subjects so far, by key
    for start in range(0, len(subjects), CHUNK):
        chunk = list(subjects[start : start + CHUNK])
        keys = _value_keys(conn, obj, rule, [v[criterion.field] for _, v in chunk])
        wanted = [
            in_list(dialect, column_keys[i], sorted(set(keys[i]) - {None}))
            for i in range(len(keys))
        ]
        query = sa.select(table.c.id, *fields, *labels).where(
            table.c.deleted_at.is_(None), sa.or_(*wanted)
        )
        if exclude:
            query = query.where(table.c.id.not_in(list(exclude)))
        blocks: dict[tuple[int, Any], list[Mapping[str, Any]]] = {}
        for row in conn.execute(query).mappings():
            for i in range(len(keys)):
                blocks.setdefault((i, row[f"_k{i}"]), []).append(row)
        for j, subject in enumerate(chunk):
            record_id, values = subject
            candidates: dict[str, Mapping[str, Any]] = {}
            for i, column_values in enumerate(keys):
                key = (i, column_values[j])
                stored = blocks.get(key)
                if stored:
                    for row in stored:
                        candidates.setdefault(row["id"], row)
                if within:
                    earlier = seen.get(key)
                    if earlier is None:  # most records of a batch: a key of their own
                        seen[key] = [subject]
                        continue
                    for other_id, other in earlier:
                        if other_id not in candidates:
                            candidates[other_id] = {**other, "id": other_id}
                    earlier.append(subject)
            if not candidates:  # most records of a batch: nothing shares a key
                continue
            hits = [c["id"] for c in matching(rule, values, list(candidates.values()))]
            if hits:
                found[record_id] = hits
    return found


def clusters_in(
    rule: DuplicateRule, rows: Iterable[Mapping[str, Any]], key_count: int
) -> list[list[str]]:
    """Clusters (two records or more) of rows already grouped by blocking key: the rule
    compared within each block, matches joined transitively (union-find)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    blocks: dict[tuple[int, Any], list[Mapping[str, Any]]] = {}
    for row in rows:
        for i in range(key_count):
            if row[f"_k{i}"] is not None:
                blocks.setdefault((i, row[f"_k{i}"]), []).append(row)
    for members in blocks.values():
        for a_index, a in enumerate(members):
            for b in members[a_index + 1 :]:
                if root(a["id"]) != root(b["id"]) and same(rule, a, b):
                    parent[root(a["id"])] = root(b["id"])
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
