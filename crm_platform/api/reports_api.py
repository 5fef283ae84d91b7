"""Reports for their readers: the reports a user may run, one definition, and a run.

A run is computed in SQL as the caller (their sharing and field-level security), in
the request's read transaction. Definitions are saved through ``/metadata/reports``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import Forbidden, ValidationFailed
from crm_platform.metadata import resolve_label
from crm_platform.reports.report_kind import reports_model
from crm_platform.reports.run import readable_reports, report_definition, result_json, run_report

from .auth import current_access, current_org, current_user, request_reading
from .jsonio import read_json
from .languages import label_chooser

bp = Blueprint("reports_api", __name__, url_prefix="/reports")
RUN_OPTIONS = ("filter", "limit")


def _session():
    records, user, access = current_org().records, current_user(), current_access()
    return records.session(user, write=False, access=access, reading=request_reading())


def _summary(session, name: str, choose) -> dict[str, Any]:
    report = report_definition(session, name)
    stored = reports_model(session.model).definitions[name]
    out = {
        "name": report.api_name,
        "label": resolve_label(report.label, choose),
        "object": report.object,
        "format": report.format,
    }
    if stored.get("description"):
        out["description"] = stored["description"]
    return out


@bp.get("")
def list_reports() -> Response:
    """The reports whose object the caller may read, by name."""
    choose = label_chooser()
    with _session() as session:
        found = [_summary(session, r.api_name, choose) for r in readable_reports(session)]
    return jsonify({"reports": found})


def _require_reader(session, name: str) -> None:
    report = report_definition(session, name)  # 404 first
    if not session.access.can(report.object, "read"):
        raise Forbidden(f"running this report needs read access to {report.object} records")


@bp.get("/<name>")
def get_report(name: str) -> Response:
    """A report's definition as stored, with its label in the caller's language."""
    choose = label_chooser()
    with _session() as session:
        _require_reader(session, name)
        stored = reports_model(session.model).definitions[name]
        body = {**stored, "label": _summary(session, name, choose)["label"]}
        body["labels"] = stored["label"] if isinstance(stored.get("label"), dict) else {}
    return jsonify(body)


def _run_options() -> tuple[str | None, int | None]:
    body = read_json(request) if request.content_length else {}
    if not isinstance(body, dict):
        raise ValidationFailed({"(body)": "must be a JSON object"})
    unknown = sorted(set(body) - set(RUN_OPTIONS))
    if unknown:
        raise ValidationFailed(
            {unknown[0]: f"unknown option (a run takes {', '.join(RUN_OPTIONS)})"}
        )
    where = body.get("filter")
    if where is not None and (not isinstance(where, str) or not where.strip()):
        raise ValidationFailed({"filter": "must be an expression (text)"})
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValidationFailed({"limit": "must be an integer"})
    return where, limit


@bp.post("/<name>/run")
def run(name: str) -> Response:
    """Rows, groups, subtotals and the grand total, as the caller may see them."""
    where, limit = _run_options()
    choose = label_chooser()
    with _session() as session:
        _require_reader(session, name)
        result = run_report(session, name, filter=where, limit=limit, choose=choose)
    return jsonify(result_json(result))
