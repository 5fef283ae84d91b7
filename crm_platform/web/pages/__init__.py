"""The end-user app (DESIGN §3 "Pages people work in"): server-rendered pages generated
from the compiled model — home, list pages, record pages, create and edit forms —
calling the record service with the signed-in user's permissions, exactly as the API
does. Every page works with JavaScript off (ADR 0033)."""

from __future__ import annotations

from flask import Flask

from . import (  # noqa: F401  (their routes join ``bp``)
    conversions,
    feed_panel,
    form_rules,
    forms,
    home,
    kanban,
    lists,
    lookups,
    mass,
    portal_invite,
    recent,
    records,
    search,
)
from .frame import bp

__all__ = ["install_pages"]


def install_pages(app: Flask) -> None:
    """Register the pages and the vendor assets they use."""
    app.register_blueprint(bp)
