"""The ``email_template`` kind: its JSON Schema, save-time checks and compiled part.

```yaml
# email_templates/won_notice.yaml
api_name: won_notice
object: opportunity
label: {en: Deal won, zh: 赢单通知}
subject: "Won: {{ name }} ({{ account.name }})"
body: |
  Hello {{ owner.name }},
  {{ name }} for {{ account.name }} is won: {{ amount }}.
html_body: "<p>{{ name }} for <b>{{ account.name }}</b> is won.</p>"   # optional
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateSyntaxError

from crm_platform.core.tables import USER_PUBLIC_COLUMNS
from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .templates import (
    OWNER,
    CompiledTemplate,
    MergeError,
    compile_template,
    merge_paths,
    parse,
    rename_merge_fields,
)

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..checks import WorkflowChecks
    from ..service import Automation

KIND = "email_template"
PLURAL = "email_templates"
EXTENSION = "mail"
PARTS = ("subject", "body", "html_body")

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:email_template",
    "title": KIND,
    "description": "An email automation sends: subject and body (text, optionally HTML) "
    "with merge fields of its object such as {{ account.name }} and {{ owner.name }}.",
    "type": "object",
    "required": ["api_name", "object", "subject", "body"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "subject": {"type": "string", "minLength": 1, "maxLength": 1000},
        "body": {"type": "string", "minLength": 1, "maxLength": 100_000},
        "html_body": {"type": "string", "minLength": 1, "maxLength": 200_000},
    },
}


def owner_path_problem(path: tuple[str, ...]) -> str | None:
    """Why a path through ``owner`` names nothing (None when it names a user column)."""
    if len(path) == 2 and path[1] in USER_PUBLIC_COLUMNS:
        return None
    columns = ", ".join(USER_PUBLIC_COLUMNS)
    return f"'owner' is the record's owner: use owner.<{columns}>"


def template_problems(
    model: CandidateModel, definition: Mapping[str, Any], checks: WorkflowChecks
) -> Iterator[Problem]:
    """The object, the syntax of each part and every merge field it names."""
    object_name = definition["object"]
    if not checks.object_exists(model, object_name):
        yield ("object", f"no object '{object_name}'")
        return
    scope = checks.expressions.scope(model, object_name)
    for part in PARTS:
        source = definition.get(part)
        if not source:
            continue
        try:
            paths = merge_paths(parse(source))
        except MergeError as exc:
            yield (part, exc.message)
            continue
        for path in paths:
            dotted = ".".join(path)
            if path[0] == OWNER and checks.field(model, object_name, OWNER) is None:
                if problem := owner_path_problem(path):
                    yield (part, f"merge field '{dotted}': {problem}")
            elif scope.resolve(path) is None:
                yield (part, f"unknown merge field '{dotted}' on {object_name}")


def template_paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The field paths a template reads, as (object, path): a change to an object they
    walk through re-validates it."""
    for part in PARTS:
        source = definition.get(part)
        if not source:
            continue
        try:
            paths = merge_paths(parse(source))
        except MergeError:
            continue
        for path in paths:
            if path[0] != OWNER:
                yield (definition["object"], path)


def rename_template(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """A rename of the template's object or of a field its merge fields name."""
    out, places = dict(definition), []
    start = definition["object"]
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    for part in PARTS:
        source = definition.get(part)
        if not source or ctx.rename.kind != "field":
            continue
        try:
            new = rename_merge_fields(source, lambda path: ctx.rename_path(start, path))
        except TemplateSyntaxError:
            continue  # names nothing; its own check reports it
        if new != source:
            out[part] = new
            places.append(part)
    return out, places


@dataclass(frozen=True)
class MailModel:
    """The templates of one metadata version, compiled (``model.extension('mail')``)."""

    templates: Mapping[str, CompiledTemplate]


def compile_mail(snapshot: Snapshot, model: OrgModel) -> MailModel:
    """Every active template whose object exists, compiled in the sandbox."""
    found = {}
    for comp in snapshot.of_kind(KIND):
        if model.object(comp.definition["object"]) is None:
            continue
        try:
            found[comp.name] = compile_template(comp.name, comp.definition)
        except MergeError:
            continue  # checked when saved; one stored before a rule existed is skipped
    return MailModel(MappingProxyType(found))


def mail_model(model: OrgModel) -> MailModel:
    """The compiled templates of a model (empty when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or MailModel(MappingProxyType({}))


@dataclass(frozen=True)
class EmailTemplateKind:
    """Automation's mail: the template kind, and the ``email`` job that delivers."""

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, checks: WorkflowChecks
    ) -> None:
        registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
        registry.add_validator(KIND, lambda model, d: template_problems(model, d, checks))
        registry.add_references(KIND, lambda d: [("object", d["object"])])
        registry.add_paths(KIND, template_paths)
        registry.add_renamer(KIND, rename_template)
        compiler.add_extension(EXTENSION, compile_mail)

    def attach(self, org: Org, automation: Automation) -> None:
        from .job import EmailJob

        automation.add_job(EmailJob())
