"""Builders for the automation, data-quality and analytics kinds, each a form
(:data:`FORMS`): validation rules, reports, triggers, approval processes, assignment
rules, duplicate rules, email templates and dashboards; a definition its form cannot
show opens in a YAML editor instead, validated against the kind's JSON Schema and its
cross-checks by the metadata service. Expressions are checked as they are typed by the
API's checker and an error is shown at its line and position. Each save is one change
set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, NotFound, ValidationFailed

from .approval_process_form import (
    approval_context,
    approval_fits_form,
    approval_form_values,
    approval_from_form,
    approval_input,
)
from .assignment_rule_form import (
    assignment_context,
    assignment_fits_form,
    assignment_form_values,
    assignment_from_form,
    assignment_input,
)
from .base import SetupView, problems_of
from .dashboard_form import (
    component_input,
    dashboard_context,
    dashboard_fits_form,
    dashboard_form_values,
    dashboard_from_form,
)
from .duplicate_rule_form import (
    duplicate_context,
    duplicate_fits_form,
    duplicate_form_values,
    duplicate_from_form,
    duplicate_input,
)
from .email_template_form import (
    template_context,
    template_fits_form,
    template_form_values,
    template_from_form,
)
from .report_form import report_choices, report_fits_form, report_form_values, report_from_form
from .trigger_form import (
    trigger_choices,
    trigger_fits_form,
    trigger_form_values,
    trigger_from_form,
    trigger_input,
)

# The kinds the builders edit, in menu order (a kind whose issue has not landed is left out).
BUILDER_KINDS = (
    "validation_rule",
    "trigger",
    "approval_process",
    "assignment_rule",
    "duplicate_rule",
    "email_template",
    "inbound_address",
    "report",
    "dashboard",
)
# What each builder is called on its pages (the kinds' API names are for the API).
KIND_NAMES = {
    "validation_rule": (lazy_gettext("Validation rules"), lazy_gettext("validation rule")),
    "trigger": (lazy_gettext("Triggers"), lazy_gettext("trigger")),
    "approval_process": (lazy_gettext("Approval processes"), lazy_gettext("approval process")),
    "assignment_rule": (lazy_gettext("Assignment rules"), lazy_gettext("assignment rule")),
    "duplicate_rule": (lazy_gettext("Duplicate rules"), lazy_gettext("duplicate rule")),
    "email_template": (lazy_gettext("Email templates"), lazy_gettext("email template")),
    "inbound_address": (lazy_gettext("Inbound email addresses"), lazy_gettext("inbound address")),
    "report": (lazy_gettext("Reports"), lazy_gettext("report")),
    "dashboard": (lazy_gettext("Dashboards"), lazy_gettext("dashboard")),
}


def kind_names(kind: str) -> tuple[Any, Any]:
    """(plural heading, singular noun) of a builder's kind, in the reader's language."""
    return KIND_NAMES.get(kind, (kind, kind))


# Keys whose values are boolean expressions (checked as typed in the YAML editor).
CONDITION_KEYS = ("condition", "when", "criteria", "entry_criteria", "filter")


def yaml_of(definition: Mapping[str, Any] | None) -> str:
    if not definition:
        return ""
    return yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True)


def parse_source(source: str) -> dict[str, Any]:
    """The YAML (or JSON) an admin typed as a mapping; a refusal naming the line and
    column of a syntax error."""
    try:
        loaded = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            gettext("line %(line)s, column %(column)s", line=mark.line + 1, column=mark.column + 1)
            if mark
            else ""
        )
        problem = getattr(error, "problem", None) or str(error)
        raise ValidationFailed({"source": f"{where}: {problem}" if where else problem}) from error
    if not isinstance(loaded, dict):
        raise ValidationFailed({"source": gettext("must be a mapping of keys to values")})
    return loaded


class BuildersView(SetupView):
    area_name = lazy_gettext("Rules, automation and reports")
    area_url = "builders"
    summary = lazy_gettext(
        "Validation rules, triggers, approvals, assignment rules, duplicate rules, email "
        "templates, reports and dashboards."
    )
    permission = "customize_application"

    def kinds(self) -> list[str]:
        return [k for k in BUILDER_KINDS if k in self.org.registry.kinds]

    @expose("/")
    def index(self) -> Any:
        found = {k: self.metadata.list_components(k) for k in self.kinds()}
        registry = self.org.registry
        return self.page(
            "setup/builders.html",
            found=found,
            names={k: registry.kinds[k].component_name for k in found},
            kind_names=kind_names,
        )

    @expose("/<kind>/new", methods=["GET", "POST"])
    def new(self, kind: str) -> Any:
        self._kind(kind)
        return self._edit(kind, None)

    @expose("/<kind>/<name>", methods=["GET", "POST"])
    def edit(self, kind: str, name: str) -> Any:
        self._kind(kind)
        return self._edit(kind, name)

    @expose("/<kind>/<name>/delete", methods=["POST"])
    def delete(self, kind: str, name: str) -> Any:
        self._kind(kind)
        self.change(lambda m, who: m.remove_component(kind, name, author_id=who))
        return self.saved(gettext("Deleted."), ".index")

    def _kind(self, kind: str) -> None:
        if kind not in self.kinds():
            raise NotFound(gettext("no builder for '%(kind)s'", kind=kind))

    def _edit(self, kind: str, name: str | None) -> Any:
        stored = self.metadata.get_component(kind, name) if name else None
        structured = _structured(kind, stored) and request.values.get("editor") != "yaml"
        if request.method == "GET":
            form = FORMS[kind].values(stored) if structured else {}
            if structured and request.args.get("object"):  # a new report: its object chosen
                form["object"] = request.args["object"]
            return self._page(kind, name, stored, form, structured)
        form = request.form
        try:
            if structured:
                definition = FORMS[kind].definition(form)
            else:
                definition = parse_source(form.get("source", ""))
            self.change(
                lambda m, who: m.put_component(
                    kind, definition, author_id=who, create_only=name is None
                )
            )
        except (ValidationFailed, Conflict) as error:
            problems = problems_of(error)
            return self._page(kind, name, stored, form, structured, problems, error.status)
        saved_name = name or self.org.registry.kinds[kind].component_name(definition)
        return self.saved(gettext("Saved."), ".edit", kind=kind, name=saved_name)

    def _page(self, kind, name, stored, form, structured, problems=None, status=200) -> Any:
        schema = self.org.registry.kinds[kind].schema
        return self.page(
            FORMS[kind].template if structured else "setup/builder.html",
            status=status,
            title=(
                f"{kind_names(kind)[1]} · {name}"
                if name
                else gettext("New %(kind)s", kind=kind_names(kind)[1])
            ),
            kind=kind,
            name=name,
            form=form,
            source=form.get("source") or yaml_of(stored),
            structured=structured,
            objects=self.metadata.list_objects(),
            schema_text=yaml.safe_dump(dict(schema), sort_keys=False, allow_unicode=True),
            condition_keys=",".join(CONDITION_KEYS),
            problems={_short(p, kind): v for p, v in (problems or {}).items()},
            fields=self._fields_of(form.get("object")) if structured else [],
            **report_choices(),
            **trigger_choices(),
            **(FORMS[kind].context(form) if structured else {}),
        )

    def _fields_of(self, object_name: str | None) -> list[str]:
        """The API names of an object's fields, as a hint beside the report's inputs."""
        if not object_name:
            return []
        try:
            found = self.metadata.get_object(object_name)
        except NotFound:
            return []
        return [f["api_name"] for f in found.get("fields", [])]


@dataclass(frozen=True)
class StructuredForm:
    """A kind's form: its template, its inputs of a stored definition, the definition of
    its inputs, whether a stored definition fits it (else the YAML editor opens), and
    what else its page shows for its inputs (shown or posted)."""

    template: str
    values: Callable[[Mapping[str, Any] | None], dict[str, str]]
    definition: Callable[[Mapping[str, str]], dict[str, Any]]
    fits: Callable[[Mapping[str, Any] | None], bool]
    # more for the template, of the inputs (such as a form's rows in their order)
    context: Callable[[Mapping[str, str]], dict[str, Any]] = lambda form: {}


def _structured(kind: str, stored: Mapping[str, Any] | None) -> bool:
    return kind in FORMS and FORMS[kind].fits(stored)


# The inputs of the forms, by the last step of a problem's path.
FORM_INPUTS = frozenset(
    {"api_name", "object", "condition", "message", "field", "label", "description", "format"}
    | {"columns", "filter", "group_by", "group_columns_by", "aggregates", "sort", "limit"}
    | {"subject", "body", "html_body", "components"}
    | {"entry", "steps", "lock_record", "escalate_after", "escalate_to"}
    | {"active", "entries", "action", "events", "criteria"}
)


def _short(path: str, kind: str = "") -> str:
    """``validation_rule.account.big.condition`` -> ``condition`` for the form's inputs;
    ``report.x.chart.type`` -> ``chart_type``; ``report.x.columns[1]`` -> ``columns``;
    ``dashboard.x.components[2].bands[0].upto`` -> ``components[2].bands`` (its row's
    input); ``approval_process.x.steps[1].approver`` -> ``step_value:1`` and
    ``assignment_rule.x.entries[0].when`` -> ``entry_when:0``,
    ``duplicate_rule.x.criteria[1].threshold`` -> ``criterion_threshold:1`` (the rows of
    those forms: :func:`approval_input`, :func:`assignment_input`,
    :func:`duplicate_input`); a trigger's as
    :func:`.trigger_form.trigger_input` says; other paths are kept whole."""
    if kind == "trigger":
        return trigger_input(path)
    for row_input in (approval_input(path), assignment_input(path), duplicate_input(path)):
        if row_input is not None:
            return row_input
    parts = path.split(".")
    if component := component_input(parts):
        return component
    if len(parts) >= 2 and parts[-2] == "chart":
        return f"chart_{parts[-1]}"
    last = parts[-1].split("[")[0]
    return last if last in FORM_INPUTS else path


def _form_of(stored: Mapping[str, Any] | None) -> dict[str, str]:
    if not stored:
        return {"active": "on"}
    message = stored.get("message", "")
    written = dict(message) if isinstance(message, Mapping) else {"en": str(message)}
    return {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "condition": str(stored.get("condition", "")),
        "message": written.pop("en", "") or next(iter(written.values()), ""),
        "message_zh": written.get("zh", ""),
        "field": str(stored.get("field", "")),
        "active": "on" if stored.get("active", True) else "",
    }


def _message_from(form: Mapping[str, str]) -> str | dict[str, str]:
    """The message as one text, or per language when a Chinese one is given too."""
    english, chinese = form.get("message", "").strip(), form.get("message_zh", "").strip()
    return {"en": english, "zh": chinese} if chinese else english


def _rule_from(form: Mapping[str, str]) -> dict[str, Any]:
    """A validation rule from the structured form."""
    out: dict[str, Any] = {
        "api_name": form.get("api_name", "").strip(),
        "object": form.get("object", "").strip(),
        "condition": form.get("condition", "").strip(),
        "message": _message_from(form),
    }
    if form.get("field", "").strip():
        out["field"] = form["field"].strip()
    if form.get("active") != "on":
        out["active"] = False
    return out


FORMS: Mapping[str, StructuredForm] = {
    "validation_rule": StructuredForm(
        "setup/builder.html", _form_of, _rule_from, lambda stored: True
    ),
    "report": StructuredForm(
        "setup/report_builder.html", report_form_values, report_from_form, report_fits_form
    ),
    "email_template": StructuredForm(
        "setup/email_template_builder.html",
        template_form_values,
        template_from_form,
        template_fits_form,
        template_context,
    ),
    "dashboard": StructuredForm(
        "setup/dashboard_builder.html",
        dashboard_form_values,
        dashboard_from_form,
        dashboard_fits_form,
        dashboard_context,
    ),
    "trigger": StructuredForm(
        "setup/trigger_builder.html", trigger_form_values, trigger_from_form, trigger_fits_form
    ),
    "approval_process": StructuredForm(
        "setup/approval_process_builder.html",
        approval_form_values,
        approval_from_form,
        approval_fits_form,
        approval_context,
    ),
    "assignment_rule": StructuredForm(
        "setup/assignment_rule_builder.html",
        assignment_form_values,
        assignment_from_form,
        assignment_fits_form,
        assignment_context,
    ),
    "duplicate_rule": StructuredForm(
        "setup/duplicate_rule_builder.html",
        duplicate_form_values,
        duplicate_from_form,
        duplicate_fits_form,
        duplicate_context,
    ),
}
