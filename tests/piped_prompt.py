"""The interactive shell's loop fed through a pipe: a connected session, its shell, and the
prompt one_iteration reads from, as the REPL builds them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import History
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from zkshell.config import Settings
from zkshell.repl import build_prompt_session
from zkshell.session import Session
from zkshell.shell import Shell
from zkshell.sinks.terminal import TerminalSink


class PipedPrompt(NamedTuple):
    shell: Shell
    printer: TerminalSink
    pipe: PipeInput  # what is sent here is typed at the prompt
    prompt: PromptSession


@contextmanager
def piped_prompt(address: str, history: History) -> Iterator[PipedPrompt]:
    """A shell connected to `address` (session closed on the way out) at a piped prompt."""
    session = Session(address, 4000)
    printer = TerminalSink(color=False)
    shell = Shell(session, printer.event)
    session.connect()
    try:
        assert session.wait_connected(10)
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            yield PipedPrompt(shell, printer, pipe,
                              build_prompt_session(shell, Settings(), history, None, False))
    finally:
        session.close()
