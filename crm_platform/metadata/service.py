"""The metadata service: every metadata change runs here, as one transaction.

A change set edits a candidate model, which is validated as a whole; then the
DDL runs and the components, their revisions and the new metadata version are
written — all on one connection and one transaction, so a failure anywhere
leaves the database and the metadata exactly as they were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from crm_platform.core import Database, NotFound, ValidationFailed

from . import conversions, ddl, history, operations, renames
from .candidate import CandidateModel
from .conversions import CONVERSION_KEYS, ConversionOptions
from .impact import ReferenceIndex, change_scope
from .kinds import KindRegistry
from .snapshots import SnapshotCache
from .store import (
    ACTIVE,
    DELETED,
    LOCAL_OWNER,
    PURGED,
    ComponentChange,
    Snapshot,
    bump_version,
    lock_version,
    read_version,
    write_changes,
)
from .validate import relative_path, validate_candidate

Edit = Callable[[CandidateModel], Any]


@dataclass(frozen=True)
class ChangeResult:
    """What a change set did: the version it produced and the components it changed."""

    version: int
    changes: tuple[ComponentChange, ...]
    value: Any = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


class MetadataService:
    """Reads and changes an org's metadata. One instance per org, shared by all requests."""

    def __init__(
        self, db: Database, registry: KindRegistry, snapshots: SnapshotCache | None = None
    ) -> None:
        self.db = db
        self.registry = registry
        self.snapshots = snapshots or SnapshotCache()
        self.references = ReferenceIndex()

    # --- reading --------------------------------------------------------------------
    def version(self) -> int:
        with self.db.read() as conn:
            return read_version(conn)

    def snapshot(self) -> Snapshot:
        with self.db.read() as conn:
            return self.snapshots.read(conn)

    def list_objects(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every object's definition with its active fields, in creation order."""
        snap = self.snapshot()
        objects = snap.of_kind("object", include_deleted=include_deleted)
        return [self._assemble(snap, comp.name) for comp in objects]

    def get_object(self, name: str, *, include_deleted: bool = False) -> dict[str, Any]:
        snap = self.snapshot()
        comp = snap.get("object", name)
        if comp is None or (comp.status != ACTIVE and not include_deleted):
            raise NotFound(f"no object '{name}'")
        return self._assemble(snap, name)

    def get_field(self, object_name: str, field_name: str) -> dict[str, Any]:
        snap = self.snapshot()
        obj = snap.get("object", object_name)
        comp = snap.get("field", operations.field_key(object_name, field_name))
        if obj is None or obj.status != ACTIVE or comp is None:
            raise NotFound(f"no field '{field_name}' on '{object_name}'")
        return {**comp.definition, **_status_extra(comp.status)}

    def deleted_fields(self, object_name: str) -> list[dict[str, Any]]:
        snap = self.snapshot()
        return [
            dict(c.definition)
            for c in snap.children(object_name, include_deleted=True)
            if c.status == DELETED
        ]

    def _assemble(self, snap: Snapshot, name: str) -> dict[str, Any]:
        comp = snap.get("object", name)
        assert comp is not None
        fields = [dict(f.definition) for f in snap.children(name)]
        return {**comp.definition, "fields": fields, **_status_extra(comp.status)}

    def history(self, object_name: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            entries = history.object_history(conn, object_name)
        if not entries:
            raise NotFound(f"no object '{object_name}'")
        return entries

    def definition_at(self, object_name: str, version: int) -> dict[str, Any] | None:
        with self.db.read() as conn:
            return history.object_definition_at(conn, object_name, version)

    def diff(self, object_name: str, from_version: int, to_version: int | None) -> dict:
        with self.db.read() as conn:
            to = to_version if to_version is not None else read_version(conn)
            before = history.object_definition_at(conn, object_name, from_version)
            after = history.object_definition_at(conn, object_name, to)
        return {"from": from_version, "to": to, **history.diff_definitions(before, after)}

    # --- changing -------------------------------------------------------------------
    def change(self, edit: Edit, *, author_id: str, subject: str = "") -> ChangeResult:
        """Run ``edit`` on a candidate model; validate, apply DDL and store it, or nothing."""
        with self.db.write(ddl=True) as conn:
            return self.change_in(conn, edit, author_id=author_id, subject=subject)

    def change_in(
        self, conn: Connection, edit: Edit, *, author_id: str, subject: str = ""
    ) -> ChangeResult:
        """:meth:`change` inside a write transaction the caller holds (``db.write(ddl=True)``),
        so more work (a pack's records) can land in the same transaction or not at all.

        At most one change set per transaction: the snapshot cache must only ever see
        committed versions, and a second change set would read this one's.
        """
        version = lock_version(conn)
        model = CandidateModel(self.snapshots.read(conn))
        value = edit(model)
        operations.settle_rollup_storage(model)
        if not model.changes():
            return ChangeResult(version, (), value)
        scope = change_scope(model, self.registry, self.references)
        validate_candidate(model, self.registry, subject, scope)
        steps = _plan_ddl(conn, model, subject)
        changes = model.changes()
        _run_ddl(conn, steps)
        new_version = bump_version(conn, version)
        write_changes(conn, changes, version=new_version, author_id=author_id)
        for hook in self.registry.apply_hooks:
            hook(conn, tuple(changes), model)
        return ChangeResult(new_version, tuple(changes), value)

    def preview(self, edit: Edit, *, subject: str = "") -> tuple[ChangeResult, dict[str, list]]:
        """What :meth:`change` would do, changing nothing: the changes ``edit`` makes (with
        ``value``) and the problems validation and DDL planning would refuse them for."""
        with self.db.read() as conn:
            version = read_version(conn)
            model = CandidateModel(self.snapshots.read(conn))
            value = edit(model)
            operations.settle_rollup_storage(model)
            problems: dict[str, list] = {}
            if model.changes():
                try:
                    scope = change_scope(model, self.registry, self.references)
                    validate_candidate(model, self.registry, subject, scope)
                    _plan_ddl(conn, model, subject)
                except ValidationFailed as exc:
                    for path, messages in exc.errors.items():
                        found = messages if isinstance(messages, list) else [messages]
                        problems.setdefault(path, []).extend(found)
            return ChangeResult(version, tuple(model.changes()), value), problems

    def create_object(self, raw: Any, *, author_id: str, owner: str = LOCAL_OWNER) -> ChangeResult:
        _require_mapping(raw)
        return self.change(
            lambda m: operations.create_object(m, self.registry, raw, owner=owner),
            author_id=author_id,
            subject=str(raw.get("api_name", "")),
        )

    def patch_object(self, name: str, partial: Any, *, author_id: str) -> ChangeResult:
        """Change some attributes; a new ``api_name`` renames the object (metadata only),
        rewriting every reference to it in the same change set. ``value`` is its name."""

        def edit(model: CandidateModel) -> str:
            current, rest = _rename_first(
                partial, name, lambda new: renames.rename_object(model, self.registry, name, new)
            )
            if rest or current == name:
                operations.patch_object(model, self.registry, current, rest, owner=LOCAL_OWNER)
            return current

        return self.change(edit, author_id=author_id, subject=name)

    def replace_object(self, name: str, raw: Any, *, author_id: str) -> ChangeResult:
        """Make the object exactly ``raw``: fields left out go to the recycle bin."""
        _require_mapping(raw)
        raw = {**raw, "api_name": name}
        return self.change(
            lambda m: operations.update_object(
                m, self.registry, raw, owner=LOCAL_OWNER, replace_fields=True
            ),
            author_id=author_id,
            subject=name,
        )

    def delete_object(self, name: str, *, author_id: str) -> ChangeResult:
        return self.change(
            lambda m: operations.set_object_status(m, name, DELETED), author_id=author_id
        )

    def restore_object(self, name: str, *, author_id: str) -> ChangeResult:
        return self.change(
            lambda m: operations.set_object_status(m, name, ACTIVE), author_id=author_id
        )

    def purge_object(self, name: str, *, confirm: str | None, author_id: str) -> ChangeResult:
        return self.change(lambda m: operations.purge_object(m, name, confirm), author_id=author_id)

    def add_field(self, object_name: str, raw: Any, *, author_id: str) -> ChangeResult:
        subject = f"{object_name}.fields.{raw.get('api_name')}" if isinstance(raw, dict) else ""
        return self.change(
            lambda m: operations.add_field(m, self.registry, object_name, raw, owner=LOCAL_OWNER),
            author_id=author_id,
            subject=subject,
        )

    def add_field_with(
        self,
        object_name: str,
        raw: Any,
        components: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        author_id: str,
        preview: bool = False,
    ) -> tuple[ChangeResult, dict[str, list]]:
        """A new field and the components that make it usable (permission sets granting
        it, layouts placing it) as one change set — or, with ``preview``, what would refuse
        them, changing nothing. The setup UI's field wizard saves through here."""
        items = list(components)

        def edit(model: CandidateModel) -> None:
            operations.add_field(model, self.registry, object_name, raw, owner=LOCAL_OWNER)
            for kind, definition in items:
                operations.put_component(model, self.registry, kind, definition, owner=LOCAL_OWNER)

        if preview:
            return self.preview(edit)
        return self.change(edit, author_id=author_id), {}

    def patch_field(self, object_name: str, name: str, partial: Any, *, author_id: str):
        """Change options of a field; a new ``api_name`` renames it (metadata only),
        rewriting every reference to it in the same change set. ``value`` is its name."""

        options, partial = _conversion_options(partial, author_id)

        def edit(model: CandidateModel) -> str:
            current, rest = _rename_first(
                partial,
                name,
                lambda new: renames.rename_field(model, self.registry, object_name, name, new),
            )
            if rest or current == name:
                comp = operations.patch_field(
                    model, self.registry, object_name, current, rest, owner=LOCAL_OWNER
                )
                model.conversion_options[comp.id] = options
            return current

        return self.change(edit, author_id=author_id, subject=f"{object_name}.fields.{name}")

    def preview_type_change(
        self, object_name: str, name: str, partial: Any, *, author_id: str
    ) -> dict[str, Any]:
        """What changing the field as ``partial`` says would do, changing nothing: how many
        values convert, which do not (records and values), the steps, and the problems
        (broken formulas, refusals) the change would meet."""
        options, partial = _conversion_options(partial, author_id)
        with self.db.read() as conn:
            model = CandidateModel(self.snapshots.read(conn))
            comp = operations.patch_field(
                model, self.registry, object_name, name, partial, owner=LOCAL_OWNER
            )
            before = model.base_of(comp)
            if before is None or before.definition == comp.definition:
                return {"field": name, "changes": False}
            problems: dict[str, list[str]] = {}
            try:
                scope = change_scope(model, self.registry, self.references)
                validate_candidate(model, self.registry, "", scope)
            except ValidationFailed as exc:
                problems.update(exc.errors)
            table = model.components[("object", object_name)].physical["table"]
            taken = model.used_physical_names("field", object_name)
            preview = dataclasses.replace(options, on_unconvertible=conversions.CLEAR)
            plan = ddl.plan_alteration(
                conn, table, before.definition, comp.definition, comp.physical, taken, preview
            )
            for path, message in plan.problems:
                problems.setdefault(f"{object_name}.fields.{name}.{path}", []).append(message)
            return {
                "field": name,
                "changes": True,
                "from": dict(before.definition),
                "to": dict(comp.definition),
                **conversions.describe(conn, table, before, comp, plan.physical, plan.report),
                "problems": problems,
            }

    def field_usages(self, object_name: str, name: str) -> list[dict[str, str]]:
        """Every component that refers to the field: kind, name and where in it."""
        model = CandidateModel(self.snapshot())
        operations.active_object(model, object_name)
        if model.get("field", operations.field_key(object_name, name)) is None:
            raise NotFound(f"no field '{name}' on '{object_name}'")
        return [u.as_dict() for u in renames.field_usages(model, self.registry, object_name, name)]

    def aliases(self, object_name: str) -> dict[str, Any]:
        """The old names an object and its fields still answer to (see ``renames``)."""
        snap = self.snapshot()
        comp = snap.get("object", object_name)
        if comp is None or comp.status != ACTIVE:
            raise NotFound(f"no object '{object_name}'")
        fields = {
            f.definition["api_name"]: f.physical["alias"]
            for f in snap.children(object_name)
            if f.physical.get("alias")
        }
        return {"object": comp.physical.get("alias"), "fields": fields}

    def remove_alias(
        self, object_name: str, alias: str, *, field: str | None = None, author_id: str
    ) -> ChangeResult:
        """End the deprecation period of an old object or field name now."""
        kind, name = ("object", object_name)
        if field is not None:
            kind, name = ("field", operations.field_key(object_name, field))
        return self.change(
            lambda m: renames.remove_alias(m, kind, name, alias), author_id=author_id
        )

    def delete_field(self, object_name: str, name: str, *, author_id: str) -> ChangeResult:
        """To the recycle bin; refused (409, with the where-used list) while others use it."""

        def edit(model: CandidateModel) -> None:
            operations.set_field_status(model, object_name, name, DELETED)
            renames.refuse_if_used(model, self.registry, object_name, name)

        return self.change(edit, author_id=author_id, subject=object_name)

    def restore_field(self, object_name: str, name: str, *, author_id: str) -> ChangeResult:
        return self.change(
            lambda m: operations.set_field_status(m, object_name, name, ACTIVE),
            author_id=author_id,
            subject=object_name,
        )

    def purge_field(self, object_name: str, name: str, *, confirm: str | None, author_id: str):

        def edit(model: CandidateModel) -> None:
            operations.purge_field(model, object_name, name, confirm)
            renames.refuse_if_used(model, self.registry, object_name, name)

        return self.change(edit, author_id=author_id, subject=object_name)

    def apply_objects(
        self, definitions: Iterable[Mapping[str, Any]], *, author_id: str, owner: str = LOCAL_OWNER
    ) -> ChangeResult:
        """Create or update many objects in one change set: all of them, or none."""
        return self.apply_definitions(
            [("object", d) for d in definitions], author_id=author_id, owner=owner
        )

    def list_components(self, kind: str) -> list[dict[str, Any]]:
        """Every active component of a generic kind, in creation order."""
        return [dict(c.definition) for c in self.snapshot().of_kind(kind)]

    def get_component(self, kind: str, name: str) -> dict[str, Any]:
        comp = self.snapshot().get(kind, name)
        if comp is None or comp.status != ACTIVE:
            raise NotFound(f"no {kind} '{name}'")
        return dict(comp.definition)

    def put_component(
        self,
        kind: str,
        raw: Any,
        *,
        author_id: str,
        create_only: bool = False,
        owner: str = LOCAL_OWNER,
    ) -> ChangeResult:
        return self.change(
            lambda m: operations.put_component(
                m, self.registry, kind, raw, owner=owner, create_only=create_only
            ),
            author_id=author_id,
        )

    def remove_component(self, kind: str, name: str, *, author_id: str) -> ChangeResult:
        return self.change(
            lambda m: operations.remove_component(m, kind, name), author_id=author_id
        )

    def apply_definitions(
        self,
        definitions: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        author_id: str,
        owner: str = LOCAL_OWNER,
    ) -> ChangeResult:
        """Apply definitions of any kinds as one change set: all of them, or none.

        Objects are created first (headers and fields together), so lookups between
        objects of the same set resolve whatever their order; other kinds follow.
        """
        items = list(definitions)
        objects = [d for kind, d in items if kind == "object"]
        others = [(kind, d) for kind, d in items if kind != "object"]
        for kind, _ in others:
            if kind not in self.registry.kinds or kind == "field":
                raise ValidationFailed({"kind": f"unknown metadata kind '{kind}'"})

        def edit(model: CandidateModel) -> None:
            for index, raw in enumerate(objects):
                _require_mapping(raw, f"[{index}]")
                if model.get("object", raw.get("api_name", "")) is None:
                    operations.create_object(model, self.registry, raw, owner=owner)
                else:
                    operations.update_object(model, self.registry, raw, owner=owner)
            for kind, raw in others:
                operations.put_component(model, self.registry, kind, raw, owner=owner)

        return self.change(edit, author_id=author_id)

    def rollback_object(self, name: str, version: int, *, author_id: str) -> ChangeResult:
        """Make the object what it was right after ``version``, as a new forward revision.

        Names are part of what it was: an object or field renamed since is renamed back
        (with its references) before the old definition is applied. ``value`` is the
        object's name afterwards.
        """
        with self.db.read() as conn:
            target = history.object_definition_at(conn, name, version)
            names_then = history.names_at(conn, name, version)

        def edit(model: CandidateModel) -> str:
            current = model.get("object", name)
            if current is None:
                raise NotFound(f"no object '{name}'")
            if target is None:
                operations.set_object_status(model, name, DELETED)
                return name
            if current.status == DELETED:
                operations.set_object_status(model, name, ACTIVE)
            object_name = name
            old_object = names_then.get(current.id)
            if old_object and old_object != name and model.get("object", old_object) is None:
                renames.rename_object(model, self.registry, name, old_object)
                object_name = old_object
            for comp in model.fields_of(object_name, include_deleted=True):
                then = names_then.get(comp.id)
                now = comp.definition["api_name"]
                free = then and model.get("field", f"{object_name}.{then}") is None
                if then and then != now and free and comp.status == ACTIVE:
                    renames.rename_field(model, self.registry, object_name, now, then)
            operations.update_object(
                model,
                self.registry,
                {**target, "api_name": object_name},
                owner=current.owner,
                replace_fields=True,
            )
            return object_name

        return self.change(edit, author_id=author_id, subject=name)


def _conversion_options(partial: Any, author_id: str) -> tuple[ConversionOptions, Any]:
    """The conversion options a field change carries, and the change without them."""
    if not isinstance(partial, Mapping):
        return ConversionOptions(author_id=author_id), partial
    options = ConversionOptions.from_request(partial, author_id)
    return options, {k: v for k, v in partial.items() if k not in CONVERSION_KEYS}


def _rename_first(partial: Any, name: str, rename: Callable[[Any], Any]) -> tuple[str, Any]:
    """Apply the rename a partial asks for (a new ``api_name``); the name it leaves and
    the rest of the partial."""
    if not isinstance(partial, Mapping) or partial.get("api_name", name) == name:
        return name, partial
    rename(partial["api_name"])
    return partial["api_name"], {k: v for k, v in partial.items() if k != "api_name"}


def _status_extra(status: str) -> dict[str, Any]:
    return {} if status == ACTIVE else {"status": status}


def _require_mapping(raw: Any, path: str = "(root)") -> None:
    if not isinstance(raw, Mapping):
        raise ValidationFailed({path: "expected a JSON object"})


def _plan_ddl(conn: Connection, model: CandidateModel, subject: str) -> list[ddl.Step]:
    """The DDL for the candidate's changes; refusals (unsafe changes) raise ValidationFailed."""
    changes = model.changes()
    created_objects = {c.after.name for c in changes if c.after.kind == "object" and not c.before}
    purged_objects = {
        c.after.name for c in changes if c.after.kind == "object" and c.after.status == PURGED
    }
    steps: list[ddl.Step] = []
    problems: dict[str, list[str]] = {}
    for change in changes:
        comp = change.after
        if comp.kind == "object":
            steps.extend(_object_steps(model, change))
            continue
        if comp.kind != "field" or comp.parent in created_objects | purged_objects:
            continue
        table = model.components[("object", comp.parent)].physical["table"]
        if change.before is None:
            steps.append(lambda op, t=table, c=comp: ddl.add_field(op, t, c.definition, c.physical))
        elif comp.status == PURGED:
            steps.append(lambda op, t=table, p=change.before.physical: ddl.drop_field(op, t, p))
        elif model.renamed_definitions.get(comp.id, change.before.definition) != comp.definition:
            before = model.renamed_definitions.get(comp.id, change.before.definition)
            taken = model.used_physical_names("field", comp.parent)
            plan = ddl.plan_alteration(
                conn,
                table,
                before,
                comp.definition,
                comp.physical,
                taken,
                model.conversion_options.get(comp.id),
                comp.parent or "",
            )
            for path, message in plan.problems:
                full = f"{comp.parent}.fields.{comp.definition['api_name']}.{path}"
                problems.setdefault(relative_path(full, subject), []).append(message)
            if plan.physical != comp.physical:
                model.update(comp, physical=plan.physical)
            steps.extend(plan.steps)
    if problems:
        raise ValidationFailed(problems)
    return steps


def _object_steps(model: CandidateModel, change: ComponentChange) -> list[ddl.Step]:
    comp = change.after
    table = comp.physical["table"]
    if change.before is None:
        fields = [
            (f.definition, f.physical) for f in model.fields_of(comp.name, include_deleted=True)
        ]
        return [lambda op: ddl.create_object_table(op, table, fields)]
    if comp.status == PURGED:
        return [lambda op: ddl.drop_object_table(op, table)]
    return []


def _run_ddl(conn: Connection, steps: list[ddl.Step]) -> None:
    if not steps:
        return
    op = ddl.operations(conn)
    for step in steps:
        step(op)
