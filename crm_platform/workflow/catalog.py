"""The action types automation knows, each listed once (see :mod:`.actions`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .actions import ActionType
from .mail.action import SendEmail
from .record_actions import CreateRecord, UpdateRecord

ACTIONS: Mapping[str, ActionType] = MappingProxyType(
    {action.name: action for action in (UpdateRecord(), CreateRecord(), SendEmail())}
)
