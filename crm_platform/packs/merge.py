"""The three-way merge of an upgrade, one component at a time: the definition the
installed version shipped (base), the one the new version ships (pack) and the one the
org has now (local).

Attributes merge one by one: whoever changed an attribute wins; both changing it alike
is no conflict; both changing it differently is a conflict, settled only by an explicit
choice (``pack`` or ``local``). A picklist's values merge as a set: values an admin
added stay, values the pack added arrive, values the pack dropped go unless in use by
a local change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PACK, LOCAL = "pack", "local"
CHOICES = (PACK, LOCAL)
MERGED_LISTS = {"values"}  # lists of picklist values: merged as sets, by value


@dataclass(frozen=True)
class Conflict:
    """Both the pack and the org changed one attribute of a component, differently."""

    kind: str
    name: str
    attribute: str
    base: Any
    pack: Any
    local: Any

    @property
    def component(self) -> str:
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return (
            f"{self.component} {self.attribute}: the pack changed it from {self.base!r} to "
            f"{self.pack!r}, the org to {self.local!r}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "attribute": self.attribute,
            "base": self.base,
            "pack": self.pack,
            "local": self.local,
        }


_MISSING = object()


def merge_definitions(
    kind: str,
    name: str,
    base: Mapping[str, Any],
    pack: Mapping[str, Any],
    local: Mapping[str, Any],
    choice: str | None,
) -> tuple[dict[str, Any], list[Conflict]]:
    """The merged definition and the conflicts met (settled by ``choice`` when given;
    unsettled ones keep the local value)."""
    merged: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    for key in dict.fromkeys([*local, *pack, *base]):
        b, p, lo = (d.get(key, _MISSING) for d in (base, pack, local))
        if p == b:
            value = lo
        elif lo in (b, p):
            value = p
        elif key in MERGED_LISTS and all(isinstance(v, list) for v in (b, p, lo)):
            value = merge_values(b, p, lo)  # type: ignore[arg-type]
        else:
            conflicts.append(Conflict(kind, name, key, _shown(b), _shown(p), _shown(lo)))
            value = p if choice == PACK else lo
        if value is not _MISSING:
            merged[key] = value
    return merged, conflicts


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


def _value_of(item: Any) -> Any:
    return item.get("value") if isinstance(item, Mapping) else item


def merge_values(base: list[Any], pack: list[Any], local: list[Any]) -> list[Any]:
    """Picklist values: the org's list, with the pack's new values added (in the pack's
    order, after the value they follow) and the values the pack dropped removed, unless
    the org changed them; a value both changed takes the pack's definition only when
    the org left it as it was."""
    base_by = {_value_of(v): v for v in base}
    pack_by = {_value_of(v): v for v in pack}
    out = []
    for item in local:
        key = _value_of(item)
        if key in base_by and key not in pack_by and item == base_by[key]:
            continue  # dropped by the pack, untouched locally
        if key in pack_by and item == base_by.get(key, _MISSING):
            item = pack_by[key]  # changed by the pack only
        out.append(item)
    present = {_value_of(v) for v in out}
    for index, item in enumerate(pack):
        key = _value_of(item)
        if key in present or key in base_by:
            continue  # there already, or dropped on purpose by the org
        after = [_value_of(v) for v in pack[:index]]
        position = max((i + 1 for i, v in enumerate(out) if _value_of(v) in after), default=0)
        out.insert(position, item)
        present.add(key)
    return out
