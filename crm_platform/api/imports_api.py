"""Imports over HTTP: ``/api/v1/imports`` — start an import job by uploading a file, poll
its progress, cancel it, fetch its error file.

The upload (``multipart/form-data``: ``file``, ``object``, optional ``mapping`` as YAML,
``upsert_on``, ``mode``, ``encoding``) is checked before a job exists: the mapping must
fit the object and the file (without one, it is inferred from the headers and a column
it cannot place is a 400 naming it, with the inferred mapping to edit and send back).
The job then runs in the org's background work runner as the user who started it,
through the record service. Everything needs ``modify_all_data`` (an administrator).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from apispec import APISpec
from flask import Blueprint, Response, jsonify, request, send_file
from werkzeug.utils import secure_filename

from crm_platform.core import Conflict, NotFound, ValidationFailed, new_id
from crm_platform.core.aftercommit import after_commit
from crm_platform.imports import (
    Importer,
    ImportMapping,
    ImportOptions,
    Source,
    dump_mapping,
    error_file_for,
    get_job,
    infer,
    later_job_writing,
    list_jobs,
    request_cancel,
)
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel

from .auth import current_org, current_user, require_permission
from .openapi import JSON, error_responses

bp = Blueprint("imports_api", __name__, url_prefix="/imports")

PERMISSION = "modify_all_data"
MAX_IMPORT_BYTES = 1024 * 1024 * 1024  # a file, spooled to disk as it arrives
MODES = ("partial", "all_or_none")


def _folder(job_id: str) -> Path:
    return current_org().settings.instance_path / "imports" / job_id


def _form_text(key: str) -> str | None:
    value = request.form.get(key, "").strip()
    return value or None


def _mapping(source: Source, object_name: str) -> ImportMapping:
    """The mapping sent with the upload, or the one the headers give (400 when a column
    cannot be placed: the problem names it and carries the inferred mapping)."""
    upload = request.files.get("mapping")
    text = upload.read().decode("utf-8") if upload is not None else _form_text("mapping")
    if text is not None:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationFailed({"mapping": f"not YAML: {exc}"}) from exc
        return ImportMapping.from_json(data)
    inferred = infer(current_org(), source, object_name)
    if not inferred.complete:
        error = ValidationFailed(
            {f"columns.{h}": why for h, why in inferred.unplaced.items()},
            f"{len(inferred.unplaced)} column(s) could not be placed: send a mapping",
        )
        error.extra["mapping"] = dump_mapping(inferred.mapping, inferred.notes)
        raise error
    return inferred.mapping


def _options() -> ImportOptions:
    mode = _form_text("mode") or "partial"
    if mode not in MODES:
        raise ValidationFailed({"mode": "partial or all_or_none"})
    return ImportOptions(
        upsert_on=_form_text("upsert_on"),
        all_or_none=mode == "all_or_none",
        encoding=_form_text("encoding"),
        background=True,
    )


@bp.post("")
@require_permission(PERMISSION)
def start_import() -> Any:
    """Upload a file and start importing it; 202 with the queued job."""
    request.max_content_length = MAX_IMPORT_BYTES
    upload = request.files.get("file")
    object_name = _form_text("object")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": "the CSV or XLSX file is missing (a 'file' part)"})
    if object_name is None:
        raise ValidationFailed({"object": "required"})
    job_id = new_id()
    folder = _folder(job_id)
    folder.mkdir(parents=True)
    path = folder / (secure_filename(upload.filename) or "upload.csv")
    upload.save(path)
    try:
        options = _options()
        source = Source(path, encoding=options.encoding)
        mapping = _mapping(source, object_name)
        mapping = ImportMapping(object_name, mapping.columns)
        importer = Importer(current_org(), current_user(), source, mapping, options)
        job = importer.start(job_id)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    org = current_org()
    with org.db.write() as conn:  # kick the runner once the job is surely there
        after_commit(conn, org.work.kick)
    response = jsonify(job.as_json())
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/imports/{job.id}"
    return response


@bp.get("")
@require_permission(PERMISSION)
def list_imports() -> Response:
    """The latest import jobs, newest first."""
    with current_org().db.read() as conn:
        return jsonify({"jobs": [job.as_json() for job in list_jobs(conn)]})


@bp.get("/<id>")
@require_permission(PERMISSION)
def show_import(id: str) -> Response:
    """An import job's progress: rows read, created, updated, rejected, status."""
    with current_org().db.read() as conn:
        return jsonify(get_job(conn, id).as_json())


