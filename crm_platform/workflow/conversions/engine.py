"""Running a conversion on one record, as the user who asks, in their transaction: each
target created (or an existing record used) through the record service — so permissions,
field access, validation rules, triggers and assignment apply — then the source updated.
Any refusal rolls the whole conversion back."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records import RecordSession

from ..record_actions import as_input
from .kind import Conversion


class NotConvertible(Conflict):
    """The record does not meet the conversion's condition (converted already...)."""


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion did: per target, its object, record id and whether it was made."""

    conversion: str
    records: Mapping[str, tuple[str, str, bool]]  # name -> (object, id, created)
    source: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "conversion": self.conversion,
            "records": {
                name: {"object": obj, "id": record_id, "created": created}
                for name, (obj, record_id, created) in self.records.items()
            },
            "record": dict(self.source),
        }


def convert(
    session: RecordSession,
    obj: ObjectModel,
    record_id: str,
    conversion: Conversion,
    *,
    existing: Mapping[str, str] | None = None,
    skip: Set[str] = frozenset(),
    values: Mapping[str, Mapping[str, Any]] | None = None,
) -> ConversionResult:
    """Convert the record: ``existing`` names a record to use for a target instead of
    creating one, ``skip`` optional targets not to create, ``values`` the caller's own
    values per target (over the mapped ones)."""
    existing = existing or {}
    values = values or {}
    _check_request(conversion, existing, skip, values)
    session.require_edit_access(obj, record_id)
    record = session.get(obj.api_name, record_id)
    what = f"conversion {obj.api_name}.{conversion.name}"
    if (
        conversion.when
        and session.evaluate_on(obj, conversion.when, record, what, None) is not True
    ):
        raise NotConvertible(
            f"this {obj.api_name} does not meet the conversion's condition: {conversion.when}"
        )
    made: dict[str, tuple[str, str, bool]] = {}
    for target in conversion.targets:
        if target.name in existing:
            found = session.get(target.object, existing[target.name])  # 404 unless visible
            made[target.name] = (target.object, found["id"], False)
            continue
        if target.name in skip:
            continue
        data = _mapped(session, obj, record, target.values, what)
        data.update(_links(target.links, made))
        data.update(values.get(target.name, {}))
        created = session.create(target.object, data)
        made[target.name] = (target.object, created["id"], True)
    update = _mapped(session, obj, record, conversion.source_values, what)
    update.update(_links(conversion.source_links, made))
    source = session.update(obj.api_name, record_id, update) if update else record
    return ConversionResult(conversion.name, made, source)


def _mapped(
    session: RecordSession,
    obj: ObjectModel,
    record: Mapping[str, Any],
    mapping: Mapping[str, str],
    what: str,
) -> dict[str, Any]:
    return {
        name: as_input(session.evaluate_on(obj, source, record, what, None))
        for name, source in mapping.items()
    }


def _links(links: Mapping[str, str], made: Mapping[str, tuple[str, str, bool]]) -> dict[str, Any]:
    return {name: made[other][1] for name, other in links.items() if other in made}


def _check_request(
    conversion: Conversion,
    existing: Mapping[str, str],
    skip: Set[str],
    values: Mapping[str, Mapping[str, Any]],
) -> None:
    """400 naming each target the request names wrongly."""
    errors: dict[str, str] = {}
    names = {t.name for t in conversion.targets}
    for where, given in (("existing", existing), ("skip", skip), ("values", values)):
        for name in given:
            if name not in names:
                errors[f"{where}.{name}"] = (
                    f"no target '{name}' (targets: {', '.join(sorted(names))})"
                )
    for name in skip:
        target = conversion.target(name)
        if target is not None and not target.optional:
            errors[f"skip.{name}"] = f"the target '{name}' is not optional"
        if name in existing:
            errors[f"skip.{name}"] = "skipped and given an existing record at once"
    for name, given in existing.items():
        if not isinstance(given, str) or not given:
            errors[f"existing.{name}"] = "the id of an existing record"
    for name, given in values.items():
        if not isinstance(given, Mapping):
            errors[f"values.{name}"] = "a map of field values"
    if errors:
        raise ValidationFailed(errors)
