"""The compiled org model: immutable, built per metadata version, cached (DESIGN §2).

Each request reads the metadata version (one indexed read) and gets the model
for it from the cache; only a moved version triggers a rebuild, so a field
added through one worker is live in every worker at its next request, and the
cost of a request does not grow with the number of objects or fields.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.fieldtypes import USER, targets_of
from crm_platform.metadata import (
    ACTIVE,
    Component,
    Snapshot,
    SnapshotCache,
    field_type,
    read_version,
    share_version,
    sub_columns,
)
from crm_platform.metadata.ddl import field_columns, quoted, system_columns

from .security.dependencies import FieldKey, close_dependencies, direct_dependencies
from .security.model import SecurityModel, compile_security


@dataclass(frozen=True)
class FieldModel:
    """A compiled field: its definition and the table columns it owns (by sub-column key)."""

    api_name: str
    type: str
    definition: Mapping[str, Any]
    columns: Mapping[str, sa.Column[Any]]

    @property
    def label(self) -> Any:
        return self.definition.get("label", self.api_name)

    @property
    def targets(self) -> tuple[str, ...]:
        """What a lookup or master-detail points at (objects, or ``user`` for the
        platform's users); empty for other fields."""
        return targets_of(self.definition) if field_type(self.type).relation else ()


@dataclass(frozen=True)
class ObjectModel:
    """A compiled object: its header, fields in order and its SQLAlchemy table."""

    api_name: str
    definition: Mapping[str, Any]
    table: sa.Table
    fields: Mapping[str, FieldModel]
    # old field name -> (current name, when it was renamed): still answered to, deprecated
    field_aliases: Mapping[str, tuple[str, str]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def name_field(self) -> str:
        return self.definition["name_field"]

    @property
    def sharing(self) -> str:
        return self.definition["sharing"]


@dataclass(frozen=True)
class Relation:
    """A lookup or master-detail field of ``child`` that points at another object."""

    child: str
    field: str
    kind: str  # lookup | master_detail
    on_delete: str  # restrict | set_null | cascade (master_detail: cascade)
    polymorphic: bool = False


@dataclass(frozen=True)
class Rollup:
    """A roll-up field of ``parent`` summarising ``child`` records through ``link``."""

    parent: str
    field: str
    child: str
    link: str
    function: str
    summarised: str | None
    filter: str | None
    visibility: str = "all"  # all: every child counts; viewer: the children the reader sees


@dataclass(frozen=True)
class OrgModel:
    """Everything compiled from one metadata version."""

    version: int
    objects: Mapping[str, ObjectModel]
    relations_to: Mapping[str, tuple[Relation, ...]]
    rollups_over: Mapping[str, tuple[Rollup, ...]]
    validation_rules: Mapping[str, tuple[Mapping[str, Any], ...]]
    security: SecurityModel
    # Org settings read with the snapshot; changing them moves the metadata version.
    time_zone: str = "UTC"
    default_language: str = "en"  # the org's locale: labels fall back to it
    fiscal_year_start_month: int = 1  # THIS_FISCAL_YEAR(), fiscal report buckets
    # old object name -> (current name, when it was renamed): still answered to, deprecated
    object_aliases: Mapping[str, tuple[str, str]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    # Every field each formula or roll-up is computed from (closed over formulas of
    # formulas and lookups): derived values inherit their read restrictions.
    field_dependencies: Mapping[FieldKey, frozenset[FieldKey]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    # what is built from this version and something per reader (visibility clauses by
    # principals, grants by permission sets), one dict per user of it, each bounded by it
    # (init=False: a copy made with dataclasses.replace starts with its own)
    runtime_cache: dict[Any, Any] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # What extensions (automation, reports...) compiled from the same snapshot, by name.
    extensions: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def object(self, name: str) -> ObjectModel | None:
        return self.objects.get(name)

    def extension(self, name: str) -> Any:
        """What the extension ``name`` compiled for this version (KeyError when absent)."""
        return self.extensions[name]

    def labelled_steps(
        self, obj: ObjectModel, path: Sequence[str]
    ) -> list[tuple[str, FieldModel | None]]:
        """The steps of a dotted path that its label names, each with its field (None for
        a system column such as ``owner``): a lookup's name at the end (``account.name``,
        ``owner.name``) is left out — a lookup shows its record's name anyway — so every
        output labels ``account.name`` as "Account" and ``account.industry`` as
        "Account › Industry"."""
        steps: list[tuple[str, FieldModel | None]] = []
        current: ObjectModel | None = obj
        for index, raw in enumerate(path):
            step = raw.partition("[")[0]
            name_field = current.name_field if current is not None else "name"
            if index and index == len(path) - 1 and step == name_field:
                break
            fld = current.fields.get(step) if current is not None else None
            steps.append((step, fld))
            targets = fld.targets if fld is not None else ()
            current = self.object(targets[0]) if len(targets) == 1 else None
        return steps


ExtensionCompiler = Callable[[Snapshot, OrgModel], Any]


def compile_org_model(snapshot: Snapshot, compiler: ModelCompiler | None = None) -> OrgModel:
    """Build the immutable model of a snapshot (from scratch unless given a ``compiler``)."""
    return (compiler or ModelCompiler()).compile(snapshot)


@dataclass(frozen=True)
class _CompiledObject:
    """One object compiled, with the components it was compiled from."""

    header: Component
    fields: Mapping[str, Component]  # the snapshot's field group (every status), by name
    model: ObjectModel
    relations: tuple[tuple[str, Relation], ...]  # (target, relation)
    rollups: tuple[tuple[str, Rollup], ...]  # (child, rollup)
    # the paths each formula or roll-up of the object reads (see security.dependencies)
    dependencies: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()

    def compiled_from(self, header: Component, fields: Mapping[str, Component]) -> bool:
        # Snapshots share unchanged groups, so identity settles it nearly always.
        same_header = header is self.header or header == self.header
        return same_header and (fields is self.fields or fields == self.fields)


class ModelCompiler:
    """Compiles snapshots, reusing each object compiled earlier from the same components.

    An object's compiled part (its SQLAlchemy table, field models and the relations and
    roll-ups its fields declare) depends on its header and its own fields only, so a
    part compiled from components equal to the snapshot's is the part a fresh compile
    would build. Each table lives in a ``MetaData`` of its own: a ``Table`` belongs to
    exactly one ``MetaData``, and a shared one would tie every reused table to the
    model that first built it (nothing in the platform resolves tables by name, and no
    table has foreign keys to another, so nothing needs them together). Thread-safe:
    parts are immutable and the remembered set is replaced whole.
    """

    def __init__(self) -> None:
        self._parts: Mapping[str, _CompiledObject] = {}
        self._extensions: dict[str, ExtensionCompiler] = {}

    def add_extension(self, name: str, build: ExtensionCompiler) -> None:
        """Compile ``build(snapshot, model)`` with every model, kept as
        ``model.extensions[name]``: how layers above the runtime (automation, reports)
        keep their own compiled view of a metadata version without the runtime knowing them."""
        self._extensions[name] = build

    def compile(self, snapshot: Snapshot) -> OrgModel:
        """The model of ``snapshot``; objects whose components did not change are reused."""
        known = self._parts
        parts: dict[str, _CompiledObject] = {}
        for header in snapshot.of_kind("object"):
            fields = snapshot.groups.get(("field", header.name), {})
            part = known.get(header.name)
            if part is None or not part.compiled_from(header, fields):
                part = _compile_part(header, fields)
            parts[header.name] = part
        self._parts = parts
        model = _assemble(snapshot, parts)
        if not self._extensions:
            return model
        built = {name: build(snapshot, model) for name, build in self._extensions.items()}
        return dataclasses.replace(model, extensions=MappingProxyType(built))


def _assemble(snapshot: Snapshot, parts: Mapping[str, _CompiledObject]) -> OrgModel:
    relations: dict[str, list[Relation]] = {}
    rollups: dict[str, list[Rollup]] = {}
    direct: dict[FieldKey, tuple[tuple[str, ...], ...]] = {}
    for name, part in parts.items():
        direct.update(((name, field), paths) for field, paths in part.dependencies)
        for target, relation in part.relations:
            relations.setdefault(target, []).append(relation)
        for child, rollup in part.rollups:
            rollups.setdefault(child, []).append(rollup)
    rules: dict[str, list[Mapping[str, Any]]] = {}
    for comp in snapshot.of_kind("validation_rule"):
        if comp.definition.get("active", True) and comp.parent in parts:
            rules.setdefault(comp.parent, []).append(MappingProxyType(dict(comp.definition)))
    return OrgModel(
        snapshot.version,
        MappingProxyType({name: part.model for name, part in parts.items()}),
        MappingProxyType({k: tuple(v) for k, v in relations.items()}),
        MappingProxyType({k: tuple(v) for k, v in rollups.items()}),
        MappingProxyType({k: tuple(v) for k, v in rules.items()}),
        compile_security(snapshot),
        object_aliases=MappingProxyType(
            {
                alias["name"]: (name, alias["since"])
                for name, part in parts.items()
                if (alias := part.header.physical.get("alias")) and alias["name"] not in parts
            }
        ),
        field_dependencies=close_dependencies(
            {name: part.model for name, part in parts.items()}, direct
        ),
    )


def _compile_part(header: Component, fields: Mapping[str, Component]) -> _CompiledObject:
    active = [c for c in fields.values() if c.status == ACTIVE]
    model = _compile_object(header, active, sa.MetaData())
    relations: dict[str, list[Relation]] = {}
    rollups: dict[str, list[Rollup]] = {}
    for field in model.fields.values():
        _index_field(model.api_name, field, relations, rollups)
    return _CompiledObject(
        header,
        fields,
        model,
        tuple((target, r) for target, found in relations.items() for r in found),
        tuple((child, r) for child, found in rollups.items() for r in found),
        tuple(
            (f.api_name, direct_dependencies(model, f))
            for f in model.fields.values()
            if f.type in {"formula", "rollup_summary"}
        ),
    )


def _index_field(
    object_name: str,
    field: FieldModel,
    relations: dict[str, list[Relation]],
    rollups: dict[str, list[Rollup]],
) -> None:
    definition = field.definition
    if field_type(field.type).relation:
        targets = field.targets
        on_delete = definition.get("on_delete", "cascade")
        for target in targets:
            if target == USER:
                continue  # users are deactivated, never deleted: nothing follows them
            relations.setdefault(target, []).append(
                Relation(object_name, field.api_name, field.type, on_delete, len(targets) > 1)
            )
    elif field.type == "rollup_summary":
        child, link = definition["relation"].split(".", 1)
        rollups.setdefault(child, []).append(
            Rollup(
                object_name,
                field.api_name,
                child,
                link,
                definition["function"],
                definition.get("field"),
                definition.get("filter"),
                definition.get("visibility", "all"),
            )
        )


def _compile_object(comp: Component, fields: list[Component], sql_metadata: sa.MetaData):
    columns = system_columns()
    compiled_fields = {}
    all_fields = sorted(fields, key=lambda c: (c.position, c.name))
    for field_comp in all_fields:
        own = field_columns(field_comp.definition, field_comp.physical)
        columns.extend(own)
        keys = sub_columns(field_comp.definition)
        compiled_fields[field_comp.definition["api_name"]] = (
            field_comp,
            dict(zip(keys, own, strict=True)),
        )
    table = sa.Table(quoted(comp.physical["table"]), sql_metadata, *columns)
    field_models = {
        name: FieldModel(
            api_name=name,
            type=fc.definition["type"],
            definition=MappingProxyType(dict(fc.definition)),
            columns=MappingProxyType({key: table.c[col.name] for key, col in cols.items()}),
        )
        for name, (fc, cols) in compiled_fields.items()
    }
    aliases = {
        alias["name"]: (fc.definition["api_name"], alias["since"])
        for fc in all_fields
        if (alias := fc.physical.get("alias")) and alias["name"] not in field_models
    }
    return ObjectModel(
        api_name=comp.name,
        definition=MappingProxyType(dict(comp.definition)),
        table=table,
        fields=MappingProxyType(field_models),
        field_aliases=MappingProxyType(aliases),
    )


def read_org_settings(conn: Connection) -> dict[str, Any]:
    """The org settings the model carries: its time zone, default language and the
    first month of its fiscal year."""
    from crm_platform.core.tables import org

    query = sa.select(org.c.time_zone, org.c.locale, org.c.fiscal_year_start_month)
    row = conn.execute(query.where(org.c.id == 1)).one()
    return {
        "time_zone": row.time_zone,
        "default_language": row.locale,
        "fiscal_year_start_month": row.fiscal_year_start_month,
    }


class ModelCache:
    """Holds the compiled model of the newest metadata version this process has seen.

    A moved version is caught up incrementally: the snapshot cache reads only the
    components stored since, and the compiler reuses every object they do not touch.
    """

    def __init__(
        self, snapshots: SnapshotCache | None = None, compiler: ModelCompiler | None = None
    ) -> None:
        self._model: OrgModel | None = None
        self._lock = threading.Lock()
        self.snapshots = snapshots or SnapshotCache()
        self.compiler = compiler or ModelCompiler()

    def model_for(
        self, conn: Connection, *, for_write: bool = False, version: int | None = None
    ) -> OrgModel:
        """The model for the version visible to ``conn``, rebuilt only when it moved.

        ``for_write`` holds off metadata changes until the transaction ends. ``version``:
        the version ``conn`` already read in this transaction (with the request's user), so
        it is not read again; a write on PostgreSQL still takes its shared lock (SQLite's
        write transaction already keeps every other writer out).
        """
        if for_write and (version is None or conn.dialect.name != "sqlite"):
            version = share_version(conn)
        elif version is None:
            version = read_version(conn)
        model = self._model
        if model is not None and model.version == version:
            return model
        with self._lock:
            model = self._model
            if model is None or model.version != version:
                model = dataclasses.replace(
                    self.compiler.compile(self.snapshots.read(conn)),
                    **read_org_settings(conn),
                )
                # A reader still on an older snapshot gets its model, but never evicts
                # the newer one (no recompiling back and forth across a change).
                if self._model is None or model.version > self._model.version:
                    self._model = model
        return model
