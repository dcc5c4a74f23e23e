"""The command table: one entry per zkCli command, declared once with its usage and flags.

The declaration drives parsing, `help` (zkCli's usage list), usage errors and completion.
Handlers get a `Context` and the command's words; they write zkCli's text to the context's
`Output` and raise `CliError` for failures.  No handler prints to a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from zkshell.errors import CliError, UsageError, zookeeper_error
from zkshell.options import OptionError, OptionSpec, Parsed, parse_options
from zkshell.output import Output
from zkshell.paths import InvalidPath, validate_path
from zkshell.session import RequestFailed, Session

TYPE_CHECKING = False  # not typing's: importing typing costs one-shot start-up time
if TYPE_CHECKING:
    from zkshell.shell import Shell

Handler = Callable[["Context", list[str]], None]


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
class Context:
    """What a handler may use: the session, the shell it runs in, and its output."""

    session: Session
    shell: Shell
    output: Output
    command: Command

    def out(self, text: str) -> None:
        self.output.out(text)

    def err(self, text: str) -> None:
        self.output.err(text)

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
