"""What every setup page shares: who may open it, CSRF on every form, the services it
calls, and errors shown as pages.

A setup page is a flask-admin ``BaseView`` (metadata is not a table SQLAlchemy models
describe, so model views do not fit): it calls the metadata service and the directory
services exactly as the API does, with the signed-in user's access, never a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from flask import Blueprint, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import Connection
from wtforms.validators import ValidationError as CSRFValidationError

from crm_platform.api.auth import end_request_reading, request_reading
from crm_platform.core import CrmError, ValidationFailed
from crm_platform.metadata import ChangeResult, MetadataService
from crm_platform.runtime import Org, OrgModel
from crm_platform.web.pages.context import Viewer, org, viewer

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Who may open any setup page at all (the home page): one of the setup permissions.
SETUP_PERMISSIONS = ("customize_application", "manage_users", "manage_packs")


def signed_in_with(permission: str | None) -> bool:
    """Whether the request's signed-in user holds ``permission`` (any setup permission
    when None)."""
    if not current_user.is_authenticated:
        return False
    access = viewer().access
    wanted = SETUP_PERMISSIONS if permission is None else (permission,)
    return any(access.has(p) for p in wanted)


class SetupView(BaseView):
    """One area of setup. A subclass names its menu entry, URL and permission::

        class ObjectsView(SetupView):
            area_name = lazy_gettext("Objects")
            area_url = "objects"          # served under /setup/objects
            permission = "customize_application"

            @expose("/")
            def index(self): ...

    and is registered by one line in ``admin_ui.areas.AREAS``.
    """

    area_name: ClassVar[Any] = ""
    area_url: ClassVar[str] = ""
    area_category: ClassVar[Any] = None
    summary: ClassVar[Any] = ""  # one line on the setup home page
    permission: ClassVar[str | None] = "customize_application"

    def __init__(self) -> None:
        super().__init__(
            name=self.area_name,
            category=self.area_category,
            endpoint=f"setup_{self.area_url.replace('/', '_')}",
            url=self.area_url,
        )

    # --- access and CSRF ---------------------------------------------------------------
    def is_accessible(self) -> bool:
        return signed_in_with(self.permission)

    def inaccessible_callback(self, view_name: Any, /, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return self.page(
            "setup/error.html",
            status=403,
            title=gettext("Not allowed"),
            message=gettext(
                "This part of setup needs the %(permission)s permission.",
                permission=self.permission or ", ".join(SETUP_PERMISSIONS),
            ),
        )

    def _handle_view(self, view_name: str, /, **kwargs: Any) -> Any:
        # (not BaseView's: its ``name`` parameter would clash with a URL's ``<name>``)
        if not self.is_accessible():
            return self.inaccessible_callback(view_name, **kwargs)
        if request.method in UNSAFE_METHODS:
            try:
                validate_csrf(request.form.get("csrf_token"))
            except (CSRFValidationError, CSRFError):
                return self.page(
                    "setup/error.html",
                    status=400,
                    title=gettext("The form expired"),
                    message=gettext("The form expired or was sent from elsewhere. Try again."),
                )
        return None

    def create_blueprint(self, admin: Any) -> Blueprint:
        blueprint = super().create_blueprint(admin)
        blueprint.register_error_handler(CrmError, self._crm_error)
        return blueprint

    def _crm_error(self, error: CrmError) -> Any:
        """A missing or refused component as a page (the API answers problem+json)."""
        return self.page(
            "setup/error.html", status=error.status, title=error.title, message=error.detail
        )

    # --- what views use ----------------------------------------------------------------
    def page(self, template: str, *, status: int = 200, **context: Any) -> Any:
        """A page in the setup frame (flask-admin's Bootstrap 4 master)."""
        return self.render(template, viewer=viewer(), status=status, **context), status

    @property
    def viewer(self) -> Viewer:
        return viewer()

    @property
    def org(self) -> Org:
        return org()

    @property
    def metadata(self) -> MetadataService:
        return org().metadata

    @property
    def model(self) -> OrgModel:
        return viewer().model

    def author(self) -> str:
        return viewer().user.id

    def change(self, run: Callable[[MetadataService, str], ChangeResult]) -> ChangeResult:
        """One metadata change set (one revision) by the signed-in user. The request's read
        snapshot ends first, as a write in the API does."""
        end_request_reading()
        return run(org().metadata, self.author())

    @contextmanager
    def directory(self, *, write: bool = True) -> Iterator[tuple[Connection, OrgModel]]:
        """A transaction for the directory services (users, memberships): a write one,
        or the request's read snapshot."""
        if not write:
            yield request_reading()
            return
        end_request_reading()
        the_org = org()
        with the_org.db.write() as conn:
            yield conn, the_org.models.model_for(conn)

    def saved(self, message: str, endpoint: str, **values: Any) -> Any:
        """After a save: say so, and show the page again (POST, redirect, GET)."""
        flash(message, "success")
        return redirect(url_for(endpoint, **values))


def problems_of(error: Exception) -> dict[str, list[str]]:
    """A refusal's messages per field path, for a form to show beside its inputs (a
    refusal that names no field, such as a 409, under ``(root)``)."""
    if not isinstance(error, ValidationFailed):
        return {"(root)": [getattr(error, "detail", str(error))]}
    found: dict[str, list[str]] = {}
    for path, messages in error.errors.items():
        found[path] = list(messages) if isinstance(messages, (list, tuple)) else [str(messages)]
    return found


def label_map(english: str, chinese: str) -> Any:
    """A label as an admin typed it: a plain string, or ``{en, zh}`` when both are given."""
    english, chinese = english.strip(), chinese.strip()
    if english and chinese:
        return {"en": english, "zh": chinese}
    return english or chinese or None


LABEL_LANGUAGES = frozenset({"en", "zh"})  # the languages a form's label inputs write


def label_fits_form(label: Any) -> bool:
    """Whether a stored label shows in a form's English and Chinese inputs whole (a
    label in another language sends its definition to the YAML editor instead)."""
    return not (isinstance(label, Mapping) and set(label) - LABEL_LANGUAGES)


def label_parts(label: Any) -> tuple[str, str]:
    """The English and Chinese texts of a stored label (for the form's two inputs)."""
    if isinstance(label, dict):
        return str(label.get("en", "")), str(label.get("zh", ""))
    return (str(label) if label else "", "")


def header_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The definition's keys from the inputs a builder form of an object's component
    starts with (the ``component_header`` macro): API name, object, label, description."""
    out: dict[str, Any] = {
        "api_name": form.get("api_name", "").strip(),
        "object": form.get("object", "").strip(),
    }
    if (label := label_map(form.get("label", ""), form.get("label_zh", ""))) is not None:
        out["label"] = label
    if description := form.get("description", "").strip():
        out["description"] = description
    return out


def posted_rows(
    form: Mapping[str, str], prefix: str, parts: Sequence[str], key: str
) -> list[tuple[int, dict[str, str]]]:
    """(row number, its inputs) of a form table's posted rows whose ``key`` input is
    filled (an emptied one removes its row), in row order; inputs are named
    ``<prefix>_<part>:<row>``."""
    filled = re.compile(rf"^{re.escape(prefix)}_{re.escape(key)}:(\d+)$")
    rows = sorted(
        int(m.group(1))
        for name, value in form.items()
        if (m := filled.match(name)) and value.strip()
    )
    return [
        (row, {part: form.get(f"{prefix}_{part}:{row}", "").strip() for part in parts})
        for row in rows
    ]


def by_position(rows: list[tuple[int, dict[str, str]]]) -> list[dict[str, str]]:
    """Rows with a ``position`` input in the order of their positions (a blank or
    unreadable one counts as the row's number; ties keep row order)."""

    def position(item: tuple[int, dict[str, str]]) -> tuple[float, int]:
        row, values = item
        try:
            return float(values["position"]), row
        except ValueError:
            return float(row), row

    return [values for _, values in sorted(rows, key=position)]
