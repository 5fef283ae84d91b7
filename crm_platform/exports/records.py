"""Exporting an object's records as CSV, XLSX or JSON Lines (ADR 0043).

The records are read a page at a time through the records list (``list_records``):
the same query an API list runs, so sharing and field-level security apply in SQL and
an encrypted field comes out masked unless the reader may see it in plaintext. Pages
follow the list's keyset (``id`` order), inside the caller's one read transaction, so
the export is a consistent snapshot and memory holds one page at a time.

Columns are API names (``account.name`` for a path), so an export can be imported
again. CSV and XLSX are written by the report exports' writers (UTF-8 with a BOM,
typed cells, formula-like text kept as text); JSON Lines keeps every value exact.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO, Any

import simplejson

from crm_platform.core import Forbidden, ValidationFailed
from crm_platform.fieldtypes import path_target, split_step
from crm_platform.reports.export import (
    EXPORT_FORMATS as SPREADSHEET_FORMATS,
)
from crm_platform.reports.export import (
    ExportFormat,
    ExportOptions,
    csv_chunks,
    file_chunks,
    org_export_options,
    write_xlsx,
)
from crm_platform.reports.results import ReportColumn, ReportStream
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.context import RecordContext
from crm_platform.runtime.security.access import SYSTEM_FIELD_NAMES

EXPORT_PERMISSION = "export_data"
PAGE_SIZE = 1000
JSONL = ExportFormat("jsonl", "application/x-ndjson", "jsonl")
EXPORT_FORMATS: Mapping[str, ExportFormat] = {**SPREADSHEET_FORMATS, "jsonl": JSONL}
SYSTEM_COLUMNS = ("owner_id", "created_at", "created_by", "updated_at", "updated_by", "version")
assert set(SYSTEM_COLUMNS) | {"id"} == SYSTEM_FIELD_NAMES


@dataclass(frozen=True)
class RecordExport:
    """An export under way: its object, columns (API names, typed) and the records, read
    a page at a time while the caller's transaction is open."""

    object_name: str
    label: str
    columns: tuple[ReportColumn, ...]
    records: Iterator[dict[str, Any]]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The records as value tuples in column order."""
        keys = [c.key for c in self.columns]
        for record in self.records:
            yield tuple(record.get(key) for key in keys)

    def stream(self) -> ReportStream:
        """The export as the report writers take it."""
        return ReportStream(self.object_name, self.label, self.columns, self.rows())


def export_format(name: str | None) -> ExportFormat:
    """The format called ``name`` (400 naming ``format`` otherwise)."""
    found = EXPORT_FORMATS.get(name or "")
    if found is None:
        raise ValidationFailed({"format": f"must be one of: {', '.join(EXPORT_FORMATS)}"})
    return found


def record_export(
    ctx: RecordContext,
    object_name: str,
    *,
    where: str | None = None,
    fields: Sequence[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> RecordExport:
    """The records of ``object_name`` that ``ctx``'s user may read, matching ``where``,
    with ``fields`` (paths; every readable field when None).

    403 without ``export_data`` or read access, 404 for an unknown object, 400 for a bad
    ``where`` or a field the user may not read (named as unknown, as a list does). The
    first page is read here, so every refusal comes before a byte is written."""
    if not ctx.access.has(EXPORT_PERMISSION):
        raise Forbidden(f"exporting needs the {EXPORT_PERMISSION} permission")
    obj = ctx.object(object_name)
    wanted = tuple(f.strip() for f in fields or () if f.strip()) or None
    request = ListRequest(where=where or None, fields=wanted, limit=page_size)
    first = ctx_list(ctx, object_name, request)
    names = wanted or (*ctx.access.readable_fields(obj.api_name), *SYSTEM_COLUMNS)
    columns = tuple(_column(ctx, obj.api_name, name) for name in ("id", *names) if name)
    return RecordExport(
        obj.api_name,
        _label_text(obj.definition.get("label"), obj.api_name),
        _unique(columns),
        _pages(ctx, object_name, request, first),
    )


def ctx_list(ctx: RecordContext, object_name: str, request: ListRequest):
    """One page of the records list (the API's list, with its checks)."""
    from crm_platform.runtime.records import reads

    return reads.list_records(ctx, ctx.object(object_name), request, [])


def _pages(
    ctx: RecordContext, object_name: str, request: ListRequest, page
) -> Iterator[dict[str, Any]]:
    while True:
        yield from page.records
        if page.next_cursor is None:
            return
        request = ListRequest(
            where=request.where,
            fields=request.fields,
            limit=request.limit,
            cursor=page.next_cursor,
        )
        page = ctx_list(ctx, object_name, request)


def _unique(columns: tuple[ReportColumn, ...]) -> tuple[ReportColumn, ...]:
    seen: set[str] = set()
    kept = []
    for column in columns:
        if column.key not in seen:
            seen.add(column.key)
            kept.append(column)
    return tuple(kept)


def _label_text(label: Any, default: str) -> str:
    if isinstance(label, Mapping):
        return str(label.get("en") or next(iter(label.values()), default))
    return str(label or default)


def _column(ctx: RecordContext, object_name: str, path: str) -> ReportColumn:
    """A column named by its path, typed by the field it reaches (system columns and
    what cannot be followed are text or their own type)."""
    steps = path.split(".")
    obj = ctx.model.objects[object_name]
    for step in steps[:-1]:
        name, narrowed = split_step(step)
        fld = obj.fields.get(name)
        target = path_target(fld.definition, narrowed) if fld is not None else None
        if target is None or target not in ctx.model.objects:
            return ReportColumn(path, path, "text")
        obj = ctx.model.objects[target]
    fld = obj.fields.get(steps[-1])
    if fld is None:
        kind = "datetime" if steps[-1] in ("created_at", "updated_at") else "text"
        return ReportColumn(path, path, "number" if steps[-1] == "version" else kind)
    definition = fld.definition
    kind = definition.get("return_type") if fld.type == "formula" else fld.type
    return ReportColumn(path, path, kind or fld.type, definition.get("scale"))


# --- writing ------------------------------------------------------------------------------


def jsonl_chunks(export: RecordExport, *, batch: int = 500) -> Iterator[bytes]:
    """One JSON object per record and line, values exact (decimals as numbers with
    their digits, dates and datetimes in ISO 8601 with their offset)."""
    keys = [c.key for c in export.columns]
    lines: list[str] = []
    for record in export.records:
        line = {key: record.get(key) for key in keys}
        lines.append(
            simplejson.dumps(line, use_decimal=True, ensure_ascii=False, default=_iso) + "\n"
        )
        if len(lines) >= batch:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def export_chunks(
    export: RecordExport, format_name: str, options: ExportOptions = ExportOptions()
) -> Iterator[bytes]:
    """The export's bytes in ``format_name``, a chunk at a time. An XLSX is written to a
    temporary file first (a zip's directory comes last), then read back in chunks."""
    fmt = export_format(format_name)
    if fmt.name == "csv":
        return csv_chunks(export.stream(), options)
    if fmt.name == "jsonl":
        return jsonl_chunks(export)
    # no context manager: file_chunks closes (so deletes) it after the last chunk
    file = tempfile.TemporaryFile(prefix="crm-export-", suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(export.stream(), file, options)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file_chunks(file)


def write_record_export(
    ctx: RecordContext,
    object_name: str,
    format_name: str,
    file: IO[bytes],
    *,
    where: str | None = None,
    fields: Sequence[str] | None = None,
) -> int:
    """``crm export``: write the export to a binary ``file``; the number of records."""
    fmt = export_format(format_name)
    export = record_export(ctx, object_name, where=where, fields=fields)
    counted = _Counted(export.records)
    export = RecordExport(export.object_name, export.label, export.columns, counted)
    if fmt.name == "xlsx":
        write_xlsx(export.stream(), file, org_export_options(ctx))
    else:
        for chunk in export_chunks(export, fmt.name, org_export_options(ctx)):
            file.write(chunk)
    return counted.count


class _Counted(Iterator[dict[str, Any]]):
    """An iterator that counts what passed through it."""

    def __init__(self, inner: Iterator[dict[str, Any]]) -> None:
        self.inner = inner
        self.count = 0

    def __next__(self) -> dict[str, Any]:
        item = next(self.inner)
        self.count += 1
        return item
