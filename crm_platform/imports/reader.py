"""Reading a source file as a stream of rows: CSV (any encoding and dialect) or XLSX.

Nothing here holds more than a sample and one row in memory. The encoding of a CSV file
is its BOM's, UTF-8 when the sample decodes as UTF-8, or what chardet finds in the
sample's cells that hold bytes beyond ASCII (GB2312/GBK are read as GB18030, their
superset); the delimiter and quoting are what
``csv.Sniffer`` finds in the sample. XLSX is read with openpyxl in read-only mode (one
row at a time) from the first sheet, its shared strings kept on disk (:mod:`.xlsx`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from crm_platform.core import ValidationFailed, unguard_formula

SAMPLE_BYTES = 256 * 1024
# the Chinese national encodings read as their superset: a file called GB2312 by a
# detector often holds a character only GBK or GB18030 has
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}
csv.field_size_limit(16 * 1024 * 1024)  # a long text in one cell is data, not an attack


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: its number (1 = the first row after the header) and its cells."""

    number: int
    values: tuple[Any, ...]

    def __reduce__(self) -> tuple[type[SourceRow], tuple[int, tuple[Any, ...]]]:
        # rows travel pickled from the converting process: a frozen dataclass's own
        # unpickling sets each field through object.__setattr__, five times slower
        return (SourceRow, (self.number, self.values))


@dataclass(frozen=True)
class SourceInfo:
    """What was found about a file: its kind, encoding, delimiter and column headers."""

    path: Path
    kind: str  # csv | xlsx
    encoding: str | None
    delimiter: str | None
    headers: tuple[str, ...]


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV sample (the first bytes of the file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # the sample may end inside a character: an incremental decoder allows that
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    import chardet

    # a sample of a longer file may end inside a character, and a multi-byte encoding
    # that cannot decode it is ruled out (a GBK file read as Cyrillic): whole lines only
    # (a newline byte is never part of a GBK, Big5 or Shift-JIS character)
    whole_lines = sample[: sample.rfind(b"\n") + 1] or sample
    found = chardet.detect(non_ascii_cells(whole_lines))["encoding"]
    if found is None:
        raise ValidationFailed({"file": "cannot tell its encoding: give it with --encoding"})
    return WIDER.get(found.lower(), found.lower())


# a cell (between delimiters and line ends) with a byte beyond ASCII; never cut at "|",
# which can be the second byte of a Big5 character
NON_ASCII_CELL = re.compile(rb"[^,;\t\r\n]*[\x80-\xff][^,;\t\r\n]*")


def non_ascii_cells(data: bytes) -> bytes:
    """The cells of ``data`` holding bytes beyond ASCII, one per line: what tells the
    encoding apart. A file of English names and emails with a few Chinese names in it is
    mostly ASCII, and a detector given the whole sample weighs the delimiters and emails
    too: it read such GBK files as Mac Latin 2 and the names came in garbled."""
    return b"\n".join(NON_ASCII_CELL.findall(data)) + b"\n"


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t|")
    except csv.Error:
        return csv.excel  # one column, or too little to tell: the common case


def unique_headers(raw: list[Any]) -> tuple[str, ...]:
    """Headers made unique: a repeated "Email" becomes "Email (2)"; a blank one "Column 3"."""
    seen: dict[str, int] = {}
    headers = []
    for index, value in enumerate(raw, start=1):
        name = str(value).strip() if value is not None else ""
        name = name or f"Column {index}"
        count = seen[name] = seen.get(name, 0) + 1
        headers.append(name if count == 1 else f"{name} ({count})")
    return tuple(headers)


class Source:
    """A file opened for reading; ``rows()`` streams its data rows from a position."""

    def __init__(self, path: Path, *, encoding: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ValidationFailed({"file": f"no file {self.path}"})
        self.kind = "xlsx" if self.path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self._dialect: Any = None
        if self.kind == "csv":
            self._open_csv(encoding)
        headers = next(self._raw_rows(), None)
        if not headers or not any(h not in (None, "") for h in headers):
            raise ValidationFailed({"file": "the first row must name the columns"})
        self.headers = unique_headers(list(headers))

    def _open_csv(self, encoding: str | None) -> None:
        with self.path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
        self.encoding = encoding or detect_encoding(sample)
        try:
            text = codecs.getincrementaldecoder(self.encoding)(errors="replace").decode(sample)
        except LookupError as exc:
            raise ValidationFailed({"encoding": f"unknown encoding {self.encoding}"}) from exc
        # the sniffer's regular expressions grow fast with the sample: 16 kB of whole
        # lines tell the delimiter and quoting as well as more would
        head = text[:16384]
        self._dialect = _dialect(head[: head.rfind("\n") + 1] or head)
        self.delimiter = self._dialect.delimiter

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(self.path, self.kind, self.encoding, self.delimiter, self.headers)

    def _raw_rows(self) -> Iterator[list[Any]]:
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path)
            return
        assert self.encoding is not None
        with self.path.open(encoding=self.encoding, newline="", errors="strict") as handle:
            try:
                for row in csv.reader(handle, self._dialect):
                    # an exported file's guarded cells ('+86 138…) read as they were
                    yield [unguard_formula(cell) if cell[:1] == "'" else cell for cell in row]
            except UnicodeDecodeError as exc:
                raise self._undecodable(exc) from exc

    def _undecodable(self, exc: UnicodeDecodeError) -> ValidationFailed:
        return ValidationFailed(
            {"file": f"not {self.encoding} text ({exc.reason}): give --encoding"}
        )

    def count_records(self) -> int:
        """How many records the CSV file holds, its header's included (read, not
        converted: the writing process counts them before it starts)."""
        assert self.encoding is not None
        count = 0
        with self.path.open(encoding=self.encoding, newline="", errors="strict") as handle:
            try:
                for count, _ in enumerate(csv.reader(handle, self._dialect), start=1):  # noqa: B007
                    pass
            except UnicodeDecodeError as exc:
                raise self._undecodable(exc) from exc
        return count

    def rows(self, start: int = 0) -> Iterator[SourceRow]:
        """The data rows after the first ``start`` ones (blank rows count, then are skipped)."""
        raw = self._raw_rows()
        next(raw, None)  # the header
        for number, values in enumerate(raw, start=1):
            if number <= start:
                continue
            if not any(v not in (None, "") and str(v).strip() for v in values):
                continue  # a blank line
            yield SourceRow(number, tuple(values))


def batches(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    while batch := list(islice(rows, size)):
        yield batch


def sheet_row(number: int) -> int:
    """The row a spreadsheet shows data row ``number`` on (the header is row 1; blank
    rows count, a cell holding several lines is one row): what messages call a row."""
    return number + 1


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from .xlsx import xlsx_rows

    for row in xlsx_rows(path):
        yield [_cell(v) for v in row]


def _cell(value: Any) -> Any:
    """A spreadsheet cell as the transforms take it (dates stay dates, numbers exact)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, float):
        return Decimal(repr(value)) if value != int(value) else int(value)
    return value


def count_rows(source: Source) -> int | None:
    """The number of data rows (blank ones too, as positions count them), for a progress
    bar's total; None for an XLSX or a huge file, where counting costs too much."""
    if source.kind == "xlsx" or source.path.stat().st_size > 512 * 1024 * 1024:
        return None
    return source.count_records() - 1
