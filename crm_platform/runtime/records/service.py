"""The record service: the one write path (DESIGN §5), and the reads that go with it.

:class:`RecordService` belongs to one org: its codecs, expression cache, cipher and
record-event registry. :meth:`RecordService.session` opens one transaction as a
:class:`RecordSession`, a thin front over the modules that do the work: ``reads``,
``writes`` (with ``validation``), ``recycle``, ``manual_shares`` and ``aggregates``,
all sharing the :class:`~.context.RecordContext` of the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from crm_platform.core.crypto import FieldCipher, load_cipher

from ..model import ObjectModel, OrgModel
from ..security import UserAccess
from ..users import User
from . import aggregates, manual_shares, reads, recycle, writes
from .codec import RecordCodec, compile_codec
from .context import RecordContext
from .events import RecordEvents
from .handlers import register_platform_handlers
from .query import ExpressionCache, ListRequest, Page


@dataclass(frozen=True)
class RequestWrite:
    """A write transaction its caller opened (the API's request, whose authentication read
    the user in it): the connection, the metadata version read in this transaction (or
    None), and the context whose exit commits it, or rolls it back on an error."""

    conn: Connection
    version: int | None
    transaction: AbstractContextManager[Any]


class RecordService:
    """The record service of one org; ``session(user)`` opens one transaction."""

    def __init__(self, org: Any) -> None:
        self.org = org
        self.events = RecordEvents()
        register_platform_handlers(self.events)
        self.expressions = ExpressionCache()
        self._codecs: dict[tuple[int, str], RecordCodec] = {}
        self._compiled: dict[tuple[Any, ...], Any] = {}
        self._compiled_version: int | None = None
        self._cipher: FieldCipher | None = None

    @property
    def cipher(self) -> FieldCipher:
        if self._cipher is None:
            self._cipher = load_cipher(self.org.settings)
        return self._cipher

    def codec(self, model: OrgModel, obj: ObjectModel) -> RecordCodec:
        """The object's codec for this metadata version (older versions' codecs are dropped)."""
        key = (model.version, obj.api_name)
        codec = self._codecs.get(key)
        if codec is None:
            if any(k[0] != model.version for k in self._codecs):
                self._codecs = {}
            codec = compile_codec(obj)
            self._codecs[key] = codec
        return codec

    def compiled(self, model: OrgModel, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """What ``build()`` makes for ``key``, kept until the metadata version moves."""
        if self._compiled_version is None or model.version > self._compiled_version:
            # a newer version: drop the older ones' entries (a reader still on an older
            # snapshot keys its own entries by its version, so it never gets these)
            self._compiled, self._compiled_version = {}, model.version
        versioned = (model.version, *key)
        found = self._compiled.get(versioned)
        if found is None:
            found = self._compiled[versioned] = build()
        return found

    @contextmanager
    def session(
        self,
        user: User,
        *,
        write: bool = True,
        access: UserAccess | None = None,
        reading: tuple[Connection, OrgModel] | None = None,
        writing: RequestWrite | None = None,
    ) -> Iterator[RecordSession]:
        """One transaction: everything done in it lands together or not at all.

        ``access`` computed earlier in the request is reused when it was made from the
        same compiled model; otherwise it is loaded again. ``reading``: a read
        transaction the caller holds (and ends), with its model, used instead of a new one.
        ``writing``: a write transaction the caller opened, which the session ends.
        """
        if reading is not None and not write:
            yield RecordSession(self, *reading, user, access).reading_only()
            return
        if writing is not None and write:
            with writing.transaction:
                conn = writing.conn
                model = self.org.models.model_for(conn, for_write=True, version=writing.version)
                yield RecordSession(self, conn, model, user, access)
            return
        opener = self.org.db.write if write else self.org.db.read
        with opener() as conn:
            model = self.org.models.model_for(conn, for_write=write)
            session = RecordSession(self, conn, model, user, access)
            yield session if write else session.reading_only()


class RecordSession(RecordContext):
    """Record operations inside one transaction, on behalf of one user."""

    def reading_only(self) -> RecordSession:
        """Mark the session read-only: it remembers which records it found visible."""
        self.seen_visible = set()
        return self

    # --- reads -------------------------------------------------------------------------
    def get(
        self,
        object_name: str,
        record_id: str,
        fields=None,
        *,
        include_deleted: bool = False,
        just_written: bool = False,
    ) -> dict[str, Any]:
        """One record with its formulas computed; 404 when absent (or in the recycle bin)."""
        return reads.get(
            self,
            object_name,
            record_id,
            fields,
            include_deleted=include_deleted,
            just_written=just_written,
        )

    def list(self, object_name: str, request: ListRequest) -> Page:
        """A page of records: filtered, sorted (NULLs last, id last) and keyset-paged in SQL."""
        return reads.list_records(self, self.object(object_name), request, [])

    def related(
        self, object_name: str, record_id: str, relation: str, request: ListRequest
    ) -> Page:
        """The children of a record through one relation, listed like any list."""
        return reads.related(self, object_name, record_id, relation, request)

    def relations(self, object_name: str) -> list[dict[str, str]]:
        """The related lists of an object: their names and what they list."""
        names = reads.relation_names(self.model, self.object(object_name))
        return [{"name": name, "object": r.child, "field": r.field} for name, r in names.items()]

    def search(self, q: str, objects: list[str] | None, limit: int) -> list[dict[str, Any]]:
        """Records matching ``q`` across searchable objects, best first."""
        return reads.search(self, q, objects, limit)

    def history(self, object_name: str, record_id: str) -> list[dict[str, Any]]:
        """The tracked field changes of a record, newest first."""
        return reads.history(self, object_name, record_id)

    def aggregate(
        self, object_name: str, group_by: list[str], metrics: list[str], where: str | None
    ) -> list[dict[str, Any]]:
        """Grouped figures computed in SQL (count, sum, avg, min, max, count_distinct)."""
        return aggregates.aggregate(self, object_name, group_by, metrics, where)

    # --- writes ------------------------------------------------------------------------
    def create(self, object_name: str, data: Any, *, record_id: str | None = None) -> dict:
        """Create a record through every step of the write path; returns it as stored."""
        return writes.create(self, object_name, data, record_id=record_id)

    def create_many(
        self,
        object_name: str,
        items: list[Any],
        *,
        record_ids: list[str] | None = None,
        read_back: bool = True,
        every_refusal: bool = False,
    ) -> list[dict]:
        """Create records of one object as one set-based batch (all or none); ``record_ids``
        gives the ids to use, one per item (records that refer to each other, as a pack's
        data does, know their ids before they exist). With ``read_back`` false only the
        new ids come back (a bulk load that shows nothing saves the read). With
        ``every_refusal`` a refused batch raises ``RecordsRefused`` naming each refused
        record (by its id in ``record_ids``) with its error, not only the first."""
        return writes.create_many(
            self,
            object_name,
            items,
            record_ids=record_ids,
            read_back=read_back,
            every_refusal=every_refusal,
        )

    def update(
        self, object_name: str, record_id: str, data: Any, *, if_match: int | None = None
    ) -> dict:
        """Change some fields; with ``if_match`` a stale version answers 412."""
        return writes.update(self, object_name, record_id, data, if_match=if_match)

    def update_many(
        self,
        object_name: str,
        items: list[tuple[str, Any, int | None]],
        *,
        read_back: bool = True,
        every_refusal: bool = False,
    ) -> list[dict]:
        """Change records of one object as one set-based batch (all or none): ``items``
        are (id, field values, expected version or None). With ``read_back`` false only
        the ids of the records that moved come back; with ``every_refusal``, as for
        :meth:`create_many`."""
        return writes.update_many(
            self, object_name, items, read_back=read_back, every_refusal=every_refusal
        )

    def upsert(self, object_name: str, field_name: str, value: str, data: Any) -> tuple[dict, bool]:
        """Update the record whose external id is ``value``, or create it; (record, created)."""
        return writes.upsert(self, object_name, field_name, value, data)

    # --- the recycle bin ---------------------------------------------------------------
    def delete(self, object_name: str, record_id: str) -> str:
        """Move a record (and the children that go with it) to the recycle bin; the batch id."""
        return recycle.delete(self, object_name, record_id)

    def restore(self, object_name: str, record_id: str) -> dict:
        """Bring a record back with exactly the children deleted with it."""
        return recycle.restore(self, object_name, record_id)

    def purge(self, object_name: str, record_id: str) -> None:
        """Remove a record in the recycle bin, and its batch, for good."""
        recycle.purge(self, object_name, record_id)

    # --- manual shares -----------------------------------------------------------------
    def list_shares(self, object_name: str, record_id: str) -> list[dict[str, Any]]:
        """Who else sees a record, and why (manual shares and sharing rules)."""
        return manual_shares.list_shares(self, object_name, record_id)

    def add_share(self, object_name: str, record_id: str, data: Any) -> dict[str, Any]:
        """Share a record with a user, group or role (needs full access to the record)."""
        return manual_shares.add_share(self, object_name, record_id, data)

    def remove_share(self, object_name: str, record_id: str, key: str) -> None:
        """Take back a manual share."""
        manual_shares.remove_share(self, object_name, record_id, key)
