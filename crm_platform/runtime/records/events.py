"""Record events: the extension point of the write path (DESIGN §5, steps 4, 8, 9, 10).

Every record change fires typed events before and after it happens: create,
update, delete, restore and purge. Children that a cascade deletes, restores,
purges or re-links fire them too, marked ``cascaded``. Handlers register on an
org's :class:`RecordEvents` registry (one per org, like the kind registry) and
receive a narrow :class:`EventContext`: the changes, the user, a way to write
through the record service and a way to queue work for after the commit. The
search index, roll-ups, criteria shares and field history are handlers like any
other (``handlers.py``); automation attaches the same way.

One event delivers the changes of one object at once (a batch write delivers
its whole batch), so a handler can do its work set-based.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection

from crm_platform.core import CrmError, after_commit
from crm_platform.core.crypto import FieldCipher

from ..model import ObjectModel, OrgModel
from ..users import User
from .refusals import Refusals


class RecordEvent(StrEnum):
    """When a handler runs: before or after one kind of change."""

    BEFORE_CREATE = "before_create"
    AFTER_CREATE = "after_create"
    BEFORE_UPDATE = "before_update"
    AFTER_UPDATE = "after_update"
    BEFORE_DELETE = "before_delete"
    AFTER_DELETE = "after_delete"
    BEFORE_RESTORE = "before_restore"
    AFTER_RESTORE = "after_restore"
    BEFORE_PURGE = "before_purge"
    AFTER_PURGE = "after_purge"

    @property
    def is_before(self) -> bool:
        return self.value.startswith("before_")

    @property
    def operation(self) -> str:
        """``create``, ``update``, ``delete``, ``restore`` or ``purge``."""
        return self.value.partition("_")[2]


SAVE_EVENTS = (RecordEvent.BEFORE_CREATE, RecordEvent.BEFORE_UPDATE)
# Set on a transaction whose writes are derived data (a prediction's scores): the
# record's own bookkeeping (history, search, roll-ups, shares) still runs, automation
# that reacts to people's changes (triggers) does not. See ADR 0048.
QUIET_AUTOMATION = "crm_quiet_automation"


@contextmanager
def quiet_automation(conn: Connection) -> Iterator[None]:
    """Within the block, ``conn``'s record changes fire no automation (the mark is
    removed after it: a pooled connection's ``info`` outlives the transaction)."""
    conn.info[QUIET_AUTOMATION] = True
    try:
        yield
    finally:
        conn.info.pop(QUIET_AUTOMATION, None)


# Set on a transaction that loads data in bulk (an import's batch): every handler runs,
# but nobody follows the new records automatically (collab): follows are for the records
# people work on, and an import of 100,000 accounts would have its importer follow — and
# be told of every change to — all of them.
BULK_LOAD = "crm_bulk_load"


@contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """Within the block, ``conn``'s record changes are a data load (see ``BULK_LOAD``;
    the mark is removed after it, as :func:`quiet_automation`'s)."""
    conn.info[BULK_LOAD] = True
    try:
        yield
    finally:
        conn.info.pop(BULK_LOAD, None)


@dataclass(frozen=True)
class RecordChange:
    """One record's change, as handlers see it.

    ``before`` holds the values before the change (None on create), ``after`` the
    values after it (None once deleted or purged); ``changed`` names the fields
    whose value moved (``owner_id`` included), in the order they were given.
    ``cascaded`` marks a record changed because another record was deleted,
    restored or purged (``batch_id`` names that recycle-bin batch).
    """

    object: ObjectModel
    record_id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changed: tuple[str, ...] = ()
    cascaded: bool = False
    batch_id: str | None = None


class RecordWriter(Protocol):
    """What a handler may do with records: the service's own operations, same transaction."""

    def get(self, object_name: str, record_id: str, fields: Any = None) -> dict[str, Any]: ...

    def create(self, object_name: str, data: Any) -> dict[str, Any]: ...

    def update(self, object_name: str, record_id: str, data: Any) -> dict[str, Any]: ...

    def delete(self, object_name: str, record_id: str) -> str: ...


