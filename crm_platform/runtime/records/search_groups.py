"""Which text fields of an object share one search entry (ADR 0052).

A record's search entries hold its text one entry per *visibility group*: the indexed
fields that exactly the same users may read (the same permission sets grant them,
:func:`~crm_platform.runtime.security.access.field_read_signature`). An object whose
fields no set hides has one group, so one entry per record where there was one per
field; a field a set hides gets a group of its own (or with the fields hidden alike).

An entry is named by its group's *key*, a digest of the group's columns, and
``sys_search_group`` keeps which columns each key stands for (written with the first
entries of a key): what an entry holds is known whatever happened to the metadata since
it was written. A search matches an entry only when every one of its columns belongs to
a field that is indexed now and that the user may read. An entry written under an older
grouping (before a permission set hid one of its fields) is matched only by those who
read all of it until the backfill rewrites it, and one written before a field was added
still matches: a stale index loses hits, it never shows text to someone who may not
read it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..security.access import field_read_signature

KEY_PREFIX = "#"  # never starts a field's api name: a key is told from an older field entry


@dataclass(frozen=True)
class IndexedField:
    """An indexed text field as grouping needs it: its name and its columns' names."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SearchGroup:
    """Fields whose text is one search entry, in the object's field order, and their
    columns (sorted: what ``sys_search_group`` records of the key)."""

    key: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]


def group_columns(fields: Sequence[IndexedField]) -> tuple[str, ...]:
    return tuple(sorted(column for f in fields for column in f.columns))


def group_key(fields: Sequence[IndexedField]) -> str:
    """The entry name of a group: a digest of its fields' column names (which a field
    rename keeps), so it changes exactly when the group holds other text."""
    joined = ",".join(group_columns(fields))
    return KEY_PREFIX + hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()


def visibility_groups(
    object_name: str,
    fields: Sequence[IndexedField],
    permission_sets: Mapping[str, Mapping[str, Any]],
) -> tuple[SearchGroup, ...]:
    """The object's indexed fields grouped by who may read them, groups in the order of
    their first field."""
    by_signature: dict[tuple, list[IndexedField]] = {}
    for indexed in fields:
        signature = field_read_signature(permission_sets, object_name, indexed.name)
        by_signature.setdefault(signature, []).append(indexed)
    return tuple(
        SearchGroup(group_key(members), tuple(f.name for f in members), group_columns(members))
        for members in by_signature.values()
    )
