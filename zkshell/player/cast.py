"""An asciicast v2 recording of the live view, with a marker at each step.

Frames come in as the ANSI text of each screen line; only the lines that changed since the
previous frame are written (cursor moved to the line, line rewritten), so typing one
character costs one short event instead of a whole screen.  Format:
https://docs.asciinema.org/manual/asciicast/v2/ — a JSON header line, then one JSON array
per event: `[seconds, "o", text]` for output, `[seconds, "m", label]` for a marker,
`[seconds, "r", "COLSxROWS"]` for a resize.
"""

from __future__ import annotations

import json
import threading
import time

from zkshell.player.model import Observer
from zkshell.player.scenario import Step

_START = "\x1b[?25l\x1b[H\x1b[2J"  # hide the cursor, clear the screen


class CastRecorder(Observer):
    def __init__(self, width: int, height: int, title: str = "",
                 idle_time_limit: float | None = None) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.idle_time_limit = idle_time_limit
        self.timestamp = int(time.time())
        self.events: list[tuple[float, str, str]] = []
        self._started = time.monotonic()
        self._lines: list[str] = []
        self._size = (width, height)
        self._lock = threading.Lock()

    def _add(self, code: str, data: str) -> None:
        # Under the lock, so times are non-decreasing even when frames and markers race.
        self.events.append((round(time.monotonic() - self._started, 6), code, data))

    def frame(self, lines: list[str], width: int, height: int) -> None:
        """The screen now shows `lines` (ANSI text, one per row, from the top)."""
        with self._lock:
            out = []
            if not self.events or (width, height) != self._size:
                if self.events:
                    self._add("r", f"{width}x{height}")
                self._size = (width, height)
                self._lines = []
                out.append(_START)
            for row, line in enumerate(lines):
                if row >= len(self._lines) or self._lines[row] != line:
                    out.append(f"\x1b[{row + 1};1H{line}\x1b[0m")
            self._lines = list(lines)
            if out:
                self._add("o", "".join(out))

    def step_started(self, player, index: int, step: Step) -> None:
        with self._lock:
            self._add("m", step.summary())

    def text(self) -> str:
        """The whole recording, as an asciicast v2 file's text."""
        header: dict[str, object] = {"version": 2, "width": self.width, "height": self.height,
                                     "timestamp": self.timestamp, "title": self.title,
                                     "env": {"TERM": "xterm-256color"}}
        if self.idle_time_limit is not None:
            header["idle_time_limit"] = self.idle_time_limit
        with self._lock:
            events = list(self.events)
        lines = [json.dumps(header, ensure_ascii=False)]
        lines += [json.dumps([at, code, data], ensure_ascii=False) for at, code, data in events]
        return "\n".join(lines) + "\n"

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as cast_file:
            cast_file.write(self.text())
