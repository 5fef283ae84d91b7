"""``GET /search?q=...``: find records across searchable objects."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed

from .auth import current_access, current_org, current_user

bp = Blueprint("search_api", __name__)
MAX_RESULTS = 100


@bp.get("/search")
def search() -> Response:
    objects = [o for o in request.args.get("objects", "").split(",") if o.strip()] or None
    try:
        limit = int(request.args.get("limit", 20))
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc
    if not 1 <= limit <= MAX_RESULTS:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_RESULTS}"})
    with current_org().records.session(
        current_user(), write=False, access=current_access()
    ) as session:
        hits = session.search(request.args.get("q", ""), objects, limit)
    return jsonify({"results": hits})
