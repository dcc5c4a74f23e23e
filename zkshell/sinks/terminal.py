"""The interactive shell's sink on a terminal: above the prompt, in colour when wanted.

Every write of the interactive shell (command output, watch events, the banner) goes
through `TerminalSink.write`: while the prompt is up, through `patch_stdout(raw=True)`, so it
lands above the prompt with its escapes intact; otherwise straight to the terminal, so a
command's output is there before the next prompt.  Colour is used only when neither
`$NO_COLOR` nor `--no-color` (nor `color = false`) says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from zkshell.output import Chunk
from zkshell.session import SessionEvent
from zkshell.sinks.color import paint_chunk, paint_event
from zkshell.sinks.plain import PlainSink

if TYPE_CHECKING:
    from prompt_toolkit.application import Application


class TerminalSink(PlainSink):
    def __init__(self, color: bool) -> None:
        super().__init__()
        self.color = color

    def render(self, chunk: Chunk) -> str:
        return paint_chunk(chunk) if self.color else chunk.text

    def render_event(self, event: SessionEvent) -> str:
        return paint_event(event) if self.color else super().render_event(event)

    @contextmanager
    def above_the_prompt(self, app: Application | None = None) -> Iterator[None]:
        """While the prompt is up, print above it.  The swap of sys.stdout happens under
        the sink's lock, so no block is written half here and half there, or lost."""
        from prompt_toolkit.patch_stdout import patch_stdout

        stack = ExitStack()
        with self._lock:
            stack.enter_context(patch_stdout(raw=True))
        try:
            yield
        finally:
            with self._lock:
                stack.close()  # flushes what is pending, in order, then restores stdout
