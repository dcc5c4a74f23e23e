"""The teaching view drawn with rich: one pane per session, a caption, a status.

`layout_shape` places the panes: side by side while each is wide enough to read, else in a
grid, else stacked (`--layout` can insist on columns or a grid).  Each pane is titled with its
session's label, shows its state on its bottom border, and its most recent lines, wrapped
inside it: zkCli's prompt and the typed command, the output, and WATCHER:: blocks in their
own colour so the eye catches a notification arriving in another window.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from zkshell.player.member_row import ISOLATED, MemberLine
from zkshell.player.model import FAILURE, LogEntry
from zkshell.player.panes import Pane, Picture, state_marker, summarised
from zkshell.player.server_pane import (
    ADDED,
    CHANGED,
    DATA,
    MARK,
    NAME,
    NOTE,
    ORPHAN,
    OWNER,
    REMOVED,
    SEQUENCE,
    TREE,
    WATCH,
    ServerView,
)

# A prompt and a typical command on one line: narrower, every command lands under its prompt.
READABLE_WIDTH = 60
# Two borders and three lines: the last command, what it printed, the prompt.
READABLE_HEIGHT = 5
MAX_CAPTION_LINES = 3
MIN_PANE_HEIGHT = 3  # two borders and one line
# Past these a pane shows nothing worth reading: the panes that do not fit are summed up
# in a line under those drawn.  More than MAX_PANES panes is a wall no one reads.
MIN_PANE_WIDTH, SMALL_PANE_HEIGHT, MAX_PANES = 13, 4, 16
# The server pane's width: a quarter of the screen, within these bounds.
SERVER_MIN_WIDTH, SERVER_MAX_WIDTH = 36, 56
# The row of an ensemble's members: a cell each, at least this wide (`2 leader zxid
# 0x100000004 · m1` and a little room); narrower, the members take more lines.
MEMBER_WIDTH = 34

PROMPT_STYLE = "green"
COMMAND_STYLE = "bold"
WATCHER_STYLE = "bold magenta"
EVENT_STYLE = "magenta"
FAILURE_STYLE = "bold red"  # the header's failure counter's colour
_STATE_STYLES = {
    "connected": "green", "connectedreadonly": "green",
    "connecting": "yellow", "partitioned": "yellow", "suspended": "yellow",
    "crashed": "red", "expired": "red", "auth_failed": "red",
}


def state_style(state: str) -> str:
    """The colour of a pane's border and state: green alive, yellow cut off, red dead (an
    expired session too: `partitioned · expired`)."""
    if state.endswith(" expired"):
        return _STATE_STYLES["expired"]
    return _STATE_STYLES.get(state.split(" ")[0], "grey50")


def server_width(width: int, wanted: bool | None) -> int:
    """Columns for the server pane beside the session panes: 0 for none.  `wanted` None
    (the default): only when the sessions keep `READABLE_WIDTH` beside it."""
    if wanted is False:
        return 0
    columns = min(SERVER_MAX_WIDTH, max(SERVER_MIN_WIDTH, width // 4))
    if wanted is None and width - columns < READABLE_WIDTH:
        return 0
    return min(columns, max(0, width - 20))


_SERVER_ROLES = {MARK: "bold", TREE: "grey50", NAME: "", SEQUENCE: "bold cyan", DATA: "cyan",
                 OWNER: "blue", ORPHAN: "bold red", WATCH: "magenta", NOTE: "dim italic"}
_SERVER_CHANGES = {ADDED: "green", CHANGED: "yellow", REMOVED: "strike dim"}


def server_text(view: ServerView) -> Text:
    """The server pane's lines, styled by part; the mark column and a removed line in the
    colour of their change.  A long line wraps: a narrow pane loses no owner, no watch."""
    text = Text(overflow="fold")
    for number, line in enumerate(view.lines):
        if number:
            text.append("\n")
        change = _SERVER_CHANGES.get(line.change, "")
        for part, role in line.parts:
            style = _SERVER_ROLES.get(role, "")
            if role == MARK or line.change == REMOVED:
                style = f"{style} {change}".strip()
            text.append(part, style=style)
    return text


_MEMBER_STYLES = {"leader": "bold green", "follower": "green", "looking": "yellow",
                  "down": "bold red", ISOLATED: "bold yellow"}


def member_rows(count: int, width: int) -> tuple[int, int]:
    """(cells a line, lines) for `count` members in `width` columns: it depends on nothing
    else, so the panes never move when a member's line grows."""
    if count == 0:
        return 0, 0
    across = max(1, min(count, width // MEMBER_WIDTH))
    return across, math.ceil(count / across)


def member_cell(line: MemberLine) -> Text:
    """`2 leader` in its role's colour, then its zxid and sessions."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(line.head, style=_MEMBER_STYLES.get(line.state, ""))
    text.append(line.tail, style="dim" if not line.names else "")
    return text


def _balanced(count: int, columns: int) -> tuple[int, int]:
    """(columns, rows) with at most `columns` side by side and the rows evenly filled."""
    rows = math.ceil(count / columns)
    return math.ceil(count / rows), rows


def layout_shape(count: int, width: int, height: int, layout: str = "auto") -> tuple[int, int]:
    """(columns, rows) of `count` panes in `width` x `height` (the room under the title).

    "columns": side by side, however narrow.  "grid": as square as can be (2x2 for four).
    "auto": side by side while each pane gets `READABLE_WIDTH` columns, else as many of
    that width as fit in a row, more rows (down to one pane a row) as long as each row keeps
    `READABLE_HEIGHT` lines; a screen too short for that gets narrower panes instead, so every
    pane still shows its latest lines and its prompt.
    """
    if count <= 0:
        return 1, 1
    if layout == "columns":
        return count, 1
    if layout == "grid":
        return _balanced(count, math.ceil(math.sqrt(count)))
    wanted = max(1, min(count, width // READABLE_WIDTH))
    columns, rows = _balanced(count, wanted)
    # Asking one more column a row may give the same shape (200 panes: 100 or 101 a row
    # both make two rows of 100): the columns asked for grow, not the shape's.
    while rows > 1 and rows * READABLE_HEIGHT > height and wanted < count:
        wanted += 1
        columns, rows = _balanced(count, wanted)
    return columns, rows


def pane_room(width: int, height: int) -> int:
    """How many panes `width` x `height` can show, each with a line or two of its own."""
    return min(MAX_PANES, max(1, width // MIN_PANE_WIDTH) * max(1, height // SMALL_PANE_HEIGHT))


# Control characters in a znode's data would move the terminal's cursor, or vanish: shown
# as a terminal's caret notation (^[ for ESC) they stay in their pane and stay visible.
_CARETS = {code: f"^{chr(code + 64)}" for code in range(32) if chr(code) not in "\t\n"}
_CARETS[127] = "^?"


def _entry_lines(entry: LogEntry) -> list[tuple[str, str]]:
    """(text, style) for each line an entry shows."""
    text = entry.text[:-1] if entry.text.endswith("\n") else entry.text
    text = text.translate(_CARETS)
    if entry.kind == "command":
        if not entry.prompt:
            return [(text, COMMAND_STYLE)]
        return [(entry.prompt, PROMPT_STYLE), (text[len(entry.prompt):], COMMAND_STYLE)]
    if entry.kind == "event":
        return [(line, WATCHER_STYLE if line.startswith("WATCHER::") else EVENT_STYLE)
                for line in text.split("\n")]
    if entry.kind == "state":
        return [(state_marker(text), f"italic {state_style(text)}")]
    if entry.kind == FAILURE:
        return [(line, FAILURE_STYLE) for line in text.split("\n")]
    # No colour for standard error: zkCli writes `Created /x` there too.
    return [(line, "") for line in text.split("\n")]


def pane_text(pane: Pane, keep_lines: int | None = 400) -> Text:
    """A pane's content, oldest first, ending with the prompt and what is being typed
    (its last `keep_lines` lines, or all of them)."""
    lines: list[list[tuple[str, str]]] = []
    for entry in pane.entries:
        parts = _entry_lines(entry)
        if entry.kind == "command" and len(parts) == 2:
            lines.append(parts)  # prompt and command share a line
        else:
            lines.extend([part] for part in parts)
    if pane.prompt is not None:
        lines.append([(pane.prompt, PROMPT_STYLE), (pane.typing, COMMAND_STYLE),
                      (" ", "reverse")])
    # Rendering every line of a long demo at each refresh costs; older lines are off-screen.
    text = Text(overflow="fold", no_wrap=False)
    for number, parts in enumerate(lines[-keep_lines:] if keep_lines else lines):
        if number:
            text.append("\n")
        for part, style in parts:
            text.append(part, style=style)
    return text


class _Tail:
    """The lines of a text that fit the height it is given, ending `back` lines before its
    last (a terminal's scrolling, and its scroll-back).  `room` is told how far back the
    text goes and how tall a page is, so keys can scroll no further than there is."""

    def __init__(self, text: Text, back: int = 0,
                 room: Callable[[int, int], None] | None = None) -> None:
        self.text = text
        self.back = back
        self.room = room

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.text, options.update(height=None), pad=True)
        if options.height is not None:
            furthest = max(0, len(lines) - options.height)
            if self.room is not None:
                self.room(furthest, options.height)
            end = len(lines) - min(self.back, furthest)
            shown = lines[max(0, end - options.height):end] if options.height else []
            lines = Segment.set_shape(shown, options.max_width, options.height)
        for line in lines:
            yield from line
            yield Segment.line()


class _Clip:
    """Exactly `height` lines of a renderable: the layout must not move when text grows."""

    def __init__(self, renderable: RenderableType, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options.update(height=None), pad=True)
        for line in Segment.set_shape(lines[:self.height], options.max_width, self.height):
            yield from line
            yield Segment.line()


class TeachingView:
    """A `Picture` as rich draws it, filling the height it is given, panes placed as
    `layout_shape` says for `layout`.

    With `fit=True` (pictures for documents) panes are only as tall as their content needs.
    After drawing, `scroll_room` holds how far back each pane's text goes and its height.
    """

    def __init__(self, picture: Picture, fit: bool = False, layout: str = "auto",
                 server_pane: bool | None = None) -> None:
        self.picture = picture
        self.fit = fit
        self.layout = layout
        self.server_pane = server_pane  # None: beside the sessions when there is room
        self.scroll_room: dict[str, tuple[int, int]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        picture = self.picture
        width = options.max_width
        members_across, member_lines = member_rows(len(picture.members), width)
        # The title and status lines, and the members' row.
        room = (options.height or options.size.height) - 2 - member_lines
        server = picture.server_view
        side = server_width(width, self.server_pane) if server is not None else 0
        panes, more = picture.panes, ""
        if len(panes) > pane_room(width - side, room):
            room -= 1  # the line that sums up the panes left out
            # As many as fill the grid's cells: no row left half empty.
            columns, rows = layout_shape(pane_room(width - side, room), width - side, room,
                                         self.layout)
            panes, more = summarised(panes, columns * rows)
        columns, rows = layout_shape(len(panes), width - side, room, self.layout)
        # On a short screen the caption yields, so that each pane keeps a readable height.
        least = min(READABLE_HEIGHT, max(MIN_PANE_HEIGHT, room // rows))
        caption_lines = max(0, min(self._caption_lines(console, options), room - rows * least))
        pane_height = max(MIN_PANE_HEIGHT, (room - caption_lines) // rows)
        if self.fit:
            inner = max(1, (width - side) // columns - 4)  # borders and padding take 4
            needed = max((len(console.render_lines(pane_text(p), options.update(
                width=inner, height=None), pad=False)) for p in panes), default=1)
            if server is not None and side:  # the server pane spans every row
                tall = len(console.render_lines(self._server_body(server), options.update(
                    width=side - 4, height=None), pad=False))
                needed = max(needed, math.ceil((tall + 2) / rows) - 2)
            pane_height = min(pane_height, needed + 2)
        grid: RenderableType = self._grid(panes, columns, rows, pane_height)
        if server is not None and side:
            beside = Table.grid(expand=True)
            beside.add_column(ratio=1)
            beside.add_column(width=side)
            beside.add_row(grid, self._server_pane(server, rows * pane_height))
            grid = beside
        yield Group(
            _Clip(self._header(), 1),
            *([_Clip(self._members(members_across), member_lines)] if member_lines else []),
            grid,
            *([_Clip(Text(more, style="bold", no_wrap=True, overflow="ellipsis"), 1)]
              if more else []),
            *([_Clip(Text(picture.caption, style="bold yellow", justify="center"),
                     caption_lines)] if caption_lines else []),
            _Clip(self._footer(), 1),
        )

    def _caption_lines(self, console: Console, options: ConsoleOptions) -> int:
        """Room for the longest caption of the run, reserved once so panes never jump."""
        wrapped = [len(Text(caption).wrap(console, options.max_width))
                   for caption in self.picture.captions]
        return min(MAX_CAPTION_LINES, max(wrapped, default=0))

    def _header(self) -> Table:
        header = Table.grid(expand=True)
        header.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        header.add_column(justify="right", no_wrap=True)
        progress_style = FAILURE_STYLE if self.picture.failed else "cyan"
        # The server after the title, on the same row: a narrow view cuts it, not the title.
        title = Text(self.picture.title, style="bold")
        if self.picture.server:
            title.append(f"  ·  {self.picture.server}", style="dim")
        header.add_row(title, Text(self.picture.progress, style=progress_style))
        return header

    def _members(self, across: int) -> Table:
        """The ensemble's members under the title, `across` to a line."""
        row = Table.grid(expand=True, padding=(0, 1))
        for _ in range(across):
            row.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        cells = [member_cell(line) for line in self.picture.members]
        for start in range(0, len(cells), across):
            chunk = cells[start:start + across]
            row.add_row(*chunk, *[""] * (across - len(chunk)))
        return row

    def _footer(self) -> Text:
        picture = self.picture
        if picture.waiting:
            style = "bold black on yellow"
        elif picture.finished:
            style = ("bold red" if picture.failed else "bold yellow" if picture.stopped
                     else "bold green")
        else:
            style = "cyan"
        return Text(picture.status, style=style, no_wrap=True, overflow="ellipsis")

    def _grid(self, shown: tuple[Pane, ...], columns: int, rows: int,
              pane_height: int) -> Table:
        grid = Table.grid(expand=True)
        for _ in range(columns):
            grid.add_column(ratio=1)
        panes = [self._pane(pane, pane_height) for pane in shown]
        for row in range(rows):
            cells: list[RenderableType] = panes[row * columns:(row + 1) * columns]
            grid.add_row(*cells, *[""] * (columns - len(cells)))
        return grid

    def _pane(self, pane: Pane, height: int) -> Panel:
        style = state_style(pane.state)
        # Rendering every line of a long demo at each frame costs: the whole history only
        # while a person can scroll back through it, otherwise what a frame can show.
        scrolling = any(p.selected for p in self.picture.panes)
        tail = _Tail(pane_text(pane, keep_lines=None if scrolling else max(50, height * 4)),
                     pane.scroll, functools.partial(self._note_room, pane.name))
        title = Text(pane.label, style="bold")
        if pane.selected:  # the pane the scroll keys move; a narrow border cuts the keys
            title = Text.assemble((f"▶ {pane.label}", "bold reverse"),
                                  ("  ↑↓ PgUp PgDn Home End · Tab 1-9", "bold"))
        subtitle = Text(f" {pane.state} ", style=f"bold {style}")
        if pane.scroll:
            subtitle = Text.assemble((f" ↑ {pane.scroll} lines back ", "bold black on yellow"),
                                     subtitle)
        return Panel(tail, title=title, title_align="left", subtitle=subtitle,
                     subtitle_align="right", border_style=style, height=height)

    @staticmethod
    def _server_body(server: ServerView) -> RenderableType:
        if not server.note:
            return server_text(server)
        return Group(server_text(server), Text(server.note, style="dim italic"))

    def _server_pane(self, server: ServerView, height: int) -> Panel:
        """The server as the scenario left it: the tree from its top, cut at the bottom."""
        return Panel(_Clip(self._server_body(server), max(1, height - 2)),
                     title=Text("server", style="bold"), title_align="left",
                     border_style="blue", height=height)

    def _note_room(self, name: str, furthest: int, page: int) -> None:
        self.scroll_room[name] = (furthest, page)
