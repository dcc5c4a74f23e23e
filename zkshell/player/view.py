"""The teaching view drawn with rich: one pane per session, side by side, a caption, a status.

Panes wrap into rows when they do not fit the width.  Each pane is titled with its session's
label, shows its state on its bottom border, and its most recent lines: zkCli's prompt and the
typed command, the output, and WATCHER:: blocks in their own colour so the eye
catches a notification arriving in another window.
"""

from __future__ import annotations

import math

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from zkshell.player.model import LogEntry
from zkshell.player.panes import Pane, Picture, state_marker

MIN_PANE_WIDTH = 40  # a zkCli prompt alone is about 36 columns
MAX_CAPTION_LINES = 3
MIN_PANE_HEIGHT = 3  # two borders and one line

PROMPT_STYLE = "green"
COMMAND_STYLE = "bold"
WATCHER_STYLE = "bold magenta"
EVENT_STYLE = "magenta"
_STATE_STYLES = {
    "connected": "green", "connectedreadonly": "green",
    "connecting": "yellow", "partitioned": "yellow", "suspended": "yellow",
    "crashed": "red", "expired": "red", "auth_failed": "red",
}


def state_style(state: str) -> str:
    """The colour of a pane's border and state: green alive, yellow cut off, red dead."""
    return _STATE_STYLES.get(state.split(" ")[0], "grey50")


def grid_shape(count: int, width: int) -> tuple[int, int]:
    """(columns, rows) for `count` panes: as many side by side as fit, rows balanced."""
    fit = max(1, min(count, width // MIN_PANE_WIDTH))
    rows = math.ceil(count / fit) if count else 1
    return (math.ceil(count / rows) if count else 1), rows


def fitted_grid(count: int, width: int, height: int) -> tuple[int, int]:
    """`grid_shape`, with narrower panes when its rows would not fit in `height` lines:
    on a small screen every pane keeps a line of its own, and the status line stays."""
    columns, rows = grid_shape(count, width)
    while rows > 1 and rows * MIN_PANE_HEIGHT > height and columns < count:
        columns += 1
        rows = math.ceil(count / columns)
    return columns, rows


def _entry_lines(entry: LogEntry) -> list[tuple[str, str]]:
    """(text, style) for each line an entry shows."""
    text = entry.text[:-1] if entry.text.endswith("\n") else entry.text
    if entry.kind == "command":
        if not entry.prompt:
            return [(text, COMMAND_STYLE)]
        return [(entry.prompt, PROMPT_STYLE), (text[len(entry.prompt):], COMMAND_STYLE)]
    if entry.kind == "event":
        return [(line, WATCHER_STYLE if line.startswith("WATCHER::") else EVENT_STYLE)
                for line in text.split("\n")]
    if entry.kind == "state":
        return [(state_marker(text), f"italic {state_style(text)}")]
    # No colour for standard error: zkCli writes `Created /x` there too.
    return [(line, "") for line in text.split("\n")]


def pane_text(pane: Pane, keep_lines: int = 400) -> Text:
    """A pane's content, oldest first, ending with the prompt and what is being typed."""
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
    for number, parts in enumerate(lines[-keep_lines:]):
        if number:
            text.append("\n")
        for part, style in parts:
            text.append(part, style=style)
    return text


class _Tail:
    """The last lines of a text that fit the height it is given (a terminal's scrolling)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.text, options.update(height=None), pad=True)
        if options.height is not None:
            lines = Segment.set_shape(lines[-options.height:] if options.height else [],
                                      options.max_width, options.height)
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
    """A `Picture` as rich draws it, filling the height it is given.

    With `fit=True` (pictures for documents) panes are only as tall as their content needs.
    """

    def __init__(self, picture: Picture, fit: bool = False) -> None:
        self.picture = picture
        self.fit = fit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        picture = self.picture
        width = options.max_width
        height = options.height or options.size.height
        caption_lines = self._caption_lines(console, options)
        columns, rows = fitted_grid(len(picture.panes), width, height - 2 - caption_lines)
        if rows * MIN_PANE_HEIGHT > height - 2 - caption_lines:
            caption_lines = 0  # a small screen: the panes and the status line come first
        pane_height = max(MIN_PANE_HEIGHT, (height - 2 - caption_lines) // rows)
        if self.fit:
            inner = max(1, width // columns - 4)  # borders and padding take 4 columns
            needed = max((len(console.render_lines(pane_text(p), options.update(
                width=inner, height=None), pad=False)) for p in picture.panes), default=1)
            pane_height = min(pane_height, needed + 2)
        yield Group(
            _Clip(self._header(), 1),
            self._grid(columns, rows, pane_height),
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
        progress_style = "bold red" if self.picture.failed else "cyan"
        header.add_row(Text(self.picture.title, style="bold"),
                       Text(self.picture.progress, style=progress_style))
        return header

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

    def _grid(self, columns: int, rows: int, pane_height: int) -> Table:
        grid = Table.grid(expand=True)
        for _ in range(columns):
            grid.add_column(ratio=1)
        panes = [self._pane(pane, pane_height) for pane in self.picture.panes]
        for row in range(rows):
            cells: list[RenderableType] = panes[row * columns:(row + 1) * columns]
            grid.add_row(*cells, *[""] * (columns - len(cells)))
        return grid

    @staticmethod
    def _pane(pane: Pane, height: int) -> Panel:
        style = state_style(pane.state)
        return Panel(_Tail(pane_text(pane, keep_lines=max(50, height * 4))),
                     title=Text(pane.label, style="bold"), title_align="left",
                     subtitle=Text(f" {pane.state} ", style=f"bold {style}"),
                     subtitle_align="right", border_style=style, height=height)
