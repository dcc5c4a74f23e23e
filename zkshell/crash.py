"""The interactive shell ends as zkCli's JVM ends on Ctrl+C: at once, without closing its
session.

zkCli's Ctrl+C kills the JVM, which sends no closeSession: the server keeps the session, and
its ephemeral znodes, until the session timeout has passed, and only then do other sessions'
watches fire.  The master/worker walkthrough's crash is exactly that, so zksh does the same
for Ctrl+C on an empty line and for SIGINT and SIGTERM sent from outside (`Crash`), and says
on stderr which session it left open and when the server will expire it.  Ctrl+C with text on
the line only clears it; Ctrl+D and `quit` close the session.  zkCli has no command to stop
but itself; zksh does: SIGINT while a command runs (Ctrl+C, or from outside) stops only that
command, and the session goes on (interrupt.py); a second one before it has stopped ends the
shell as above.

A signal can come at any moment.  While the prompt is up, prompt_toolkit has the terminal in
raw mode, so the prompt is ended from its own event loop with the `Crash` as its exception
(it puts the terminal back first); at any other moment the `Crash` is raised where the main
thread is, as Python raises KeyboardInterrupt.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from zkshell.exit_status import ExitStatus
from zkshell.format import java_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

    from prompt_toolkit.application import Application

    from zkshell.interrupt import InterruptRequest
    from zkshell.session import Session


class Crash(BaseException):
    """End the shell now, leaving its session open.  A BaseException, as KeyboardInterrupt
    is, so that no `except Exception` on the way out can swallow it."""

    def __init__(self, why: str, exit_status: int) -> None:
        super().__init__(why)
        self.why = why
        self.exit_status = exit_status


def ctrl_c() -> Crash:
    return Crash("Ctrl+C", ExitStatus.INTERRUPTED)


def for_signal(signum: int) -> Crash:
    """zkCli's JVM exits 130 on SIGINT and 143 (128 + 15) on SIGTERM."""
    return Crash(signal.Signals(signum).name, ExitStatus.killed_by(signum))


CAUGHT = (signal.SIGINT, signal.SIGTERM)


class CrashOnSignals:
    """While in its `with`, SIGINT and SIGTERM end the shell with a `Crash`, except that
    SIGINT while a command runs (`command_running`) only stops that command, through
    `interrupt`; a second SIGINT before the command has stopped ends the shell.

    The prompt must not handle SIGINT itself (`prompt(handle_sigint=False)`).  A signal that
    comes as the prompt is returning a line is kept, and `raise_pending` raises it.
    """

    def __init__(self, app: Application, interrupt: InterruptRequest | None = None) -> None:
        self.app = app
        self.interrupt = interrupt
        self.pending: Crash | None = None
        self._previous: dict[int, object] = {}
        self._command_running = False

    def __enter__(self) -> CrashOnSignals:
        for signum in CAUGHT:
            self._previous[signum] = signal.signal(signum, self._caught)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def raise_pending(self) -> None:
        if self.pending is not None:
            raise self.pending

    def line_accepted(self) -> None:
        """The prompt has accepted a line: from now on SIGINT stops the command it runs.

        Called on the prompt's event loop, before prompt_toolkit hands the terminal back
        (which makes Ctrl+C a SIGINT again) and returns the line: otherwise a Ctrl+C typed
        just after Enter, in that instant, ended the shell instead of stopping the command.
        (After an empty line, such a Ctrl+C is spent with the nothing that ran.)"""
        self._command_running = True

    @contextmanager
    def command_running(self) -> Iterator[None]:
        """Around a command: SIGINT there asks it to stop instead of ending the shell."""
        self._command_running = True
        try:
            yield
        finally:
            self._command_running = False
            if self.interrupt is not None:
                self.interrupt.clear()  # a stop that came as the command ended is spent

    def _caught(self, signum: int, frame: FrameType | None) -> None:
        interrupt = self.interrupt
        if signum == signal.SIGINT and self._command_running and interrupt is not None \
                and not interrupt.requested and self.pending is None:
            interrupt.request(signum)  # taken where the command waits (interrupt.py)
            return
        if self.pending is None:  # a second signal ends the shell as the first said
            self.pending = for_signal(signum)
        if not self._end_the_prompt(self.pending):
            raise self.pending

    def _end_the_prompt(self, crash: Crash) -> bool:
        """Have the prompt, if it is up, end with `crash`; False when it is not up.

        prompt_toolkit is running (and the terminal raw) only while both hold, so raising
        anywhere else leaves the terminal as it should be."""
        app, loop = self.app, self.app.loop
        if not app.is_running or loop is None:
            return False
        try:
            loop.call_soon_threadsafe(self._exit_prompt, crash)
        except RuntimeError:  # the loop has just closed: the prompt is over
            return False
        return True

    def _exit_prompt(self, crash: Crash) -> None:  # on the prompt's event loop
        future = self.app.future
        if future is not None and not future.done():
            self.app.exit(exception=crash, style="class:aborting")
        # else the prompt is returning already: `raise_pending` raises the crash after it


def leave_open(session: Session, crash: Crash, say: Callable[[str], None]) -> None:
    """Drop the session as the killed zkCli does, and `say` (on stderr) which session is
    left open, if there is one."""
    session_id = session.session_id  # None when no session was made, or it has ended
    granted_ms = session.granted_timeout_ms
    session.leave_open()
    if session_id is not None:
        say(left_open_message(session_id, granted_ms, crash.why) + "\n")


def left_open_message(session_id: int, granted_ms: int | None, why: str) -> str:
    """`zksh: session 0x... left open (Ctrl+C); the server expires it ...`, one line."""
    if granted_ms is None:
        when = "once its session timeout has passed since its last contact"
    else:
        when = (f"about {granted_ms / 1000:g} s after its last contact "
                f"(negotiated session timeout {granted_ms} ms)")
    return (f"zksh: session {java_hex(session_id)} left open ({why}); the server expires it "
            f"and deletes its ephemeral znodes {when}")
