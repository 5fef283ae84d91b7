"""The ``inbound_address`` kind: an address whose mail opens cases (email-to-case).

```yaml
# inbound_addresses/support.yaml
api_name: support
address: support@acme.test
object: case                  # the service pack's case
owner: tier1_support          # the queue new cases land in (the routing rule may move them)
values: {channel: Email}      # set on every new case (an origin, a priority...)
auto_reply: case_received     # an email_template of case, sent to the sender (optional)
auto_reply_limit: 3           # at most this many auto-replies to one sender a day
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .actor import PROFILE

KIND = "inbound_address"
PLURAL = "inbound_addresses"
EXTENSION = "mailin"
CASE = "case"
MESSAGE = "email_message"
ATTACHMENT = "email_attachment"
DEFAULT_REPLY_LIMIT = 3
# the case fields the intake writes, beside those of ``values``
WRITTEN = ("subject", "description", "contact", "account", "owner_id")

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:inbound_address",
    "title": KIND,
    "description": "An email address whose messages open cases, and replies thread onto them.",
    "type": "object",
    "required": ["api_name", "address", "owner"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "address": {
            "type": "string",
            "maxLength": 254,
            "pattern": r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$",
        },
        "object": {"const": CASE},
        "owner": {"type": "string", "minLength": 1},
        "values": {"type": "object", "maxProperties": 50},
        "auto_reply": {"type": "string", "minLength": 1},
        "auto_reply_limit": {"type": "integer", "minimum": 0, "maximum": 1000},
        "active": {"type": "boolean"},
    },
}


def address_problems(model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
    """The service pack's objects, the owner queue, the default values and the template;
    an address another inbound address has already."""
    for name in (CASE, MESSAGE, ATTACHMENT):
        if model.object(name) is None:
            yield ("object", f"no object '{name}': install the service pack first")
            return
    profile = model.get("permission_set", PROFILE)
    if profile is None or profile.status != "active":
        yield ("object", f"no permission set '{PROFILE}': install the service pack first")
    queue = model.get("queue", definition["owner"])
    if queue is None or queue.status != "active":
        yield ("owner", f"no queue '{definition['owner']}'")
    elif CASE not in queue.definition.get("objects", ()):
        yield ("owner", f"queue '{definition['owner']}' does not take case records")
    fields = {f["api_name"] for f in model.object(CASE).get("fields", ())}
    for name in definition.get("values", {}):
        if name in WRITTEN:
            yield (f"values.{name}", f"'{name}' is set from the message")
        elif name not in fields:
            yield (f"values.{name}", f"case has no field '{name}'")
    if template_name := definition.get("auto_reply"):
        template = model.get("email_template", template_name)
        if template is None or template.status != "active":
            yield ("auto_reply", f"no email template '{template_name}'")
        elif template.definition["object"] != CASE:
            found = template.definition["object"]
            yield ("auto_reply", f"'{template_name}' is a template of {found}, not case")
    address = definition["address"].lower()
    for comp in model.of_kind(KIND):
        other = comp.definition
        if other["api_name"] != definition["api_name"] and other["address"].lower() == address:
            yield ("address", f"'{other['api_name']}' receives mail for {address} already")


def address_references(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What deleting would leave it pointing at nothing: its objects, queue, template."""
    found = [("object", CASE), ("object", MESSAGE), ("queue", definition["owner"])]
    found.append(("permission_set", PROFILE))
    if definition.get("auto_reply"):
        found.append(("email_template", definition["auto_reply"]))
    return found


@dataclass(frozen=True)
class InboundAddress:
    """One configured address, as the intake uses it."""

    name: str
    address: str  # lower case
    owner: str  # a queue's api name
    values: Mapping[str, Any]
    auto_reply: str | None
    auto_reply_limit: int


@dataclass(frozen=True)
class MailInModel:
    """The active inbound addresses of one metadata version, by address (lower case)."""

    addresses: Mapping[str, InboundAddress]


def compile_addresses(snapshot: Snapshot, model: OrgModel) -> MailInModel:
    """Every active address whose objects exist."""
    found = {}
    if model.object(CASE) is not None and model.object(MESSAGE) is not None:
        for comp in snapshot.of_kind(KIND):
            d = comp.definition
            if not d.get("active", True):
                continue
            address = d["address"].lower()
            found[address] = InboundAddress(
                name=comp.name,
                address=address,
                owner=d["owner"],
                values=MappingProxyType(dict(d.get("values", {}))),
                auto_reply=d.get("auto_reply"),
                auto_reply_limit=d.get("auto_reply_limit", DEFAULT_REPLY_LIMIT),
            )
    return MailInModel(MappingProxyType(found))


def mailin_model(model: OrgModel) -> MailInModel:
    """The compiled addresses of a model (none when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or MailInModel(MappingProxyType({}))


def register(registry: KindRegistry, compiler: ModelCompiler) -> None:
    """The kind, its checks and its compiled part."""
    registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
    registry.add_validator(KIND, address_problems)
    registry.add_references(KIND, address_references)
    compiler.add_extension(EXTENSION, compile_addresses)
