"""What each derived field reads: the fields a formula or roll-up depends on, closed over
formulas of formulas and lookups, computed once per metadata version.

A derived value inherits the read restrictions of everything it is computed from
(DESIGN §6): :meth:`UserAccess.field_readable` asks this map. A dependency is an
``(object, field)`` pair; ``(object, "")`` stands for a system field of the object
(``owner_id``, ``created_at``…), which anyone who reads the object may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from crm_platform.expressions import ExpressionError, parse
from crm_platform.fieldtypes import field_type, is_polymorphic, split_step

if TYPE_CHECKING:
    from ..model import FieldModel, ObjectModel

FieldKey = tuple[str, str]
SYSTEM_FIELD = ""  # the field part of a dependency on a system field


def direct_dependencies(obj: ObjectModel, fld: FieldModel) -> tuple[tuple[str, ...], ...]:
    """The field paths one formula or roll-up reads, as written (no closure).

    A formula reads the paths of its expression, relative to its own object. A
    roll-up reads, relative to the *child* object, the link, the summarised field
    and the paths of its filter; they are returned prefixed with ``@child`` so
    :func:`close_dependencies` knows where to start walking.
    """
    definition = fld.definition
    if fld.type == "formula":
        return tuple(sorted(_paths(definition.get("expression"))))
    if fld.type == "rollup_summary":
        child, _, link = definition["relation"].partition(".")
        paths = {(link,)}
        if definition.get("field"):
            paths.add((definition["field"],))
        paths.update(_paths(definition.get("filter")))
        return tuple(("@" + child, *p) for p in sorted(paths))
    return ()


def _paths(source: str | None) -> set[tuple[str, ...]]:
    if not source:
        return set()
    try:
        return set(parse(source).field_paths)
    except ExpressionError:
        return set()  # a formula stored before the checker: it cannot be computed either


def close_dependencies(
    objects: Mapping[str, ObjectModel],
    direct: Mapping[FieldKey, tuple[tuple[str, ...], ...]],
) -> Mapping[FieldKey, frozenset[FieldKey]]:
    """Every field each derived field depends on, directly or through other derived fields
    and the lookups of dotted paths (a cycle just stops the walk)."""
    steps: dict[FieldKey, frozenset[FieldKey]] = {
        key: frozenset(_walk_all(objects, key[0], paths)) for key, paths in direct.items()
    }
    closed: dict[FieldKey, frozenset[FieldKey]] = {}
    for key, first in steps.items():
        found: set[FieldKey] = set()
        stack = list(first)
        while stack:
            dep = stack.pop()
            if dep not in found:
                found.add(dep)
                stack.extend(steps.get(dep, ()))
        closed[key] = frozenset(found - {key})
    return MappingProxyType(closed)


def _walk_all(
    objects: Mapping[str, ObjectModel], object_name: str, paths: Iterable[tuple[str, ...]]
) -> set[FieldKey]:
    out: set[FieldKey] = set()
    for path in paths:
        start = object_name
        if path and path[0].startswith("@"):
            start, path = path[0][1:], path[1:]
        out.update(_walk(objects, start, path))
    return out


def _walk(objects: Mapping[str, ObjectModel], object_name: str, path: tuple[str, ...]):
    """The (object, field) steps of one dotted path: the lookups and the field at the end."""
    obj = objects.get(object_name)
    for index, step in enumerate(path):
        if obj is None:
            return  # e.g. a user's public columns: readable by anyone who reads the lookup
        name, narrowed = split_step(step)  # related_to[account] -> related_to, account
        fld = obj.fields.get(name)
        if fld is None:
            yield (obj.api_name, SYSTEM_FIELD)
            return
        yield (obj.api_name, name)
        ftype = field_type(fld.type)
        if index == len(path) - 1 or not ftype.relation:
            return
        if is_polymorphic(fld.definition):
            if narrowed is None:
                return
            obj = objects.get(narrowed)
        else:
            obj = objects.get(fld.definition["target"])
