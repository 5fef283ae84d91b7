"""The approvals API: submit a record, approve or reject, recall, reassign, read a
record's approval history, and list what waits for the current user. One transaction
per request, through the record service (sharing decides who sees the record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.workflow.approvals import store
from crm_platform.workflow.approvals.engine import Approvals
from crm_platform.workflow.approvals.views import pending_view

from . import aliases
from .auth import current_access, current_org, current_user
from .jsonio import read_json
from .params import query_params

bp = Blueprint("approvals_api", __name__)
MAX_COMMENT = 4000
RECORD = "/records/<object_name>/<record_id>/approval"


def _body(*known: str) -> dict[str, Any]:
    """The JSON body (an empty one is an empty object): only ``known`` keys, a comment
    as text."""
    if not request.get_data(cache=True):
        return {}
    data = read_json(request)
    if not isinstance(data, Mapping):
        raise ValidationFailed({"(root)": "expected a JSON object"})
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValidationFailed(
            {name: f"unknown option (it takes {', '.join(known)})" for name in unknown}
        )
    comment = data.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise ValidationFailed({"comment": f"text of at most {MAX_COMMENT} characters"})
    for key in ("process", "step"):
        if key in data and not isinstance(data[key], str):
            raise ValidationFailed({key: "must be text"})
    return dict(data)


def _act(object_name: str, record_id: str, act) -> Response:
    """Run ``act(approvals, object_name)`` in one write transaction as the current user."""
    org = current_org()
    with org.records.session(current_user(), access=current_access()) as session:
        name = aliases.object_name(session.model, object_name)
        approvals = Approvals(org, session, current_user(), session.access)
        return jsonify(act(approvals, name))


@bp.post(f"{RECORD}/submit")
@query_params()
def submit(object_name: str, record_id: str) -> Response:
    data = _body("process", "comment")
    return _act(
        object_name,
        record_id,
        lambda a, name: a.submit(
            name, record_id, process=data.get("process"), comment=data.get("comment")
        ),
    )


def _decide(object_name: str, record_id: str, decision: str) -> Response:
    data = _body("comment", "step")
    return _act(
        object_name,
        record_id,
        lambda a, name: a.decide(
            name, record_id, decision, comment=data.get("comment"), step=data.get("step")
        ),
    )


@bp.post(f"{RECORD}/approve")
@query_params()
def approve(object_name: str, record_id: str) -> Response:
    return _decide(object_name, record_id, store.APPROVED)


@bp.post(f"{RECORD}/reject")
@query_params()
def reject(object_name: str, record_id: str) -> Response:
    return _decide(object_name, record_id, store.REJECTED)


@bp.post(f"{RECORD}/recall")
@query_params()
def recall(object_name: str, record_id: str) -> Response:
    data = _body("comment")
    return _act(
        object_name,
        record_id,
        lambda a, name: a.recall(name, record_id, comment=data.get("comment")),
    )


@bp.post(f"{RECORD}/reassign")
@query_params()
def reassign(object_name: str, record_id: str) -> Response:
    data = _body("to", "from", "comment")
    return _act(
        object_name,
        record_id,
        lambda a, name: a.reassign(
            name, record_id, data.get("to"), from_user=data.get("from"), comment=data.get("comment")
        ),
    )


@bp.get(RECORD)
@query_params()
def history(object_name: str, record_id: str) -> Response:
    org = current_org()
    with org.records.session(current_user(), write=False, access=current_access()) as session:
        name = aliases.object_name(session.model, object_name)
        approvals = Approvals(org, session, current_user(), session.access)
        return jsonify(approvals.history(name, record_id))


@bp.get("/approvals/pending")
@query_params()
def pending() -> Response:
    """What waits for the current user's decision."""
    with current_org().db.read() as conn:
        rows = store.pending_for(conn, current_user().id)
        names = store.user_names(conn, [r["submitted_by"] for r in rows])
        return jsonify({"pending": [pending_view(r, names) for r in rows]})
