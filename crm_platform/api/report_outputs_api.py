"""A report's outputs: ``GET /reports/<name>/export?format=csv|xlsx`` and
``GET /reports/<name>/chart.svg``.

An export streams every row of the report as the user (no cap) and needs the
``export_data`` system permission. A CSV's rows come from a cursor of the request's
read transaction, one batch per chunk of the body. Flask ends a request (and the API's
teardown ends its read transaction) as soon as the view returns, before a streamed body
is sent — ``stream_with_context`` included, since Flask 3.1 — so the export takes that
transaction from the teardown and ends it itself: after the last chunk, or when the
server closes the response (the client went away).
An XLSX is written to a temporary file first (a zip's directory comes last) with the
transaction open, then streamed from the file, which is gone once closed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from apispec import APISpec
from flask import Blueprint, Response, request

from crm_platform.core import Forbidden, NotFound, ValidationFailed, utc_now
from crm_platform.metadata import KindRegistry
from crm_platform.reports import run_report, stream_report
from crm_platform.reports.charts import render_chart
from crm_platform.reports.dashboards import chart_with_keys
from crm_platform.reports.export import (
    EXPORT_FORMATS,
    csv_chunks,
    export_filename,
    export_format,
    file_chunks,
    org_export_options,
    xlsx_file,
)
from crm_platform.runtime import OrgModel

from .auth import (
    current_access,
    current_org,
    current_user,
    request_reading,
    take_request_reading,
)
from .languages import label_chooser
from .openapi import error_responses
from .records_api import query_params

bp = Blueprint("report_outputs_api", __name__, url_prefix="/reports")
SVG = "image/svg+xml"
EXPORT_PERMISSION = "export_data"


def reading_session():
    """A record session on the request's read transaction (ended at teardown)."""
    return current_org().records.session(
        current_user(), write=False, access=current_access(), reading=request_reading()
    )


@bp.get("/<name>/export")
@query_params("format", "filter")
def export_report(name: str) -> Response:
    """The report's every row as CSV (streamed) or XLSX (written, then streamed)."""
    if not current_access().has(EXPORT_PERMISSION):
        raise Forbidden(f"exporting needs the {EXPORT_PERMISSION} permission")
    fmt = export_format(request.args.get("format", "csv"))
    with reading_session() as ctx:
        # checks (404, 403, 400 for a bad filter or a hidden field) answer before any byte
        stream = stream_report(
            ctx, name, filter=request.args.get("filter") or None, choose=label_chooser()
        )
        options = org_export_options(ctx)
    filename = export_filename(name, fmt, utc_now().date())
    if fmt.name == "xlsx":
        file = xlsx_file(stream, options)  # read to the end: the transaction may end now
        response = Response(file_chunks(file), mimetype=fmt.media_type)
        response.call_on_close(file.close)
    else:
        chunks = csv_chunks(stream, options)
        # the header and the first batch now: the query runs (and a database error
        # answers) before the status line is sent
        first = [next(chunks), *itertools.islice(chunks, 1)]
        end_reading = keep_request_reading()
        # the body needs no request context: the session, the chooser and the
        # stream hold what they read
        body = _closing(itertools.chain(first, chunks), end_reading)
        response = Response(body, mimetype=fmt.media_type)
        response.call_on_close(end_reading)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def keep_request_reading() -> Callable[[], None]:
    """Take the request's read transaction from the API's teardown, which runs as soon
    as the view returns (before a streamed body is sent): the rows are read from its
    cursor while the body goes out. The caller ends it with the function returned (the
    body's end and the response's close both call it; the second call does nothing)."""
    return take_request_reading()


def _closing(chunks: Iterator[bytes], end: Callable[[], None]) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        end()


@bp.get("/<name>/chart.svg")
@query_params("filter")
def report_chart(name: str) -> Response:
    """The report's chart as SVG, drawn from its run as the user."""
    choose = label_chooser()
    with reading_session() as ctx:
        result = run_report(ctx, name, filter=request.args.get("filter") or None, choose=choose)
        if result.chart is None:
            raise NotFound(f"report '{name}' has no chart")
        try:
            svg = render_chart(result, chart_with_keys(ctx, name, result.chart))
        except ValidationFailed as exc:  # a chart saved before its report changed
            raise NotFound(f"report '{name}' has no chart it can draw: {exc.detail}") from exc
    response = Response(svg, mimetype=SVG)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- its documentation --------------------------------------------------------------


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/reports/{name}/export`` and ``/reports/{name}/chart.svg``."""
    del model, registry  # the same for every model
    spec.tag({"name": "report outputs", "description": "Report exports and charts."})
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The report's api_name.",
        "schema": {"type": "string"},
    }
    runtime_filter = {
        "name": "filter",
        "in": "query",
        "description": "A boolean expression ANDed with the report's filter.",
        "schema": {"type": "string"},
    }
    spec.path(
        "/reports/{name}/export",
        operations={
            "get": {
                "operationId": "export_report",
                "summary": "Export every row of a report as CSV or XLSX (needs export_data)",
                "description": "Streams the whole result as the user (sharing and "
                "field-level security apply; no row cap). CSV is UTF-8 with a byte order "
                "mark; XLSX keeps numbers, currencies, percents and dates as typed cells "
                "(datetimes in the org's time zone).",
                "tags": ["report outputs"],
                "parameters": [
                    name,
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(EXPORT_FORMATS)},
                        "description": "The file format (csv by default).",
                    },
                    runtime_filter,
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment named "
                        "`<report>-<YYYY-MM-DD>.<format>`",
                        "headers": {
                            "Content-Disposition": {
                                "description": "attachment; filename=...",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            fmt.media_type: {"schema": {"type": "string", "format": "binary"}}
                            for fmt in EXPORT_FORMATS.values()
                        },
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/reports/{name}/chart.svg",
        operations={
            "get": {
                "operationId": "report_chart_svg",
                "summary": "A report's chart as SVG, drawn on the server",
                "description": "Self-contained SVG (no script, no external reference), "
                "labels in the request's language. 404 when the report has no chart.",
                "tags": ["report outputs"],
                "parameters": [name, runtime_filter],
                "responses": {
                    "200": {
                        "description": "The chart",
                        "content": {SVG: {"schema": {"type": "string"}}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            }
        },
    )
