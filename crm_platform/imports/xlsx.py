"""An XLSX file's rows, read with openpyxl in read-only mode, its shared strings kept on
disk.

Excel writes each distinct text of a workbook once, in a shared-strings table, and a cell
names its text by position. openpyxl reads that whole table into a list before the first
row (read-only mode streams the rows, not the table): a file written by Excel holds most
of its texts there, so an import's memory grew with the file — about 100 MB per million
distinct texts. Here the table is parsed as openpyxl parses it (its ``Text`` element,
the ``_x005F_`` escape removed) into a temporary file of UTF-8 texts with an array of
their offsets (8 bytes a text), read back through a memory map as the rows name them.
"""

from __future__ import annotations

import mmap
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, overload

STRING_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}si"


class SpooledStrings(Sequence[str]):
    """A workbook's shared strings in a temporary file, by position."""

    def __init__(self, source: IO[bytes]) -> None:
        from openpyxl.cell.text import Text
        from openpyxl.xml.functions import iterparse

        # gone when closed, or when the process ends; closed by close()
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._offsets = array("q", [0])
        written = 0
        root = None
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node  # the table, which would keep every parsed string as a child
            if event != "end" or node.tag != STRING_TAG:
                continue
            text = Text.from_tree(node).content.replace("x005F_", "")
            root.clear()
            data = text.encode("utf-8")
            self._file.write(data)
            written += len(data)
            self._offsets.append(written)
        self._file.flush()
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if written else None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        start, end = self._offsets[index], self._offsets[index + 1]  # IndexError past the end
        return self._map[start:end].decode("utf-8") if self._map is not None else ""

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._file.close()


def xlsx_rows(path: Path) -> Iterator[list[Any]]:
    """The values of the first sheet's rows, as openpyxl reads them (read-only, the last
    computed values of formulas)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class Reader(ExcelReader):
        spooled: SpooledStrings | None = None

        def read_strings(self) -> None:
            found = self.package.find(SHARED_STRINGS)
            if found is None:
                return  # texts written in the cells themselves
            with self.archive.open(found.PartName[1:]) as source:
                self.spooled = self.shared_strings = SpooledStrings(source)

    reader = Reader(path, read_only=True, data_only=True)
    try:
        reader.read()
        sheet = reader.wb.worksheets[0]
        yield from (list(row) for row in sheet.iter_rows(values_only=True))
    finally:
        workbook = getattr(reader, "wb", None)  # none when the file failed to open
        if workbook is not None:
            workbook.close()
        if reader.spooled is not None:
            reader.spooled.close()
