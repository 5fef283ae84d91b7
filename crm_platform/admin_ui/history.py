"""History and audit: an object's metadata history with a side-by-side diff and a
rollback (a new forward revision), the setup audit trail filtered by kind, and the login
history filtered by email — read through the metadata service and ``runtime.audit``, as
the API reads them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import yaml
from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup

from crm_platform.core import ValidationFailed
from crm_platform.runtime import audit

from .base import SetupView, signed_in_with

LIMIT = 100


def as_yaml(definition: Mapping[str, Any] | None) -> str:
    """A definition as the YAML a consultant would read (empty when there was none)."""
    if not definition:
        return ""
    return yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True)


def side_by_side(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Markup:
    """Two definitions side by side, changed lines marked (difflib's table; the page's
    CSS colours it), only the changes with a little context."""
    table = difflib.HtmlDiff(tabsize=2, wrapcolumn=60).make_table(
        as_yaml(before).splitlines(),
        as_yaml(after).splitlines(),
        gettext("Before"),
        gettext("After"),
        context=True,
        numlines=3,
    )
    return Markup(table)


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationFailed({name: gettext("a revision number")})
    return int(raw)


class HistoryView(SetupView):
    area_name = lazy_gettext("Metadata history")
    area_url = "history"
    area_category = lazy_gettext("History and audit")
    summary = lazy_gettext("Each object's revisions, side by side, with rollback.")
    permission = "customize_application"

    @expose("/")
    def index(self) -> Any:
        return self.page("setup/history_objects.html", objects=self.metadata.list_objects())

    @expose("/<name>")
    def object_history(self, name: str) -> Any:
        """The object's revisions, newest first; two of them compared side by side."""
        entries = self.metadata.history(name)
        revisions = [e["revision"] for e in entries]
        to = _int_arg("to") or (revisions[0] if revisions else None)
        start = _int_arg("from") or (revisions[1] if len(revisions) > 1 else to)
        diff = None
        if to is not None and start is not None:
            diff = side_by_side(
                self.metadata.definition_at(name, start), self.metadata.definition_at(name, to)
            )
        return self.page(
            "setup/history_object.html",
            title=gettext("History of %(name)s", name=name),
            name=name,
            entries=entries,
            start=start,
            to=to,
            diff=diff,
        )

    @expose("/<name>/rollback", methods=["POST"])
    def rollback(self, name: str) -> Any:
        """Make the object what it was right after a revision (a new revision)."""
        raw = request.form.get("revision", "")
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1 or len(raw) > 9:
            raise ValidationFailed({"revision": gettext("a revision number")})
        self.metadata.history(name)  # 404 for an unknown object
        result = self.change(lambda m, who: m.rollback_object(name, int(raw), author_id=who))
        return self.saved(
            gettext("Rolled back to revision %(revision)s.", revision=raw),
            ".object_history",
            name=result.value,
        )


class AuditView(SetupView):
    area_name = lazy_gettext("Setup audit trail")
    area_url = "audit"
    area_category = lazy_gettext("History and audit")
    summary = lazy_gettext("Who changed which metadata, and when.")
    permission = "view_setup"

    def is_accessible(self) -> bool:
        # the API's rule: view_setup, or customize_application (which implies it)
        return super().is_accessible() or signed_in_with("customize_application")

    @expose("/")
    def index(self) -> Any:
        kind = request.args.get("kind", "").strip() or None
        query = audit.SetupChangeQuery(kind=kind, before=_int_arg("before"), limit=LIMIT)
        with self.org.db.read() as conn:
            changes = audit.setup_changes(conn, query)
        return self.page(
            "setup/audit.html",
            changes=changes,
            kinds=sorted(self.org.registry.kinds),
            kind=kind or "",
            diff=side_by_side,
            limit=LIMIT,
        )


class LoginsView(SetupView):
    area_name = lazy_gettext("Login history")
    area_url = "logins"
    area_category = lazy_gettext("History and audit")
    summary = lazy_gettext("Sign-ins, failed ones too, by email.")
    permission = "manage_users"

    @expose("/")
    def index(self) -> Any:
        email = request.args.get("email", "").strip() or None
        with self.org.db.read() as conn:
            events = audit.login_history(conn, audit.LoginQuery(email=email, limit=LIMIT))
        return self.page("setup/logins.html", events=events, email=email or "")
