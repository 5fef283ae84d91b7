"""The batches an import writes: its file read and converted beside the writing process.

Reading a file and converting its cells is a tenth of an import's Python work for a CSV
file and more for an XLSX one, and it needs nothing from the database: a large file is
read and converted by a second process
(:mod:`.convert_worker`, started afresh: nothing of this one's connections, threads or
main script is inherited or run again) while this one resolves lookups and writes
through the record service, so a machine with two cores uses both. The batches come in
the file's order and the writer commits them one by one, so positions, resumption and
the error file are as they are without it. They travel pickled through a pipe, whose
small buffer keeps the worker at most a batch or two ahead: memory stays flat. A worker
whose reader is gone (the writing process killed) fails on its next write and ends. The
worker takes half a second or more to start: a CSV file's first batches are converted
in-process meanwhile, and a CSV file of fewer rows entirely; an XLSX file (whose rows are
not counted beforehand, and slow to parse) always goes to a worker.
"""

from __future__ import annotations

import pickle
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain, islice
from typing import IO

from .convert_worker import COMMAND
from .converting import ConvertedRow, RowConverter
from .reader import Source, batches

MIN_ROWS = 5_000  # rows left to import below which a second process does not pay
HEAD = 3  # batches converted here while the worker starts

Batches = Iterator[list[ConvertedRow]]


@contextmanager
def converted_batches(
    source: Source,
    converter: RowConverter,
    *,
    size: int,
    start: int = 0,
    rows_left: int | None = None,
) -> Iterator[Batches]:
    """The file's rows after the first ``start``, converted, in batches of ``size``.

    ``rows_left``: how many rows there are to import (None: unknown, as for an XLSX
    file: assumed many). Leaving the ``with`` block early stops the converting process.
    """
    if rows_left is not None and rows_left < MIN_ROWS:
        yield (converter.convert_all(batch) for batch in batches(source.rows(start), size))
        return
    # the first batches of a CSV file are converted here while the worker starts (half a
    # second); not an XLSX file's: opening it again would cost as much as the worker's start
    head = list(islice(batches(source.rows(start), size), HEAD)) if source.kind == "csv" else []
    if source.kind == "csv" and len(head) < HEAD:  # the whole file: no worker needed
        yield (converter.convert_all(batch) for batch in head)
        return
    worker = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert worker.stdin is not None and worker.stdout is not None
        with worker.stdin:
            after = head[-1][-1].number if head else start
            job = (source.path, source.encoding, after, size, converter)
            pickle.dump(job, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        converted_head = (converter.convert_all(batch) for batch in head)
        yield chain(converted_head, _received(worker.stdout, worker))
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()


def _received(stream: IO[bytes], worker: subprocess.Popen[bytes]) -> Batches:
    """The worker's batches as they come; its error raised here as it was raised there."""
    while True:
        try:
            kind, payload = pickle.load(stream)
        except (EOFError, pickle.UnpicklingError):  # it ended, perhaps amid a frame
            raise RuntimeError(
                f"the process converting the file ended unexpectedly (exit code {worker.wait()})"
            ) from None
        if kind == "batch":
            yield payload
        elif kind == "error":
            raise payload
        else:
            return
