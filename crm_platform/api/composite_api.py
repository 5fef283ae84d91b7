"""``POST /composite``: a batch of record operations in one transaction."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from crm_platform.runtime.records.composite import parse_operations, run_composite

from .auth import current_access, current_org, current_user
from .jsonio import read_json

bp = Blueprint("composite_api", __name__)


@bp.post("/composite")
def composite() -> Response:
    operations, all_or_none = parse_operations(read_json(request))
    with current_org().records.session(current_user(), access=current_access()) as session:
        results = run_composite(session, operations, all_or_none)
    return jsonify({"results": results})
