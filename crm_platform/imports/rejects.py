"""The error file: the rows that failed, as they were in the source, plus an ``error``
column saying what was wrong with each. It is a CSV in UTF-8 with a BOM (so a
spreadsheet opens Chinese text right) that can be fixed and imported again."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

ERROR_COLUMN = "error"


class RejectFile:
    """Appends rejected rows to the error file; created with its header on first use.

    ``committed``: a resumed job's error file size after the rows of the batches that
    committed (None: start a new file). Rows beyond it belong to a batch that never
    committed and will be read again, so they are cut off before anything is appended.
    """

    def __init__(self, path: Path, headers: tuple[str, ...], *, committed: int | None) -> None:
        self.path = Path(path)
        self.headers = headers
        self._handle: Any = None
        self._writer: Any = None
        self._append = bool(committed) and self.path.exists()
        if self._append and committed is not None and self.path.stat().st_size > committed:
            os.truncate(self.path, committed)
        self.count = 0

    def write(self, values: tuple[Any, ...], error: str) -> None:
        """One rejected row: its cells (padded to the header) and the reason."""
        if self._writer is None:
            self._open()
        # padded or cut to the header, so the error column is always the last one (the
        # error names the values a too-long row had beyond it)
        width = len(self.headers)
        cells = ["" if v is None else v for v in values[:width]]
        cells += [""] * (width - len(cells))
        self._writer.writerow([*cells, error])
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
