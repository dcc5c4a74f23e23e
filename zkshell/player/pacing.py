"""Pacing a demo: wait for a key before each step, pause between steps, type commands out.

Keys (with --step): Enter or space runs the next step, `c` continues to the end without
waiting, `q` stops (the sessions are closed as at the end).  On a terminal the keys are read
one at a time without echo, so they never scribble over the live view; Ctrl+C still
interrupts.  Without a terminal, a line is read per step and end of input means continue.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from zkshell.player.model import Observer
from zkshell.player.panes import Board
from zkshell.player.scenario import Step

CHAR_DELAY = 0.03  # about the pace of a quick typist; a 40-character command takes 1.2 s
NEXT, CONTINUE, QUIT = "next", "continue", "quit"
_KEYS = {"\r": NEXT, "\n": NEXT, " ": NEXT, "c": CONTINUE, "C": CONTINUE, "q": QUIT, "Q": QUIT}


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
        """Block until a key means something: NEXT, CONTINUE or QUIT."""
        while True:
            if self.fd is not None:
                data = os.read(self.fd, 1)
                if not data:
                    return CONTINUE
                action = _KEYS.get(data.decode("latin-1"))
            else:
                line = self.stream.readline()
                if line == "":
                    return CONTINUE
                action = _KEYS.get(line.strip()[:1] or "\n")
            if action is not None:
                return action


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
            time.sleep(self.delay)

    def _ask(self, index: int, step: Step) -> str:
        assert self.keys is not None
        if self.board is not None:
            self.board.set_waiting(index)
        if self.hint is not None:
            self.hint(index, step)
        try:
            return self.keys.read_action()
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
            time.sleep(self.char_delay)
        time.sleep(self.char_delay * 5)  # a beat before Enter, as a person would
