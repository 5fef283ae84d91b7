"""Loading a pack's records (``data/``, and ``sample/`` when asked) through the record
service, so validation rules, defaults, auto-numbers and triggers run as for any record.

Every record gets its id before any is written, so a reference by local key (``_key``)
is the id of the record it names; objects are loaded in the order their lookups need,
in set-based batches per object, and a reference to a record written later (of the same
object, or a cycle) is set by an update once every record exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from graphlib import CycleError, TopologicalSorter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import CrmError, new_id
from crm_platform.core.tables import users
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE
from crm_platform.runtime.records import RecordSession
from crm_platform.runtime.security import ADMIN_PERMISSION_SET

from .loader import KEY, PackRecord
from .problems import PackInvalid, PackProblem

Progress = Callable[[int], None]
BATCH = 500  # records of one object created set-based at once
OWNER = "owner_id"
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


def load_records(
    session: RecordSession,
    pack_name: str,
    records: Sequence[PackRecord],
    progress: Progress | None = None,
    *,
    owner_id: str,
    skip_existing: bool = False,
    sample_shift: timedelta = timedelta(0),
) -> int:
    """Create ``records`` in ``session``'s transaction, owned by ``owner_id`` unless they
    name their owner; the number created. A record the service refuses raises
    :class:`PackInvalid` naming its file and line.

    With ``skip_existing`` (an upgrade loading its ``data/`` again) a record the org
    holds already (see :func:`existing_records`) is left as it is, and references to
    its key name that record. The dates of sample records move by ``sample_shift`` (see
    :meth:`Manifest.sample_shift`)."""
    existing = existing_records(session, records) if skip_existing else {}
    ids = [existing.get(i) or new_id() for i in range(len(records))]
    by_key = {r.key: i for i, r in zip(ids, records, strict=True) if r.key is not None}
    pack_ids = set(ids)
    written: set[str] = set(existing.values())
    deferred: list[tuple[PackRecord, str, dict[str, Any]]] = []
    order = [i for i in _order(session, records) if i not in existing]
    for batch in _batches(order, records):
        items = []
        for index in batch:
            record = records[index]
            values, later = _resolve(session, record, records, ids, by_key, pack_ids, written)
            if record.sample and sample_shift:
                _shift_dates(session, record.object, values, sample_shift)
            values.setdefault("owner_id", owner_id)
            items.append(values)
            if later:
                deferred.append((record, ids[index], later))
        _create(session, pack_name, [records[i] for i in batch], items, [ids[i] for i in batch])
        written.update(ids[i] for i in batch)
        if progress:
            progress(len(batch))
    for record, record_id, later in deferred:
        try:
            session.update(record.object, record_id, later)
        except CrmError as error:
            raise PackInvalid(pack_name, _problems(record, error)) from error
    return len(records) - len(existing)


# Field types whose value, as a pack writes it, identifies a record when the object has
# no external id or unique field among the record's values.
_TEXTUAL = frozenset({"text", "email", "phone", "url", "picklist", "external_id"})


def existing_records(session: RecordSession, records: Sequence[PackRecord]) -> dict[int, str]:
    """The records (by position) the org holds already, by the id of the live record
    found: one with the same values in the record's external id or unique fields, or,
    when it gives none, in all the text-like values it gives (a re-run adds no twin)."""
    found: dict[int, str] = {}
    for index, record in enumerate(records):
        obj = session.model.object(record.object)
        if obj is None:
            continue
        given = {
            name: value
            for name, value in record.values.items()
            if (field := obj.fields.get(name)) is not None
            and SIMPLE in field.columns
            and value is not None
            and not isinstance(value, Mapping | list)
        }
        identity = {
            n: v
            for n, v in given.items()
            if obj.fields[n].type == "external_id" or obj.fields[n].definition.get("unique")
        } or {n: v for n, v in given.items() if obj.fields[n].type in _TEXTUAL}
        if not identity:
            continue
        query = sa.select(obj.table.c.id).where(obj.table.c.deleted_at.is_(None))
        for name, value in identity.items():
            wanted = str(value) if obj.fields[name].type in _TEXTUAL else value
            query = query.where(obj.fields[name].columns[SIMPLE] == wanted)
        record_id = session.conn.execute(query.limit(1)).scalar_one_or_none()
        if record_id is not None:
            found[index] = record_id
    return found


def _batches(order: list[int], records: Sequence[PackRecord]) -> list[list[int]]:
    """Runs of records of one object, at most BATCH long, in load order."""
    out: list[list[int]] = []
    for index in order:
        last = out[-1] if out else None
        if last and records[last[0]].object == records[index].object and len(last) < BATCH:
            last.append(index)
        else:
            out.append([index])
    return out


def _create(
    session: RecordSession,
    pack_name: str,
    batch: Sequence[PackRecord],
    items: list[dict[str, Any]],
    record_ids: list[str],
) -> None:
    """Create a batch set-based; when the service refuses one, find which (one by one in
    a savepoint: the transaction is lost anyway) to name its file and line."""
    try:
        session.create_many(batch[0].object, items, record_ids=record_ids, read_back=False)
        return
    except CrmError as error:
        failure: CrmError = error
    with session.conn.begin_nested():
        for record, values, record_id in zip(batch, items, record_ids, strict=True):
            try:
                session.create(record.object, values, record_id=record_id)
            except CrmError as error:
                raise PackInvalid(pack_name, _problems(record, error)) from error
    raise PackInvalid(pack_name, _problems(batch[0], failure)) from failure


def records_owner(conn: Connection) -> str:
    """Who owns a pack's records when the install names nobody: the first active
    administrator (the system user authors the change but cannot own records)."""
    query = (
        sa.select(users.c.id)
        .where(users.c.active.is_(True), users.c.is_system.is_(False))
        .order_by((users.c.profile == ADMIN_PERMISSION_SET).desc(), users.c.created_at, users.c.id)
    )
    found = conn.execute(query.limit(1)).scalar_one_or_none()
    if found is None:
        raise CrmError("no active user to own the pack's records: create one first")
    return found


def _problems(record: PackRecord, error: CrmError) -> list[PackProblem]:
    errors = getattr(error, "errors", None) or {"": [error.detail]}
    return [
        PackProblem(record.source, f"{record.object}: {path + ': ' if path else ''}{message}")
        for path, messages in errors.items()
        for message in messages
    ]


def _order(session: RecordSession, records: Sequence[PackRecord]) -> list[int]:
    """Record positions, objects ordered so a lookup's target is loaded first (file order
    within an object; a cycle keeps file order and is settled by deferred updates)."""
    objects = list(dict.fromkeys(r.object for r in records))
    graph: dict[str, set[str]] = {name: set() for name in objects}
    for name in objects:
        obj = session.model.object(name)
        for field in obj.fields.values() if obj else ():
            graph[name].update(t for t in field.targets if t in graph and t != name)
    try:
        ordered = list(TopologicalSorter(graph).static_order())
    except CycleError:
        ordered = objects
    rank = {name: i for i, name in enumerate(ordered)}
    return sorted(range(len(records)), key=lambda i: (rank[records[i].object], i))


def _resolve(
    session: RecordSession,
    record: PackRecord,
    records: Sequence[PackRecord],
    ids: Sequence[str],
    by_key: Mapping[str, str],
    pack_ids: set[str],
    written: set[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record's values with references as ids, and those to set once all exist."""
    obj = session.object(record.object)
    values: dict[str, Any] = {}
    later: dict[str, Any] = {}
    for name, value in record.values.items():
        if name == OWNER and isinstance(value, Mapping):
            if (owner := _owner_by_email(session, value)) is not None:
                values[name] = owner
            continue
        field = obj.fields.get(name)
        if field is not None and isinstance(value, str):
            value = _from_text(field.type, value)  # a CSV cell is text
        if field is None or not field_type(field.type).relation or not isinstance(value, Mapping):
            values[name] = value
            continue
        ((how, wanted),) = value.items()
        target = field.targets[0] if field.targets else ""
        if how == KEY:
            found = by_key.get(str(wanted))
        else:
            found = _by_field(session, target, how, wanted, records, ids)
        if found is None:
            raise PackInvalid(
                record.object,
                [PackProblem(record.source, f"{name}: no {target} record with {how} '{wanted}'")],
            )
        if found in written or found not in pack_ids:
            values[name] = found
        else:
            later[name] = found
    return values, later


