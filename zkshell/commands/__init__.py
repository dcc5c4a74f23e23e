"""zkCli's commands: importing this package fills the one command table, `COMMANDS`."""

from zkshell.commands import acl, admin, builtins, nodes, quota, watches  # noqa: F401  (registration)
from zkshell.commands.base import COMMANDS, Command, Context, ShellState, help_text

__all__ = ["COMMANDS", "Command", "Context", "ShellState", "help_text"]
