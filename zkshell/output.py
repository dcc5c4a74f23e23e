"""What one command printed: an ordered list of (stream, text), and its exit status.

Commands write here instead of to a terminal, so the REPL, the one-shot and script modes,
the scenario player and the tests all receive the same value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STDOUT = "out"
STDERR = "err"


@dataclass
class Output:
    chunks: list[tuple[str, str]] = field(default_factory=list)
    exit_code: int = 0

    def out(self, text: str) -> None:
        self.chunks.append((STDOUT, text))

    def err(self, text: str) -> None:
        self.chunks.append((STDERR, text))

    def text(self, stream: str | None = None) -> str:
        """Everything printed (or only one stream), in order."""
        return "".join(t for s, t in self.chunks if stream is None or s == stream)

    def extend(self, other: Output) -> None:
        self.chunks.extend(other.chunks)
