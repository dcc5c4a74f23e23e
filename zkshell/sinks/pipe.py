"""The interactive shell's sink when the prompt is on the terminal but stdout is not
(`zksh | tee log`, `zksh > file`): stdout gets zkCli's plain text only, never
prompt_toolkit's drawing, and a reader echoing it to the same terminal stays in order.
"""

from __future__ import annotations

import os
import stat
import struct
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from zkshell.sinks.plain import PlainSink

if TYPE_CHECKING:
    from prompt_toolkit.application import Application


class PipeSink(PlainSink):
    """The sink when the prompt is on the terminal but stdout is not (`zksh | tee log`).

    Everything goes to stdout as zkCli's plain text.  While the prompt is up, a block (a
    watch event) is queued and written from the prompt's event loop inside `run_in_terminal`,
    which takes the prompt off the terminal first and draws it again after: a reader that
    echoes stdout to the same terminal (tee) then shows the block above the prompt, not
    through it.  What is still queued when the prompt goes is written then, in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self._app: Application | None = None
        self._queued: list[tuple[str, str]] = []
        self._queue_lock = threading.Lock()  # taken before the sink's own lock

    def write(self, stream: str, text: str) -> None:
        with self._queue_lock:
            app = self._app
            if app is None:
                self._write_now(stream, text)
                return
            self._queued.append((stream, text))
        self._show_soon(app)

    def _write_now(self, stream: str, text: str) -> None:
        if stream == "err":
            wait_for_the_reader(sys.stdout)  # on a shared terminal, what came first shows first
        super().write(stream, text)

    @contextmanager
    def above_the_prompt(self, app: Application | None = None) -> Iterator[None]:
        wait_for_the_reader(sys.stdout)  # tee shows the last output before the prompt
        with self._queue_lock:
            self._app = app
        if app is not None:  # a block queued before the prompt's loop ran: show it then
            app.pre_run_callables.append(self._show_queued)
        try:
            yield
        finally:
            with self._queue_lock:
                self._app = None
                self._write_queued()

    def _show_soon(self, app: Application) -> None:
        loop, context = app.loop, app.context
        if loop is None or context is None:
            return  # not running yet: pre_run shows it; not any more: the prompt's end does
        try:
            loop.call_soon_threadsafe(self._show_queued, context=context.copy())
        except RuntimeError:
            pass  # the loop has just closed: the prompt's end writes it

    def _show_queued(self) -> None:  # on the prompt's event loop
        from prompt_toolkit.application import run_in_terminal

        with self._queue_lock:
            if not self._queued or self._app is None:
                return
        run_in_terminal(self._write_queued_now)

    def _write_queued_now(self) -> None:
        with self._queue_lock:
            self._write_queued()

    def _write_queued(self) -> None:
        queued, self._queued = self._queued, []
        for stream, text in queued:
            self._write_now(stream, text)
        if queued:
            wait_for_the_reader(sys.stdout)


READER_WAIT_S = 0.1  # a reader that does not keep up (a full pipe) is not waited for longer
READER_WRITE_S = 0.005  # from its read of the pipe to its write on the terminal


def wait_for_the_reader(stream) -> None:
    """When `stream` is a pipe, give its reader (tee, echoing to the same terminal) a moment
    to take what was written and show it, so the prompt is not drawn before that text."""
    fd = _pipe_fd(stream)
    if fd is None:
        return
    deadline = time.monotonic() + READER_WAIT_S
    while _unread(fd) and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(READER_WRITE_S)


def _pipe_fd(stream) -> int | None:
    try:
        fd = stream.fileno()
        return fd if stat.S_ISFIFO(os.fstat(fd).st_mode) else None
    except (AttributeError, ValueError, OSError):
        return None


def _unread(fd: int) -> int:
    """Bytes in the pipe its reader has not read yet (Linux answers this on the write end)."""
    try:
        import fcntl
        import termios
        answer = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    except (ImportError, OSError):
        return 0
    return struct.unpack("i", answer)[0]
