"""The interactive front end: a prompt_toolkit prompt that looks and behaves like zkCli's.

Watch notifications arrive on kazoo's thread at any moment.  They are written through
`patch_stdout`, which prints them above the prompt and redraws it with whatever the user had
typed, so an event never breaks the line being typed.
"""

from __future__ import annotations

import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from zkshell.cli import Invocation, StreamPrinter, _make_shell


def run_repl(inv: Invocation) -> int:
    printer = StreamPrinter()
    shell = _make_shell(inv, printer)
    prompt_session: PromptSession = PromptSession(history=InMemoryHistory())
    with patch_stdout(raw=True):
        printer.write("out", f"Connecting to {inv.server}\nWelcome to ZooKeeper!\n")
        shell.session.connect()
        if inv.wait_for_connection:
            shell.session.wait_connected(inv.timeout_ms / 1000.0)
        try:
            while not shell.quit_requested:
                try:
                    line = prompt_session.prompt(shell.prompt)
                except KeyboardInterrupt:
                    continue  # Ctrl+C clears the line, as in a shell
                except EOFError:
                    break
                printer.output(shell.execute(line))
        finally:
            if not shell.quit_requested:
                printer.enabled = False
                shell.session.close()
    sys.stdout.flush()
    return shell.exit_code
