"""The process that reads and converts an import's file beside the writing one
(:mod:`.feed`), started with :data:`COMMAND`.

It reads its job (the file, its encoding, the first row, the batch size and the
:class:`~.converting.RowConverter`) pickled from stdin and writes pickled
``("batch", rows)`` frames to stdout, then ``("end", None)``, or ``("error", exc)`` with
what went wrong reading the file. Before anything is imported, stdout is kept for the
frames and fd 1 pointed at stderr, so nothing a module prints can enter the stream.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import traceback
from typing import IO, Any

from crm_platform.core import batch_collection

from .reader import Source, batches

# the writing process stops the worker itself (it kills it, or its pipe breaks): a signal
# meant for the writer's process group (Ctrl-C, a service manager's SIGTERM) must not end
# the worker first, or the writer would see a broken stream instead of stopping cleanly
IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
BOOTSTRAP = (
    "import os, sys\n"
    "frames = os.dup(1)\n"
    "os.dup2(2, 1)\n"
    "from crm_platform.imports.convert_worker import main\n"
    "main(frames)\n"
)
COMMAND = (sys.executable, "-c", BOOTSTRAP)


def main(frames_fd: int) -> None:
    """The worker's life: its job from stdin, its frames to ``frames_fd``."""
    for number in IGNORED:
        signal.signal(number, signal.SIG_IGN)
    frames = os.fdopen(frames_fd, "wb")
    with contextlib.suppress(BrokenPipeError), batch_collection():  # the process is the job's
        serve(sys.stdin.buffer, frames)
    # the writer may be gone: what is left unflushed goes nowhere, without a traceback
    os.dup2(os.open(os.devnull, os.O_WRONLY), frames.fileno())


def serve(jobs: IO[bytes], frames: IO[bytes]) -> None:
    """Do the job read from ``jobs``, writing its frames to ``frames``."""
    path, encoding, start, size, converter = pickle.load(jobs)

    def send(frame: tuple[str, Any]) -> None:
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)  # whole, or not at all
        frames.write(data)
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
    """``exc`` with where it was raised in this process as a note, if it survives
    pickling; else a RuntimeError saying what it was."""
    exc.add_note("raised in the process converting the file:\n" + traceback.format_exc())
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
