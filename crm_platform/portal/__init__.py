"""The customer portal (ADR 0046): contacts invited as portal users sign in at
``/portal``, see their own cases (or their account's, by the org's setting), open a case,
comment on it and read published knowledge articles.

What a portal user reaches is enforced by the security model, not by the pages: their
user type gives them a *scope* (``scope.py``) that replaces sharing in SQL on every read
path, and the ``portal_customer`` permission set names the only fields they may read.

Others may import: ``PortalExtension`` (joins an org), ``install_portal`` (the pages),
the invitation functions and the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.core.tables import PORTAL_USER
from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler
from crm_platform.runtime.records.events import RecordEvent
from crm_platform.runtime.security.scopes import scope_extension

from .comments import COMMENT_OBJECT, stamp_comment
from .invitations import (
    PORTAL_PERMISSION_SET,
    Invitation,
    accept_invitation,
    invite_contact,
    portal_sharing,
    set_portal_sharing,
)
from .scope import SHARINGS, compile_rules

if TYPE_CHECKING:
    from flask import Flask

    from crm_platform.runtime import Org

__all__ = [
    "PORTAL_PERMISSION_SET",
    "SHARINGS",
    "Invitation",
    "PortalExtension",
    "accept_invitation",
    "install_portal",
    "invite_contact",
    "portal_sharing",
    "set_portal_sharing",
]


@dataclass(frozen=True)
class PortalExtension:
    """Compiles the portal users' scope with every metadata version; stamps comments."""

    name: str = "portal"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        compiler.add_extension(scope_extension(PORTAL_USER), compile_rules)

    def attach(self, org: Org) -> None:
        org.records.events.on(
            RecordEvent.BEFORE_CREATE,
            stamp_comment,
            objects=[COMMENT_OBJECT],
            name="portal_stamp_comment",
        )


def install_portal(app: Flask) -> None:
    """Register the portal's pages at ``/portal``."""
    from .web import bp  # the pages need Flask; the extension alone does not

    app.register_blueprint(bp)
