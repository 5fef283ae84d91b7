"""The ``approval_process`` kind: its JSON Schema and the compiled view kept per metadata
version (``model.extension("approvals")``: the processes of each object)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import Kind, Snapshot

from ..checks import action_schemas

KIND = "approval_process"
PLURAL = "approval_processes"
EXTENSION = "approvals"
FIRST_RESPONSE = "first_response"
UNANIMOUS = "unanimous"
APPROVER_KINDS = ("user", "role", "submitter_manager", "queue", "group", "field")
DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _approver_schema() -> dict[str, Any]:
    """Exactly one way of naming who approves."""
    branches = [
        {"required": [name], "properties": {name: schema}}
        for name, schema in (
            ("user", {"type": "string", "minLength": 3, "description": "A user's email."}),
            ("role", {"type": "string", "minLength": 1}),
            ("submitter_manager", {"const": True}),
            ("queue", {"type": "string", "minLength": 1}),
            ("group", {"type": "string", "minLength": 1}),
            (
                "field",
                {
                    "type": "string",
                    "minLength": 1,
                    "description": "A user lookup of the record (a dotted path may "
                    "follow lookups, e.g. account.account_manager), or owner_id.",
                },
            ),
        )
    ]
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": list(APPROVER_KINDS)},
        "oneOf": branches,
    }


def approval_schema() -> dict[str, Any]:
    """The JSON Schema of an approval process definition."""
    actions = {"type": "array", "items": {"oneOf": action_schemas()}}
    duration = {"type": "string", "pattern": DURATION.pattern}
    step = {
        "type": "object",
        "required": ["name", "approver"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40},
            "label": {"type": "string", "maxLength": 200},
            "when": {"type": "string", "minLength": 1, "maxLength": 4000},
            "approver": _approver_schema(),
            "mode": {"enum": [FIRST_RESPONSE, UNANIMOUS]},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"crm:{KIND}",
        "title": KIND,
        "description": "An approval process: records meeting the entry criteria are "
        "submitted, go through ordered steps (each with criteria and approvers), are "
        "locked while pending, and run actions when approved, rejected or recalled.",
        "type": "object",
        "required": ["api_name", "object", "steps"],
        "additionalProperties": False,
        "properties": {
            "api_name": {"type": "string"},
            "object": {"type": "string"},
            "label": {"$ref": "crm:label"},
            "description": {"type": "string", "maxLength": 1000},
            "active": {"type": "boolean"},
            "entry": {"type": "string", "minLength": 1, "maxLength": 4000},
            "lock_record": {"type": "boolean"},
            "steps": {"type": "array", "minItems": 1, "maxItems": 30, "items": step},
            "on_submit": actions,
            "on_approve": actions,
            "on_reject": actions,
            "on_recall": actions,
            "escalate_after": duration,
            "escalate_to": {"type": "string", "minLength": 3, "description": "A user's email."},
        },
    }


def approval_kind() -> Kind:
    return Kind(KIND, PLURAL, approval_schema(), per_object=True)


def parse_duration(text: str) -> timedelta:
    """``48h``, ``30m``, ``2d``, ``1w`` as a timedelta (the schema checked the form)."""
    found = DURATION.match(text)
    if found is None:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


@dataclass(frozen=True)
class Step:
    """One step of a process, as defined."""

    index: int
    name: str
    approver: Mapping[str, Any]
    mode: str
    when: str | None


@dataclass(frozen=True)
class Process:
    """One approval process, compiled for a metadata version."""

    name: str  # the api_name
    object: str
    entry: str | None
    lock_record: bool
    steps: tuple[Step, ...]
    actions: Mapping[str, tuple[Mapping[str, Any], ...]]  # on_submit/on_approve/...
    escalate_after: timedelta | None
    escalate_to: str | None  # an email

    @property
    def component(self) -> str:
        return f"{self.object}.{self.name}"

    @property
    def source(self) -> str:
        """What the outbox and actions name as the origin of the work."""
        return f"approval:{self.component}"


def _process(definition: Mapping[str, Any]) -> Process:
    steps = tuple(
        Step(
            index,
            step["name"],
            MappingProxyType(dict(step["approver"])),
            step.get("mode", FIRST_RESPONSE),
            step.get("when"),
        )
        for index, step in enumerate(definition["steps"])
    )
    after = definition.get("escalate_after")
    return Process(
        name=definition["api_name"],
        object=definition["object"],
        entry=definition.get("entry"),
        lock_record=definition.get("lock_record", True),
        steps=steps,
        actions=MappingProxyType(
            {
                key: tuple(definition.get(key, ()))
                for key in ("on_submit", "on_approve", "on_reject", "on_recall")
            }
        ),
        escalate_after=parse_duration(after) if after else None,
        escalate_to=definition.get("escalate_to"),
    )


@dataclass(frozen=True)
class CompiledApprovals:
    """Every active approval process, by object then by api_name (in name order)."""

    by_object: Mapping[str, Mapping[str, Process]]

    def of(self, object_name: str) -> Mapping[str, Process]:
        return self.by_object.get(object_name, MappingProxyType({}))


def compile_approvals(snapshot: Snapshot, _model: Any) -> CompiledApprovals:
    """The compiled view of a snapshot's approval processes (inactive ones left out)."""
    found: dict[str, dict[str, Process]] = {}
    for comp in sorted(snapshot.of_kind(KIND), key=lambda c: c.name):
        if comp.definition.get("active", True):
            process = _process(comp.definition)
            found.setdefault(process.object, {})[process.name] = process
    return CompiledApprovals(MappingProxyType({k: MappingProxyType(v) for k, v in found.items()}))
