"""The language a request reads labels in: ``Accept-Language``, then the org's default."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import request
from werkzeug.datastructures import LanguageAccept

from crm_platform.metadata import Chooser

from .auth import request_reading


def label_chooser(default_language: str | None = None) -> Chooser:
    """Chooses among a label's languages the request's best match (werkzeug's, which
    also matches ``zh`` with ``zh_CN``), else the org's default language; the label's
    first language when neither is there (``resolve_label`` does that)."""
    if default_language is None:
        _conn, model = request_reading()
        default_language = model.default_language
    accept = request.accept_languages
    fallback = LanguageAccept([(default_language, 1)])

    def choose(offered: Sequence[str]) -> str | None:
        return accept.best_match(offered) or fallback.best_match(offered)

    return choose


def document_language(languages: Iterable[str], default_language: str) -> str:
    """The one language of a whole document (the OpenAPI document, cached per language):
    the request's best match among the languages the org's labels use, else the default."""
    return request.accept_languages.best_match(sorted(languages)) or default_language


def fixed_chooser(language: str, default_language: str) -> Chooser:
    """Chooses ``language``, else ``default_language``, among a label's languages."""
    accept = LanguageAccept([(language, 1), (default_language, 0.5)])
    return lambda offered: accept.best_match(offered)
