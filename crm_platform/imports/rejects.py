"""The error file: the rows that failed, as they were in the source, plus an ``error``
column saying what was wrong with each. It is a CSV in UTF-8 with a BOM (so a
spreadsheet opens Chinese text right) that can be fixed and imported again."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from crm_platform.core import guard_formula

ERROR_COLUMN = "error"


class RejectFile:
    """Appends rejected rows to the error file; created with its header on first use.

    ``committed``: a resumed job's error file size after the rows of the batches that
    committed (None: start a new file). Rows beyond it belong to a batch that never
    committed and will be read again, so they are cut off before anything is appended.
    A file left by anything else (an earlier import of the same file, a batch that never
    committed when none had committed rows, a dry run since) is removed: it never lists
    rows this run did not reject.

    Cells are written as the CSV export writes them: text that starts like a formula gets
    an apostrophe before it (the reader took the export's off), since the error file is
    opened in a spreadsheet.
    """

    def __init__(self, path: Path, headers: tuple[str, ...], *, committed: int | None) -> None:
        self.path = Path(path)
        self.headers = headers
        self._handle: Any = None
        self._writer: Any = None
        committed = committed or 0
        self._append = committed > 0 and self._holds_rows_up_to(committed)
        if self._append and self.path.stat().st_size > committed:
            os.truncate(self.path, committed)
        elif not self._append and self.path.exists():
            self.path.unlink()
        self.count = 0

    def _holds_rows_up_to(self, size: int) -> bool:
        """Whether the file at the path can be this job's: as long as ``size`` at least,
        and a row ends there (a file written since by a dry run would be cut mid-row)."""
        if not self.path.exists() or self.path.stat().st_size < size:
            return False
        with self.path.open("rb") as handle:
            handle.seek(size - 1)
            return handle.read(1) == b"\n"

    def write(self, values: tuple[Any, ...], error: str) -> None:
        """One rejected row: its cells (padded to the header) and the reason."""
        if self._writer is None:
            self._open()
        # padded or cut to the header, so the error column is always the last one (the
        # error names the values a too-long row had beyond it)
        width = len(self.headers)
        cells = [_cell(v) for v in values[:width]]
        cells += [""] * (width - len(cells))
        self._writer.writerow([*cells, guard_formula(error)])
        self.count += 1

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def size(self) -> int:
        """The file's size with every row written so far (0 before the first row of a
        new file: one left by an earlier import is replaced when that row comes)."""
        if self._handle is None and not self._append:
            return 0
        self.flush()
        return self.path.stat().st_size

    def cut_back(self, size: int, end: int, rows: int) -> None:
        """Take back the last ``rows`` rows written, between byte ``size`` and ``end``
        (their batch did not commit). The file is left as it is when it no longer ends at
        ``end``: another process appended to it since."""
        if rows == 0:
            return
        self.close()  # reopened to append on the next row
        if self.path.exists() and self.path.stat().st_size == end:
            if size:
                os.truncate(self.path, size)
            else:  # the batch made the file: its header goes too
                self.path.unlink()
        self._append = self.path.exists()
        self.count -= rows

    def _open(self) -> None:
        mode = "a" if self._append else "w"
        encoding = "utf-8" if self._append else "utf-8-sig"
        self._handle = self.path.open(mode, encoding=encoding, newline="")
        self._writer = csv.writer(self._handle)
        if not self._append:
            self._writer.writerow([*self.headers, ERROR_COLUMN])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = self._writer = None


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return guard_formula(value) if isinstance(value, str) else value
