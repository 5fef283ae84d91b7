"""File fields in pages: the upload a form sends (checked against the field's
``max_bytes`` and ``accept``, then kept by the org's file storage) and the download at
``/r/<object>/<id>/files/<field>``, for those who may read the record and the field —
read through the record service like any value (404 otherwise: nothing tells a hidden
record or field apart from a missing one)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from crm_platform.api.files_api import file_download
from crm_platform.core import NotFound
from crm_platform.runtime.model import ObjectModel
from crm_platform.ui import files_of
from crm_platform.ui.file_storage import file_id_of, receive

from .context import Viewer, org, reading, viewer
from .frame import bp, object_or_404
from .widgets import Widget

PENDING_SUFFIX = "__file"  # a file uploaded with a form that came back with errors
REMOVE_SUFFIX = "__remove"
UNSET = object()


def uploaded_value(obj: ObjectModel, widget: Widget, v: Viewer) -> Any:
    """What a file widget sends: a new upload's value, the one kept from a refused send,
    None to remove the file, or UNSET (unchanged)."""
    upload = request.files.get(widget.name)
    if upload is not None and upload.filename:
        info = receive(
            files_of(org()),
            widget.field.definition,
            object_name=obj.api_name,
            field_name=widget.name,
            file_name=upload.filename,
            stream=upload.stream,
            user_id=v.user.id,
        )
        widget.pending = info.value
        return info.value
    kept = request.form.get(widget.name + PENDING_SUFFIX, "")
    if kept and file_id_of(kept):
        widget.pending = kept
        return kept
    if request.form.get(widget.name + REMOVE_SUFFIX):
        return None
    return UNSET


def send_stored(obj: ObjectModel, field_name: str, record: dict[str, Any]) -> Response:
    """The file a record's field holds, as a download (the API's, ``file_download``)."""
    return file_download(org(), obj.api_name, record.get(field_name))


def readable_file_field(obj: ObjectModel, field_name: str, v: Viewer) -> str:
    f = obj.fields.get(field_name)
    if f is None or f.type != "file" or not v.access.field_readable(obj.api_name, field_name):
        raise NotFound(f"no file field '{field_name}'")
    return field_name


@bp.get("/r/<object_name>/<record_id>/files/<field_name>")
def download(object_name: str, record_id: str, field_name: str) -> Any:
    v = viewer()
    obj = object_or_404(object_name)
    readable_file_field(obj, field_name, v)
    with reading() as session:
        record = session.get(obj.api_name, record_id, [field_name])
    return send_stored(obj, field_name, record)