@bp.post("/<id>/cancel")
@require_permission(PERMISSION)
def cancel_import(id: str) -> Response:
    """Stop a job after its current batch (what was committed stays; it can be resumed)."""
    with current_org().db.write() as conn:
        return jsonify(request_cancel(conn, id).as_json())


@bp.get("/<id>/errors")
@require_permission(PERMISSION)
def import_errors(id: str) -> Response:
    """The rejected rows as CSV, each with its reason in the last column."""
    with current_org().db.read() as conn:
        job = get_job(conn, id)
        later = later_job_writing(conn, job)
    path = Path(job.error_file) if job.error_file else error_file_for(Path(job.source))
    if later is not None:
        raise Conflict(f"import job {later} wrote its rejected rows over this job's error file")
    if not path.is_file():
        raise NotFound("this import rejected no row")
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=path.name)


# --- the OpenAPI description ------------------------------------------------------------

JOB = {
    "type": "object",
    "required": [
        *("id", "object", "status", "rows_read"),
        *("created", "updated", "unchanged", "rejected", "warned"),
    ],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
        "rows_read": {"type": "integer"},
        "total_rows": {"type": ["integer", "null"]},
        "created": {"type": "integer"},
        "updated": {"type": "integer", "description": "Rows that changed their record."},
        "unchanged": {
            "type": "integer",
            "description": "Rows that matched a record already holding their values.",
        },
        "rejected": {"type": "integer"},
        "warned": {
            "type": "integer",
            "description": "Rows written with a warning: a duplicate rule that warns let "
            "them in (GET /records/{object}/duplicates lists the clusters).",
        },
        "message": {"type": ["string", "null"]},
        "cancel_requested": {"type": "boolean"},
        "options": {"type": "object"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
UPLOAD = {
    "type": "object",
    "required": ["file", "object"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "A CSV or XLSX file."},
        "object": {"type": "string", "description": "The object the rows become records of."},
        "mapping": {
            "type": "string",
            "description": "A mapping (YAML: object, columns); inferred from the headers "
            "when left out.",
        },
        "upsert_on": {
            "type": "string",
            "description": "id (the file's `id` column), or a unique or external-id field.",
        },
        "mode": {"type": "string", "enum": list(MODES)},
        "encoding": {"type": "string", "description": "The CSV's encoding (default: detected)."},
    },
}
ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any):
    return {
        "operationId": operation_id,
        "summary": f"{summary} (needs {PERMISSION})",
        "tags": ["imports"],
        "responses": responses,
        **extra,
    }


def _job(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": JOB}}}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/imports``: start (upload), list, show, cancel, errors."""
    del model, registry  # the same for every model
    spec.tag({"name": "imports", "description": "Import jobs: files streamed into records."})
    errors = error_responses("BadRequest", "Unauthorized")
    found = error_responses("Unauthorized", "NotFound")
    list_schema = {"type": "object", "properties": {"jobs": {"type": "array", "items": JOB}}}
    spec.path(
        "/imports",
        operations={
            "post": _operation(
                "start_import",
                "Upload a CSV or XLSX file and start importing it",
                {"202": _job("The queued job"), **errors},
                requestBody={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": UPLOAD}},
                },
            ),
            "get": _operation(
                "list_imports",
                "The latest import jobs",
                {
                    "200": {"description": "Jobs", "content": {JSON: {"schema": list_schema}}},
                    **error_responses("Unauthorized"),
                },
            ),
        },
    )
    spec.path(
        "/imports/{id}",
        operations={
            "get": _operation(
                "show_import",
                "An import job's progress",
                {"200": _job("The job"), **found},
                parameters=[ID_PARAMETER],
            )
        },
    )
    spec.path(
        "/imports/{id}/cancel",
        operations={
            "post": _operation(
                "cancel_import",
                "Stop an import job after its current batch",
                {"200": _job("The job"), **found, **error_responses("Conflict")},
                parameters=[ID_PARAMETER],
            )
        },
    )
    spec.path(
        "/imports/{id}/errors",
        operations={
            "get": _operation(
                "import_errors",
                "The rows an import rejected, with the reasons",
                {
                    "200": {
                        "description": "CSV: the rows as given, plus an error column",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **found,
                    **error_responses("Conflict"),
                },
                parameters=[ID_PARAMETER],
            )
        },
    )
