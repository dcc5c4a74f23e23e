"""A small terminal for pseudo-terminal tests: it reads what a program wrote and keeps what a
person would see (lines of text and the cursor), so tests check the screen, not escape codes.

It understands what prompt_toolkit writes: printable text, CR, LF, BS, cursor movement
(CUU/CUD/CUF/CUB/CUP/CHA), erasing (EL, ED), autowrap on/off, and ignores the rest (SGR
colours, modes, titles).  `\\x1b[6n` (where is the cursor?) is answered when `answer` is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)([ -/]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")
_OTHER_ESC = re.compile(r"\x1b[()#][0-9A-Za-z]|\x1b[=>78cDEHM]")


class Screen:
    def __init__(self, rows: int, columns: int,
                 answer: Callable[[str], None] | None = None) -> None:
        self.rows = rows
        self.columns = columns
        self.lines = [[" "] * columns for _ in range(rows)]
        self.row = 0
        self.column = 0
        self.autowrap = True
        self.answer = answer
        self.scrolled: list[str] = []  # lines that went off the top
        self._pending = ""  # an escape sequence cut in two by a read

    # ---- what tests read ------------------------------------------------------------------
    def text(self) -> str:
        return "\n".join(self.line(i) for i in range(self.rows))

    def everything(self) -> str:
        """What scrolled off the top, then the screen."""
        return "\n".join([*self.scrolled, self.text()])

    def line(self, index: int) -> str:
        return "".join(self.lines[index]).rstrip()

    def cursor_line(self) -> str:
        """The cursor's line up to the cursor, spaces kept (a prompt ends with one)."""
        return "".join(self.lines[self.row][:self.column])

    # ---- feeding ----------------------------------------------------------------------------
    def feed(self, data: str) -> None:
        data = self._pending + data
        self._pending = ""
        i = 0
        while i < len(data):
            char = data[i]
            if char == "\x1b":
                consumed = self._escape(data, i)
                if consumed == 0:
                    self._pending = data[i:]
                    return
                i += consumed
                continue
            self._char(char)
            i += 1

    def _escape(self, data: str, i: int) -> int:
        """Length of the escape sequence at i (0: incomplete, wait for more)."""
        for pattern, handler in ((_CSI, self._csi), (_OSC, None), (_OTHER_ESC, None)):
            match = pattern.match(data, i)
            if match:
                if handler is not None:
                    handler(*match.groups())
                return match.end() - i
        if len(data) - i < 16 and "\x1b" not in data[i + 1:]:
            return 0
        return 1  # unknown: drop the ESC

    def _csi(self, private: str, params: str, intermediate: str, final: str) -> None:
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        first = numbers[0] if numbers and numbers[0] else 1
        if private or intermediate:
            if private == "?" and 7 in numbers and final in "hl":
                self.autowrap = final == "h"
            return
        if final == "A":
            self.row = max(0, self.row - first)
        elif final == "B":
            self.row = min(self.rows - 1, self.row + first)
        elif final == "C":
            self.column = min(self.columns - 1, self.column + first)
        elif final == "D":
            self.column = max(0, self.column - first)
        elif final == "G":
            self.column = min(self.columns - 1, first - 1)
        elif final in "Hf":
            row = numbers[0] if numbers and numbers[0] else 1
            column = numbers[1] if len(numbers) > 1 and numbers[1] else 1
            self.row, self.column = min(row, self.rows) - 1, min(column, self.columns) - 1
        elif final == "K":
            mode = numbers[0] if numbers else 0
            line = self.lines[self.row]
            span = {0: range(self.column, self.columns), 1: range(0, self.column + 1),
                    2: range(self.columns)}.get(mode, ())
            for c in span:
                line[c] = " "
        elif final == "J":
            mode = numbers[0] if numbers else 0
            if mode == 0:
                self._csi("", "0", "", "K")
                rows = range(self.row + 1, self.rows)
            elif mode == 1:
                rows = range(0, self.row)
            else:
                rows = range(self.rows)
            for r in rows:
                self.lines[r] = [" "] * self.columns
        elif final == "n" and numbers == [6] and self.answer is not None:
            self.answer(f"\x1b[{self.row + 1};{self.column + 1}R")

    def _char(self, char: str) -> None:
        if char == "\r":
            self.column = 0
        elif char == "\n":
            self._line_feed()
        elif char == "\b":
            self.column = max(0, self.column - 1)
        elif char == "\t":
            self.column = min(self.columns - 1, (self.column // 8 + 1) * 8)
        elif char < " " or char == "\x7f":
            pass  # BEL and other controls
        else:
            if self.column >= self.columns:
                if not self.autowrap:
                    self.column = self.columns - 1
                else:
                    self.column = 0
                    self._line_feed()
            self.lines[self.row][self.column] = char
            self.column += 1

    def _line_feed(self) -> None:
        if self.row == self.rows - 1:
            self.scrolled.append("".join(self.lines.pop(0)).rstrip())
            self.lines.append([" "] * self.columns)
        else:
            self.row += 1


class Terminal:
    """A program in a pseudo-terminal of fixed size, watched through a `Screen`.

    Waits are on conditions of the screen, never fixed sleeps; a failed wait says what was
    expected, shows the screen as a person would see it and the end of the raw log.
    """

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 24,
                 columns: int = 100, timeout: float = 30, answer_cpr: bool = False) -> None:
        import pexpect

        self._pexpect = pexpect
        self.timeout = timeout
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(rows, columns),
                                   encoding="utf-8", codec_errors="replace", timeout=timeout)
        self.screen = Screen(rows, columns, answer=self.child.send if answer_cpr else None)
        self.log: list[str] = []
        self.eof = False

    @property
    def raw(self) -> str:
        return "".join(self.log)

    def send(self, text: str) -> None:
        self.child.send(text)

    def _read(self, wait: float) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=wait)
        except self._pexpect.TIMEOUT:
            return
        except self._pexpect.EOF:
            self.eof = True
            return
        self.log.append(data)
        self.screen.feed(data)

    def wait_for(self, condition: Callable[[], bool], expected: str,
                 timeout: float | None = None) -> None:
        import time

        deadline = time.monotonic() + (timeout or self.timeout)
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.eof:
                self.fail(expected)
            self._read(min(remaining, 0.1))

    def fail(self, expected: str) -> None:
        import pytest

        pytest.fail(f"Expected: {expected}\nActual screen (cursor at row {self.screen.row}, "
                    f"column {self.screen.column}):\n{self.screen.text()}\n"
                    f"Full log (last 3000 chars): {self.raw[-3000:]!r}", pytrace=False)

    def wait_text(self, text: str, timeout: float | None = None) -> None:
        """`text` shows on the screen (or scrolled past it)."""
        self.wait_for(lambda: text in self.screen.everything(), f"the text {text!r}", timeout)

    def wait_line(self, text: str, timeout: float | None = None) -> None:
        """The cursor's line reads `text` up to the cursor, exactly (spaces count)."""
        self.wait_for(lambda: self.screen.cursor_line() == text,
                      f"the cursor line {text!r}", timeout)

    def finish(self, timeout: float | None = None) -> int:
        """Wait for the program to end; its exit status."""
        self.wait_for(lambda: self.eof, "the program to exit", timeout)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else \
            -(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
