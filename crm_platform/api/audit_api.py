"""The audit trail for administrators: setup changes and logins (field history is per record)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import logins, metadata_revisions, users

from .auth import current_org, require_permission

bp = Blueprint("audit_api", __name__, url_prefix="/audit")
MAX_LIMIT = 200


def _limit() -> int:
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"between 1 and {MAX_LIMIT}"})
    return limit


@bp.get("/setup")
@require_permission("view_setup")
def setup_audit() -> Response:
    """Who changed which metadata, when: newest first (``?kind=object&before=<version>``)."""
    mr = metadata_revisions
    query = (
        sa.select(mr, users.c.email)
        .join(users, users.c.id == mr.c.author_id, isouter=True)
        .order_by(mr.c.metadata_version.desc(), mr.c.name)
        .limit(_limit())
    )
    if kind := request.args.get("kind"):
        query = query.where(mr.c.kind == kind)
    if before := request.args.get("before"):
        if not before.isdigit():
            raise ValidationFailed({"before": "a metadata version"})
        query = query.where(mr.c.metadata_version < int(before))
    with current_org().db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return jsonify(
        {
            "changes": [
                {
                    "revision": r["metadata_version"],
                    "kind": r["kind"],
                    "name": r["name"],
                    "action": r["action"],
                    "by": {"id": r["author_id"], "email": r["email"]},
                    "at": r["created_at"],
                    "before": (r["before"] or {}).get("definition"),
                    "after": (r["after"] or {}).get("definition"),
                }
                for r in rows
            ]
        }
    )


@bp.get("/logins")
@require_permission("manage_users")
def login_history() -> Response:
    """Logins, failures included, newest first (``?email=`` to narrow)."""
    query = sa.select(logins).order_by(logins.c.at.desc()).limit(_limit())
    if email := request.args.get("email"):
        query = query.where(logins.c.email == email.strip().lower())
    with current_org().db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return jsonify({"logins": [dict(r) for r in rows]})
