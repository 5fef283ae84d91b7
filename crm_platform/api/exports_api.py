"""``GET /records/<object>/export?format=csv|xlsx|jsonl``: every record the user may
read, streamed (ADR 0043).

Streamed rather than run as a job: the rows come from the request's read transaction a
page at a time as the body goes out, so memory stays flat, the client gets the first
bytes at once and there is no job table or stored file to clean up. Like a report's
export, the view takes the read transaction from the API's teardown and ends it after
the last chunk (or when the client goes away). An XLSX is written to a temporary file
first (a zip's directory comes last), then streamed from it.
"""

from __future__ import annotations

import itertools

from apispec import APISpec
from flask import Blueprint, Response, request

from crm_platform.core import utc_now
from crm_platform.exports import EXPORT_FORMATS, export_chunks, record_export
from crm_platform.exports.records import export_format
from crm_platform.metadata import KindRegistry
from crm_platform.reports.export import org_export_options
from crm_platform.runtime import OrgModel

from .openapi import error_responses
from .records_api import query_params
from .report_outputs_api import _closing, keep_request_reading, reading_session

bp = Blueprint("exports_api", __name__, url_prefix="/records")


@bp.get("/<object_name>/export")
@query_params("format", "where", "fields")
def export_records(object_name: str) -> Response:
    """The object's records the user may read, as a file."""
    fmt = export_format(request.args.get("format", "csv"))
    fields = request.args.get("fields")
    with reading_session() as ctx:
        # every check (403, 404, 400) answers before a byte: the first page is read now
        export = record_export(
            ctx,
            object_name,
            where=request.args.get("where") or None,
            fields=fields.split(",") if fields else None,
        )
        options = org_export_options(ctx)
    chunks = export_chunks(export, fmt.name, options)  # an xlsx is written here
    first = list(itertools.islice(chunks, 1))
    end_reading = keep_request_reading()
    response = Response(_closing(itertools.chain(first, chunks), end_reading))
    response.mimetype = fmt.media_type
    response.call_on_close(end_reading)
    day = utc_now().date().isoformat()
    filename = f"{export.object_name}-{day}.{fmt.extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/records/<object>/export`` for every object, under the object's tag."""
    del registry
    for name in model.objects:
        spec.path(f"/records/{name}/export", operations={"get": _operation(name)})


def _operation(name: str) -> dict:
    return {
        "operationId": f"export_{name}",
        "summary": f"Export {name} records as CSV, XLSX or JSON Lines (needs export_data)",
        "description": "Streams every record the user may read (sharing and field-level "
        "security apply; no row cap), in id order. Columns are API names. CSV is UTF-8 "
        "with a byte order mark and keeps formula-like text as text (a leading `'`); XLSX "
        "keeps numbers and dates as typed cells; JSON Lines keeps every value exact.",
        "tags": [name],
        "parameters": [
            {
                "name": "format",
                "in": "query",
                "schema": {"type": "string", "enum": list(EXPORT_FORMATS)},
                "description": "The file format (csv by default).",
            },
            {
                "name": "where",
                "in": "query",
                "schema": {"type": "string"},
                "description": "A boolean expression the records must meet.",
            },
            {
                "name": "fields",
                "in": "query",
                "schema": {"type": "string"},
                "description": "Comma-separated field paths (default: every field the "
                "user may read, then the system fields).",
            },
        ],
        "responses": {
            "200": {
                "description": "The file, as an attachment named `<object>-<YYYY-MM-DD>.<format>`",
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
