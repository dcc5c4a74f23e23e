"""Sinks: where a shell's output and watch events go, one kind per front end.

Every sink follows `Sink`: `output(output)` for what a command printed (`chunks` for a part
of it, while the command runs), `event(event)` for
a `SessionEvent` from kazoo's thread, `write(stream, text)` for anything else zkCli prints
(the banner).  Sinks receive values, not text: the kind of each chunk and the event itself
decide how it is shown, and `zkshell.format` still makes all of zkCli's text.

    plain.PlainSink       one-shot and script modes: zkCli's text on stdout and stderr
    terminal.TerminalSink the interactive shell on a terminal: above the prompt, in colour
    pipe.PipeSink         the interactive shell with stdout piped: plain text, in order

The two interactive ones also offer `above_the_prompt(app)`, the context in which the
prompt is up.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs one-shot start-up time
if TYPE_CHECKING:
    from zkshell.output import Chunk, Output
    from zkshell.session import SessionEvent


class Sink:
    """The protocol; `show_events` off keeps events out (one-shot mode, a shell closing)."""

    show_events: bool = True

    def write(self, stream: str, text: str) -> None:
        raise NotImplementedError

    def output(self, output: Output) -> None:
        raise NotImplementedError

    def chunks(self, chunks: list[Chunk]) -> None:
        """Part of a command's output, shown while the command still runs (Output.live)."""
        from zkshell.output import Output

        self.output(Output(chunks))

    def event(self, event: SessionEvent) -> None:
        raise NotImplementedError
