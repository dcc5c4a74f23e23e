"""`zksh`: zkCli's command line, and the one place where errors become exit statuses.

Modes, as zkCli has them: a command on the command line runs once (one-shot); standard input
that is not a terminal is read as a script; a terminal gets the interactive shell.  `zksh play`
is the scenario player.  Only what a mode needs is imported, so one-shot starts fast.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field

from zkshell import __version__
from zkshell.config import MAX_TIMEOUT_MS, ConfigError, Settings, load_settings
from zkshell.connect_string import InvalidConnectString, check_connect_string

USAGE = """\
usage: zksh [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]
            [-waitforconnection] [--no-color] [cmd args...]
       zksh play SCENARIO.yaml [options]     (see: zksh play --help)

  -server, --server   ZooKeeper to connect to (default localhost:2181, or $ZKSH_SERVER)
  -timeout, --timeout session timeout in milliseconds (default 30000, or $ZKSH_TIMEOUT)
  -r                  read-only mode: connect to a read-only server if need be
  -waitforconnection  wait for the connection before running anything
  --no-color          no colour in the interactive shell (also: $NO_COLOR)
  -h, --help          this help;  --version  zksh's version

With a command, zksh runs it and exits (status 0 on success).  With standard input that is
not a terminal, it runs each line as a command and prints what zkCli.sh prints.  Otherwise it
starts an interactive shell; `help` lists zkCli's commands.  Only the interactive shell uses
colour, history ($ZKSH_HISTORY, default ~/.local/share/zksh/history) and completion.

Settings: ~/.config/zksh/config.toml (or $XDG_CONFIG_HOME/zksh/config.toml, or $ZKSH_CONFIG):
  server = "localhost:2181"   timeout = 30000   color = true   toolbar = true
  history_file = "~/.local/share/zksh/history"   history_size = 1000
Options override the environment, which overrides the file.
"""


@dataclass
class Invocation:
    server: str = "localhost:2181"
    timeout_ms: int = 30000
    read_only: bool = False
    wait_for_connection: bool = False
    command: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)


class InvocationError(Exception):
    pass


_VALUE_OPTIONS = {"-server": "server", "--server": "server", "-timeout": "timeout",
                  "--timeout": "timeout", "-client-configuration": "client_configuration"}


def parse_invocation(argv: list[str], environ: dict[str, str]) -> Invocation:
    """zkCli's option rules: options first, the first word not starting with - is the command.

    The settings (config file, then environment) give the defaults the options override.
    """
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        raise InvocationError(f"zksh: {exc}") from None
    inv = Invocation(server=settings.server, timeout_ms=settings.timeout, settings=settings)
    args = iter(argv)
    for arg in args:
        if arg in _VALUE_OPTIONS:
            value = next(args, None)
            if value is None:
                raise InvocationError(f"Error: no argument found for option {arg}")
            key = _VALUE_OPTIONS[arg]
            if key == "server":
                inv.server = value
            elif key == "timeout":
                inv.timeout_ms = _timeout_ms(value)
        elif arg == "-r":
            inv.read_only = True
        elif arg == "-waitforconnection":
            inv.wait_for_connection = True
        elif arg in ("--no-color", "--no-colour"):
            inv.settings.color = False
        elif not arg.startswith("-"):
            inv.command = [arg, *args]
            break
    try:
        check_connect_string(inv.server)
    except InvalidConnectString as exc:
        raise InvocationError(f"zksh: {exc}") from None
    return inv


def _timeout_ms(value: str) -> int:
    """A session timeout the protocol can carry (a positive 32-bit int), as Java parses it."""
    try:
        timeout = int(value) if value.strip() == value else None
    except ValueError:
        timeout = None
    if timeout is None or not 0 < timeout <= MAX_TIMEOUT_MS:
        raise InvocationError(f"-timeout must be a positive number of milliseconds "
                              f"(at most {MAX_TIMEOUT_MS}): {value}")
    return timeout


class StreamPrinter:
    """Writes command output and asynchronous events to stdout/stderr, one block at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.enabled = True

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
                _discard_from_now_on(target)

    def event(self, text: str) -> None:
        if self.enabled:
            self.write("out", text)

    def output(self, output) -> None:
        for stream, text in output.chunks:
            self.write(stream, text)


def _discard_from_now_on(stream) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _make_shell(inv: Invocation, printer: StreamPrinter):
    from zkshell.session import Session
    from zkshell.shell import Shell

    session = Session(inv.server, inv.timeout_ms, inv.read_only)
    shell = Shell(session, printer.event)
    return shell


def _connect(shell, inv: Invocation) -> bool:
    shell.session.connect()
    if inv.wait_for_connection:
        return shell.session.wait_connected(inv.timeout_ms / 1000.0)
    return True


def run_one_shot(inv: Invocation) -> int:
    printer = StreamPrinter()
    printer.enabled = False  # no banner and no connection events: only the command's output
    shell = _make_shell(inv, printer)
    if not _connect(shell, inv):
        sys.stderr.write("KeeperErrorCode = ConnectionLoss\n")
        return 1
    try:
        output = shell.run_words(inv.command)
        printer.output(output)
        return output.exit_code
    finally:
        shell.session.close()


SETTLE_WAIT_S = 2.0


def run_script(inv: Invocation, stream) -> int:
    from zkshell import format as fmt

    printer = StreamPrinter()
    shell = _make_shell(inv, printer)
    printer.write("out", fmt.banner(inv.server, piped=True))
    if not _connect(shell, inv):
        sys.stderr.write("KeeperErrorCode = ConnectionLoss\n")
        return 1
    # zkCli's SyncConnected block lands anywhere among its first lines; here it comes before
    # the first command's output.  A dead server ends the wait at its first refusal; one that
    # does not answer at all is not waited for (a command waits for it, `quit` does not).
    shell.session.wait_settled(min(inv.timeout_ms / 1000.0, SETTLE_WAIT_S))
    try:
        for raw in stream:
            line = raw[:-1] if raw.endswith("\n") else raw
            if line.endswith("\r"):
                line = line[:-1]
            printer.output(shell.execute(line))
            if shell.quit_requested:
                break
    finally:
        if not shell.quit_requested:
            printer.enabled = False
            shell.session.close()
    return shell.exit_code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "play":
        from zkshell.player.cli import main as play_main
        return play_main(argv[1:])
    if argv and argv[0] == "server":
        from zkshell.embedded.cli import main as server_main
        return server_main(argv[1:])
    if argv and argv[0] in ("-h", "--help", "-help"):
        sys.stdout.write(USAGE)
        return 0
    if argv and argv[0] == "--version":
        sys.stdout.write(f"zksh {__version__}\n")
        return 0
    # Java decodes its arguments and replaces bytes that are not UTF-8 with U+FFFD, so
    # zkCli stores EF BF BD for them; Python hands them over as lone surrogates.
    argv = [arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for arg in argv]
    try:
        inv = parse_invocation(argv, dict(os.environ))
    except InvocationError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    _utf8_streams()
    try:
        if inv.command:
            return run_one_shot(inv)
        if not sys.stdin.isatty():
            return run_script(inv, sys.stdin)
        from zkshell.repl import run_repl
        return run_repl(inv)
    except KeyboardInterrupt:
        return 130


def _utf8_streams() -> None:
    """zkCli writes UTF-8 whatever the locale; a bad byte must never raise."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass
    try:
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    except (AttributeError, ValueError):
        pass
