"""A stop asked by a signal, recorded by its handler and taken where the code waits.

A signal handler that raises puts its exception at whatever bytecode the main thread runs,
inside kazoo too, whose `_call` swallows anything in a bare `except:` (player/stop_request.py
tells that story).  So the handler only records the request; the waits (`Session`'s, in short
slices, and between the nodes of a walk) take it and raise there.  The interactive shell asks
this way to stop the running command (SIGINT while it runs one: `Interrupted`); `zksh play`
asks to stop the run (player/stop_request.py).
"""

from __future__ import annotations

import signal

# How often a wait looks whether a stop was asked: short against a person's patience.
SLICE_S = 0.05


class Interrupted(BaseException):
    """The command was stopped.  A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` in a command swallows it; the shell catches it around the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def message(self) -> str:
        """What the shell says on stderr, on a line of its own: the terminal drops what it
        had not shown yet when Ctrl+C is typed, so the last line may have been cut short."""
        return f"\nzksh: command stopped ({signal.Signals(self.signum).name})\n"


class InterruptRequest:
    """Whether a stop was asked.  In the interactive shell only the front end that runs
    commands in the foreground (the REPL) ever asks, and `check` stops the command."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def request(self, signum: int) -> None:
        """From the signal handler: record it, raise nothing."""
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def clear(self) -> None:
        self.signum = None

    def check(self) -> None:
        """Raise `stopped` if a stop was asked (again and again: nothing may swallow it)."""
        if self.signum is not None:
            raise self.stopped(self.signum)

    def stopped(self, signum: int) -> BaseException:
        """What a stop raises: here, the command's end."""
        return Interrupted(signum)
