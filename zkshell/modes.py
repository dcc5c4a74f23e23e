"""The shell's modes after the command line is read: one-shot, script, and building a shell.

`make_shell` is the one place a shell is put together from the options; the interactive
shell (repl.py) uses it too, and falls back on `run_script` when it has no terminal.  Only
what a mode needs is imported, so one-shot starts fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from zkshell.config import DEFAULT_SERVER, DEFAULT_TIMEOUT_MS, Settings
from zkshell.errors import CONNECTION_LOSS, keeper_message
from zkshell.exit_status import ExitStatus

TYPE_CHECKING = False  # not typing's: importing typing costs one-shot start-up time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from zkshell.client_config import ClientConfig
    from zkshell.shell import Shell
    from zkshell.sinks import Sink

# zkCli's words when no connection came in time (-waitforconnection, or a dead server).
NO_CONNECTION = keeper_message(CONNECTION_LOSS, None)
SETTLE_WAIT_S = 2.0


@dataclass
class ShellOptions:
    """What the command line (over the settings) asks of the shell."""

    server: str = DEFAULT_SERVER
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    read_only: bool = False
    wait_for_connection: bool = False
    command: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)
    client_config: ClientConfig | None = None  # -client-configuration: TLS for kazoo


def make_shell(options: ShellOptions, sink: Sink) -> Shell:
    """A shell on a new, not yet connected session, its events going to `sink`."""
    from zkshell.session import Session
    from zkshell.shell import Shell

    session = Session(options.server, options.timeout_ms, options.read_only,
                      client_options=(options.client_config.kazoo_options()
                                      if options.client_config is not None else None))
    return Shell(session, sink.event)


def connect(shell: Shell, options: ShellOptions) -> bool:
    """Start connecting; with -waitforconnection, False when no connection came in time."""
    shell.session.connect()
    if options.wait_for_connection:
        return shell.session.wait_connected(options.timeout_ms / 1000.0)
    return True


def run_one_shot(options: ShellOptions) -> int:
    from zkshell.sinks.plain import PlainSink

    sink = PlainSink()
    sink.show_events = False  # no banner and no connection events: only the command's output
    shell = make_shell(options, sink)
    if not connect(shell, options):
        sys.stderr.write(NO_CONNECTION + "\n")
        return ExitStatus.ERROR
    try:
        output = shell.run_words(options.command, live=sink.chunks)
        sink.output(output)
        return output.exit_code
    finally:
        shell.session.close()


def stdin_lines() -> Iterator[str]:
    """Standard input's lines, decoded as zkCli's Java reader decodes them (java_utf8.py).

    Line by line: a newline is never part of a malformed sequence, so each line decodes as
    it would within the whole input.  A closed stdin is an empty script."""
    from zkshell import java_utf8

    if sys.stdin is None:
        return
    for raw in sys.stdin.buffer:
        yield java_utf8.decode(raw)


def run_script(options: ShellOptions, lines: Iterable[str]) -> int:
    """Each line run as a command, printing what zkCli.sh prints when its input is piped."""
    from zkshell import format as fmt
    from zkshell.sinks.plain import PlainSink

    sink = PlainSink()
    shell = make_shell(options, sink)
    sink.write("out", fmt.banner(options.server, piped=True))
    if not connect(shell, options):
        sys.stderr.write(NO_CONNECTION + "\n")
        return ExitStatus.ERROR
    # zkCli's SyncConnected block lands anywhere among its first lines; here it comes before
    # the first command's output.  A dead server ends the wait at its first refusal; one that
    # does not answer at all is not waited for (a command waits for it, `quit` does not).
    shell.session.wait_settled(min(options.timeout_ms / 1000.0, SETTLE_WAIT_S))
    state = shell.state
    try:
        for raw in lines:
            line = raw[:-1] if raw.endswith("\n") else raw
            if line.endswith("\r"):
                line = line[:-1]
            sink.output(shell.execute(line, live=sink.chunks))
            if state.quit_requested:
                break
    finally:
        if not state.quit_requested:
            sink.show_events = False
            shell.session.close()
    return shell.exit_code
