"""`zksh`: reads zkCli's command line, picks the mode, and gives the exit status.

Modes, as zkCli has them: a command on the command line runs once (one-shot); standard input
that is not a terminal is read as a script (both in modes.py); a terminal gets the
interactive shell (repl.py).  `zksh play` is the scenario player.  Only what a mode needs is
imported, so one-shot starts fast.
"""

from __future__ import annotations

import os
import sys

from zkshell import __version__, java_utf8
from zkshell.config import MAX_TIMEOUT_MS, ConfigError, load_settings
from zkshell.connect_string import InvalidConnectString, check_connect_string
from zkshell.exit_status import ExitStatus
from zkshell.modes import ShellOptions, run_one_shot, run_script, stdin_lines

TYPE_CHECKING = False  # not typing's: importing typing costs one-shot start-up time
if TYPE_CHECKING:
    from zkshell.client_config import ClientConfig

USAGE = """\
usage: zksh [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]
            [-waitforconnection] [-client-configuration FILE] [--no-color] [cmd args...]
       zksh play SCENARIO.yaml [options]     (see: zksh play --help)
       zksh server [--port 2181] [options]   (see: zksh server --help)

  zksh play plays a scenario against zksh's own server, in this process (--zookeeper: a
  local Apache ZooKeeper).  zksh server runs that server on its own: ZooKeeper 3.8's
  protocol, a single node, in memory, for demos and tests (quorum, TLS, SASL: use ZooKeeper).

  -server, --server   ZooKeeper to connect to (default localhost:2181, or $ZKSH_SERVER)
  -timeout, --timeout session timeout in milliseconds (default 30000, or $ZKSH_TIMEOUT)
  -r                  read-only mode: connect to a read-only server if need be
  -waitforconnection  wait for the connection before running anything
  -client-configuration FILE  zkCli's client properties: TLS, SASL (docs/shell.md); the
                      -D flags in $CLIENT_JVMFLAGS and $JVMFLAGS are read too, as zkCli.sh's
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


class CommandLineError(Exception):
    """Options or settings that cannot be used; the message says which."""


_VALUE_OPTIONS = {"-server": "server", "--server": "server", "-timeout": "timeout",
                  "--timeout": "timeout", "-client-configuration": "client_configuration"}


def parse_command_line(argv: list[str], environ: dict[str, str]) -> ShellOptions:
    """zkCli's option rules: options first, the first word not starting with - is the command.

    The settings (config file, then environment) give the defaults the options override.
    """
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        raise CommandLineError(f"zksh: {exc}") from None
    options = ShellOptions(server=settings.server, timeout_ms=settings.timeout,
                           settings=settings)
    args = iter(argv)
    for arg in args:
        if arg in _VALUE_OPTIONS:
            value = next(args, None)
            if value is None:
                raise CommandLineError(f"Error: no argument found for option {arg}")
            key = _VALUE_OPTIONS[arg]
            if key == "server":
                options.server = value
            elif key == "timeout":
                options.timeout_ms = _timeout_ms(value)
            else:
                options.client_config = _client_config(value, environ)
        elif arg == "-r":
            options.read_only = True
        elif arg == "-waitforconnection":
            options.wait_for_connection = True
        elif arg in ("--no-color", "--no-colour"):
            options.settings.color = False
        elif not arg.startswith("-"):
            options.command = [arg, *args]
            break
    if options.client_config is None and _has_jvm_flags(environ):
        options.client_config = _client_config(None, environ)
    try:
        check_connect_string(options.server)
    except InvalidConnectString as exc:
        raise CommandLineError(f"zksh: {exc}") from None
    return options


def _has_jvm_flags(environ: dict[str, str]) -> bool:
    """zkCli.sh's JVM flags may set the client's system properties (jvm_flags.py)."""
    return any("-D" in environ.get(name, "") for name in ("CLIENT_JVMFLAGS", "JVMFLAGS"))


def _client_config(path: str | None, environ: dict[str, str]) -> ClientConfig | None:
    """-client-configuration's file over the JVM flags' system properties (path None: the
    flags alone), as ZKClientConfig reads them."""
    from zkshell.client_config import (  # ssl: not cheap
        ClientConfigError,
        config_from_flags,
        load_client_config,
    )

    try:
        if path is None:
            return config_from_flags(environ)
        return load_client_config(path, environ)
    except ClientConfigError as exc:
        raise CommandLineError(f"zksh: {exc}") from None


def _timeout_ms(value: str) -> int:
    """A session timeout the protocol can carry (a positive 32-bit int), as Java parses it."""
    try:
        timeout = int(value) if value.strip() == value else None
    except ValueError:
        timeout = None
    if timeout is None or not 0 < timeout <= MAX_TIMEOUT_MS:
        raise CommandLineError(f"-timeout must be a positive number of milliseconds "
                               f"(at most {MAX_TIMEOUT_MS}): {value}")
    return timeout


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
        return ExitStatus.OK
    if argv and argv[0] == "--version":
        sys.stdout.write(f"zksh {__version__}\n")
        return ExitStatus.OK
    # Java decodes its arguments and replaces bytes that are not UTF-8 with U+FFFD, so
    # zkCli stores EF BF BD for them (as many as Java's decoder makes); Python hands them
    # over as lone surrogates.
    argv = [java_utf8.decode(arg.encode("utf-8", "surrogateescape")) for arg in argv]
    try:
        options = parse_command_line(argv, dict(os.environ))
    except CommandLineError as exc:
        sys.stderr.write(f"{exc}\n")
        return ExitStatus.UNUSABLE
    _utf8_streams()
    try:
        if options.command:
            return run_one_shot(options)
        if sys.stdin is None or not sys.stdin.isatty():
            return run_script(options, stdin_lines())
        from zkshell.repl import run_repl
        return run_repl(options)
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED


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
