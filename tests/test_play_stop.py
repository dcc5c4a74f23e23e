"""A signal to stop `zksh play` is not lost in code that swallows exceptions.

kazoo's `_call` wraps the write that wakes its connection in a bare `except:`; a SIGTERM or
a Ctrl+C (SIGINT) landing there used to become that request's ConnectionClosedError, and the
run went on: its next await waited out its 60 s, a command its request timeout.  Here the
signal lands in such a bare `except:` on purpose; what the run waits for next must still end
with the stop (well before the 10 s fallback of SIGTERM).  A second Ctrl+C, while the first
is being taken, gets out at once."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from .conftest import CHECKOUT

SIGNAL_SWALLOWED = """
import os, signal, sys, time
from zkshell.embedded import EmbeddedServer
from zkshell.player import cli
from zkshell.player.model import Observer
from zkshell.player.runner import PlayedSession, Target
from zkshell.player.scenario import Expectation

SIGNUM = {signum}
with EmbeddedServer() as server:
    played = PlayedSession("m1", "m1", Target.parse(server.address), 4000, Observer())
    cli._stop_on_signals()
    {before}
    try:
        os.kill(os.getpid(), SIGNUM)  # the handler runs here, as in kazoo's _call
    except:  # noqa: E722 - what kazoo does
        pass
    try:
        {wait}
        print("the wait ran to its end")
    except KeyboardInterrupt as exc:
        print("stopped:", type(exc).__name__, exc.signum)
    finally:
        if SIGNUM == signal.SIGINT:  # the clean-up, where the first is being taken
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(30)
                print("the second Ctrl+C was ignored")
            except KeyboardInterrupt as exc:
                print("out at once:", type(exc).__name__, exc.signum)
        played.close()
"""

AWAIT = 'played.await_match(Expectation("contains", "never printed"), 60)'
# Cut off, the session gets no answer: `ls` would wait out its request timeout (9 s).
COMMAND = 'played.type_line("ls /")'

SIGNALS = pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT],
                                  ids=["SIGTERM", "SIGINT"])


def _swallowed_then(signum: int, wait: str, before: str = "pass") -> None:
    script = SIGNAL_SWALLOWED.format(signum=signum, before=before, wait=wait)
    result = subprocess.run([sys.executable, "-c", script], cwd=CHECKOUT,
                            capture_output=True, text=True, timeout=120)
    assert f"stopped: Stopped {signum}" in result.stdout, result.stdout + result.stderr
    assert "stopping took too long" not in result.stderr
    if signum == signal.SIGINT:
        assert "out at once: Stopped 2" in result.stdout, result.stdout + result.stderr


@SIGNALS
def test_a_signal_swallowed_where_it_landed_still_stops_the_next_await(signum):
    _swallowed_then(signum, AWAIT)


@SIGNALS
def test_a_signal_swallowed_where_it_landed_stops_a_command_waiting_for_its_answer(signum):
    _swallowed_then(signum, COMMAND, before="played.partition()")
