"""The plain sink: zkCli's text on stdout and stderr, one block at a time."""

from __future__ import annotations

import os
import sys
import threading

from zkshell import format as fmt
from zkshell.sinks import Sink

TYPE_CHECKING = False
if TYPE_CHECKING:
    from zkshell.output import Chunk, Output
    from zkshell.session import SessionEvent


class PlainSink(Sink):
    """Writes each block whole, under a lock: events come from kazoo's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.show_events = True

    def write(self, stream: str, text: str) -> None:
        target = sys.stdout if stream == "out" else sys.stderr
        with self._lock:
            try:
                target.write(text)
                target.flush()
            except OSError:
                # `| head` closed the pipe, or the disk is full: Java's PrintStream drops
                # the text and zkCli carries on, and so do we, without a traceback now or
                # when Python flushes the stream at exit.
                discard_from_now_on(target)

    def output(self, output: Output) -> None:
        # One write per run of chunks to the same stream: a walk's thousands of lines would
        # otherwise cost a flush each.
        stream, texts = None, []
        for chunk in output.chunks:
            if chunk.stream != stream and texts:
                self.write(stream, "".join(texts))
                texts = []
            stream = chunk.stream
            texts.append(self.render(chunk))
        if texts:
            self.write(stream, "".join(texts))

    def event(self, event: SessionEvent) -> None:
        if self.show_events:
            self.write("out", self.render_event(event))

    def render(self, chunk: Chunk) -> str:
        return chunk.text

    def render_event(self, event: SessionEvent) -> str:
        return fmt.watcher_block(event.state, event.type, event.path)


def discard_from_now_on(stream) -> None:
    """Send what is still written to `stream` to /dev/null, so that neither the next write
    nor Python's flush at exit raises again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
