"""Files of ``file`` fields (ADR 0037): a small storage interface — ``put``, ``open``,
``delete`` — that a cloud bucket could implement, and its default, a folder under the
instance path.

A file field holds ``<file id>/<file name>`` (text, as the type stores it); the bytes
and what is known of them (name, content type, size, who uploaded it for which object
and field, the record it is attached to) live in the storage under the id. An upload is
checked against the field's ``max_bytes`` and ``accept`` before anything is kept.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any, Protocol

from crm_platform.core import ValidationFailed, new_id

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # a field without max_bytes
MAX_NAME = 120  # characters of a file's name kept
ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{8,64}$")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileInfo:
    """What is known of a stored file."""

    id: str
    name: str
    content_type: str
    size: int
    uploaded_by: str
    object: str
    field: str
    record_id: str | None = None  # set once a saved record holds it

    @property
    def value(self) -> str:
        """What the file field holds."""
        return f"{self.id}/{self.name}"


class FileStorage(Protocol):
    """Where files live: a local folder by default, a bucket could do the same."""

    def put(self, info: FileInfo, stream: IO[bytes]) -> FileInfo: ...

    def info(self, file_id: str) -> FileInfo | None: ...

    def update(self, info: FileInfo) -> None: ...

    def open(self, file_id: str) -> IO[bytes]: ...

    def delete(self, file_id: str) -> None: ...


def file_id_of(value: Any) -> str | None:
    """The file id a field's value names (None for no or a malformed value)."""
    if not isinstance(value, str) or "/" not in value:
        return None
    file_id = value.split("/", 1)[0]
    return file_id if ID_PATTERN.match(file_id) else None


def file_name_of(value: Any) -> str:
    return value.split("/", 1)[1] if isinstance(value, str) and "/" in value else ""


def clean_name(name: str) -> str:
    """A file name safe to keep and to send back (no folders, no control characters)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"]", "", base).strip().strip(".") or "file"
    stem, dot, ext = base.rpartition(".")
    if len(base) > MAX_NAME:
        base = (stem[: MAX_NAME - len(ext) - 1] + "." + ext) if dot else base[:MAX_NAME]
    return base


def content_type_for(name: str) -> str:
    """The content type a file's name says (the browser's claim is not trusted)."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def acceptance_problem(definition: Mapping[str, Any], name: str, size: int) -> str | None:
    """Why a file may not go into a field (size over ``max_bytes``, a type or extension
    not in ``accept``), or None."""
    limit = definition.get("max_bytes") or DEFAULT_MAX_BYTES
    if size > limit:
        return f"the file is larger than {limit} bytes"
    if size == 0:
        return "the file is empty"
    accept = definition.get("accept") or ()
    if not accept:
        return None
    kind = content_type_for(name)
    extension = "." + name.rsplit(".", 1)[1].lower() if "." in name else ""
    for entry in accept:
        entry = entry.lower()
        if entry.startswith(".") and extension == entry:
            return None
        if entry.endswith("/*") and kind.startswith(entry[:-1]):
            return None
        if entry == kind:
            return None
    return f"this kind of file is not accepted (accepted: {', '.join(accept)})"


def measure(stream: IO[bytes], limit: int) -> tuple[Path, int]:
    """Copy an upload to a temporary file, stopping just past ``limit`` bytes:
    (its path, its size)."""
    handle, path = tempfile.mkstemp(prefix="crm-upload-")
    size = 0
    with os.fdopen(handle, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    return Path(path), size


def receive(
    storage: FileStorage,
    definition: Mapping[str, Any],
    *,
    object_name: str,
    field_name: str,
    file_name: str,
    stream: IO[bytes],
    user_id: str,
) -> FileInfo:
    """Check an upload against the field and keep it: 400 naming the field otherwise."""
    name = clean_name(file_name)
    limit = definition.get("max_bytes") or DEFAULT_MAX_BYTES
    path, size = measure(stream, limit)
    try:
        if problem := acceptance_problem(definition, name, size):
            raise ValidationFailed({field_name: problem})
        info = FileInfo(
            new_id(), name, content_type_for(name), size, user_id, object_name, field_name
        )
        with path.open("rb") as kept:
            return storage.put(info, kept)
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LocalFileStorage:
    """Files in a folder (``<instance>/files`` by default): ``<id>.bin`` and ``<id>.json``
    in a sub-folder per two characters of the id, so no folder grows too large."""

    root: Path

    def _paths(self, file_id: str) -> tuple[Path, Path]:
        if not ID_PATTERN.match(file_id):
            raise ValueError(f"not a file id: {file_id!r}")
        folder = self.root / file_id[-2:]
        return folder / f"{file_id}.bin", folder / f"{file_id}.json"

    def put(self, info: FileInfo, stream: IO[bytes]) -> FileInfo:
        data, _meta = self._paths(info.id)
        data.parent.mkdir(parents=True, exist_ok=True)
        with data.open("wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
        self.update(info)
        return info

    def info(self, file_id: str) -> FileInfo | None:
        try:
            _data, meta = self._paths(file_id)
            return FileInfo(**json.loads(meta.read_text("utf-8")))
        except (ValueError, OSError, TypeError):
            return None

    def update(self, info: FileInfo) -> None:
        _data, meta = self._paths(info.id)
        partial = meta.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(info)), "utf-8")
        partial.replace(meta)  # atomic: a reader sees the old or the new, never half

    def open(self, file_id: str) -> IO[bytes]:
        data, _meta = self._paths(file_id)
        return data.open("rb")

    def delete(self, file_id: str) -> None:
        for path in self._paths(file_id):
            path.unlink(missing_ok=True)


def attach(storage: FileStorage, file_id: str, record_id: str) -> None:
    """Mark a file as held by a saved record."""
    info = storage.info(file_id)
    if info is not None and info.record_id != record_id:
        storage.update(replace(info, record_id=record_id))


def held_file(storage: FileStorage, object_name: str, value: Any) -> FileInfo | None:
    """The stored file a record's field value names (None when there is none or the
    value does not match what was stored for that object)."""
    file_id = file_id_of(value)
    info = storage.info(file_id) if file_id else None
    if info is None or info.value != value or info.object != object_name:
        return None
    return info
