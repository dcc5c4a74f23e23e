"""Pacing a demo: wait for a key before each step, pause between steps, type commands out.

Keys (with --step): Enter or space runs the next step, `c` continues to the end without
waiting, `q` stops (the sessions are closed as at the end).  Meanwhile the live view's panes
scroll back: Up/Down a line, PgUp/PgDn a page, Home the oldest line, End the latest, in the
pane chosen with Tab or its number (1-9); the next step shows every pane's latest lines
again.  On a terminal the keys are read one at a time without echo, so they never scribble
over the live view; Ctrl+C still interrupts.  Without a terminal, a line is read per step and
end of input means continue.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable
from typing import TextIO

from zkshell.player.model import Observer
from zkshell.player.panes import BOTTOM, DOWN, NEXT_PANE, PAGE_DOWN, PAGE_UP, TOP, UP, Board
from zkshell.player.scenario import Step
from zkshell.player.stop_request import STOP

CHAR_DELAY = 0.03  # about the pace of a quick typist; a 40-character command takes 1.2 s
NEXT, CONTINUE, QUIT = "next", "continue", "quit"
_KEYS = {"\r": NEXT, "\n": NEXT, " ": NEXT, "c": CONTINUE, "C": CONTINUE, "q": QUIT, "Q": QUIT}
# Scrolling keys, as terminals send them (xterm's normal and application cursor modes, and
# the VT220 editing keys); a pane's number or Tab chooses the pane they move.
_SCROLL_KEYS = {
    "\x1b[A": UP, "\x1bOA": UP, "\x1b[B": DOWN, "\x1bOB": DOWN,
    "\x1b[5~": PAGE_UP, "\x1b[6~": PAGE_DOWN,
    "\x1b[H": TOP, "\x1bOH": TOP, "\x1b[1~": TOP, "\x1b[7~": TOP,
    "\x1b[F": BOTTOM, "\x1bOF": BOTTOM, "\x1b[4~": BOTTOM, "\x1b[8~": BOTTOM,
    "\t": NEXT_PANE, **{str(number): f"pane {number}" for number in range(1, 10)},
}
# The rest of an escape sequence arrives with its ESC; a lone ESC waits no longer than this.
ESCAPE_WAIT = 0.05


class KeyReader:
    """Keys from standard input; a context manager puts a terminal in cbreak mode."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin
        self._saved: list | None = None
        try:
            self.fd: int | None = self.stream.fileno() if self.stream.isatty() else None
        except (AttributeError, ValueError, OSError):
            self.fd = None

    def __enter__(self) -> KeyReader:
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)  # no echo, no line buffering; Ctrl+C still signals
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._saved is not None:
            import termios

            # Keys pressed during the demo must not run as commands in the shell afterwards.
            termios.tcflush(self.fd, termios.TCIFLUSH)
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def read_action(self) -> str:
        """Block until a key means something: NEXT, CONTINUE, QUIT, or on a terminal a
        scroll (UP, NEXT_PANE, "pane 2"...)."""
        while True:
            if self.fd is not None:
                with STOP.raising_at_once():
                    data = os.read(self.fd, 1)
                if not data:
                    return CONTINUE
                key = data.decode("latin-1")
                if key == "\x1b":
                    key += self._rest_of_sequence()
                action = _KEYS.get(key) or _SCROLL_KEYS.get(key)
            else:
                with STOP.raising_at_once():
                    line = self.stream.readline()
                if line == "":
                    return CONTINUE
                action = _KEYS.get(line.strip()[:1] or "\n")
            if action is not None:
                return action

    def _rest_of_sequence(self) -> str:
        """After an ESC: the bytes of its sequence, up to its final letter or `~`."""
        assert self.fd is not None
        rest = ""
        while select.select([self.fd], [], [], ESCAPE_WAIT)[0]:
            char = os.read(self.fd, 1).decode("latin-1")
            rest += char
            if (char.isalpha() and rest != "O") or char == "~" or len(rest) > 8:
                break
        return rest


class Pacer:
    """The player's `pause_before_step`: a key with --step, otherwise a fixed delay."""

    def __init__(self, stop: Callable[[], None], keys: KeyReader | None = None,
                 delay: float = 0.0, board: Board | None = None,
                 hint: Callable[[int, Step], None] | None = None) -> None:
        self.stop = stop
        self.keys = keys
        self.delay = delay
        self.board = board
        self.hint = hint

    def __call__(self, index: int, step: Step) -> None:
        if self.keys is not None:
            action = self._ask(index, step)
            if action == QUIT:
                self.stop()
                return
            if action == CONTINUE:
                self.keys = None  # from here on the demo paces itself
            return
        if index > 0 and self.delay > 0:
            STOP.sleep(self.delay)

    def _ask(self, index: int, step: Step) -> str:
        assert self.keys is not None
        if self.board is not None:
            self.board.set_waiting(index)
        if self.hint is not None:
            self.hint(index, step)
        try:
            while True:
                action = self.keys.read_action()
                if action in (NEXT, CONTINUE, QUIT):
                    return action
                if self.board is not None:
                    self.board.scroll(action)
        finally:
            if self.board is not None:
                self.board.set_waiting(None)


class Typist(Observer):
    """Types a step's command into its pane one character at a time before it runs."""

    def __init__(self, board: Board, char_delay: float = CHAR_DELAY) -> None:
        self.board = board
        self.char_delay = char_delay

    def step_started(self, player, index: int, step: Step) -> None:
        text = step.text if step.kind == "type" else "quit" if step.kind == "quit" else ""
        played = player.sessions.get(step.session or "")
        if not text or played is None or not played.running:
            return
        for end in range(1, len(text) + 1):
            self.board.set_typing(played.name, text[:end])
            STOP.sleep(self.char_delay)
        STOP.sleep(self.char_delay * 5)  # a beat before Enter, as a person would
