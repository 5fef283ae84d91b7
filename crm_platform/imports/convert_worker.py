"""The process that reads and converts an import's file beside the writing one
(:mod:`.feed`): ``python -m crm_platform.imports.convert_worker``.

It reads its job (the file, its encoding, the first row, the batch size and the
:class:`~.converting.RowConverter`) pickled from stdin and writes pickled
``("batch", rows)`` frames to stdout, then ``("end", None)``, or ``("error", exc)`` with
what went wrong reading the file (what else prints goes to stderr).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from typing import IO, Any

from .feed import batches
from .reader import Source


def serve(jobs: IO[bytes], frames: IO[bytes]) -> None:
    """Do the job read from ``jobs``, writing its frames to ``frames``."""
    path, encoding, start, size, converter = pickle.load(jobs)

    def send(frame: tuple[str, Any]) -> None:
        pickle.dump(frame, frames, protocol=pickle.HIGHEST_PROTOCOL)
        frames.flush()

    try:
        source = Source(path, encoding=encoding)
        for batch in batches(source.rows(start), size):
            send(("batch", converter.convert_all(batch)))
    except BrokenPipeError:
        return  # the writing process is gone: nobody reads what comes next
    except Exception as exc:  # raised again by the writing process
        send(("error", _portable(exc)))
        return
    send(("end", None))


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the writing process stops this one itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the frames get the pipe to themselves: whatever else prints goes to stderr
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.buffer, frames)
    # the writer may be gone: what is left unflushed goes nowhere, without a traceback
    os.dup2(os.open(os.devnull, os.O_WRONLY), frames.fileno())
