"""File fields on the record service's events (ADR 0037): a value written to a file field
must name a file uploaded for that object and field by the same writer and held by no
other record (so nobody points their record at someone else's file); once saved, the
file is marked as the record's; a file replaced or cleared goes, and so do a purged
record's files — a record in the recycle bin keeps them, so a restore brings them back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crm_platform.core import ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.runtime.records.events import EventContext, RecordEvent

from .file_storage import FileStorage, attach, file_id_of

FILE_TYPE = "file"


def file_fields(obj: ObjectModel) -> tuple[str, ...]:
    return tuple(name for name, f in obj.fields.items() if f.type == FILE_TYPE)


def _file_fields(ctx: EventContext) -> tuple[str, ...]:
    """The object's file fields, kept per metadata version (most objects have none)."""
    return ctx.compiled(("file_fields", ctx.object.api_name), lambda: file_fields(ctx.object))


@dataclass(frozen=True)
class FileEvents:
    """The handlers, bound to an org's storage (``storage()``: read when they run, so
    a test or a deployment may swap it)."""

    storage: Callable[[], FileStorage]

    def register(self, events) -> None:
        events.on(
            (RecordEvent.BEFORE_CREATE, RecordEvent.BEFORE_UPDATE),
            self.check_values,
            name="file_values",
        )
        events.on(
            (RecordEvent.AFTER_CREATE, RecordEvent.AFTER_UPDATE),
            self.keep_files,
            name="file_keep",
        )
        events.on(RecordEvent.AFTER_PURGE, self.drop_purged, name="file_purge")

    def check_values(self, ctx: EventContext) -> None:
        """Before save: each new file value names a file uploaded for this field."""
        names = _file_fields(ctx)
        if not names:
            return
        storage = self.storage()
        for change in ctx.changes:
            values = ctx.values(change)
            before = change.before or {}
            errors: dict[str, list[str]] = {}
            for name in names:
                value = values.get(name)
                if value in (None, "") or value == before.get(name):
                    continue
                if problem := self._problem(ctx, storage, change.record_id, name, value):
                    errors[name] = [problem]
            if errors:
                raise ValidationFailed(errors)

    @staticmethod
    def _problem(ctx: EventContext, storage: FileStorage, record_id: str, name: str, value):
        file_id = file_id_of(value)
        info = storage.info(file_id) if file_id else None
        if (
            info is None
            or info.object != ctx.object.api_name
            or info.field != name
            or (info.record_id not in (None, record_id))
            or (info.uploaded_by != ctx.user.id and not ctx.user.is_system)
            or value != info.value
        ):
            return "not a file uploaded for this field: upload it first"
        return None

    def keep_files(self, ctx: EventContext) -> None:
        """After save: new files are the record's; replaced or cleared ones go once the
        transaction commits."""
        names = _file_fields(ctx)
        if not names:
            return
        storage = self.storage()
        held: list[tuple[str, str]] = []
        dropped: list[str] = []
        for change in ctx.changes:
            after, before = change.after or {}, change.before or {}
            for name in names:
                if after.get(name) == before.get(name):
                    continue
                if new := file_id_of(after.get(name)):
                    held.append((new, change.record_id))
                if old := file_id_of(before.get(name)):
                    dropped.append(old)
        if held or dropped:
            ctx.after_commit(lambda: _settle(storage, held, dropped))

    def drop_purged(self, ctx: EventContext) -> None:
        """After a purge: the purged records' files go once it commits."""
        names = _file_fields(ctx)
        if not names:
            return
        storage = self.storage()
        gone = [
            file_id
            for change in ctx.changes
            for name in names
            if (file_id := file_id_of((change.before or {}).get(name)))
        ]
        if gone:
            ctx.after_commit(lambda: _settle(storage, [], gone))


def _settle(storage: FileStorage, held: Iterable[tuple[str, str]], dropped: Iterable[str]):
    for file_id, record_id in held:
        attach(storage, file_id, record_id)
    for file_id in dropped:
        storage.delete(file_id)
