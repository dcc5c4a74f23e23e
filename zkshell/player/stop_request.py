"""Ctrl+C (SIGINT), SIGTERM and SIGHUP stop a run at the main thread's next wait, not
wherever it happens to be.

A signal handler that raises puts its exception at whatever bytecode the main thread is
running, and some code there swallows it: kazoo's `_call` wraps the wake-up write to its
connection in a bare `except:`, so a stop that landed in that write became the request's
ConnectionClosedError, and the run went on into the next await's 60 s wait (about 1 stop in
25 under load).  So the handler only records the request; the player's waits (awaits, quiet
windows, role polls, pacing, and its sessions' requests) wait in short slices and raise
`Stopped` from there.  Where nothing can swallow it, the handler raises at once
(`raising_at_once`): a blocking key read, and starting the server(s) zksh plays against,
which stops what it started on the way out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from zkshell.interrupt import SLICE_S, InterruptRequest


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal: Ctrl+C, or SIGTERM or SIGHUP (the terminal closed),
    which stop as Ctrl+C does, sessions and server included, instead of dying and leaving
    a local ZooKeeper (--zookeeper) running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopRequest(InterruptRequest):
    """The signal asking the run to stop, if one came; taken by the main thread's waits."""

    def __init__(self) -> None:
        super().__init__()
        self._raise_at_once = False

    def stopped(self, signum: int) -> Stopped:
        return Stopped(signum)

    def request(self, signum: int) -> None:
        """From the signal handler: record the stop, and raise only where that is safe."""
        super().request(signum)
        if self._raise_at_once:
            raise Stopped(signum)

    def wait(self, condition: threading.Condition, timeout: float) -> None:
        """`condition.wait(timeout)`, held, that ends early with `Stopped` on a stop."""
        self.check()
        condition.wait(min(timeout, SLICE_S))
        self.check()

    def sleep(self, seconds: float) -> None:
        """`time.sleep`, ended early with `Stopped` on a stop."""
        deadline = time.monotonic() + seconds
        while True:
            self.check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, SLICE_S))

    @contextmanager
    def raising_at_once(self) -> Iterator[None]:
        """Around code of our own that swallows nothing: a stop raises there at once."""
        self.check()
        self._raise_at_once = True
        try:
            yield
        finally:
            self._raise_at_once = False


# One per process, as signal handlers are; the player's sessions take it in their waits.
STOP = StopRequest()
