"""Files of ``file`` fields through the API (ADR 0037): upload a file for an object's
field (multipart), then write the value the upload answers into the record as usual;
download the file a record holds. Both apply the records API's checks: object
permission, field-level security and, for a download, sharing (404 for a record or
field the caller may not read)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request, send_file

from crm_platform.core import Forbidden, NotFound, ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.ui import files_of
from crm_platform.ui.file_storage import FileInfo, held_file, receive

from . import aliases
from .auth import current_access, current_org, current_user, request_reading
from .openapi import ID_SCHEMA, JSON, error_responses, ref
from .params import query_params

bp = Blueprint("files_api", __name__)
TAGS = ["files"]


def _file_field(object_name: str, field_name: str) -> tuple[str, Any]:
    """(object api name, field) of a file field the caller may read (404 otherwise)."""
    _conn, model = request_reading()
    name = aliases.object_name(model, object_name)
    obj = model.object(name)
    access = current_access()
    if obj is None or not access.can(obj.api_name, "read"):
        raise NotFound(f"no object '{object_name}'")
    f = obj.fields.get(field_name)
    if f is None or f.type != "file" or not access.field_readable(obj.api_name, field_name):
        raise NotFound(f"{obj.api_name} has no file field '{field_name}'")
    return obj.api_name, f


def _view(info: FileInfo) -> dict[str, Any]:
    return {
        "value": info.value,
        "name": info.name,
        "content_type": info.content_type,
        "size": info.size,
    }


@bp.post("/files/<object_name>/<field_name>")
@query_params()
def upload(object_name: str, field_name: str) -> Any:
    """Keep an uploaded file for a field (multipart/form-data, part ``file``)."""
    name, f = _file_field(object_name, field_name)
    access = current_access()
    if not (access.can(name, "create") or access.can(name, "edit")):
        raise Forbidden(f"you may not create or edit {name} records")
    if not access.field_editable(name, field_name):
        raise Forbidden(f"you may not edit {name}.{field_name}")
    part = request.files.get("file")
    if part is None or not part.filename:
        raise ValidationFailed({"file": "send the file as the multipart part 'file'"})
    info = receive(
        files_of(current_org()),
        f.definition,
        object_name=name,
        field_name=field_name,
        file_name=part.filename,
        stream=part.stream,
        user_id=current_user().id,
    )
    return jsonify(_view(info)), 201


@bp.get("/records/<object_name>/<record_id>/files/<field_name>")
@query_params()
def download(object_name: str, record_id: str, field_name: str) -> Response:
    """The file a record's field holds (an attachment)."""
    name, _f = _file_field(object_name, field_name)
    org = current_org()
    with org.records.session(
        current_user(), write=False, access=current_access(), reading=request_reading()
    ) as session:
        record = session.get(name, record_id, [field_name])
    return file_download(org, name, record.get(field_name))


def file_download(org, object_name: str, value: str | None) -> Response:
    """The file a field's value names, as a download for whoever may read the record and
    the field (the caller checked): never inline, so that an uploaded page or script
    cannot run in the app's origin, and never cached."""
    storage = files_of(org)
    info = held_file(storage, object_name, value)
    if info is None:
        raise NotFound("this record holds no file in that field")
    response = send_file(
        storage.open(info.id),
        mimetype=info.content_type,
        as_attachment=True,
        download_name=info.name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


PATH_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "The object's API name.",
    "schema": {"type": "string"},
}
PATH_FIELD = {
    "name": "field_name",
    "in": "path",
    "required": True,
    "description": "A field of type `file`.",
    "schema": {"type": "string"},
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """Upload a file for a field; download a record's file."""
    del model, registry  # the same for every model
    spec.tag({"name": "files", "description": "Files of `file` fields: upload, download."})
    spec.components.schema(
        "UploadedFile",
        {
            "type": "object",
            "required": ["value", "name", "content_type", "size"],
            "properties": {
                "value": {
                    "type": "string",
                    "description": "What to write into the file field (`<file id>/<name>`).",
                },
                "name": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer", "minimum": 1},
            },
        },
    )
    spec.path(
        "/files/{name}/{field_name}",
        parameters=[PATH_NAME, PATH_FIELD],
        operations={
            "post": {
                "operationId": "file_upload",
                "summary": "Upload a file for a file field",
                "description": "Checked against the field's `max_bytes` and `accept` "
                "(extension or content type, the type read from the file's name). Write "
                "the answered `value` into the field with a create or update, as the same "
                "user: a record may only hold a file uploaded for its object and field, "
                "by its writer, and not held by another record. The file is kept while "
                "the record is in the recycle bin and removed when it is purged, or when "
                "the field is cleared or given another file.",
                "tags": TAGS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The file is kept",
                        "content": {JSON: {"schema": ref("UploadedFile")}},
                    },
                    **error_responses("BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge"),
                },
            }
        },
    )
    spec.path(
        "/records/{name}/{id}/files/{field_name}",
        parameters=[
            PATH_NAME,
            {"name": "id", "in": "path", "required": True, "schema": dict(ID_SCHEMA)},
            PATH_FIELD,
        ],
        operations={
            "get": {
                "operationId": "file_download",
                "summary": "Download the file a record holds in a file field",
                "description": "For whoever may read the record (sharing) and the field "
                "(field-level security); 404 otherwise.",
                "tags": TAGS,
                "responses": {
                    "200": {
                        "description": "The file, as an attachment",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
