"""What one command printed: an ordered list of chunks, and its exit status.

Commands write here instead of to a terminal, so the REPL, the one-shot and script modes,
the scenario player and the tests all receive the same value.  Each chunk says which stream
it goes to, the text zkCli prints, and what it is (a stat block, the usage list, an error),
so a sink can show it as such (in colour, say) without reading the text back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

STDOUT = "out"
STDERR = "err"

# What a chunk is.
TEXT = "text"      # anything zkCli prints that is none of the below
STAT = "stat"      # a stat block; the chunk's `value` is the stat itself
USAGE = "usage"    # zkCli's usage list (help, an unknown command): not an error
ERROR = "error"    # something went wrong


@dataclass(frozen=True)
class Chunk:
    stream: str
    text: str
    kind: str = TEXT
    value: object = None  # what the text was made from, for a sink that shows it its own way


# How long streamed output may wait to be shown together with what follows it.
_LIVE_DELAY_S = 0.05
_LIVE_BATCH = 512


@dataclass
class Output:
    chunks: list[Chunk] = field(default_factory=list)
    exit_code: int = 0
    # When set, chunks are handed to it as they come (a long walk's lines show while it
    # runs, in bounded memory) instead of kept: a few together, never held back long.
    live: Callable[[list[Chunk]], None] | None = field(default=None, repr=False,
                                                      compare=False)
    _held_since: float = field(default=0.0, repr=False, compare=False)
    _shown_any: bool = field(default=False, repr=False, compare=False)

    def out(self, text: str, kind: str = TEXT, value: object = None) -> None:
        self._add(Chunk(STDOUT, text, kind, value))

    def err(self, text: str, kind: str = ERROR) -> None:
        # zkCli writes a few things to stderr that are no failure (`Created /x`, warnings);
        # they are shown as it always showed them: as stderr, i.e. as errors.
        self._add(Chunk(STDERR, text, kind))

    def _add(self, chunk: Chunk) -> None:
        chunks = self.chunks
        chunks.append(chunk)
        if self.live is None:
            return
        now = time.monotonic()
        if len(chunks) == 1:
            self._held_since = now
        if len(chunks) >= _LIVE_BATCH or now - self._held_since >= _LIVE_DELAY_S \
                or len(chunks) == 1 and not self._shown_any:
            self.flush()

    def flush(self) -> None:
        """Hand what is held to `live` now (nothing without it)."""
        if self.live is None or not self.chunks:
            return
        chunks, self.chunks = self.chunks, []
        self._shown_any = True
        self.live(chunks)

    def drop_held(self) -> None:
        """Forget what is held and not shown yet: a stopped command's last lines go
        unprinted, as a stop means."""
        self.chunks.clear()

    def text(self, stream: str | None = None) -> str:
        """Everything printed (or only one stream), in order; with `live`, only what is
        still held."""
        return "".join(c.text for c in self.chunks if stream is None or c.stream == stream)

    def extend(self, other: Output) -> None:
        for chunk in other.chunks:
            self._add(chunk)
