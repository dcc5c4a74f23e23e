"""Drawing the board as it changes: on the terminal (rich Live) and/or into a cast recording.

Each draw renders the view once, into screen lines; the terminal gets them through Live, the
recorder gets their ANSI text.  The board only *asks* for a redraw on a change (a typed
character, an output, an event on kazoo's thread), and the view's own thread draws: a frame
costs about 10 ms, which kazoo's event thread must not pay, and a burst of changes becomes
one frame.  A slow tick also catches what changes without an entry, such as a prompt going
from CONNECTED to CONNECTING.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

from rich.color import ColorSystem
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.segment import Segment

from zkshell.player.cast import CastRecorder
from zkshell.player.panes import Board
from zkshell.player.view import TeachingView

TICK = 0.25
# A frame of many panes costs 80 ms or more, and a run of many sessions changes the view at
# every step: drawn at each change, the frames took the time (and the GIL) the steps needed,
# a 1 s run took a minute.  After a frame the view rests this many times as long as it took.
REST_PER_FRAME = 3.0


class _Frame:
    """Lines already rendered, handed to Live as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for number, line in enumerate(self.lines):
            if number:
                yield Segment.line()
            yield from line


def _ansi(line: list[Segment]) -> str:
    return "".join(segment.style.render(segment.text, color_system=ColorSystem.TRUECOLOR)
                   if segment.style else segment.text
                   for segment in line if not segment.control)


def offscreen_console(width: int, height: int) -> Console:
    """A console of a fixed size that draws nowhere: for recordings without a terminal."""
    return Console(file=io.StringIO(), width=width, height=height, force_terminal=True,
                   color_system="truecolor", legacy_windows=False)


def terminal_view_size(console: Console) -> tuple[int, int]:
    """The view's size on a terminal: its width, and one line short of its height, since
    drawing the last line would scroll the screen."""
    width, height = console.size
    return width, max(10, height - 1)


class LiveView:
    """Keeps the terminal (when `terminal` is given) and the recording up to date.

    Only the drawing thread draws while the view runs; `stop` draws once more after it.
    """

    def __init__(self, board: Board, terminal: Console | None = None,
                 cast: CastRecorder | None = None,
                 size: tuple[int, int] = (120, 40), layout: str = "auto",
                 server_pane: bool | None = None) -> None:
        self.board = board
        self.cast = cast
        self.layout = layout
        self.server_pane = server_pane
        self._console = terminal or offscreen_console(*size)
        self._size: Callable[[], tuple[int, int]] = self._terminal_size if terminal else (
            lambda: size)
        self._live = (Live(console=terminal, auto_refresh=False, vertical_overflow="crop")
                      if terminal is not None else None)
        self._last: list[str] = []
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._drawer = threading.Thread(target=self._draw_loop, daemon=True, name="zksh-view")

    def _terminal_size(self) -> tuple[int, int]:
        return terminal_view_size(self._console)

    def __enter__(self) -> LiveView:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._live is not None:
            self._live.start()
        self.board.on_change(self._wake.set)
        self._draw()
        self._drawer.start()

    def stop(self) -> None:
        """Draw the last picture and give the terminal back."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._wake.set()
        if self._drawer.is_alive():
            self._drawer.join()
        self._draw()
        if self._live is not None:
            self._live.stop()

    def _draw_loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            if not self._stopped.is_set():
                started = time.perf_counter()
                self._draw()
                self._stopped.wait(REST_PER_FRAME * (time.perf_counter() - started))

    def _draw(self) -> None:
        width, height = self._size()
        options = self._console.options.update_dimensions(width, height)
        view = TeachingView(self.board.picture(), layout=self.layout,
                            server_pane=self.server_pane)
        lines = self._console.render_lines(view, options)
        self.board.set_scroll_room(view.scroll_room)
        ansi = [_ansi(line) for line in lines]
        if ansi == self._last:
            return
        self._last = ansi
        if self.cast is not None:
            self.cast.frame(ansi, width, height)
        if self._live is not None:
            self._live.update(_Frame(lines), refresh=True)
