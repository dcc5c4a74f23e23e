"""zkCli's own commands, which live in ZooKeeperMain rather than in its command classes.

They run before the shell's connection check (so `history` works on a closed session and
then says `Not connected`, exactly as zkCli does).
"""

from __future__ import annotations

from zkshell.commands.base import Arg, Context, Kind, command
from zkshell.connect_string import InvalidConnectString
from zkshell.errors import CliError
from zkshell.tokenizer import split_line


@command("quit", "", shell_level=True)
def _quit(ctx: Context, words: list[str]) -> None:
    ctx.state.quit_requested = True
    ctx.session.close()


@command("history", "", shell_level=True)
def _history(ctx: Context, words: list[str]) -> None:
    state = ctx.state
    for i in range(max(state.command_count - 10, 0), state.command_count + 1):
        ctx.out(f"{i} - {state.history.get(i, 'null')}\n")  # one-shot keeps no history


@command("printwatches", "on|off",
         args=(Arg("on|off", Kind.CHOICE, optional=True, choices=("on", "off")),),
         shell_level=True)
def _printwatches(ctx: Context, words: list[str]) -> None:
    if len(words) == 1:
        ctx.out(f"printwatches is {'on' if ctx.state.print_watches else 'off'}\n")
    else:
        ctx.state.print_watches = words[1] == "on"


@command("connect", "host:port", args=(Arg("host:port", Kind.TEXT, optional=True),),
         shell_level=True)
def _connect(ctx: Context, words: list[str]) -> None:
    try:
        ctx.session.connect(words[1] if len(words) >= 2 else None)
    except InvalidConnectString as exc:
        raise CliError(str(exc)) from None


@command("redo", "cmdno", args=(Arg("cmdno", Kind.HISTORY, optional=True),), shell_level=True)
def _redo(ctx: Context, words: list[str]) -> None:
    if len(words) < 2:
        return
    state = ctx.state
    try:
        index = java_decode(words[1])
    except ValueError:
        raise CliError(f"Command index must be a number: {words[1]}") from None
    if state.command_count <= index or index < 0:
        raise CliError("Command index out of range")
    line = state.history.get(index, "")
    again = split_line(line)
    if again and again[0] == "redo":
        raise CliError("No redoing redos")
    state.history[state.command_count] = line
    ctx.rerun(again, ctx.output)


def java_decode(text: str) -> int:
    """Integer.decode: decimal, 0x/0X/# hex, leading-0 octal, with an optional sign."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    if body.lower().startswith("0x"):
        value = int(body[2:], 16)
    elif body.startswith("#"):
        value = int(body[1:], 16)
    elif body.startswith("0") and len(body) > 1:
        value = int(body[1:], 8)
    else:
        if not body.isdigit():
            raise ValueError(text)
        value = int(body)
    value *= sign
    if not -2**31 <= value < 2**31:
        raise ValueError(text)
    return value
