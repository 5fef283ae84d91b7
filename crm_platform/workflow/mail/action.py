"""The ``send_email`` action: ``{type: send_email, template: won_notice, to: owner.email}``.

The message is rendered when the action runs — in the transaction of the change that
fired it, so it shows the record as it was then — and stored with an ``email`` outbox
run that delivers it once that transaction commits (a rolled-back change sends nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_platform.core import new_id
from crm_platform.metadata import CandidateModel, Problem

from ..actions import ActionChecks, ActionContext
from . import store
from .job import JOB
from .kind import KIND, mail_model
from .recipients import Recipient, as_list, is_owner_source, merge_values, readers, resolve
from .templates import MergeError, Rendered, render

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 4000}
ADDRESSES = {
    "oneOf": [EXPRESSION, {"type": "array", "minItems": 1, "maxItems": 50, "items": EXPRESSION}]
}


@dataclass(frozen=True)
class SendEmail:
    """Render a template for the record and send it to ``to`` (and ``cc``): expressions
    giving email addresses or users (see :mod:`.recipients`)."""

    name: str = "send_email"
    before_save: bool = False
    # options holding expressions (a rename rewrites them: see action_renames)
    expressions: tuple[str, ...] = ("to", "cc")
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "send_email"},
                "template": {"type": "string", "minLength": 1},
                "to": ADDRESSES,
                "cc": ADDRESSES,
            },
            "required": ["type", "template", "to"],
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
        name = action["template"]
        template = model.get(KIND, name)
        if template is None or template.status != "active":
            yield (f"{path}.template", f"no email template '{name}'")
        elif template.definition["object"] != object_name:
            found = template.definition["object"]
            yield (f"{path}.template", f"'{name}' is a template of {found}, not {object_name}")
        for key in ("to", "cc"):
            single = isinstance(action.get(key), str)
            for index, source in enumerate(as_list(action.get(key))):
                where = f"{path}.{key}" if single else f"{path}.{key}[{index}]"
                if source.strip().startswith("owner.") and not is_owner_source(source):
                    yield (where, "a recipient is an address or a user: owner or owner.email")
                elif not is_owner_source(source):
                    yield from checks.expression(model, object_name, source, None, where)

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        to = resolve(ctx, as_list(action["to"]))
        addressed = {r.address for r in to}
        cc = [r for r in resolve(ctx, as_list(action.get("cc"))) if r.address not in addressed]
        message, problem = compose(ctx, action["template"], to, cc)
        payload = {"mail_id": message.id, "template": message.template, "step": ctx.path}
        if problem:
            payload["error"] = problem
        run_id = ctx.enqueue(JOB, payload)
        store.add(ctx.conn, message, run_id, ctx.now)


def compose(
    ctx: ActionContext, name: str, to: list[Recipient], cc: list[Recipient]
) -> tuple[store.NewMessage, str | None]:
    """The message rendered for its recipients, and why it cannot be sent (if so)."""
    rendered, problem = Rendered("", "", None), None
    template = mail_model(ctx.model).templates.get(name)
    if template is None or template.object != ctx.object.api_name:
        problem = f"no email template '{name}' for {ctx.object.api_name}"
    elif not to:
        problem = "no recipient: 'to' gave no email address or active user"
    else:
        try:
            values = merge_values(ctx, template, readers(ctx, [*to, *cc]))
            rendered = render(template, values)
        except MergeError as exc:
            problem = exc.message
    mail_id = new_id()
    domain = ctx.org.settings.mail_from.rpartition("@")[2].strip(" >") or "localhost"
    message = store.NewMessage(
        id=mail_id,
        template=name,
        source=ctx.source,
        object=ctx.object.api_name,
        record_id=ctx.record_id,
        to=[r.address for r in to],
        cc=[r.address for r in cc],
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id=f"<{mail_id}@{domain}>",
        error=problem,
    )
    return message, problem


def template_references(actions: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The templates an action list sends, as (kind, name) keys: a kind whose definitions
    hold actions declares them (``registry.add_references``) so that a change to one of
    these templates re-validates it, and deleting one still in use is refused."""
    return [
        (KIND, action["template"])
        for action in actions
        if action.get("type") == "send_email" and isinstance(action.get("template"), str)
    ]
