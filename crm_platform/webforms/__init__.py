"""Web forms (issue 18): the ``web_form`` kind — a public page at ``/f/<name>`` and an
HTML snippet for other sites whose posts create records of one object (web-to-lead,
web-to-case) as the form's guest user, who may create that object and read nothing.

Modules: ``kind`` (the kind, its checks and compiled part), ``guest`` (the guest user per
form), ``throttle`` and ``tables`` (the per-address rate limit, in a platform table),
``submit`` (a post becoming a record), ``page`` (what the page and the snippet show) and
``public`` (the Flask views; imported by the app only, so the CLI and the metadata API
need no web code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .guest import keep_guest_users
from .kind import EXTENSION, KIND, FormField, WebForm, WebForms, register_kind, web_forms_of
from .submit import Submission, active_form, submit

if TYPE_CHECKING:
    from crm_platform.runtime import Org

__all__ = [
    "KIND",
    "FormField",
    "Submission",
    "WebForm",
    "WebForms",
    "WebFormsExtension",
    "active_form",
    "submit",
    "web_forms_of",
]


@dataclass(frozen=True)
class WebFormsExtension:
    """Registers the ``web_form`` kind and keeps each form's guest user with the form."""

    name: str = EXTENSION

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        register_kind(registry, compiler)
        registry.add_apply_hook(keep_guest_users)

    def attach(self, org: Org) -> None:
        del org  # posts are served by the app's public views; nothing runs on events
