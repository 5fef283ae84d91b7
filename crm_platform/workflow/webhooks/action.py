"""The ``webhook`` action: ``{type: webhook, url: https://…, secret_ref: erp, fields: […]}``.

It runs in the transaction of the change that fired it and only writes an outbox run
(job ``webhook``) holding the body to send: the record as it stood after that change,
so every attempt sends the same bytes and a later edit does not alter what this event
said. The run is delivered once the transaction commits; a rolled-back change sends
nothing.

Webhooks are configured by admins and run as the system: the body holds the fields the
action lists (every field when it lists none) whoever made the change, never an
encrypted field (ADR 0019: their plaintext leaves its column for no one but a reader).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from crm_platform.core import NotFound
from crm_platform.core.webhook_settings import SECRET_REF, WebhookSettings
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime.records.codec import SYSTEM_FIELDS

from ..actions import ActionChecks, ActionContext
from .policy import WebhookPolicy

if TYPE_CHECKING:
    from crm_platform.runtime import ObjectModel, OrgModel

JOB = "webhook"
FIELD_PATH = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


@dataclass(frozen=True)
class WebhookAction:
    """Send a signed JSON description of the record to an allowed https URL."""

    name: str = "webhook"
    before_save: bool = False
    # options holding field paths (a rename rewrites them: see action_renames)
    paths: tuple[str, ...] = ("fields",)
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "webhook"},
                "url": {"type": "string", "minLength": 1, "maxLength": 2000},
                "secret_ref": {"type": "string", "pattern": SECRET_REF.pattern},
                "fields": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 200,
                    "uniqueItems": True,
                    "items": {"type": "string", "pattern": FIELD_PATH, "maxLength": 200},
                },
            },
            "required": ["type", "url", "secret_ref"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        settings: WebhookSettings = checks.settings.webhooks
        for problem in WebhookPolicy(settings).url_problems(action["url"]):
            yield (f"{path}.url", problem)
        ref = action["secret_ref"]
        if settings.secret(ref) is None:
            yield (
                f"{path}.secret_ref",
                f"no webhook secret '{ref}': the deployment sets "
                f"{WebhookSettings.secret_variable(ref)}",
            )
        for index, name in enumerate(action.get("fields", ())):
            problem = field_problem(model, object_name, name, checks)
            if problem is not None:
                yield (f"{path}.fields[{index}]", problem)

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        ctx.enqueue(
            JOB,
            {
                "url": action["url"],
                "secret_ref": action["secret_ref"],
                "action": ctx.path,
                "body": webhook_body(ctx, action.get("fields")),
            },
        )


def webhook_body(ctx: ActionContext, fields: list[str] | None) -> dict[str, Any]:
    """What a webhook sends: which change of which record, and the record's values."""
    return {
        "event": ctx.event,
        "source": ctx.source,
        "object": ctx.object.api_name,
        "record_id": ctx.record_id,
        "occurred_at": ctx.now.isoformat(),
        "record": _jsonable(record_values(ctx, fields)),
    }


def record_values(ctx: ActionContext, fields: list[str] | None) -> dict[str, Any]:
    """The record as the API shows it to the system user, without encrypted fields."""
    if fields:  # the system fields come along whatever is listed
        names = [n for n in fields if sendable(ctx.model, ctx.object, n)] or ["id"]
    else:
        names = [
            *SYSTEM_FIELDS,
            *(n for n, f in ctx.object.fields.items() if not field_type(f.type).encrypted),
        ]
    try:
        return ctx.system.get(ctx.object.api_name, ctx.record_id, names)
    except NotFound:  # a deleted record: what the change left of it
        return {n: ctx.values[n] for n in names if n in ctx.values}


def sendable(model: OrgModel, obj: ObjectModel, name: str) -> bool:
    """Whether a path of ``fields`` still names a field that may be sent: the metadata may
    have changed since the action was saved, and a stale entry must not fail the change
    that fires the webhook (it is left out of the body)."""
    *steps, last = name.split(".")
    for step in steps:
        found = obj.fields.get(step)
        target = found.definition.get("target") if found is not None else None
        if not isinstance(target, str) or target not in model.objects:
            return False
        obj = model.objects[target]
    if last in SYSTEM_FIELDS:
        return True
    found = obj.fields.get(last)
    return found is not None and not field_type(found.type).encrypted


def field_problem(
    model: CandidateModel, object_name: str, name: str, checks: ActionChecks
) -> str | None:
    """Why ``name`` (a field, or a path through lookups) cannot be sent, or None."""
    steps = name.split(".")
    current = object_name
    for step in steps[:-1]:
        target = checks.lookup_target(model, current, step)
        if target is None:
            return f"{current} has no lookup field '{step}'"
        current = target
    last = steps[-1]
    if last in SYSTEM_FIELDS:
        return None
    found = _field(model, current, last)
    if found is None:
        return f"{current} has no field '{last}'"
    if field_type(found["type"]).encrypted:
        return f"{current}.{last} is encrypted: webhooks never send encrypted fields"
    return None


def _field(model: CandidateModel, object_name: str, name: str) -> Mapping[str, Any] | None:
    obj = model.object(object_name)
    fields: Iterator[Mapping[str, Any]] = iter(obj["fields"] if obj else ())
    return next((f for f in fields if f["api_name"] == name), None)


def _jsonable(value: Any) -> Any:
    """Dates and times as ISO 8601 text (the outbox keeps JSON; decimals stay exact)."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
