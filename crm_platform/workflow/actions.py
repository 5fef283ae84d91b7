"""Actions: what triggers and approval processes do (update a record, create one, send an
email, call a webhook, submit for approval, assign, notify).

Each action type is one class in its own module, listed once in :data:`~.catalog.ACTIONS`
(the one place that knows them all, like the field-type registry): its JSON Schema, its
check when a definition is saved, and its ``run`` in the transaction of the change that
fired it. Synchronous actions write through the record service as the system user (so
what they change lands or rolls back with the change, and fires its own events, bounded
by the record service's recursion limit); asynchronous ones enqueue an outbox run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from crm_platform.core import Settings
from crm_platform.metadata import CandidateModel, Problem

if TYPE_CHECKING:
    from crm_platform.runtime import ObjectModel, Org, OrgModel, User
    from crm_platform.runtime.records.events import RecordWriter

    from .service import Automation


class ActionChecks(Protocol):
    """What an action's save-time check may ask of the candidate model (given by the kind's
    validator, which knows the expression language and the field types)."""

    # the deployment's settings (a webhook URL must be on its allow-list)
    settings: Settings

    def object_exists(self, model: CandidateModel, name: str) -> bool: ...

    def lookup_target(self, model: CandidateModel, object_name: str, name: str) -> str | None:
        """The object a single-target lookup field of ``object_name`` points to."""

    def writable_field(self, model: CandidateModel, object_name: str, name: str) -> bool:
        """Whether an action may set the field (it exists and is not computed or a
        system column; ``owner_id`` may be set)."""

    def expression(
        self,
        model: CandidateModel,
        object_name: str,
        source: str,
        assigns_to: tuple[str, str] | None,
        path: str,
    ) -> Iterable[Problem]:
        """Type-check ``source`` on ``object_name``; with ``assigns_to`` (object, field)
        its result must suit that field."""

    def condition(
        self, model: CandidateModel, object_name: str, source: str, path: str
    ) -> Iterable[Problem]:
        """Type-check a boolean condition on ``object_name``."""


class ActionType(Protocol):
    """One type of action (``type: <name>`` in a definition).

    Optionally, ``expressions`` and ``paths`` (tuples of option keys) name the options
    holding expressions and field paths of the record, which a rename rewrites
    (:mod:`.action_renames`); ``values`` of record actions are known there already."""

    name: str
    # The JSON Schema of the action's options (``type`` included), as a ``oneOf`` branch.
    schema: Mapping[str, Any]
    # Whether it may run before save (only field updates of the record itself may).
    before_save: bool

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        """Problems of one action of a definition on ``object_name``, named by ``path``."""

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        """Do the action for one record, in the transaction of the change."""


@dataclass(frozen=True)
class ActionContext:
    """What an action gets: the record that fired it and the tools to act on it."""

    org: Org
    conn: Connection
    model: OrgModel
    object: ObjectModel
    record_id: str
    values: Mapping[str, Any]  # the record's values after the change (before save: pending)
    user: User  # whose change fired it (recipient contexts, "submitter")
    system: RecordWriter  # the record service as the system user, same transaction
    source: str  # e.g. "trigger:opportunity.won", "approval:opportunity.discount"
    path: str  # where the action sits in its definition, e.g. "actions[2]"
    now: datetime
    evaluator: Any = field(repr=False)  # (source, expected) -> value, on this record
    # the record event that fired it (create, update, delete); None when none did
    event: str | None = None

    def evaluate(self, source: str, expected: Any = None) -> Any:
        """An expression of the language evaluated on the record (lookups followed)."""
        return self.evaluator(source, expected)

    @property
    def automation(self) -> Automation:
        from .service import automation_of

        return automation_of(self.org)

    def enqueue(
        self,
        job: str,
        payload: Mapping[str, Any],
        *,
        key: str | None = None,
        due_at: datetime | None = None,
    ) -> str | None:
        """An outbox run for this record, in this transaction (sent once it commits)."""
        return self.automation.enqueue(
            self.conn,
            job=job,
            source=self.source,
            payload=payload,
            user_id=self.user.id,
            due_at=due_at,
            object_name=self.object.api_name,
            record_id=self.record_id,
            key=key,
        )
