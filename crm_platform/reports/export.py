"""Report exports: CSV streamed a batch of rows at a time, XLSX through openpyxl's
write-only mode. Neither holds the rows: memory stays flat however many there are.

CSV is UTF-8 with a byte order mark (Excel reads it as UTF-8 then, so Chinese names
survive a double-click), written by the ``csv`` module; each batch of rows is one
chunk of the HTTP body. An XLSX file is a zip whose directory comes last, so it cannot
go out while it is written: it is written (write-only, rows streamed from the cursor)
to an anonymous temporary file, which the response then streams and the OS deletes
when it is closed.

Cells keep their types: numbers, currencies and percents are numeric cells with a
number format (a percent of 25 is the cell 0.25 shown ``25.00%``), dates are date
cells, datetimes are date cells in the org's time zone (Excel knows no offsets),
booleans are booleans. Text that a spreadsheet would take for a formula (``=``, ``+``,
``-``, ``@``...) is kept as text: an XLSX cell says so, a CSV value gets a leading
``'`` (the usual guard against formula injection).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from typing import IO, Any
from zoneinfo import ZoneInfo

from crm_platform.core import ValidationFailed, guard_formula
from crm_platform.fieldtypes.exports import plain_text

from .results import ReportColumn, ReportStream

BOM = "\ufeff"
BATCH_ROWS = 1000
FILE_CHUNK = 64 * 1024
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
FILE_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
PERCENT_TYPES = frozenset({"percent"})
CURRENCY_TYPES = frozenset({"currency"})


@dataclass(frozen=True)
class ExportFormat:
    """A format an export is written in: its media type and file extension."""

    name: str
    media_type: str
    extension: str


EXPORT_FORMATS: Mapping[str, ExportFormat] = {
    "csv": ExportFormat("csv", "text/csv", "csv"),
    "xlsx": ExportFormat(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    ),
}


@dataclass(frozen=True)
class ExportOptions:
    """What turns values into a spreadsheet's: the org's time zone (datetimes are shown
    in it) and currency (a currency cell's format names it)."""

    time_zone: str = "UTC"
    currency: str | None = None


def export_format(name: str | None) -> ExportFormat:
    """The format called ``name`` (400 naming ``format`` otherwise)."""
    found = EXPORT_FORMATS.get(name or "")
    if found is None:
        raise ValidationFailed({"format": f"must be one of: {', '.join(EXPORT_FORMATS)}"})
    return found


def export_filename(report_name: str, fmt: ExportFormat, today: date) -> str:
    """``<report>-<YYYY-MM-DD>.<ext>``, in characters every browser and OS keep."""
    stem = FILE_NAME_BAD.sub("_", report_name).strip("._") or "report"
    return f"{stem}-{today.isoformat()}.{fmt.extension}"


# --- CSV ------------------------------------------------------------------------------


def csv_chunks(
    stream: ReportStream,
    options: ExportOptions = ExportOptions(),
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[bytes]:
    """The CSV of ``stream`` as UTF-8 chunks: the BOM and header row, then one chunk
    per ``batch_rows`` rows (read from the stream only as the chunks are taken)."""
    zone = ZoneInfo(options.time_zone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_text(c.label, zone) for c in stream.columns])
    yield (BOM + _drain(buffer)).encode("utf-8")
    rows = iter(stream.rows)
    while batch := list(islice(rows, batch_rows)):
        writer.writerows([_csv_text(v, zone) for v in row] for row in batch)
        yield _drain(buffer).encode("utf-8")


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_text(value: Any, zone: ZoneInfo) -> str:
    if isinstance(value, str):
        return guard_formula(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return _local(value, zone).isoformat(sep=" ")
    return plain_text(value)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A moment as the org's wall clock, naive (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).replace(tzinfo=None)


# --- XLSX -----------------------------------------------------------------------------


def write_xlsx(
    stream: ReportStream, file: IO[bytes], options: ExportOptions = ExportOptions()
) -> int:
    """Write ``stream`` as an XLSX workbook to ``file`` (write-only mode: the rows go
    to openpyxl's temporary sheet file as they are read); the number of rows."""
    # openpyxl is imported by the process that writes a workbook, not by every worker
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    zone = ZoneInfo(options.time_zone)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(stream.label or stream.name))
    bold = Font(bold=True)
    header = []
    for column in stream.columns:
        cell = WriteOnlyCell(sheet, column.label)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [_ColumnFormat(c, options) for c in stream.columns]
    count = 0
    for row in stream.rows:
        cells = zip(formats, row, strict=True)
        sheet.append([fmt.cell(sheet, value, zone) for fmt, value in cells])
        count += 1
    workbook.save(file)
    return count


def xlsx_file(stream: ReportStream, options: ExportOptions = ExportOptions()) -> IO[bytes]:
    """The XLSX of ``stream`` in an anonymous temporary file, at its start; the OS
    deletes it when it is closed."""
    # no context manager: the caller streams the open file and closes it
    file = tempfile.TemporaryFile(prefix="crm-export-", suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(stream, file, options)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


def file_chunks(file: IO[bytes], size: int = FILE_CHUNK) -> Iterator[bytes]:
    """A file's bytes in chunks; closes (so deletes a temporary) file when done."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()


def _sheet_title(label: str) -> str:
    return SHEET_TITLE_BAD.sub(" ", label).strip("' ")[:31] or "Report"


class _ColumnFormat:
    """How one column's values become cells: the number format its type asks for."""

    def __init__(self, column: ReportColumn, options: ExportOptions) -> None:
        self.percent = column.type in PERCENT_TYPES
        self.number_format = _number_format(column, options)

    def cell(self, sheet: Any, value: Any, zone: ZoneInfo) -> Any:
        from openpyxl.cell import WriteOnlyCell  # loaded by write_xlsx already

        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float | Decimal):
            number = value / 100 if self.percent else value
            cell = WriteOnlyCell(sheet, float(number) if isinstance(number, Decimal) else number)
            cell.number_format = self.number_format
            return cell
        if isinstance(value, datetime):
            return _dated(sheet, _local(value, zone), "yyyy-mm-dd hh:mm:ss")
        if isinstance(value, date):
            return _dated(sheet, value, "yyyy-mm-dd")
        if isinstance(value, time):
            return _dated(sheet, value.replace(tzinfo=None), "hh:mm:ss")
        text = value if isinstance(value, str) else plain_text(value)
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"  # text, even when it reads like a formula
        return cell


def _dated(sheet: Any, value: Any, number_format: str) -> Any:
    from openpyxl.cell import WriteOnlyCell  # loaded by write_xlsx already

    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _number_format(column: ReportColumn, options: ExportOptions) -> str:
    decimals = "0" * (column.scale or 0)
    digits = f"#,##0.{decimals}" if decimals else "#,##0"
    if column.type in PERCENT_TYPES:
        return f"0.{decimals}%" if decimals else "0%"
    if column.type in CURRENCY_TYPES and options.currency:
        return f'"{options.currency} "{digits}'
    return digits


# --- one entry for the CLI ------------------------------------------------------------


def org_export_options(ctx: Any) -> ExportOptions:
    """The org's time zone and currency (a record context's), as exports show them."""
    import sqlalchemy as sa

    from crm_platform.core.tables import org

    currency = ctx.conn.execute(sa.select(org.c.currency)).scalar_one_or_none()
    return ExportOptions(time_zone=ctx.model.time_zone, currency=currency)


def export_report_file(
    ctx: Any,
    name: str,
    format_name: str,
    file: IO[bytes],
    *,
    filter: str | None = None,
    choose: Any = None,
) -> None:
    """Export the report ``name`` as ``ctx``'s user (a record session, whose transaction
    stays open meanwhile) to a binary ``file``: ``crm report run NAME --format csv|xlsx
    --output FILE``. Checks as the API's export, but for ``export_data``: the CLI is
    an operator's."""
    from .run import stream_report

    fmt = export_format(format_name)
    stream = stream_report(ctx, name, filter=filter, choose=choose)
    write_export(stream, fmt.name, file, org_export_options(ctx))


def write_export(
    stream: ReportStream,
    format_name: str,
    file: IO[bytes],
    options: ExportOptions = ExportOptions(),
) -> None:
    """Write ``stream`` to a binary ``file`` as ``csv`` or ``xlsx`` (``crm report run
    NAME --format csv|xlsx --output FILE``)."""
    fmt = export_format(format_name)
    if fmt.name == "csv":
        for chunk in csv_chunks(stream, options):
            file.write(chunk)
    else:
        write_xlsx(stream, file, options)
