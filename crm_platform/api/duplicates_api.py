"""Duplicates and merge: ``GET /records/<object>/duplicates`` (likely duplicate clusters
the user may see) and ``POST /records/<object>/merge`` (records folded into a master,
undone by restoring a merged record from the recycle bin). ADR 0042.

Writes that an allow-with-warning duplicate rule matched answer with a
``Warning: 299 crm "..."`` header per warning (:func:`add_duplicate_warnings`, run after
every API request).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.dedupe import duplicate_clusters, merge_records, notices
from crm_platform.dedupe.clusters import DEFAULT_CLUSTERS

from . import aliases
from .auth import current_access, current_org, current_user, request_reading
from .jsonio import read_json
from .params import query_params

bp = Blueprint("duplicates_api", __name__, url_prefix="/records")
MAX_CLUSTERS = 1000


def start_collecting_warnings() -> None:
    """Every API request collects the duplicate warnings of its writes."""
    notices.start()


def add_duplicate_warnings(response: Response) -> Response:
    """One ``Warning: 299 crm "<text>"`` header per duplicate warning of the request. A
    header is Latin-1: the text is a JSON string (quotes and non-ASCII names escaped as
    ``\\"`` and ``\\uXXXX``), which is also a valid quoted string of the header."""
    for notice in notices.current():
        text = f"{notice.object} {notice.record_id}: {notice.message}"
        response.headers.add("Warning", f"299 crm {json.dumps(text)}")
    return response


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_CLUSTERS))
    try:
        limit = int(raw)
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc
    if not 1 <= limit <= MAX_CLUSTERS:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_CLUSTERS}"})
    return limit


@bp.get("/<object_name>/duplicates")
@query_params("rule", "limit")
def list_duplicates(object_name: str) -> Response:
    """Likely duplicate clusters among the records the user may see."""
    records, user, access = current_org().records, current_user(), current_access()
    with records.session(user, write=False, access=access, reading=request_reading()) as session:
        name = aliases.object_name(session.model, object_name)
        report = duplicate_clusters(
            session, name, rule_name=request.args.get("rule") or None, limit=_limit()
        )
    return jsonify(
        {
            "object": report.object,
            "total": report.total,
            "clusters": [{"rule": c.rule, "records": c.records} for c in report.clusters],
            "skipped_rules": report.skipped_rules,
            "truncated_blocks": report.truncated_blocks,
        }
    )


@bp.post("/<object_name>/merge")
@query_params()
def merge(object_name: str) -> Response:
    """``{"master": id, "others": [id, ...], "values": {field: id of the record to keep}}``."""
    data: Any = read_json(request)
    if not isinstance(data, dict):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    unknown = sorted(set(data) - {"master", "others", "values"})
    if unknown:
        raise ValidationFailed({name: "unknown member" for name in unknown})
    records, user, access = current_org().records, current_user(), current_access()
    with records.session(user, access=access) as session:
        name = aliases.object_name(session.model, object_name)
        result = merge_records(
            session, name, data.get("master"), data.get("others"), data.get("values")
        )
    return jsonify(
        {
            "merge_id": result.merge_id,
            "master": result.master,
            "merged": list(result.merged),
            "moved_children": result.moved_children,
        }
    )