def _from_text(type_name: str, text: str) -> Any:
    """A CSV cell as the value its field's type takes (text the type cannot read is
    left as it is: the record service then names the field and why)."""
    try:
        if type_name == "boolean":
            return _BOOLEANS.get(text.strip().lower(), text)
        if type_name in ("integer", "duration"):
            return int(text)
        if type_name in ("decimal", "currency", "percent"):
            return Decimal(text)
    except (ValueError, ArithmeticError):
        return text
    return text


def _shift_dates(
    session: RecordSession, object_name: str, values: dict[str, Any], shift: timedelta
) -> None:
    """Move the date and date-time values of a sample record by ``shift`` (text the
    type cannot read is left for the record service to name)."""
    fields = session.object(object_name).fields
    for name, value in values.items():
        field = fields.get(name)
        if field is None or field.type not in ("date", "datetime") or value in (None, ""):
            continue
        try:
            if field.type == "date":
                day = value if type(value) is date else date.fromisoformat(str(value))
                values[name] = (day + shift).isoformat()
            else:
                moment = value if isinstance(value, datetime) else _moment(str(value))
                values[name] = (moment + shift).isoformat()
        except ValueError:
            continue


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _owner_by_email(session: RecordSession, value: Mapping[str, Any]) -> str | None:
    """``owner_id: {email: rep@example.com}``: that active user, or None (then the
    install's default owner), so sample data naming demo users installs in any org."""
    email = value.get("email")
    if not isinstance(email, str):
        return None
    query = sa.select(users.c.id).where(
        users.c.email == email.strip().lower(),
        users.c.active.is_(True),
        users.c.is_system.is_(False),
    )
    return session.conn.execute(query).scalar_one_or_none()


def _by_field(
    session: RecordSession,
    target: str,
    field_name: str,
    wanted: Any,
    records: Sequence[PackRecord],
    ids: Sequence[str],
) -> str | None:
    """The id of the ``target`` record whose ``field_name`` is ``wanted``: one of the pack's
    own records, else one already in the org."""
    for record, record_id in zip(records, ids, strict=True):
        if record.object == target and str(record.values.get(field_name)) == str(wanted):
            return record_id
    obj = session.model.object(target)
    field = obj.fields.get(field_name) if obj else None
    if obj is None or field is None or SIMPLE not in field.columns:
        return None
    query = sa.select(obj.table.c.id).where(
        field.columns[SIMPLE] == wanted, obj.table.c.deleted_at.is_(None)
    )
    return session.conn.execute(query.limit(1)).scalar_one_or_none()
