"""The UI's own words in the viewer's language (Flask-Babel).

Metadata labels carry their own languages (``{en: …, zh: …}``, resolved by
``Viewer.label``); this module translates the strings the templates and views write
themselves. Templates call ``_("…")``; Python code calls ``flask_babel.gettext``. The
catalogs live in ``web/translations/<lang>/LC_MESSAGES/messages.po`` beside their
compiled ``.mo`` (a test checks that every ``.mo`` matches its ``.po``)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale

UI_LANGUAGES = ("en", "zh")
TRANSLATIONS = Path(__file__).parent / "translations"


def install_i18n(app: Flask) -> None:
    """Give the app a locale per request: the signed-in viewer's, else the browser's."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=_locale)
    app.jinja_env.globals["ui_language"] = ui_language


def ui_language() -> str:
    """The request's UI language (``<html lang>``)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _locale() -> str:
    if not has_request_context():
        # a label translated while the app is built (flask-admin's view names) under
        # another app's context, as in `crm serve`'s workers: the default language
        return "en"
    if getattr(g, "crm_session_principal", None) is not None:
        # the viewer's language comes from their preferences (or the browser's)
        from .pages.context import viewer  # pages build on this module, not the reverse

        return viewer().language.split("_")[0]
    return request.accept_languages.best_match(UI_LANGUAGES) or "en"
