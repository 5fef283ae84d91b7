"""Automation runs for administrators: list by status, one run, retry, delivery check.

Every run of the outbox (a webhook, an email, a scheduled trigger's actions...) has a
status an admin can see — queued, running, succeeded, failed (with the failing action
and the reason), cancelled, and the ``late`` mark — and a failed run can be retried
from the action that failed. Only administrators (``customize_application``) see them:
a run names records and carries its payload.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.core.errors import Conflict, NotFound
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.ping import ping_result, queue_ping
from crm_platform.workflow.runs import DEFAULT_LIMIT, RunQuery

from .auth import current_org, current_user, require_admin
from .jsonio import read_json
from .params import query_params

bp = Blueprint("automation_api", __name__, url_prefix="/automation")


def _limit() -> int:
    text = request.args.get("limit", str(DEFAULT_LIMIT))
    if not (text.isascii() and text.isdigit()):
        raise ValidationFailed({"limit": "must be an integer"})
    return int(text)


def _run_json(run: outbox.Run) -> dict:
    out = run.as_json()
    if run.job == "ping" and run.status == outbox.SUCCEEDED:
        with current_org().db.read() as conn:
            result = ping_result(conn, run.id)
        if result is not None:
            out["delivered_by"] = result.delivered_by
    return out


@bp.get("/runs")
@query_params("status", "source", "record_id", "before", "limit")
@require_admin
def list_runs() -> Response:
    """Runs, newest first: ``?status=failed,late&source=&record_id=&limit=&before=``."""
    query = RunQuery.parse(
        request.args.getlist("status"),
        limit=_limit(),
        source=request.args.get("source") or None,
        record_id=request.args.get("record_id") or None,
        before=request.args.get("before") or None,
    )
    with current_org().db.read() as conn:
        found = query.run(conn)
    following = found[-1].id if len(found) == query.limit else None
    return jsonify({"runs": [run.as_json() for run in found], "next": following})


@bp.get("/runs/<run_id>")
@require_admin
def get_run(run_id: str) -> Response:
    with current_org().db.read() as conn:
        run = outbox.get(conn, run_id)
    if run is None:
        raise NotFound(f"no automation run '{run_id}'")
    return jsonify(_run_json(run))


@bp.post("/runs/<run_id>/retry")
@require_admin
def retry_run(run_id: str) -> Response:
    """Queue a failed run again, from the action that failed."""
    org = current_org()
    run = automation_of(org).retry(run_id)
    if run is None:
        with org.db.read() as conn:
            existing = outbox.get(conn, run_id)
        if existing is None:
            raise NotFound(f"no automation run '{run_id}'")
        raise Conflict(f"only a failed run can be retried; this one is {existing.status}")
    return jsonify(run.as_json())


@bp.post("/ping")
@require_admin
def ping() -> tuple[Response, int]:
    """Queue a delivery check; ``GET /runs/<id>`` tells when and by whom it was delivered."""
    body = read_json(request) if request.content_length else {}
    if not isinstance(body, dict):
        raise ValidationFailed({"(body)": "must be a JSON object"})
    unknown = set(body) - {"hold"}
    if unknown:
        raise ValidationFailed({sorted(unknown)[0]: "unknown field"})
    hold = body.get("hold", 0)
    if isinstance(hold, bool) or not isinstance(hold, int | float | Decimal):
        raise ValidationFailed({"hold": "must be a number of seconds"})
    org = current_org()
    run = queue_ping(automation_of(org), current_user().id, float(hold))
    return jsonify(run.as_json()), 202
