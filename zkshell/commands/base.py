"""The command table: one entry per zkCli command, declared once with its usage and flags.

The declaration drives parsing, `help` (zkCli's usage list), usage errors and completion.
Handlers get a `Context` and the command's words; they write zkCli's text to the context's
`Output` and raise `CliError` for failures.  No handler prints to a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from zkshell import format as fmt
from zkshell.errors import CliError, UsageError, zookeeper_error
from zkshell.options import OptionError, OptionSpec, Parsed, parse_options
from zkshell.output import STAT, Output
from zkshell.paths import InvalidPath, validate_path
from zkshell.session import RequestFailed, Session

Handler = Callable[["Context", list[str]], None]
# Runs already-split words as a new command into an output (zkCli's `redo` does).
Rerun = Callable[[list[str], Output], None]


@dataclass(frozen=True)
class Command:
    name: str
    usage_args: str
    options: OptionSpec = field(default_factory=OptionSpec)
    handler: Handler | None = None
    # zkCli's own commands (history, redo, ...) run before the connection check.
    shell_level: bool = False

    @property
    def usage(self) -> str:
        return f"{self.name} {self.usage_args}"


COMMANDS: dict[str, Command] = {}


def command(name: str, usage_args: str, options: OptionSpec | None = None,
            shell_level: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler under `name` in the one command table."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage_args, options or OptionSpec(), handler,
                                 shell_level)
        return handler

    return register


def help_text() -> str:
    """zkCli's usage list, as printed for `help` and unknown commands."""
    lines = ["ZooKeeper -server host:port -client-configuration properties-file cmd args\n"]
    lines += [f"\t{COMMANDS[name].usage}\n" for name in sorted(COMMANDS)]
    return "".join(lines)


@dataclass
class ShellState:
    """What zkCli keeps between commands and its own commands read or change: the history,
    the number in the prompt, printwatches, and whether `quit` was asked for."""

    history: dict[int, str] = field(default_factory=dict)
    command_count: int = 0
    print_watches: bool = True
    quit_requested: bool = False


@dataclass
class Context:
    """What a handler may use: the session, the shell's state, its output, and `rerun`."""

    session: Session
    state: ShellState
    output: Output
    command: Command
    rerun: Rerun

    def out(self, text: str) -> None:
        self.output.out(text)

    def err(self, text: str) -> None:
        self.output.err(text)

    def stat(self, stat: object) -> None:
        """zkCli's stat block of `stat`, kept as a stat block for the sinks."""
        self.output.out(fmt.stat_block(stat), STAT, stat)

    def parse(self, words: list[str], min_args: int = 0) -> Parsed:
        """Parse flags; fewer than `min_args` words left is a usage error (zkCli's check)."""
        try:
            parsed = parse_options(self.command.options, words)
        except OptionError as exc:
            raise CliError(f"{exc}\n{self.command.usage}") from None
        if len(parsed.args) < min_args:
            raise UsageError(self.command.usage)
        return parsed

    def usage_error(self) -> UsageError:
        return UsageError(self.command.usage)

    def int_option(self, parsed: Parsed, flag: str, default: int) -> int:
        """An int flag value; zkCli crashes on a bad one, we say what is wrong."""
        value = parsed.value(flag)
        if value is None:
            return default
        try:
            return java_int(value)
        except ValueError:
            raise CliError(f"-{flag} argument must be an int value") from None

    def call(self, request: object, path: str | None, submit: Callable | None = None) -> object:
        """Send a request; a ZooKeeper error becomes zkCli's message about `path`."""
        try:
            return self.session.call(request, submit)
        except RequestFailed as failed:
            raise zookeeper_error(failed.code, path) from None

    def server_path(self, path: str, sequential: bool = False) -> str:
        """Validate a user's path as ZooKeeper's client does, then apply the chroot."""
        try:
            validate_path(path, sequential)
        except InvalidPath as exc:
            raise CliError(str(exc)) from None
        return self.session.server_path(path)


def java_int(text: str) -> int:
    """Integer.parseInt: decimal only, an optional sign, 32-bit range."""
    stripped = text[1:] if text[:1] in "+-" else text
    if not stripped.isdigit() or not stripped.isascii():
        raise ValueError(text)
    value = int(text)
    if not -2**31 <= value < 2**31:
        raise ValueError(text)
    return value


def java_long(text: str) -> int:
    stripped = text[1:] if text[:1] in "+-" else text
    if not stripped.isdigit() or not stripped.isascii():
        raise ValueError(text)
    value = int(text)
    if not -2**63 <= value < 2**63:
        raise ValueError(text)
    return value
