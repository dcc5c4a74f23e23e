"""What one command printed: an ordered list of chunks, and its exit status.

Commands write here instead of to a terminal, so the REPL, the one-shot and script modes,
the scenario player and the tests all receive the same value.  Each chunk says which stream
it goes to, the text zkCli prints, and what it is (a stat block, the usage list, an error),
so a sink can show it as such (in colour, say) without reading the text back.
"""

from __future__ import annotations

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


@dataclass
class Output:
    chunks: list[Chunk] = field(default_factory=list)
    exit_code: int = 0

    def out(self, text: str, kind: str = TEXT, value: object = None) -> None:
        self.chunks.append(Chunk(STDOUT, text, kind, value))

    def err(self, text: str, kind: str = ERROR) -> None:
        # zkCli writes a few things to stderr that are no failure (`Created /x`, warnings);
        # they are shown as it always showed them: as stderr, i.e. as errors.
        self.chunks.append(Chunk(STDERR, text, kind))

    def text(self, stream: str | None = None) -> str:
        """Everything printed (or only one stream), in order."""
        return "".join(c.text for c in self.chunks if stream is None or c.stream == stream)

    def extend(self, other: Output) -> None:
        self.chunks.extend(other.chunks)
