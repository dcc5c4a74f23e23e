"""Colour for the interactive shell: SGR escapes around parts of zkCli's text.

Colour only ever adds escapes around whole parts of lines: take them away and the text is
zkCli's, byte for byte.  What gets which colour is decided from values (a chunk's kind, an
event's state and type), never by reading the text; `zkshell.format` lays the text out and
calls back for each part it may decorate.
"""

from __future__ import annotations

from zkshell import format as fmt
from zkshell.output import ERROR, STAT, Chunk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from zkshell.session import SessionEvent

RESET = "\x1b[0m"
ERROR_SGR = "\x1b[31m"      # red: what went wrong
WATCHER = "\x1b[1;33m"      # bold yellow: WATCHER::
EVENT = "\x1b[33m"          # yellow: WatchedEvent ... of a znode
CONNECTION = "\x1b[36m"     # cyan: WatchedEvent ... type:None (the connection's state)
LOST = "\x1b[1;31m"         # bold red: Disconnected, Expired, AuthFailed, Closed
FIELD = "\x1b[36m"          # cyan: a stat block's field names

LOST_STATES = ("Disconnected", "Expired", "AuthFailed", "Closed")


def paint(text: str, sgr: str) -> str:
    """`text` in the colour `sgr`, line by line, so no escape ever spans a newline."""
    return "\n".join(f"{sgr}{line}{RESET}" if line else line for line in text.split("\n"))


def paint_chunk(chunk: Chunk) -> str:
    if chunk.kind == ERROR:
        return paint(chunk.text, ERROR_SGR)
    if chunk.kind == STAT and chunk.value is not None:
        return fmt.stat_block(chunk.value, _paint_field)
    return chunk.text


def _paint_field(role: str, text: str) -> str:
    return paint(text, FIELD) if role == "field" else text


def paint_event(event: SessionEvent) -> str:
    """The event's WATCHER block, coloured by what happened."""
    colour = (LOST if event.state in LOST_STATES
              else CONNECTION if event.type == "None" else EVENT)

    def decorate(role: str, text: str) -> str:
        return paint(text, WATCHER if role == "watcher" else colour)

    return fmt.watcher_block(event.state, event.type, event.path, decorate)
