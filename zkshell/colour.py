"""Colour for the interactive shell's output, and the one printer that writes it.

Colour only ever adds SGR escapes around whole lines' parts: take them away and the text is
zkCli's, byte for byte.  It is used only when the interactive shell writes to a terminal and
neither `$NO_COLOR` nor `--no-color` (nor `color = false`) says otherwise; the one-shot and
script modes never import this module.  Every write of the interactive shell (command
output, watch events, the banner) goes through `ColourPrinter.write`: while the prompt is
up, through `patch_stdout(raw=True)`, so it lands above the prompt with its escapes intact;
otherwise straight to the terminal, so a command's output is there before the next prompt.

When stdout is not the terminal (`zksh | tee log`), pipe_printer.py takes over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from zkshell.cli import StreamPrinter

if TYPE_CHECKING:
    from prompt_toolkit.application import Application

RESET = "\x1b[0m"
ERROR = "\x1b[31m"          # red: what went wrong
WATCHER = "\x1b[1;33m"      # bold yellow: WATCHER::
EVENT = "\x1b[33m"          # yellow: WatchedEvent ... of a znode
CONNECTION = "\x1b[36m"     # cyan: WatchedEvent ... type:None (the connection's state)
LOST = "\x1b[1;31m"         # bold red: Disconnected, Expired, AuthFailed, Closed
FIELD = "\x1b[36m"          # cyan: a stat block's field names

# The names the stat block prints (zkshell.format.stat_block).
_STAT_NAMES = ("cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
               "aclVersion", "ephemeralOwner", "dataLength", "numChildren")
_STAT_LINE = re.compile(rf"^({'|'.join(_STAT_NAMES)})( = )", re.M)
_LOST_STATES = ("Disconnected", "Expired", "AuthFailed", "Closed")


def paint(text: str, sgr: str) -> str:
    """`text` in the colour `sgr`, line by line, so no escape ever spans a newline."""
    return "\n".join(f"{sgr}{line}{RESET}" if line else line for line in text.split("\n"))


def paint_output(stream: str, text: str) -> str:
    if stream == "err":
        if text.startswith("ZooKeeper -server"):
            return text  # the usage list printed with an unknown command: not an error
        return paint(text, ERROR)
    return _STAT_LINE.sub(lambda m: f"{FIELD}{m.group(1)}{RESET}{m.group(2)}", text)


def paint_event(text: str) -> str:
    """A WATCHER block (zkshell.format.watcher_block)."""
    lines = []
    for line in text.split("\n"):
        if line == "WATCHER::":
            line = paint(line, WATCHER)
        elif line.startswith("WatchedEvent "):
            state = line.split("state:", 1)[-1].split(" ", 1)[0]
            colour = (LOST if state in _LOST_STATES
                      else CONNECTION if " type:None " in line else EVENT)
            line = paint(line, colour)
        lines.append(line)
    return "\n".join(lines)


class ColourPrinter(StreamPrinter):
    """The interactive shell's printer: zkCli's text, painted when `colour` is on."""

    def __init__(self, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def event(self, text: str) -> None:
        if self.enabled:
            self.write("out", paint_event(text) if self.colour else text)

    def output(self, output) -> None:
        for stream, text in output.chunks:
            self.write(stream, paint_output(stream, text) if self.colour else text)

    @contextmanager
    def above_the_prompt(self, app: Application | None = None) -> Iterator[None]:
        """While the prompt is up, print above it.  The swap of sys.stdout happens under
        the printer's lock, so no block is written half here and half there, or lost."""
        from prompt_toolkit.patch_stdout import patch_stdout

        stack = ExitStack()
        with self._lock:
            stack.enter_context(patch_stdout(raw=True))
        try:
            yield
        finally:
            with self._lock:
                stack.close()  # flushes what is pending, in order, then restores stdout
