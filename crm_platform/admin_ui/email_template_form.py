"""The email template builder's form: api_name, object (a select), label in English and
Chinese, description, subject, text body and optional HTML body. The schema gives
subject and bodies one text each (not one per language), so the form has one input for
each. The fields of the chosen object are listed as a hint for merge fields
(``{{ account.name }}``, ``{{ owner.name }}``); the metadata service checks every merge
field when the template is saved. A template whose label is written in other languages
than English and Chinese opens in the YAML editor, so saving the form never drops part
of a definition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.core.tables import USER_PUBLIC_COLUMNS

from .base import LABEL_LANGUAGES, label_map, label_parts

# The keys the form edits (every key of the kind's schema).
FORM_KEYS = frozenset(
    {"api_name", "object", "label", "description", "subject", "body", "html_body"}
)


def template_fits_form(stored: Mapping[str, Any] | None) -> bool:
    """Whether the form can show every part of ``stored`` (a new template always fits):
    a label by language needs its English text and no other language than Chinese."""
    if not stored:
        return True
    if set(stored) - FORM_KEYS:
        return False
    label = stored.get("label")
    if isinstance(label, Mapping):
        return "en" in label and not set(label) - LABEL_LANGUAGES
    return True


def template_form_values(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's inputs for a stored template (empty ones for a new template)."""
    if not stored:
        return {}
    english, chinese = label_parts(stored.get("label"))
    return {
        "api_name": str(stored.get("api_name", "")),
        "object": str(stored.get("object", "")),
        "label": english,
        "label_zh": chinese,
        "description": str(stored.get("description", "")),
        "subject": str(stored.get("subject", "")),
        "body": str(stored.get("body", "")),
        "html_body": str(stored.get("html_body", "")),
    }


def template_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A template definition from the form's inputs (the metadata service checks it).
    Bodies are kept as typed, with a browser's CRLF line ends made LF."""
    out: dict[str, Any] = {
        "api_name": form.get("api_name", "").strip(),
        "object": form.get("object", "").strip(),
    }
    if label := label_map(form.get("label", ""), form.get("label_zh", "")):
        out["label"] = label
    if description := form.get("description", "").strip():
        out["description"] = description
    out["subject"] = form.get("subject", "").strip()
    out["body"] = _text(form.get("body", ""))
    if (html := _text(form.get("html_body", ""))).strip():
        out["html_body"] = html
    return out


def template_context(form: Mapping[str, str]) -> dict[str, Any]:
    """What the template's page shows beside the inputs: the owner's merge fields."""
    del form
    return {"owner_columns": USER_PUBLIC_COLUMNS}


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")
