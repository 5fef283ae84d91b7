"""The record service: the one write path (DESIGN §5), and the reads that go with it.

A :class:`RecordSession` is one transaction. Every write runs the documented
steps in order: deserialise (types, unknown and read-only fields), defaults,
before-save hooks, system validation (required, picklists, lookups, uniqueness),
validation rules, the insert or update with its version check and auto-numbers,
field history, roll-ups on parents, after-save hooks — then the session commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from crm_platform.core import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    new_id,
    quantize,
    utc_now,
)
from crm_platform.core.crypto import FieldCipher, load_cipher
from crm_platform.core.tables import delete_links, field_history, shares, users
from crm_platform.expressions import EvalContext, ExpressionError, ValueType, evaluate
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel, OrgModel
from ..security import UserAccess, access_clause, load_access
from ..security.shares import (
    MANUAL,
    describe_principal,
    principal_key,
    refresh_rule_shares,
)
from ..users import User
from . import counters, rollups, search
from .codec import RecordCodec, compile_codec, from_columns, to_columns
from .query import (
    COUNT_CAP,
    ExpressionCache,
    ListRequest,
    Page,
    SelectBuilder,
    after_cursor,
    decode_cursor,
    default_paths,
    encode_cursor,
    order_clauses,
    parse_paths,
    select_record_columns,
    sort_keys,
)

Hook = Callable[["RecordSession", "RecordChange"], None]
MAX_HOOK_DEPTH = 5


@dataclass
class RecordChange:
    """One record write, as hooks see it: the values before and after."""

    object: ObjectModel
    record_id: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    event: str  # create | update | delete | restore


@dataclass
class RecordHooks:
    """Extension points of the write path (triggers and automation attach here)."""

    before_save: list[Hook] = field(default_factory=list)
    after_save: list[Hook] = field(default_factory=list)


class RecordService:
    """The record service of one org; ``session(user)`` opens one transaction."""

    def __init__(self, org: Any) -> None:
        self.org = org
        self.hooks = RecordHooks()
        self.expressions = ExpressionCache()
        self._codecs: dict[tuple[int, str], RecordCodec] = {}
        self._cipher: FieldCipher | None = None

    @property
    def cipher(self) -> FieldCipher:
        if self._cipher is None:
            self._cipher = load_cipher(self.org.settings)
        return self._cipher

    def cipher_for(self, obj: ObjectModel) -> FieldCipher | None:
        """The cipher, for objects with encrypted fields only (no key is made needlessly)."""
        if any(field_type(f.type).encrypted for f in obj.fields.values()):
            return self.cipher
        return None

    def codec(self, model: OrgModel, obj: ObjectModel) -> RecordCodec:
        key = (model.version, obj.api_name)
        codec = self._codecs.get(key)
        if codec is None:
            if any(k[0] != model.version for k in self._codecs):
                self._codecs = {}
            codec = compile_codec(obj)
            self._codecs[key] = codec
        return codec

    @contextmanager
    def session(
        self, user: User, *, write: bool = True, access: UserAccess | None = None
    ) -> Iterator[RecordSession]:
        """One transaction: everything done in it lands together or not at all.

        ``access`` computed earlier in the request is reused when it was made from the
        same compiled model; otherwise it is loaded again.
        """
        opener = self.org.db.write if write else self.org.db.read
        with opener() as conn:
            model = self.org.models.model_for(conn, for_write=write)
            yield RecordSession(self, conn, model, user, access)


class RecordSession:
    """Record operations inside one transaction, on behalf of one user."""

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
        self.context = EvalContext(now=self.now, time_zone=model.time_zone)
        if access is None or access.model is not model or access.user.id != user.id:
            access = load_access(conn, user, model, model.security)
        self.access = access
        self._hook_depth = 0

    # --- lookups ---------------------------------------------------------------------
    def object(self, name: str) -> ObjectModel:
        obj = self.model.object(name)
        if obj is None:
            raise NotFound(f"no object '{name}'")
        return obj

    def builder(self, obj: ObjectModel, *, as_system: bool = False) -> SelectBuilder:
        access = None if as_system else self.access
        return SelectBuilder(
            self.model, obj, self.context, self.dialect, self.service.expressions, access
        )

    def require(self, obj: ObjectModel, operation: str) -> None:
        """403 unless the user's permission sets allow ``operation`` on the object."""
        if not self.access.can(obj.api_name, operation):
            raise Forbidden(f"you may not {operation} {obj.api_name} records")

    def _visible(self, obj: ObjectModel, mode: str = "read") -> list[Any]:
        clause = access_clause(self.access, obj, obj.table, mode)
        return [] if clause is None else [clause]

    def _require_edit_access(self, obj: ObjectModel, record_id: str, *, deleted: bool = False):
        """404 for a record the user cannot see, 403 for one they see but may not edit."""
        table = obj.table
        state = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
        base = sa.select(table.c.id).where(table.c.id == record_id, state)
        if self.conn.execute(base.where(*self._visible(obj, "edit"))).first():
            return
        if self.conn.execute(base.where(*self._visible(obj, "read"))).first():
            raise Forbidden(f"you may not change this {obj.api_name} record")
        where = " in the recycle bin" if deleted else ""
        raise NotFound(f"no {obj.api_name} record '{record_id}'{where}")

    def _require_editable_fields(self, obj: ObjectModel, names) -> None:
        refused = [
            n for n in names if n in obj.fields and not self.access.field_editable(obj.api_name, n)
        ]
        if refused:
            raise Forbidden(
                f"you may not edit {', '.join(refused)}",
                extra={"errors": {n: ["you may not edit this field"] for n in refused}},
            )

    # --- reading ---------------------------------------------------------------------
    def get(
        self,
        object_name: str,
        record_id: str,
        fields=None,
        *,
        include_deleted: bool = False,
        just_written: bool = False,
    ) -> dict[str, Any]:
        """One record with its formulas computed; 404 when absent (or in the recycle bin).

        ``just_written``: the record this user just saved, shown even if the save gave
        it away (a new owner); field-level security still applies.
        """
        obj = self.object(object_name)
        self.require(obj, "read")
        builder = self.builder(obj)
        paths = parse_paths(fields, obj, builder) if fields else default_paths(obj, builder)
        columns = select_record_columns(builder, paths)
        query = (
            sa.select(*columns)
            .select_from(builder.from_clause)
            .where(obj.table.c.id == record_id, *([] if just_written else self._visible(obj)))
        )
        if not include_deleted:
            query = query.where(obj.table.c.deleted_at.is_(None))
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no {object_name} record '{record_id}'")
        return self._record(obj, row, paths)

    def list(self, object_name: str, request: ListRequest) -> Page:
        """A page of records: filtered, sorted (NULLs last, id last) and keyset-paged in SQL."""
        return self._list(self.object(object_name), request, [])

    def related(
        self, object_name: str, record_id: str, relation: str, request: ListRequest
    ) -> Page:
        """The children of a record through one relation, listed like any list."""
        obj = self.object(object_name)
        self.get(object_name, record_id, fields=["id"])
        found = self._relation(obj, relation)
        child = self.model.objects[found.child]
        fld = child.fields[found.field]
        conditions = [child.table.c[fld.columns[SIMPLE].name] == record_id]
        if found.polymorphic:
            conditions.append(child.table.c[fld.columns["object"].name] == obj.api_name)
        return self._list(child, request, conditions)

    def relations(self, object_name: str) -> list[dict[str, str]]:
        """The related lists of an object: their names and what they list."""
        obj = self.object(object_name)
        return [
            {"name": name, "object": r.child, "field": r.field}
            for name, r in self._relation_names(obj).items()
        ]

    def _relation_names(self, obj: ObjectModel) -> dict[str, Any]:
        relations = self.model.relations_to.get(obj.api_name, ())
        per_child: dict[str, int] = {}
        for r in relations:
            per_child[r.child] = per_child.get(r.child, 0) + 1
        names = {}
        for r in relations:
            explicit = (
                self.model.objects[r.child].fields[r.field].definition.get("relationship_name")
            )
            names[f"{r.child}.{r.field}"] = r
            if explicit:
                names[explicit] = r
            elif per_child[r.child] == 1:
                names[r.child] = r
        return names

    def _relation(self, obj: ObjectModel, relation: str):
        found = self._relation_names(obj).get(relation)
        if found is None:
            raise NotFound(f"no related list '{relation}' on {obj.api_name}")
        return found

    def _list(self, obj: ObjectModel, request: ListRequest, extra: list[Any]) -> Page:
        self.require(obj, "read")
        builder = self.builder(obj)
        paths = (
            parse_paths(request.fields, obj, builder)
            if request.fields
            else default_paths(obj, builder)
        )
        keys = sort_keys(builder, request.order_by)
        conditions = [
            obj.table.c.deleted_at.is_not(None)
            if request.include_deleted
            else obj.table.c.deleted_at.is_(None),
            *extra,
            *self._visible(obj),
        ]
        if request.where:
            _checked, where = builder.expression(request.where, ValueType.BOOLEAN, "where")
            conditions.append(where)
        total = capped = None
        if request.count:
            total, capped = self._count(builder, conditions)
        page_conditions = list(conditions)
        if request.cursor:
            page_conditions.append(after_cursor(keys, decode_cursor(request.cursor, keys)))
        columns = select_record_columns(builder, paths)
        key_columns = [k.expr.label(f"k:{i}") for i, k in enumerate(keys)]
        query = (
            sa.select(*columns, *key_columns)
            .select_from(builder.from_clause)
            .where(*page_conditions)
            .order_by(*order_clauses(keys))
            .limit(request.limit + 1)
        )
        rows = self.conn.execute(query).mappings().all()
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = encode_cursor([last[f"k:{i}"] for i in range(len(keys))])
        page = Page([self._record(obj, r, paths) for r in rows], next_cursor)
        if request.count:
            page.total, page.total_capped = total, bool(capped)
        return page

    def _count(self, builder: SelectBuilder, conditions) -> tuple[int, bool]:
        inner = (
            sa.select(sa.literal(1))
            .select_from(builder.from_clause)
            .where(*conditions)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        total = self.conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()
        return min(total, COUNT_CAP), total > COUNT_CAP

    def _record(self, obj: ObjectModel, row: Mapping[str, Any], paths) -> dict[str, Any]:
        record: dict[str, Any] = {name: row[name] for name in ("id", "owner_id")}
        stored = [p[0] for p in paths if len(p) == 1 and p[0] in obj.fields]
        base_names = [n for n in stored if obj.fields[n].type != "formula"]
        record.update(from_columns(obj, row, self.service.cipher_for(obj), base_names))
        if not self.access.has("view_encrypted"):
            for name in base_names:
                if field_type(obj.fields[name].type).encrypted and record.get(name) is not None:
                    record[name] = mask(
                        record[name], obj.fields[name].definition.get("mask", "all")
                    )
        for name in stored:
            if obj.fields[name].type == "formula":
                record[name] = row[f"f:{name}"]
        for path in paths:
            if len(path) > 1:
                record[".".join(path)] = row["p:" + ".".join(path)]
        for name in ("created_at", "created_by", "updated_at", "updated_by", "version"):
            record[name] = row[name]
        if row.get("deleted_at") is not None:
            record["deleted_at"] = row["deleted_at"]
        ordered = {"id": record.pop("id")}
        ordered.update(record)
        return ordered

    def _current(self, obj: ObjectModel, record_id: str, *, lock: bool, deleted: bool = False):
        query = sa.select(obj.table).where(obj.table.c.id == record_id)
        query = query.where(
            obj.table.c.deleted_at.is_not(None) if deleted else obj.table.c.deleted_at.is_(None)
        )
        if lock and self.dialect != "sqlite":
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        if row is None:
            where = " in the recycle bin" if deleted else ""
            raise NotFound(f"no {obj.api_name} record '{record_id}'{where}")
        return row

    # --- writing ---------------------------------------------------------------------
    def create(self, object_name: str, data: Any, *, record_id: str | None = None) -> dict:
        """Create a record through every step of the write path; returns it as stored."""
        obj = self.object(object_name)
        self.require(obj, "create")
        values = self.service.codec(self.model, obj).load(data)
        self._require_editable_fields(obj, values)
        owner_id = values.pop("owner_id", None) or self.user.id
        self._apply_defaults(obj, values)
        change = RecordChange(obj, record_id or new_id(), None, values, "create")
        self._run_hooks(self.service.hooks.before_save, change)
        self._validate(obj, values, None, owner_id)
        row = to_columns(obj, values, self.service.cipher_for(obj))
        self._take_auto_numbers(obj, row)
        row.update(
            id=change.record_id,
            owner_id=owner_id,
            created_at=self.now,
            created_by=self.user.id,
            updated_at=self.now,
            updated_by=self.user.id,
            version=1,
        )
        self._execute_write(obj, obj.table.insert().values(row), values)
        self._refresh_rule_shares(obj, change.record_id, {**values, "owner_id": owner_id})
        search.index_records(self.conn, obj, [change.record_id])
        self._refresh_rollups(obj, {change.record_id}, values)
        self._run_hooks(self.service.hooks.after_save, change)
        return self.get(object_name, change.record_id, just_written=True)

    def update(
        self, object_name: str, record_id: str, data: Any, *, if_match: int | None = None
    ) -> dict:
        """Change some fields; with ``if_match`` a stale version answers 412."""
        obj = self.object(object_name)
        self.require(obj, "edit")
        self._require_edit_access(obj, record_id)
        current = self._current(obj, record_id, lock=True)
        if if_match is not None and current["version"] != if_match:
            raise PreconditionFailed(
                f"the record changed since version {if_match} (now {current['version']})",
                extra={"current_version": current["version"]},
            )
        values = self.service.codec(self.model, obj).load(data)
        self._require_editable_fields(obj, values)
        before = from_columns(obj, current, self.service.cipher_for(obj))
        before["owner_id"] = current["owner_id"]
        changed = {k: v for k, v in values.items() if before.get(k) != v}
        change = RecordChange(obj, record_id, before, {**before, **changed}, "update")
        self._run_hooks(self.service.hooks.before_save, change)
        changed = {k: v for k, v in change.after.items() if before.get(k) != v}
        owner_id = changed.pop("owner_id", current["owner_id"])
        if not changed and owner_id == current["owner_id"]:
            return self.get(object_name, record_id)
        self._validate(
            obj, {**before, **changed}, changed, owner_id, record_id=record_id, before=before
        )
        row = to_columns(obj, changed, self.service.cipher_for(obj))
        row.update(
            owner_id=owner_id,
            updated_at=self.now,
            updated_by=self.user.id,
            version=current["version"] + 1,
        )
        statement = (
            obj.table.update()
            .where(obj.table.c.id == record_id, obj.table.c.version == current["version"])
            .values(row)
        )
        result = self._execute_write(obj, statement, changed)
        if result.rowcount == 0:
            raise PreconditionFailed("the record was changed by someone else: read it and retry")
        self._write_history(obj, record_id, before, changed)
        self._refresh_rule_shares(obj, record_id, {**before, **changed, "owner_id": owner_id})
        if search.affects_index(obj, changed):
            search.index_records(self.conn, obj, [record_id])
        self._refresh_rollups(obj, {record_id}, changed, before=before)
        self._run_hooks(self.service.hooks.after_save, change)
        return self.get(object_name, record_id, just_written=True)

    def upsert(self, object_name: str, field_name: str, value: str, data: Any) -> tuple[dict, bool]:
        """Update the record whose external id is ``value``, or create it; (record, created)."""
        obj = self.object(object_name)
        fld = obj.fields.get(field_name)
        if fld is None or not (field_type(fld.type).always_unique or fld.definition.get("unique")):
            raise ValidationFailed({field_name: "upserts need an external_id or unique field"})
        if not isinstance(data, Mapping):
            raise ValidationFailed({"(root)": "expected a JSON object of field values"})
        value = self._key_value(obj, field_name, value)
        if field_name in data and data[field_name] != value:
            raise ValidationFailed({field_name: "differs from the value in the URL"})
        column = obj.table.c[fld.columns[SIMPLE].name]
        found = self.conn.execute(
            sa.select(obj.table.c.id).where(
                column == value, obj.table.c.deleted_at.is_(None), *self._visible(obj)
            )
        ).first()
        if found is not None:
            return self.update(object_name, found[0], data), False
        return self.create(object_name, {**data, field_name: value}), True

    def search(self, q: str, objects: list[str] | None, limit: int) -> list[dict[str, Any]]:
        """Records matching ``q`` across searchable objects, best first."""

        def allowed(obj: ObjectModel):
            if not self.access.can(obj.api_name, "read"):
                return None
            ids = sa.select(obj.table.c.id).where(
                obj.table.c.deleted_at.is_(None), *self._visible(obj)
            )
            fields = [n for n in obj.fields if self.access.field_readable(obj.api_name, n)]
            return ids, fields, obj.name_field in fields

        return search.search(self.conn, self.model, q, objects, limit, allowed)

    def _key_value(self, obj: ObjectModel, field_name: str, raw: str) -> Any:
        """The typed value of an upsert key given as text in the URL (checked by the codec)."""
        candidate: Any = raw
        if field_type(obj.fields[field_name].type).storage == "integer":
            try:
                candidate = int(raw)
            except ValueError as exc:
                raise ValidationFailed({field_name: "not a valid integer"}) from exc
        codec = self.service.codec(self.model, obj)
        return codec.load({field_name: candidate})[field_name]

    def aggregate(
        self, object_name: str, group_by: list[str], metrics: list[str], where: str | None
    ) -> list[dict[str, Any]]:
        """Grouped figures computed in SQL (count, sum, avg, min, max, count_distinct)."""
        obj = self.object(object_name)
        self.require(obj, "read")
        if not metrics:
            raise ValidationFailed({"metrics": "name at least one metric, e.g. count"})
        builder = self.builder(obj)
        groups = [(g, builder.expression(g, None, "group_by")) for g in group_by]
        for name, (checked, _expr) in groups:
            if checked.value_type in {ValueType.MULTI, ValueType.ANY}:
                raise ValidationFailed({"group_by": f"cannot group by '{name}'"})
        selected = [expr.label(f"g:{i}") for i, (_, (_c, expr)) in enumerate(groups)]
        plan = []
        for metric in metrics:
            function, argument = parse_metric(metric)
            if function == "count" and argument is None:
                selected.append(sa.func.count().label(f"m:{len(plan)}"))
                plan.append((metric, "count", None))
                continue
            checked, expr = builder.expression(argument, None, "metrics")
            numeric = checked.value_type is ValueType.NUMBER
            if function in {"sum", "avg"} and not numeric:
                raise ValidationFailed({"metrics": f"{function} needs a number: '{argument}'"})
            if function == "avg":
                selected.append(sa.func.sum(expr).label(f"m:{len(plan)}"))
                selected.append(sa.func.count(expr).label(f"c:{len(plan)}"))
            elif function == "count_distinct":
                selected.append(sa.func.count(sa.distinct(expr)).label(f"m:{len(plan)}"))
            elif function == "count":
                selected.append(sa.func.count(expr).label(f"m:{len(plan)}"))
            else:
                selected.append(getattr(sa.func, function)(expr).label(f"m:{len(plan)}"))
            plan.append((metric, function, checked))
        conditions = [obj.table.c.deleted_at.is_(None), *self._visible(obj)]
        if where:
            conditions.append(builder.expression(where, ValueType.BOOLEAN, "where")[1])
        query = sa.select(*selected).select_from(builder.from_clause).where(*conditions)
        if groups:
            group_exprs = [expr for _, (_c, expr) in groups]
            query = query.group_by(*group_exprs).order_by(
                *[e.asc().nulls_last() for e in group_exprs]
            )
        rows = self.conn.execute(query).mappings().all()
        out = []
        for row in rows:
            item = {name: row[f"g:{i}"] for i, (name, _) in enumerate(groups)}
            for index, (metric, function, checked) in enumerate(plan):
                value = row[f"m:{index}"]
                if function == "avg":
                    count = row[f"c:{index}"]
                    scale = (checked.scale or 0) + 4
                    value = quantize(Decimal(value) / count, scale) if count else None
                item[metric] = value
            out.append(item)
        return out

    def delete(self, object_name: str, record_id: str) -> str:
        """Move a record (and the children that go with it) to the recycle bin; the batch id."""
        obj = self.object(object_name)
        self.require(obj, "delete")
        self._require_edit_access(obj, record_id)
        current = self._current(obj, record_id, lock=True)
        batch = new_id()
        affected = self._delete_tree(obj, [record_id], batch, depth=0)
        for child_name, ids in affected.items():
            search.unindex_records(self.conn, self.model.objects[child_name], ids)
            self._refresh_rollups(self.model.objects[child_name], ids, None, deleted=True)
        change = RecordChange(obj, record_id, dict(current), {}, "delete")
        self._run_hooks(self.service.hooks.after_save, change)
        return batch

    def _delete_tree(
        self, obj: ObjectModel, ids: list[str], batch: str, depth: int
    ) -> dict[str, set[str]]:
        if depth > 10:
            raise Conflict("records nest too deeply to delete at once")
        affected = {obj.api_name: set(ids)}
        for relation in self.model.relations_to.get(obj.api_name, ()):
            child = self.model.objects[relation.child]
            fld = child.fields[relation.field]
            link = child.table.c[fld.columns[SIMPLE].name]
            live = [child.table.c.deleted_at.is_(None), link.in_(ids)]
            if relation.polymorphic:
                live.append(child.table.c[fld.columns["object"].name] == obj.api_name)
            children = self.conn.execute(sa.select(child.table.c.id, link).where(*live)).all()
            if not children:
                continue
            if relation.on_delete == "restrict":
                raise Conflict(
                    f"{len(children)} {child.api_name} records point at it through "
                    f"'{relation.field}': delete or re-link them first",
                    extra={
                        "errors": {
                            relation.field: [f"used by {len(children)} {child.api_name} records"]
                        }
                    },
                )
            if relation.on_delete == "set_null":
                self._null_links(child, relation.field, children, batch)
                continue
            nested = self._delete_tree(child, [c[0] for c in children], batch, depth + 1)
            for name, nested_ids in nested.items():
                affected.setdefault(name, set()).update(nested_ids)
        self.conn.execute(
            obj.table.update()
            .where(obj.table.c.id.in_(ids), obj.table.c.deleted_at.is_(None))
            .values(deleted_at=self.now, deleted_batch=batch)
        )
        return affected

    def _null_links(self, child: ObjectModel, field_name: str, children, batch: str) -> None:
        fld = child.fields[field_name]
        self.conn.execute(
            delete_links.insert(),
            [
                {
                    "batch_id": batch,
                    "object": child.api_name,
                    "record_id": cid,
                    "field": field_name,
                    "target_id": target,
                }
                for cid, target in children
            ],
        )
        nulls = {c.name: None for c in fld.columns.values()}
        ids = [c[0] for c in children]
        self.conn.execute(child.table.update().where(child.table.c.id.in_(ids)).values(nulls))
        self._refresh_rollups(child, set(ids), None, deleted=True)

    def restore(self, object_name: str, record_id: str) -> dict:
        """Bring a record back with exactly the children deleted with it; 409 on a unique clash."""
        obj = self.object(object_name)
        self.require(obj, "delete")
        self._require_edit_access(obj, record_id, deleted=True)
        current = self._current(obj, record_id, lock=True, deleted=True)
        batch = current["deleted_batch"]
        restored: dict[str, set[str]] = {}
        for candidate in self.model.objects.values():
            table = candidate.table
            ids = [
                r[0]
                for r in self.conn.execute(
                    sa.select(table.c.id).where(table.c.deleted_batch == batch)
                )
            ]
            if not ids:
                continue
            try:
                with self.conn.begin_nested():
                    self.conn.execute(
                        table.update()
                        .where(table.c.deleted_batch == batch)
                        .values(deleted_at=None, deleted_batch=None)
                    )
            except IntegrityError as exc:
                raise Conflict(
                    f"restoring would duplicate a unique value of {candidate.api_name}"
                ) from exc
            restored[candidate.api_name] = set(ids)
        self._relink(batch, restored)
        for name, ids in restored.items():
            search.index_records(self.conn, self.model.objects[name], ids)
            self._refresh_rollups(self.model.objects[name], ids, None, deleted=True)
        return self.get(object_name, record_id)

    def _relink(self, batch: str, restored: Mapping[str, set[str]]) -> None:
        """Point again the lookups the delete set to null; the targets came back with the
        batch, so ``restored`` (object -> ids) names their objects."""
        object_of = {rid: name for name, ids in restored.items() for rid in ids}
        rows = (
            self.conn.execute(sa.select(delete_links).where(delete_links.c.batch_id == batch))
            .mappings()
            .all()
        )
        for row in rows:
            child = self.model.object(row["object"])
            if child is None or row["field"] not in child.fields:
                continue
            column = child.fields[row["field"]].columns[SIMPLE].name
            values = {column: row["target_id"]}
            if "object" in child.fields[row["field"]].columns:
                target_object = object_of.get(row["target_id"])
                values[child.fields[row["field"]].columns["object"].name] = target_object
            self.conn.execute(
                child.table.update()
                .where(child.table.c.id == row["record_id"], child.table.c[column].is_(None))
                .values(values)
            )
            self._refresh_rollups(child, {row["record_id"]}, None, deleted=True)
        self.conn.execute(delete_links.delete().where(delete_links.c.batch_id == batch))

    def purge(self, object_name: str, record_id: str) -> None:
        """Remove a record in the recycle bin, and its batch, for good."""
        obj = self.object(object_name)
        self.require(obj, "delete")
        self._require_edit_access(obj, record_id, deleted=True)
        current = self._current(obj, record_id, lock=True, deleted=True)
        batch = current["deleted_batch"]
        for candidate in self.model.objects.values():
            in_batch = sa.select(candidate.table.c.id).where(
                candidate.table.c.deleted_batch == batch
            )
            self.conn.execute(
                shares.delete().where(
                    shares.c.object == candidate.api_name, shares.c.record_id.in_(in_batch)
                )
            )
            self.conn.execute(
                candidate.table.delete().where(candidate.table.c.deleted_batch == batch)
            )
        self.conn.execute(delete_links.delete().where(delete_links.c.batch_id == batch))

    # --- steps of the write path ----------------------------------------------------
    def _apply_defaults(self, obj: ObjectModel, values: dict[str, Any]) -> None:
        codec = self.service.codec(self.model, obj)
        for name, fld in obj.fields.items():
            if name in values or name not in codec.writable:
                continue
            definition = fld.definition
            if "default" in definition:
                values[name] = codec.schema.load({name: definition["default"]}, partial=True)[name]
            elif "default_expression" in definition:
                values[name] = self._evaluate(
                    obj, definition["default_expression"], values, None, name
                )
            elif fld.type == "picklist":
                default = next(
                    (
                        v["value"]
                        for v in definition["values"]
                        if isinstance(v, dict) and v.get("default")
                    ),
                    None,
                )
                if default is not None:
                    values[name] = default
            elif fld.type == "boolean":
                values[name] = False

    def _evaluate(self, obj, source: str, values, before, what: str, expected=None) -> Any:
        checked = self.service.expressions.checked(
            self.model, obj, source, expected, None, self.dialect
        )
        resolver = RecordValues(self, obj, values)
        prior = RecordValues(self, obj, before) if before is not None else None
        context = EvalContext(
            now=self.context.now,
            time_zone=self.context.time_zone,
            prior=prior,
            is_new=before is None,
        )
        try:
            return evaluate(checked, resolver, context)
        except ExpressionError as exc:
            raise ValidationFailed({what: [exc.detail]}) from exc

    def _validate(
        self,
        obj: ObjectModel,
        values: Mapping[str, Any],
        changed: Mapping[str, Any] | None,
        owner_id: str,
        *,
        record_id: str | None = None,
        before: Mapping[str, Any] | None = None,
    ) -> None:
        errors: dict[str, list[str]] = {}
        checking = values if changed is None else changed
        for name, fld in obj.fields.items():
            definition = fld.definition
            value = values.get(name)
            required = definition.get("required") or fld.type == "master_detail"
            if required and (name in checking or changed is None) and _blank(value):
                errors.setdefault(name, []).append("required")
            if name not in checking or value is None:
                continue
            if fld.type == "picklist":
                inactive = {
                    v["value"]
                    for v in definition["values"]
                    if isinstance(v, dict) and v.get("active") is False
                }
                if value in inactive:
                    errors.setdefault(name, []).append(f"'{value}' is no longer an active value")
            if fld.type == "multi_picklist":
                inactive = {
                    v["value"]
                    for v in definition["values"]
                    if isinstance(v, dict) and v.get("active") is False
                }
                if inactive & set(value):
                    errors.setdefault(name, []).append("includes a value that is no longer active")
        errors.update(dependent_picklist_problems(obj, values, checking))
        if errors:
            raise ValidationFailed(errors)
        self._check_lookups(obj, checking)
        if record_id is not None:
            self._check_hierarchy(obj, checking, record_id)
        if changed is None or "owner_id" in (changed or {}) or owner_id != self.user.id:
            self._check_owner(owner_id, obj)
        self._check_unique(obj, checking, record_id)
        self._check_rules(obj, values, before)

    def _check_hierarchy(self, obj: ObjectModel, values, record_id: str) -> None:
        """A hierarchy lookup (parent account) may not make a record its own ancestor."""
        for name, value in values.items():
            fld = obj.fields.get(name)
            if fld is None or value is None or not fld.definition.get("hierarchy"):
                continue
            column = obj.table.c[fld.columns[SIMPLE].name]
            current, steps = value, 0
            while current is not None and steps <= MAX_HIERARCHY_DEPTH:
                if current == record_id:
                    raise ValidationFailed({name: "this would make the record its own ancestor"})
                current = self.conn.execute(
                    sa.select(column).where(obj.table.c.id == current)
                ).scalar()
                steps += 1

    def _check_owner(self, owner_id: str, obj: ObjectModel) -> None:
        """An owner is an active user, or a queue that takes records of this object."""
        queues = self.model.security.queues.values()
        if any(q.id == owner_id and obj.api_name in q.objects for q in queues):
            return
        found = self.conn.execute(
            sa.select(users.c.id).where(users.c.id == owner_id, users.c.active.is_(True))
        ).first()
        if found is None:
            raise ValidationFailed({"owner_id": "no active user or queue for this object"})

    def _check_lookups(self, obj: ObjectModel, values: Mapping[str, Any]) -> None:
        errors = {}
        for name, value in values.items():
            fld = obj.fields.get(name)
            if fld is None or value is None or not field_type(fld.type).relation:
                continue
            if isinstance(value, dict):
                target_name, target_id = value["object"], value["id"]
            else:
                target_name, target_id = fld.definition["target"], value
            target = self.model.object(target_name)
            found = (
                target is not None
                and self.access.can(target_name, "read")
                and self.conn.execute(
                    sa.select(target.table.c.id).where(
                        target.table.c.id == target_id,
                        target.table.c.deleted_at.is_(None),
                        *self._visible(target),
                    )
                ).first()
            )
            if not found:
                errors[name] = [f"no {target_name} record '{target_id}'"]
        if errors:
            raise ValidationFailed(errors)

    def _check_unique(self, obj: ObjectModel, values: Mapping[str, Any], record_id: str | None):
        for name, value in values.items():
            fld = obj.fields.get(name)
            if fld is None or value is None:
                continue
            if not (fld.definition.get("unique") or field_type(fld.type).always_unique):
                continue
            column = obj.table.c[fld.columns[SIMPLE].name]
            query = sa.select(obj.table.c.id).where(
                column == value, obj.table.c.deleted_at.is_(None)
            )
            if record_id:
                query = query.where(obj.table.c.id != record_id)
            if self.conn.execute(query.limit(1)).first():
                raise Conflict(
                    f"another {obj.api_name} record already has this {name}",
                    extra={"errors": {name: ["already used by another record"]}},
                )

    def _check_rules(self, obj: ObjectModel, values, before) -> None:
        """Refuse the record when a rule's error condition holds (PRIORVALUE reads ``before``)."""
        rules = self.model.validation_rules.get(obj.api_name, ())
        if not rules:
            return
        errors: dict[str, list[str]] = {}
        for rule in rules:
            failed = self._evaluate(
                obj,
                rule["condition"],
                values,
                before,
                f"rule {rule['api_name']}",
                ValueType.BOOLEAN,
            )
            if failed is True:
                errors.setdefault(rule.get("field") or "(record)", []).append(rule["message"])
        if errors:
            raise ValidationFailed(errors)

    def _take_auto_numbers(self, obj: ObjectModel, row: dict[str, Any]) -> None:
        for name, fld in obj.fields.items():
            if fld.type != "auto_number":
                continue
            definition = fld.definition
            number = counters.next_value(
                self.conn, counters.counter_name(obj.api_name, name), definition.get("start", 1)
            )
            row[fld.columns[SIMPLE].name] = counters.format_number(definition["pattern"], number)

    def _execute_write(self, obj: ObjectModel, statement, values: Mapping[str, Any]):
        try:
            with self.conn.begin_nested():
                return self.conn.execute(statement)
        except IntegrityError as exc:
            unique = [
                n
                for n in values
                if n in obj.fields
                and (obj.fields[n].definition.get("unique") or obj.fields[n].type == "external_id")
            ]
            raise Conflict(
                f"another {obj.api_name} record already has this value",
                extra={"errors": {n: ["already used by another record"] for n in unique}},
            ) from exc

    def _write_history(self, obj: ObjectModel, record_id: str, before, changed) -> None:
        tracked = [
            name
            for name in changed
            if name in obj.fields
            and (
                obj.fields[name].definition.get("track_history")
                or obj.definition.get("track_history")
            )
        ]
        if not tracked:
            return
        self.conn.execute(
            field_history.insert(),
            [
                {
                    "id": new_id(),
                    "object": obj.api_name,
                    "record_id": record_id,
                    "field": name,
                    "old_value": _jsonable(before.get(name)),
                    "new_value": _jsonable(changed[name]),
                    "changed_by": self.user.id,
                    "changed_at": self.now,
                }
                for name in tracked
            ],
        )

    def _refresh_rule_shares(self, obj: ObjectModel, record_id: str, values) -> None:
        def matches(rule) -> bool:
            what = f"sharing rule {rule.name}"
            return self._evaluate(obj, rule.criteria, values, None, what, ValueType.BOOLEAN) is True

        refresh_rule_shares(self.conn, self.model.security, obj, record_id, matches)

    # --- manual shares ---------------------------------------------------------------
    def list_shares(self, object_name: str, record_id: str) -> list[dict[str, Any]]:
        """Who else sees a record, and why (manual shares and sharing rules)."""
        obj = self.object(object_name)
        self.get(object_name, record_id, fields=["id"])
        rows = self.conn.execute(
            sa.select(shares).where(
                shares.c.object == obj.api_name, shares.c.record_id == record_id
            )
        ).mappings()
        security = self.model.security
        return [
            {
                "principal": describe_principal(security, r["principal"]),
                "key": r["principal"],
                "access": r["access"],
                "reason": r["reason"],
            }
            for r in rows
        ]

    def add_share(self, object_name: str, record_id: str, data: Any) -> dict[str, Any]:
        """Share a record with a user, group or role (needs edit access to the record)."""
        obj = self.object(object_name)
        if obj.sharing not in {"private", "public_read"}:
            raise ValidationFailed(
                {"(record)": f"{obj.api_name} is {obj.sharing}: records are not shared one by one"}
            )
        self._require_edit_access(obj, record_id)
        if not isinstance(data, Mapping) or data.get("access") not in {"read", "edit"}:
            raise ValidationFailed({"access": "read or edit"})
        key = principal_key(self.model.security, data, self._active_user)
        self.conn.execute(
            shares.delete().where(
                shares.c.object == obj.api_name,
                shares.c.record_id == record_id,
                shares.c.principal == key,
                shares.c.reason == MANUAL,
            )
        )
        self.conn.execute(
            shares.insert().values(
                object=obj.api_name,
                record_id=record_id,
                principal=key,
                access=data["access"],
                reason=MANUAL,
            )
        )
        return {
            "principal": describe_principal(self.model.security, key),
            "key": key,
            "access": data["access"],
            "reason": MANUAL,
        }

    def remove_share(self, object_name: str, record_id: str, key: str) -> None:
        obj = self.object(object_name)
        self._require_edit_access(obj, record_id)
        removed = self.conn.execute(
            shares.delete().where(
                shares.c.object == obj.api_name,
                shares.c.record_id == record_id,
                shares.c.principal == key,
                shares.c.reason == MANUAL,
            )
        ).rowcount
        if not removed:
            raise NotFound("no manual share for this principal")

    def _active_user(self, user_id: str) -> bool:
        return (
            self.conn.execute(
                sa.select(users.c.id).where(users.c.id == user_id, users.c.active.is_(True))
            ).first()
            is not None
        )

    def history(self, object_name: str, record_id: str) -> list[dict[str, Any]]:
        """The tracked field changes of a record, newest first."""
        obj = self.object(object_name)
        self.get(object_name, record_id, fields=["id"], include_deleted=True)
        rows = self.conn.execute(
            sa.select(field_history, users.c.email)
            .join(users, users.c.id == field_history.c.changed_by, isouter=True)
            .where(field_history.c.object == obj.api_name, field_history.c.record_id == record_id)
            .order_by(field_history.c.changed_at.desc(), field_history.c.id.desc())
        ).mappings()
        return [
            {
                "field": r["field"],
                "old_value": r["old_value"],
                "new_value": r["new_value"],
                "changed_by": {"id": r["changed_by"], "email": r["email"]},
                "changed_at": r["changed_at"],
            }
            for r in rows
            if self.access.field_readable(obj.api_name, r["field"])
        ]

    def _refresh_rollups(
        self, obj: ObjectModel, ids: set[str], changed, *, before=None, deleted=False
    ):
        rollup_defs = self.model.rollups_over.get(obj.api_name, ())
        if not rollup_defs:
            return
        relevant = (
            deleted
            or changed is None
            or any(name in (changed or {}) for r in rollup_defs for name in (r.link, r.summarised))
            or any(r.filter for r in rollup_defs)
        )
        if not relevant:
            return
        parents = rollups.parents_of(self.conn, self.model, obj.api_name, ids)
        if before is not None:
            for rollup in rollup_defs:
                old_parent = before.get(rollup.link)
                if old_parent:
                    parents.setdefault((rollup.parent, rollup.link), set()).add(old_parent)
        rollups.recompute(self.conn, self.model, obj.api_name, parents, self._rollup_filter)

    def _rollup_filter(self, rollup, child_table):
        child = self.model.objects[rollup.child]
        builder = self.builder(child)
        _checked, expr = builder.expression(
            rollup.filter, ValueType.BOOLEAN, f"{rollup.field}.filter"
        )
        return expr

    def _run_hooks(self, hooks: list[Hook], change: RecordChange) -> None:
        if not hooks:
            return
        if self._hook_depth >= MAX_HOOK_DEPTH:
            raise Conflict("automation recursed too deeply")
        self._hook_depth += 1
        try:
            for hook in hooks:
                hook(self, change)
        finally:
            self._hook_depth -= 1


class RecordValues:
    """Field values for the Python evaluator: the record's own, then lookups followed lazily."""

    def __init__(self, session: RecordSession, obj: ObjectModel, values: Mapping[str, Any]):
        self.session = session
        self.obj = obj
        self.values = values
        self._parents: dict[str, RecordValues | None] = {}

    def __call__(self, path: tuple[str, ...]) -> Any:
        name = path[0]
        fld = self.obj.fields.get(name)
        if len(path) == 1:
            if fld is not None and fld.type == "formula":
                return self.session._evaluate(
                    self.obj, fld.definition["expression"], self.values, None, name
                )
            return self.values.get(name)
        if fld is not None and field_type(fld.type).compound:
            compound = self.values.get(name) or {}
            return compound.get(path[1])
        parent = self._parent(name)
        return parent(path[1:]) if parent is not None else None

    def _parent(self, name: str) -> RecordValues | None:
        if name not in self._parents:
            target_id = self.values.get(name)
            fld = self.obj.fields[name]
            target = self.session.model.objects[fld.definition["target"]]
            row = None
            if target_id:
                row = (
                    self.session.conn.execute(
                        sa.select(target.table).where(target.table.c.id == target_id)
                    )
                    .mappings()
                    .first()
                )
            self._parents[name] = (
                RecordValues(
                    self.session,
                    target,
                    {
                        **from_columns(target, row, self.session.service.cipher_for(target)),
                        **{k: row[k] for k in ("id", "owner_id", "created_at", "updated_at")},
                    },
                )
                if row
                else None
            )
        return self._parents[name]


METRIC_FUNCTIONS = ("count", "sum", "avg", "min", "max", "count_distinct")


def parse_metric(metric: str) -> tuple[str, str | None]:
    """``count`` or ``sum(amount)`` as (function, argument)."""
    text = metric.strip()
    if text == "count":
        return "count", None
    head, _, rest = text.partition("(")
    if head in METRIC_FUNCTIONS and rest.endswith(")") and rest[:-1].strip():
        return head, rest[:-1].strip()
    choices = "|".join(METRIC_FUNCTIONS[1:])
    raise ValidationFailed(
        {"metrics": f"'{metric}' is not a metric: use count or {choices}(field)"}
    )


MAX_HIERARCHY_DEPTH = 500


def dependent_picklist_problems(obj: ObjectModel, values, checking) -> dict[str, list[str]]:
    """A dependent picklist's value must be valid for its controlling field's value."""
    problems: dict[str, list[str]] = {}
    for name, fld in obj.fields.items():
        controlling = fld.definition.get("controlling_field")
        if controlling is None or values.get(name) is None:
            continue
        if name not in checking and controlling not in checking:
            continue
        chosen = values.get(name)
        parent_value = values.get(controlling)
        for entry in fld.definition["values"]:
            restricted = isinstance(entry, dict) and "valid_for" in entry
            if restricted and entry["value"] == chosen and parent_value not in entry["valid_for"]:
                problems[name] = [f"'{chosen}' is not valid when {controlling} is {parent_value!r}"]
    return problems


def mask(value: str, style: str) -> str:
    """An encrypted value as shown without view_encrypted."""
    if style == "last4" and len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * 8


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value
    return value
