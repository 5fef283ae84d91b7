"""What every record operation of one transaction shares: the object lookup, permission
and access checks, visibility, query building, expression evaluation and event dispatch.

The reads, the write steps, the recycle bin, shares and aggregates are functions of
their own modules that take a :class:`RecordContext`; the session is a thin front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, Forbidden, NotFound, ValidationFailed, utc_now
from crm_platform.core.crypto import FieldCipher
from crm_platform.core.tables import USER_PUBLIC_COLUMNS, users
from crm_platform.expressions import (
    MAX_HIERARCHY_DEPTH,
    EvalContext,
    ExpressionError,
    ValueType,
    evaluate,
)
from crm_platform.fieldtypes import OWNER, USER, field_type, path_target, split_step
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel, OrgModel
from ..security import UserAccess, access_clause, load_access
from ..users import User
from .codec import RecordCodec, from_columns
from .events import EventContext, RecordChange, RecordEvent, RecordWriter
from .query import SelectBuilder
from .refusals import Refusals
from .scope import ObjectScope

if TYPE_CHECKING:
    from .service import RecordService

MAX_EVENT_DEPTH = 5
ID_CHUNK = 500  # ids per IN list
_DEPTH_KEY = "crm_event_depth"


class RecordContext:
    """One transaction's record work on behalf of one user."""

    def __init__(
        self,
        service: RecordService,
        conn: Connection,
        model: OrgModel,
        user: User,
        access: UserAccess | None = None,
    ):
        self.service = service
        self.conn = conn
        self.model = model
        self.user = user
        self.dialect = conn.dialect.name
        self.now = utc_now()
        self.context = EvalContext(
            now=self.now,
            time_zone=model.time_zone,
            fiscal_year_start_month=model.fiscal_year_start_month,
        )
        if access is None or access.model is not model or access.user.id != user.id:
            access = load_access(conn, user, model, model.security)
        self.access = access
        # In a read-only transaction, records already read as visible: a related list
        # of a record the page just read needs no second visibility check. None in a
        # write transaction, where a change in between may take a record away.
        self.seen_visible: set[tuple[str, str]] | None = None

    # --- the model and the user's rights --------------------------------------------
    def object(self, name: str) -> ObjectModel:
        """The compiled object, or 404."""
        obj = self.model.object(name)
        if obj is None:
            raise NotFound(f"no object '{name}'")
        return obj

    def codec(self, obj: ObjectModel) -> RecordCodec:
        return self.service.codec(self.model, obj)

    def cipher_for(self, obj: ObjectModel) -> FieldCipher | None:
        """The cipher, for objects with encrypted fields only (no key is made needlessly)."""
        return self.service.cipher if self.codec(obj).encrypted else None

    def builder(self, obj: ObjectModel, *, as_system: bool = False) -> SelectBuilder:
        """A query builder over ``obj``: the user's field access unless ``as_system``."""
        access = None if as_system else self.access
        return SelectBuilder(
            self.model, obj, self.context, self.dialect, self.service.expressions, access
        )

    def require(self, obj: ObjectModel, operation: str) -> None:
        """403 unless the user's permission sets allow ``operation`` on the object."""
        if not self.access.can(obj.api_name, operation):
            raise Forbidden(f"you may not {operation} {obj.api_name} records")

    def visible(self, obj: ObjectModel, mode: str = "read") -> list[Any]:
        """The SQL conditions that keep only the records the user may ``mode``."""
        clause = access_clause(self.access, obj, obj.table, mode)
        return [] if clause is None else [clause]

    def visible_names(self, obj: ObjectModel, ids: Iterable[str]) -> dict[str, str | None]:
        """The records among ``ids`` the user may read, by id, each with its name as the
        user may read it (None when the name field is hidden from them or encrypted):
        one query per ``ID_CHUNK`` ids."""
        if not self.access.can(obj.api_name, "read"):
            return {}
        name_field = obj.fields.get(obj.name_field)
        builder = self.builder(obj)
        name: Any = sa.null()
        if (
            name_field is not None
            and not field_type(name_field.type).encrypted
            and self.access.field_readable(obj.api_name, name_field.api_name)
        ):
            name = builder.column((name_field.api_name,))
        found: dict[str, str | None] = {}
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), ID_CHUNK):
            query = (
                sa.select(obj.table.c.id, name.label("name"))
                .select_from(builder.from_clause)
                .where(obj.table.c.id.in_(ordered[start : start + ID_CHUNK]), *self.visible(obj))
            )
            found.update((row.id, _text(row.name)) for row in self.conn.execute(query))
        return found

    def require_edit_access(self, obj: ObjectModel, record_id: str, *, deleted: bool = False):
        """404 for a record the user cannot see, 403 for one they see but may not edit."""
        self._require_access(obj, record_id, "edit", deleted=deleted)

    def require_full_access(self, obj: ObjectModel, record_id: str) -> None:
        """404 for a record the user cannot see, 403 for one they see without full access
        (owner, above the owner in the role hierarchy, or modify_all)."""
        self._require_access(obj, record_id, "full", deleted=False)

    def has_full_access(self, obj: ObjectModel, record_id: str, owner_id: str) -> bool:
        """Whether the user fully controls a live record whose owner is ``owner_id``
        (decided without a query when they own it or hold modify_all; a portal user's
        scope never gives full access, even to a case they opened and still own)."""
        if self.access.scope is not None:
            return False
        if owner_id in self.access.owner_ids or self.access.edits_all(obj.api_name):
            return True
        table = obj.table
        query = sa.select(table.c.id).where(table.c.id == record_id, *self.visible(obj, "full"))
        return self.conn.execute(query).first() is not None

    def _require_access(self, obj: ObjectModel, record_id: str, mode: str, *, deleted: bool):
        table = obj.table
        state = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
        base = sa.select(table.c.id).where(table.c.id == record_id, state)
        if self.conn.execute(base.where(*self.visible(obj, mode))).first():
            return
        if self.conn.execute(base.where(*self.visible(obj, "read"))).first():
            if mode == "full":
                raise Forbidden(
                    f"sharing this {obj.api_name} record needs full access to it (its owner, "
                    "someone above the owner in the role hierarchy, or modify_all)"
                )
            raise Forbidden(f"you may not change this {obj.api_name} record")
        where = " in the recycle bin" if deleted else ""
        raise NotFound(f"no {obj.api_name} record '{record_id}'{where}")

    def current_for_edit(self, obj: ObjectModel, record_id: str, *, deleted: bool = False):
        """The stored row of a record the user may edit, locked for update on PostgreSQL,
        read with one query; else 404 or 403 as :meth:`require_edit_access` answers."""
        return self.currents_for_edit(obj, [record_id], deleted=deleted)[record_id]

    def currents_for_edit(
        self, obj: ObjectModel, record_ids: Sequence[str], *, deleted: bool = False
    ) -> dict[str, Any]:
        """The stored rows (by id) of records the user may edit, locked for update on
        PostgreSQL, one query per 500; the first one missing answers 404 or 403 as
        :meth:`require_edit_access` does."""
        table = obj.table
        state = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
        rows: dict[str, Any] = {}
        for start in range(0, len(record_ids), ID_CHUNK):
            chunk = list(record_ids[start : start + ID_CHUNK])
            where = table.c.id == chunk[0] if len(chunk) == 1 else table.c.id.in_(chunk)
            query = sa.select(table).where(where, state, *self.visible(obj, "edit"))
            if self.dialect != "sqlite":
                query = query.with_for_update(of=table)
            rows.update((row["id"], row) for row in self.conn.execute(query).mappings())
        for record_id in record_ids:
            if record_id not in rows:
                self.require_edit_access(obj, record_id, deleted=deleted)
                raise NotFound(f"no {obj.api_name} record '{record_id}'")
        return rows

    def require_editable_fields(self, obj: ObjectModel, names: Iterable[str]) -> None:
        """403 naming the fields the user may not edit (only fields they may read are named:
        the codec already refused unknown names)."""
        refused = [
            n for n in names if n in obj.fields and not self.access.field_editable(obj.api_name, n)
        ]
        if refused:
            raise Forbidden(
                f"you may not edit {', '.join(refused)}",
                extra={"errors": {n: ["you may not edit this field"] for n in refused}},
            )

    def stored_values(self, obj: ObjectModel, row: Mapping[str, Any]) -> dict[str, Any]:
        """A stored row as field values (decrypted), with its owner."""
        values = from_columns(obj, row, self.cipher_for(obj), readers=self.codec(obj).readers)
        values["owner_id"] = row["owner_id"]
        return values

    # --- expressions -----------------------------------------------------------------
    def evaluate(self, obj, source: str, values, before, what: str, expected=None) -> Any:
        """An expression evaluated in Python on a record's values (``before``: PRIORVALUE)."""
        checked = self.service.expressions.checked(
            self.model, obj, source, expected, None, self.dialect
        )
        resolver = RecordValues(self, obj, values)
        prior = RecordValues(self, obj, before) if before is not None else None
        context = EvalContext(
            now=self.context.now,
            time_zone=self.context.time_zone,
            fiscal_year_start_month=self.context.fiscal_year_start_month,
            prior=prior,
            is_new=before is None,
            ancestors=lambda path, record_id: self.ancestors(obj, path, record_id),
        )
        try:
            return evaluate(checked, resolver, context)
        except ExpressionError as exc:
            raise ValidationFailed({what: [exc.detail]}) from exc

    def ancestors(self, obj: ObjectModel, path: tuple[str, ...], record_id: str) -> list[str]:
        """The ids above ``record_id`` through the self-lookup at the end of ``path`` (read
        from ``obj``), its parent first; IS_UNDER's walk in Python. Stored links are
        followed as the record's own Python values are (no sharing), at most
        MAX_HIERARCHY_DEPTH of them, and a cycle ends the walk."""
        walked = ObjectScope(self.model, obj, self.dialect).walk(path)
        assert walked is not None and walked.field is not None, path
        table = walked.obj.table
        parent = table.c[walked.field.columns[SIMPLE].name]
        found: list[str] = []
        current: str | None = record_id
        while current is not None and len(found) < MAX_HIERARCHY_DEPTH:
            current = self.conn.execute(sa.select(parent).where(table.c.id == current)).scalar()
            if current is None or current == record_id or current in found:
                break
            found.append(current)
        return found

    def evaluate_on(
        self,
        obj: ObjectModel,
        source: str,
        values: Mapping[str, Any],
        what: str,
        expected: Any,
        before: Mapping[str, Any] | None = None,
    ) -> Any:
        """``source`` on a record's ``values``; ``before`` (its values before an update)
        gives ISCHANGED and PRIORVALUE their meaning, else the record counts as new."""
        return self.evaluate(obj, source, values, before, what, expected)

    def condition_sql(self, obj: ObjectModel, source: str, what: str) -> Any:
        _checked, expr = self.builder(obj, as_system=True).expression(
            source, ValueType.BOOLEAN, what
        )
        return expr

    def compiled(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """What ``build()`` makes for ``key``, kept for this metadata version."""
        return self.service.compiled(self.model, key, build)

    # --- events ----------------------------------------------------------------------
    @property
    def writer(self) -> RecordWriter:
        """The session itself: handlers write through the same service and checks."""
        return self  # type: ignore[return-value]

    def fire(
        self,
        event: RecordEvent,
        obj: ObjectModel,
        changes: Iterable[RecordChange],
        pending: Mapping[str, dict[str, Any]] | None = None,
        refusals: Refusals | None = None,
    ) -> None:
        """Run the handlers of ``event`` on ``obj`` for these changes (bounded recursion);
        a before-save handler refuses a record through ``refusals``."""
        handlers = self.service.events.handlers(event, obj.api_name)
        batch = tuple(changes)
        if not handlers or not batch:
            return
        # the depth belongs to the transaction: sessions of other users on it (automation
        # writing as the system user) count towards the same bound
        depth = self.conn.info.get(_DEPTH_KEY, 0)
        if depth >= MAX_EVENT_DEPTH:
            raise Conflict(
                f"automation recursed too deeply: more than {MAX_EVENT_DEPTH} levels of "
                f"record changes fired by record changes (last on {obj.api_name}); "
                "nothing was saved"
            )
        context = EventContext(event, obj, batch, self, pending or {}, refusals or Refusals())
        self.conn.info[_DEPTH_KEY] = depth + 1
        try:
            for handler in handlers:
                handler(context)
        finally:
            if not self.conn.invalidated:  # else interrupted mid-statement: all rolls back
                self.conn.info[_DEPTH_KEY] = depth

    def as_user(self, user: User) -> RecordWriter:
        """A session of ``user`` on this same transaction (automation writes as the system
        user: what it changes lands or rolls back with the change that fired it)."""
        from .service import RecordSession

        return RecordSession(self.service, self.conn, self.model, user)  # type: ignore[return-value]


class RecordValues:
    """Field values for the Python evaluator: the record's own, then lookups followed lazily
    (to records, a polymorphic lookup's narrowed target, and users' public columns)."""

    def __init__(self, ctx: RecordContext, obj: ObjectModel, values: Mapping[str, Any]):
        self.ctx = ctx
        self.obj = obj
        self.values = values
        self._parents: dict[str, Callable[[tuple[str, ...]], Any] | None] = {}

    def __call__(self, path: tuple[str, ...]) -> Any:
        name = split_step(path[0])[0]
        fld = self.obj.fields.get(name)
        if len(path) == 1:
            if fld is not None and fld.type == "formula":
                return self.ctx.evaluate(
                    self.obj, fld.definition["expression"], self.values, None, name
                )
            return self.values.get(name)
        if fld is not None and field_type(fld.type).compound:
            compound = self.values.get(name) or {}
            return compound.get(path[1])
        parent = self._parent(path[0])
        return parent(path[1:]) if parent is not None else None

    def _parent(self, step: str) -> Callable[[tuple[str, ...]], Any] | None:
        if step not in self._parents:
            self._parents[step] = self._load_parent(step)
        return self._parents[step]

    def _load_parent(self, step: str) -> Callable[[tuple[str, ...]], Any] | None:
        name, narrowed = split_step(step)
        fld = self.obj.fields.get(name)
        if fld is None:  # owner.<column>: the owning user (none for a queue)
            value, target_name = self.values.get("owner_id"), USER if step == OWNER else None
        else:
            value = self.values.get(name)
            target_name = path_target(fld.definition, narrowed)
        if isinstance(value, Mapping):  # polymorphic: only the narrowed target's records
            value = value.get("id") if value.get("object") == target_name else None
        if not value or target_name is None:
            return None
        if target_name == USER:
            row = (
                self.ctx.conn.execute(
                    sa.select(*(users.c[c] for c in USER_PUBLIC_COLUMNS)).where(users.c.id == value)
                )
                .mappings()
                .first()
            )
            return (lambda path: row[path[0]]) if row is not None else None
        target = self.ctx.model.objects[target_name]
        row = (
            self.ctx.conn.execute(sa.select(target.table).where(target.table.c.id == value))
            .mappings()
            .first()
        )
        if row is None:
            return None
        values = {
            **from_columns(
                target,
                row,
                self.ctx.cipher_for(target),
                readers=self.ctx.codec(target).readers,
            ),
            **{k: row[k] for k in ("id", "owner_id", "created_at", "updated_at")},
        }
        return RecordValues(self.ctx, target, values)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