class EventServices(Protocol):
    """What the record service lends an event context (kept narrow on purpose)."""

    conn: Connection
    model: OrgModel
    user: User
    now: datetime
    access: Any  # the user's UserAccess: what they may read (messages name nothing else)

    @property
    def writer(self) -> RecordWriter: ...

    def evaluate_on(
        self,
        obj: ObjectModel,
        source: str,
        values: Mapping[str, Any],
        what: str,
        expected: Any,
        before: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def condition_sql(self, obj: ObjectModel, source: str, what: str) -> Any: ...

    def compiled(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any: ...

    def cipher_for(self, obj: ObjectModel) -> FieldCipher | None: ...

    def visible_names(self, obj: ObjectModel, ids: Iterable[str]) -> dict[str, str | None]: ...

    def as_user(self, user: User) -> RecordWriter: ...


@dataclass(frozen=True)
class EventContext:
    """What a handler receives: the changes of one object for one event, and its tools."""

    event: RecordEvent
    object: ObjectModel
    changes: tuple[RecordChange, ...]
    _services: EventServices = field(repr=False)
    _pending: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _refusals: Refusals = field(default_factory=Refusals, repr=False)

    @property
    def user(self) -> User:
        return self._services.user

    @property
    def quiet(self) -> bool:
        """Whether these changes are derived data that automation leaves alone."""
        return bool(self.connection.info.get(QUIET_AUTOMATION))

    @property
    def bulk_load(self) -> bool:
        """Whether these changes load data in bulk (an import): see ``BULK_LOAD``."""
        return bool(self.connection.info.get(BULK_LOAD))

    @property
    def services(self) -> EventServices:
        """The record service's tools on this transaction, for extensions that act on
        records (automation runs its actions with them)."""
        return self._services

    @property
    def model(self) -> OrgModel:
        return self._services.model

    @property
    def now(self) -> datetime:
        return self._services.now

    @property
    def records(self) -> RecordWriter:
        """Reads and writes through the record service, in this transaction, as this user."""
        return self._services.writer

    def records_as(self, user: User) -> RecordWriter:
        """Reads and writes through the record service, in this transaction, as ``user``
        (automation acts as the system user)."""
        return self._services.as_user(user)

    @property
    def connection(self) -> Connection:
        """The transaction, for handlers that keep derived platform tables (search entries,
        roll-ups, share rows, history). Record writes go through :attr:`records`."""
        return self._services.conn

    def set_field(self, record_id: str, name: str, value: Any) -> None:
        """A field update by a before-save handler; validation then checks the result."""
        if self.event not in SAVE_EVENTS:
            raise RuntimeError(f"fields are set before create or update, not in {self.event}")
        if name not in self.object.fields and name != "owner_id":
            raise KeyError(f"{self.object.api_name} has no field '{name}'")
        self._pending[record_id][name] = value

    def refuse(self, record_id: str, error: CrmError, because: Collection[str] = ()) -> None:
        """Refuse one record of a before-save batch with ``error``: raised at once (the
        batch is refused), unless the writer asked for every refusal of the batch (an
        import), which then gets them together before anything is written. ``because``
        names the other records of the batch the refusal is about (duplicates among
        them), so that it stands only while one of them does."""
        if self.event not in SAVE_EVENTS:
            raise RuntimeError(f"records are refused before create or update, not in {self.event}")
        if record_id not in self._pending:
            raise KeyError(f"record {record_id} is not in this batch")
        self._refusals.refuse(record_id, error, because)

    def refused(self, record_id: str) -> bool:
        """Whether a handler already refused this record (the batch goes on without it)."""
        return record_id in self._refusals

    def values(self, change: RecordChange) -> Mapping[str, Any]:
        """The values a change leads to (in a before-save handler: with its field updates)."""
        if self.event in SAVE_EVENTS:
            return self._pending[change.record_id]
        return change.after or change.before or {}

    def evaluate(
        self, change: RecordChange, source: str, *, what: str = "expression", expected=None
    ) -> Any:
        """An expression of the language evaluated on a change's values."""
        return self._services.evaluate_on(self.object, source, self.values(change), what, expected)

    def condition_sql(self, obj: ObjectModel, source: str, what: str) -> Any:
        """A boolean expression over ``obj`` compiled to SQL (no sharing: system work)."""
        return self._services.condition_sql(obj, source, what)

    def compiled(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """What ``build()`` makes, kept for this metadata version (statements, plans)."""
        return self._services.compiled(key, build)

    @property
    def cipher(self) -> FieldCipher | None:
        """The org's cipher when the object has encrypted fields (for platform tables that
        keep field values, such as history: they hold ciphertext, never plaintext)."""
        return self._services.cipher_for(self.object)

    def after_commit(self, work: Callable[[], None]) -> None:
        """Run ``work`` once the transaction commits; never if it rolls back."""
        after_commit(self._services.conn, work)


EventHandler = Callable[[EventContext], None]


@dataclass(frozen=True)
class Registration:
    """A handler and what it listens to (``objects`` None: every object)."""

    name: str
    events: frozenset[RecordEvent]
    handler: EventHandler
    objects: frozenset[str] | None = None

    def wants(self, event: RecordEvent, object_name: str) -> bool:
        return event in self.events and (self.objects is None or object_name in self.objects)


@dataclass
class RecordEvents:
    """The handlers of one org's record events, run in the order they registered."""

    _registrations: list[Registration] = field(default_factory=list)
    _cache: dict[tuple[RecordEvent, str], tuple[EventHandler, ...]] = field(default_factory=dict)

    def on(
        self,
        events: RecordEvent | Iterable[RecordEvent],
        handler: EventHandler,
        *,
        objects: Iterable[str] | None = None,
        name: str | None = None,
    ) -> Registration:
        """Call ``handler`` for ``events`` (on ``objects`` only, when given)."""
        wanted = frozenset([events] if isinstance(events, RecordEvent) else events)
        registration = Registration(
            name or getattr(handler, "__qualname__", repr(handler)),
            wanted,
            handler,
            None if objects is None else frozenset(objects),
        )
        self._registrations.append(registration)
        self._cache.clear()
        return registration

    def remove(self, registration: Registration) -> None:
        self._registrations.remove(registration)
        self._cache.clear()

    def handlers(self, event: RecordEvent, object_name: str) -> tuple[EventHandler, ...]:
        key = (event, object_name)
        found = self._cache.get(key)
        if found is None:
            found = tuple(r.handler for r in self._registrations if r.wants(event, object_name))
            self._cache[key] = found
        return found

    @property
    def registrations(self) -> Sequence[Registration]:
        return tuple(self._registrations)
