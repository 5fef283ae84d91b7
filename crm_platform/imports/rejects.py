"""The error file: the rows that failed, as they were in the source, plus an ``error``
column saying what was wrong with each. It is a CSV in UTF-8 with a BOM (so a
spreadsheet opens Chinese text right) that can be fixed and imported again."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

ERROR_COLUMN = "error"


class RejectFile:
    """Appends rejected rows to the error file; created with its header on first use."""

    def __init__(self, path: Path, headers: tuple[str, ...], *, resume: bool) -> None:
        self.path = Path(path)
        self.headers = headers
        self._handle: Any = None
        self._writer: Any = None
        self._append = resume and self.path.exists()
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
            self._handle = None
