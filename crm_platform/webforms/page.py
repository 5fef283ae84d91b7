"""A web form as its public page and its embeddable snippet show it: the inputs (labels
in the visitor's language, from the form's labels, else the field's), the honeypot and
the form token. No Flask here: the public views and the snippet API both build on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from crm_platform.fieldtypes import value_entry
from crm_platform.metadata.labels import resolve_label
from crm_platform.runtime import OrgModel
from crm_platform.web.pages.widgets import Widget, submitted, to_value, widget_kind

from .kind import WebForm, default_of, needs_input

# the honeypot: an input people never see (moved off-screen, skipped by the keyboard and
# by screen readers) under a name form-filling bots like to fill
HONEYPOT = "wf_homepage"
TOKEN = "wf_token"
SALT = "crm-web-form"


def form_token(secret: str, form: WebForm) -> str:
    """The token a post of ``form`` carries: signed with the app's secret, it proves the
    post came from a page or snippet the platform made for this form (not a session
    token: the form is used without signing in, from any site)."""
    return URLSafeSerializer(secret, salt=SALT).dumps(form.name)


def token_holds(secret: str, form: WebForm, token: str | None) -> bool:
    if not token:
        return False
    try:
        return URLSafeSerializer(secret, salt=SALT).loads(token) == form.name
    except BadSignature:
        return False


def chooser(languages: Sequence[str], default: str) -> Callable[[Sequence[str]], str | None]:
    """A label ``Chooser`` for a visitor who prefers ``languages`` (best first)."""

    def choose(offered: Sequence[str]) -> str | None:
        for wanted in languages:
            prefix = wanted.split("-")[0].split("_")[0]
            found = next((o for o in offered if o.split("_")[0] == prefix), None)
            if found is not None:
                return found
        return default if default in offered else None

    return choose


@dataclass
class PublicForm:
    """A form ready to render: its title, description and widgets."""

    form: WebForm
    title: str
    description: str
    widgets: list[Widget]

    def widget(self, name: str) -> Widget | None:
        return next((w for w in self.widgets if w.name == name), None)


def build(model: OrgModel, form: WebForm, choose: Callable) -> PublicForm:
    """The form's widgets, empty (a picklist starts at its default)."""
    obj = model.object(form.object)
    assert obj is not None, "a web form's object exists (checked when it is saved)"

    def label(value: Any, fallback: str = "") -> str:
        return resolve_label(value, choose) if value else fallback

    widgets = []
    for item in form.fields:
        f = obj.fields[item.name]
        kind = widget_kind(f)
        widget = Widget(
            f.api_name,
            f,
            kind,
            label(item.label) or label(f.definition.get("label"), f.api_name),
            item.required or needs_input(f.definition),
            False,
            help=label(item.help) or label(f.definition.get("help_text")),
        )
        default = default_of(f.definition)
        if kind == "multiselect":
            widget.value = list(default) if isinstance(default, list) else []
        else:
            widget.value = bool(default) if kind == "checkbox" else str(default or "")
        if kind in ("select", "multiselect"):
            widget.choices = [
                (e["value"], label(e.get("label"), e["value"]))
                for e in map(value_entry, f.definition.get("values", ()))
                if e.get("active", True)
            ]
        widgets.append(widget)
    title = label(form.label) or label(obj.definition.get("label"), form.name)
    return PublicForm(form, title, label(form.description), widgets)


def read_post(page: PublicForm, posted: MultiDict, zone: Any) -> dict[str, Any]:
    """The values the inputs sent (each widget keeps its text, to show it again)."""
    values = {}
    for widget in page.widgets:
        raw = submitted(widget, posted)
        widget.value = raw
        values[widget.name] = _number(widget, to_value(widget, raw, zone))
        if widget.kind == "multiselect" and not values[widget.name]:
            values[widget.name] = None
        if widget.kind == "checkbox" and not raw:
            values[widget.name] = None  # unticked: the field's default applies
    return values


def _number(widget: Widget, value: Any) -> Any:
    """A number typed as text, as the JSON number the service takes (text that is no
    number goes through as it is, for the service's own message)."""
    if not widget.numeric or not isinstance(value, str):
        return value
    try:
        number = Decimal(value.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return value
    if widget.field.type in ("integer", "duration") and number == number.to_integral_value():
        return int(number)
    return number


def place(page: PublicForm, errors: Mapping[str, list[str]]) -> list[str]:
    """Each input's messages on its widget; the messages about the form as a whole."""
    loose = []
    for name, messages in errors.items():
        widget = page.widget(name)
        if widget is None:
            loose.extend(messages)
        else:
            widget.errors.extend(messages)
    return loose


def snippet(page: PublicForm, action: str, token: str, send: str = "Send") -> str:
    """The HTML to paste into another site: a plain form that posts to the platform (no
    script, no cookie), with the token and the honeypot."""
    lines = [
        f'<form method="post" action="{escape(action)}" accept-charset="utf-8" '
        f'class="crm-web-form" data-form="{escape(page.form.name)}">',
        f'  <input type="hidden" name="{TOKEN}" value="{escape(token)}">',
        f'  <div style="position:absolute;left:-10000px" aria-hidden="true">'
        f'<label>Homepage <input type="text" name="{HONEYPOT}" tabindex="-1" '
        f'autocomplete="off"></label></div>',
    ]
    for w in page.widgets:
        lines.extend(_snippet_input(w))
    lines.append(f'  <p><button type="submit">{escape(send)}</button></p>')
    lines.append("</form>")
    return "\n".join(lines) + "\n"


def _snippet_input(w: Widget) -> list[str]:
    ident = f"crm-{w.name}"
    required = " required" if w.required else ""
    label = f'<label for="{ident}">{escape(w.label)}</label>'
    if w.kind == "checkbox":
        return [f'  <p><input type="checkbox" id="{ident}" name="{w.name}" value="on"> {label}</p>']
    if w.kind in ("select", "multiselect"):
        multiple = " multiple" if w.kind == "multiselect" else ""
        options = "".join(f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in w.choices)
        empty = "" if multiple else '<option value=""></option>'
        attributes = f'id="{ident}" name="{w.name}"{multiple}{required}'
        return [f"  <p>{label}<br>", f"  <select {attributes}>{empty}{options}</select></p>"]
    if w.kind in ("textarea", "richtext"):
        area = f'<textarea id="{ident}" name="{w.name}" rows="4"{required}></textarea>'
        return [f"  <p>{label}<br>{area}</p>"]
    return [
        f'  <p>{label}<br><input type="{w.input_type}" id="{ident}" name="{w.name}"{required}></p>'
    ]


def snippet_for(
    model: OrgModel, form: WebForm, base_url: str, secret: str, language: str | None = None
) -> str:
    """The snippet of ``form`` posting to the platform at ``base_url``, its labels in
    ``language`` (else the org's default). Call it with an app context: its button is
    translated by the UI's catalog."""
    from flask_babel import force_locale, gettext

    language = language or model.default_language
    page = build(model, form, chooser([language], model.default_language))
    with force_locale(language.split("-")[0].split("_")[0]):
        send = gettext("Send")
    action = f"{base_url.rstrip('/')}/f/{form.name}"
    return snippet(page, action, form_token(secret, form), send)
