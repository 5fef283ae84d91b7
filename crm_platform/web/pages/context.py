"""Who is looking: the signed-in user, their access, language and time zone, for one
request, and the record sessions pages open with them (the API's, never a table read)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, request

from crm_platform.api.auth import end_request_reading, request_reading
from crm_platform.metadata import resolve_label
from crm_platform.runtime import Org, OrgModel, User
from crm_platform.runtime.directory import user_view
from crm_platform.runtime.records import RecordSession
from crm_platform.runtime.security import Principal, UserAccess, access_for
from crm_platform.web.i18n import UI_LANGUAGES


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as pages need them (one per request)."""

    user: User
    principal: Principal
    access: UserAccess
    model: OrgModel
    language: str
    time_zone: ZoneInfo

    def label(self, label: Any, fallback: str = "") -> str:
        """A metadata label in the viewer's language (its first language when absent)."""
        if label is None or label == "":
            return fallback
        return resolve_label(label, self._choose)

    def choose(self, offered) -> str | None:
        """Of the languages a label offers, the one to show this viewer (a ``Chooser``)."""
        return self._choose(offered)

    def _choose(self, offered) -> str | None:
        if self.language in offered:
            return self.language
        prefix = self.language.split("_")[0]
        return next((o for o in offered if o.split("_")[0] == prefix), None) or (
            self.model.default_language if self.model.default_language in offered else None
        )


def org() -> Org:
    return current_app.extensions["crm_org"]


def viewer() -> Viewer:
    """The request's viewer (the session loader already checked the cookie)."""
    if "crm_viewer" not in g:
        conn, model = request_reading()
        principal: Principal = g.crm_session_principal
        prefs = user_view(conn, principal.user.id)
        g.crm_viewer = Viewer(
            principal.user,
            principal,
            access_for(principal, model, model.security),
            model,
            _language(prefs.get("locale"), model.default_language),
            _zone(prefs.get("time_zone") or model.time_zone),
        )
    return g.crm_viewer


def _language(locale: str | None, default: str) -> str:
    if locale:
        return locale.replace("-", "_")
    return request.accept_languages.best_match(UI_LANGUAGES) or default


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@contextmanager
def reading() -> Iterator[RecordSession]:
    """A read-only record session in the request's read transaction."""
    v = viewer()
    with org().records.session(
        v.user, write=False, access=v.access, reading=request_reading()
    ) as session:
        yield session


@contextmanager
def writing() -> Iterator[RecordSession]:
    """A write transaction (the request's read snapshot ends first, as in the API)."""
    v = viewer()
    end_request_reading()
    with org().records.session(v.user, access=v.access) as session:
        yield session
