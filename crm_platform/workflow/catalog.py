"""The action types automation knows, each listed once (see :mod:`.actions`), and the
job types their asynchronous work runs as."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .actions import ActionType
from .approvals.action import SubmitForApproval
from .assignment.actions import AssignAction, NotifyAction
from .count_action import CountRecords
from .jobs import JobType
from .mail.action import SendEmail
from .record_actions import CreateRecord, UpdateRecord
from .webhooks import WebhookAction, WebhookJob

ACTIONS: Mapping[str, ActionType] = MappingProxyType(
    {
        action.name: action
        for action in (
            UpdateRecord(),
            CreateRecord(),
            WebhookAction(),
            SubmitForApproval(),
            AssignAction(),
            NotifyAction(),
            SendEmail(),
            CountRecords(),
        )
    }
)


def action_jobs() -> tuple[JobType, ...]:
    """The job types of the actions' outbox runs (each org's automation gets them)."""
    return (WebhookJob(),)
