"""A signal to stop `zksh play` is not lost in code that swallows exceptions.

kazoo's `_call` wraps the write that wakes its connection in a bare `except:`; a SIGTERM
landing there used to become that request's ConnectionClosedError, and the run waited out
its next await.  Here the signal lands in such a bare `except:` on purpose, then the run's
await must still end with the stop, well before its 60 s and before the 10 s fallback."""

from __future__ import annotations

import subprocess
import sys

from .conftest import CHECKOUT

SWALLOWED_THEN_AWAIT = """
import os, signal, sys
from zkshell.embedded import EmbeddedServer
from zkshell.player import cli
from zkshell.player.model import Observer
from zkshell.player.runner import PlayedSession, Target
from zkshell.player.scenario import Expectation

with EmbeddedServer() as server:
    played = PlayedSession("m1", "m1", Target.parse(server.address), 4000, Observer())
    cli._stop_on_signals()
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, as in kazoo's _call
    except:  # noqa: E722 - what kazoo does
        pass
    try:
        played.await_match(Expectation("contains", "never printed"), 60)
        print("the await ran out")
    except KeyboardInterrupt as exc:
        print("stopped:", type(exc).__name__, exc.signum)
    finally:
        played.close()
"""


def test_a_sigterm_swallowed_where_it_landed_still_stops_the_next_await():
    result = subprocess.run([sys.executable, "-c", SWALLOWED_THEN_AWAIT], cwd=CHECKOUT,
                            capture_output=True, text=True, timeout=90)
    assert "stopped: Terminated 15" in result.stdout, result.stdout + result.stderr
    assert "stopping took too long" not in result.stderr
