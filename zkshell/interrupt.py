"""A stop asked for the running command (SIGINT while the interactive shell runs one).

The signal handler only records the request; the command takes it where it waits for the
server (`Session`'s waits, in short slices) and between the nodes of a walk, and raises
`Interrupted` there.  Raising from the handler itself would put the exception at whatever
bytecode the main thread runs, inside kazoo too, whose `_call` swallows anything in a bare
`except:` (player/stop_request.py tells that story).
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
    """Whether a stop was asked for the running command; only the front end that runs
    commands in the foreground (the REPL) ever asks."""

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
        """Raise `Interrupted` if a stop was asked (again and again: nothing may swallow it)."""
        if self.requested:
            raise Interrupted(self.signum)
