"""Unpacking a pack uploaded as a zip file, safely: nothing is written outside the
folder given (no absolute paths, no ``..``, no symbolic links), and the archive's size,
unpacked size and number of files are bounded before anything is extracted.

The zip holds one pack: ``pack.yaml`` at its top, or inside its single top folder (as
``crm pack export`` and ``/api/v1/packs/export`` write it).
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from crm_platform.core import ValidationFailed

from .loader import MANIFEST

MAX_ZIP_BYTES = 20 * 1024 * 1024  # the upload itself
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # what it may unpack to
MAX_FILES = 5000
FIELD = "file"


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({FIELD: message})


def _safe_parts(name: str) -> tuple[str, ...]:
    """The parts of an entry's path, refusing one that would leave the folder."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(f"'{name}': an absolute or Windows path is not allowed in a pack zip")
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        raise _refuse(f"'{name}': a path leaving the pack folder is not allowed")
    return parts


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def extract_pack_zip(data: bytes, into: Path) -> Path:
    """Unpack the zip ``data`` into the empty folder ``into``; the pack folder in it.

    Refuses (400, naming ``file``) anything but a zip of one pack within the limits:
    absolute paths, ``..``, symbolic links, too big, too many files, no ``pack.yaml``.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise _refuse(f"the zip is larger than {MAX_ZIP_BYTES:,} bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _refuse(f"not a zip file ({exc})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_FILES:
            raise _refuse(f"more than {MAX_FILES} files in the zip")
        if sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
            raise _refuse(f"unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB")
        files = []
        for entry in entries:
            if _is_link(entry):
                raise _refuse(f"'{entry.filename}': symbolic links are not allowed in a pack zip")
            parts = _safe_parts(entry.filename.rstrip("/") if entry.is_dir() else entry.filename)
            if not entry.is_dir():
                files.append((entry, parts))
        root = _pack_root([parts for _, parts in files])
        written = 0
        for entry, parts in files:
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source:
                # read at most what the entry claims: a lying header cannot inflate past it
                chunk = source.read(entry.file_size + 1)
            written += len(chunk)
            if len(chunk) > entry.file_size or written > MAX_UNPACKED_BYTES:
                raise _refuse(f"'{entry.filename}' unpacks to more than it declares")
            target.write_bytes(chunk)
    return into.joinpath(*root)


def _pack_root(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Where ``pack.yaml`` is: the top, or the one top folder."""
    if (MANIFEST,) in paths:
        return ()
    tops = {p[0] for p in paths if len(p) > 1}
    if len(tops) == 1 and (next(iter(tops)), MANIFEST) in paths:
        return (next(iter(tops)),)
    raise _refuse("no pack.yaml at the top of the zip or in its one top folder")
