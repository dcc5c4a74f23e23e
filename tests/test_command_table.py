"""The command table's declarations: they agree with zkCli's usage lines, and parsing counts
arguments from them."""

from __future__ import annotations

import re

import pytest

from zkshell.commands import COMMANDS, Command, Context, ShellState
from zkshell.commands.base import Arg, Kind
from zkshell.errors import CliError, UsageError
from zkshell.options import Flag, OptionSpec
from zkshell.output import Output

# zkCli's usage line for ls leaves out `-?`, which prints ls's own help.
UNLISTED_FLAGS = {("ls", "?")}
# Optional in zkCli's code though its usage line shows no brackets.
UNBRACKETED_OPTIONAL = {("addauth", "auth"), ("connect", "host:port"),
                        ("getEphemerals", "path"), ("printwatches", "on|off"),
                        ("redo", "cmdno")}


def _no_rerun(words: list[str], output: Output) -> None:
    raise AssertionError("parsing never runs a command")


def _flag_pattern(flag) -> str:
    """`-v version`, also inside a group (`-n|-b|-N|-B val`); the value runs to a blank
    (reconfig's `-members serverID=host:port1:...`)."""
    value = rf"(?:\|-\w+)* {re.escape(flag.value_name)}(?!\w)\S*" if flag.value_name else ""
    return rf"(?<![\w-])-{re.escape(flag.name)}(?!\w){value}"


def _positionals(command: Command) -> list[str]:
    """The usage line's words that no flag claims, brackets kept: the positional arguments."""
    line = command.usage_args.split(" # ")[0]  # addWatch's line ends in a comment
    rest = line
    for flag in command.options.flags:
        if (command.name, flag.name) not in UNLISTED_FLAGS:
            found = re.search(_flag_pattern(flag), line)
            assert found, f"{command.name}: -{flag.name} as declared is not in its usage"
            rest = re.sub(_flag_pattern(flag), " ", rest)
    assert not re.search(r"(?<![\w-])-\w", rest), f"{command.name}: an undeclared flag"
    return [word for word in rest.split() if word.strip("[]*") not in ("", "|")]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_declaration_says_what_its_usage_line_says(name):
    """The same flags with the same value names (in any order: the declaration's is the
    order completion offers them), and the same positional arguments in the same order."""
    command = COMMANDS[name]
    words = _positionals(command)
    assert [word.strip("[]") for word in words] == [arg.name for arg in command.args]
    for word, arg in zip(words, command.args):
        bracketed = word.startswith("[")
        assert arg.optional == (bracketed or (name, arg.name) in UNBRACKETED_OPTIONAL), arg
        assert (arg.kind == Kind.PATH) == (arg.name == "path"), arg
        assert (arg.kind == Kind.CHOICE) == bool(arg.choices), arg
        if arg.choices:
            assert arg.name == "|".join(arg.choices)
    for flag in command.options.flags:
        assert flag.takes_value == bool(flag.value_name), flag


def test_the_unbracketed_optional_arguments_are_declared_so():
    declared = {(name, arg.name) for name, command in COMMANDS.items()
                for arg in command.args if arg.optional}
    assert UNBRACKETED_OPTIONAL <= declared


def test_a_flag_missing_from_the_usage_line_is_caught():
    drifted = Command("get", "[-s] path", OptionSpec((Flag("s"), Flag("w"))),
                      args=(Arg("path", Kind.PATH),))
    with pytest.raises(AssertionError, match="-w as declared"):
        _positionals(drifted)


# ---- counting arguments ----------------------------------------------------------------------
def parse(line: str, count: bool = True):
    words = line.split()
    # Parsing needs no session and no shell.
    context = Context(None, ShellState(), Output(), COMMANDS[words[0]], rerun=_no_rerun)
    return context.parse(words, count)


@pytest.mark.parametrize("line", [
    "get", "get -s", "set /a", "setAcl -R /a", "create -e", "addWatch", "addWatch /a /b",
    "version x", "addauth", "removewatches -l",
])
def test_too_few_or_too_many_arguments_are_the_usage_line(line):
    with pytest.raises(UsageError) as raised:
        parse(line)
    assert str(raised.value) == COMMANDS[line.split()[0]].usage


@pytest.mark.parametrize("line, args", [
    ("get /a", ["/a"]),
    ("create /a", ["/a"]),
    ("create /a d world:anyone:r extra", ["/a", "d", "world:anyone:r", "extra"]),  # ignored
    ("addWatch -m x /a", ["/a"]),
    ("version", []),
    ("addauth digest", ["digest"]),
    ("getEphemerals", []),
    ("delete /a 3", ["/a", "3"]),  # deprecated: the handler warns, then ignores the 3
    ("ls /a watch", ["/a", "watch"]),  # deprecated: `ls -w /a`
])
def test_optional_and_extra_arguments_are_as_in_zkcli(line, args):
    assert parse(line).args == [line.split()[0], *args]


def test_ls_can_count_after_printing_its_help():
    parsed = parse("ls -?", count=False)
    assert parsed.has("?") and parsed.args == ["ls"]
    with pytest.raises(UsageError):
        COMMANDS["ls"].check_count(parsed.args)


def test_an_option_error_comes_before_the_count():
    with pytest.raises(CliError) as raised:
        parse("addWatch -x")
    assert not isinstance(raised.value, UsageError)
    assert str(raised.value).startswith("Unrecognized option: -x\naddWatch ")
