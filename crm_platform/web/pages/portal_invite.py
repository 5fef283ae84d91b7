"""The contact page's "Invite to portal" button (ADR 0046): for a user who may manage
users, on a contact with an email, once the service pack's portal set is installed. The
invitation is made as the viewer; its one-time link is shown once, in the page's notice."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.portal import PORTAL_PERMISSION_SET, invite_contact

from .context import Viewer, org
from .frame import bp

CONTACT = "contact"


def may_invite(v: Viewer, object_name: str, record: dict[str, Any]) -> bool:
    """Whether the contact page offers the button."""
    return (
        object_name == CONTACT
        and bool(record.get("email"))
        and v.access.has("manage_users")
        and PORTAL_PERMISSION_SET in v.model.security.permission_sets
    )


@bp.post("/r/contact/<record_id>/portal-invite")
def portal_invite(record_id: str) -> Any:
    """Invite the contact; the link shows in the notice of the contact's page."""
    from crm_platform.api.auth import end_request_reading

    from .context import viewer

    if not FlaskForm().validate_on_submit():
        raise ValidationFailed({"csrf_token": "the form expired: try again"})
    v = viewer()
    if not v.access.has("manage_users"):
        flash(gettext("Inviting to the portal needs the manage_users permission."), "danger")
        return redirect(f"/r/contact/{record_id}")
    end_request_reading()
    try:
        invitation = invite_contact(org(), v.user, record_id)
    except CrmError as error:
        flash(gettext("Not invited: %(why)s", why=error.detail), "danger")
    else:
        url = request.host_url.rstrip("/") + invitation.path
        flash(
            gettext(
                "%(email)s is invited to the portal. Send them this link (shown once, valid "
                "for a week): %(url)s",
                email=invitation.email,
                url=url,
            )
        )
    return redirect(f"/r/contact/{record_id}")
