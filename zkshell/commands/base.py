"""The command table: one entry per zkCli command, declared once with its usage, its flags
and its positional arguments (what kind each is, which are optional).

The declaration drives parsing (the argument count), `help` (zkCli's usage list), usage
errors, completion and highlighting.
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


class Kind:
    """What a positional argument is, for completion and highlighting."""

    PATH = "path"  # a znode path
    DATA = "data"  # a znode's data
    ACL = "acl"  # zkCli's `scheme:id:perms[,...]`
    CHOICE = "choice"  # one of `Arg.choices`
    HISTORY = "history"  # a command number in this session's history (`redo`)
    TEXT = "text"  # anything else: an auth scheme, a connect string


@dataclass(frozen=True)
class Arg:
    """One positional argument, named as the usage line names it."""

    name: str
    kind: str = Kind.TEXT
    optional: bool = False
    choices: tuple[str, ...] = ()


ONE_PATH = (Arg("path", Kind.PATH),)  # what most commands take


@dataclass(frozen=True)
class Command:
    name: str
    usage_args: str  # zkCli's text, byte for byte: tests check it against the declaration
    options: OptionSpec = field(default_factory=OptionSpec)
    handler: Handler | None = None
    # zkCli's own commands (history, redo, ...) run before the connection check.
    shell_level: bool = False
    args: tuple[Arg, ...] = ()
    # Words beyond `args` are a usage error: most zkCli commands ignore them, a few count
    # exactly (`args.length != n`).
    refuse_extra: bool = False

    @property
    def usage(self) -> str:
        return f"{self.name} {self.usage_args}"

    def arg(self, index: int) -> Arg | None:
        """The declared positional argument at `index` (0: the first after the name)."""
        return self.args[index] if 0 <= index < len(self.args) else None

    def check_count(self, args: list[str]) -> None:
        """zkCli's usage error for too few words (or too many, where it counts exactly);
        `args` are the parsed positionals with the command name first."""
        given = len(args) - 1
        required = sum(not arg.optional for arg in self.args)
        if given < required or (self.refuse_extra and given > len(self.args)):
            raise UsageError(self.usage)


COMMANDS: dict[str, Command] = {}


def command(name: str, usage_args: str, options: OptionSpec | None = None,
            args: tuple[Arg, ...] = (), refuse_extra: bool = False,
            shell_level: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler under `name` in the one command table, with what it takes."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage_args, options or OptionSpec(), handler,
                                 shell_level, args, refuse_extra)
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

    def parse(self, words: list[str], count: bool = True) -> Parsed:
        """Parse flags, then check the number of arguments left against the declaration
        (`count=False`: the handler checks later, with `self.command.check_count`)."""
        try:
            parsed = parse_options(self.command.options, words)
        except OptionError as exc:
            raise CliError(f"{exc}\n{self.command.usage}") from None
        if count:
            self.command.check_count(parsed.args)
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
