"""What kind of thing goes where on a command line: the part of completion and highlighting
that needs no server and no terminal (pgcli's `suggest_type` idea).

`words(line)` splits a line as zkCli's tokenizer does, keeping where each word is;
`classify(line)` says what each word is (a command, a flag, a flag's value, a path, data);
`suggest(text_before_cursor)` says what may be typed at the cursor, as small named tuples.
Everything is read from the one command table: each command's flags and arguments.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from zkshell.commands import COMMANDS
from zkshell.commands.base import Arg, Command, Kind
from zkshell.options import Flag
from zkshell.tokenizer import JAVA_SPACE, spans


class Word(NamedTuple):
    start: int
    end: int
    text: str

    @property
    def quoted(self) -> bool:
        return self.text[:1] in ("'", '"')


class Classified(NamedTuple):
    word: Word
    kind: str  # command, unknown-command, flag, unknown-flag, value, path, argument


# ---- suggestions: what may be typed at the cursor ------------------------------------------
class CommandName(NamedTuple):
    prefix: str


class FlagName(NamedTuple):
    command: Command
    prefix: str
    given: frozenset[str]


class FlagValue(NamedTuple):
    choices: tuple[str, ...]
    prefix: str


class ZnodePath(NamedTuple):
    prefix: str


class Choice(NamedTuple):
    choices: tuple[str, ...]
    prefix: str


class HistoryNumber(NamedTuple):
    prefix: str


Suggestion = Union[CommandName, FlagName, FlagValue, ZnodePath, Choice, HistoryNumber]


def words(line: str) -> list[Word]:
    """The words of a line being typed, as zkCli's tokenizer finds them."""
    # zkCli's one word for a line of blanks is no word to complete or highlight.
    return [Word(*span) for span in spans(line, typing=True) if span[2].strip(JAVA_SPACE)]


def takes_path(command: Command) -> bool:
    """Whether the command's first argument is a znode path."""
    first = command.arg(0)
    return first is not None and first.kind == Kind.PATH


class _Walker:
    """Reads one command's words left to right, as the option parser would see them."""

    def __init__(self, command: Command | None) -> None:
        self.command = command
        self.pending: Flag | None = None  # a flag whose value comes next
        self.positional = 0
        self.only_args = False
        self.given: set[str] = set()

    def kind_of(self, text: str) -> str:
        """The kind of the next word; also advances past it."""
        command = self.command
        if command is None:
            return "argument"
        if self.pending is not None:
            self.pending = None
            return "value"
        if text == "--" and not self.only_args:
            self.only_args = True
            return "flag"
        if text.startswith("-") and len(text) > 1 and not self.only_args:
            return self._flag(text, command)
        arg = command.arg(self.positional)
        self.positional += 1
        return "path" if arg is not None and arg.kind == Kind.PATH else "argument"

    def _flag(self, text: str, command: Command) -> str:
        spec = command.options
        body = text[1:]
        name = body.split("=", 1)[0]
        flag = spec.get(name)
        if flag is not None:
            self.given.add(flag.name)
            if flag.takes_value and "=" not in body:
                self.pending = flag
            return "flag"
        # Combined flags (`-es`) or an attached value (`-t100`).
        for i, char in enumerate(body):
            flag = spec.get(char)
            if flag is None:
                return "unknown-flag"
            self.given.add(flag.name)
            if flag.takes_value:
                if i + 1 == len(body):
                    self.pending = flag
                return "flag"
        return "flag"


def classify(line: str) -> list[Classified]:
    """Each word of the line with its kind, for highlighting."""
    found = words(line)
    if not found:
        return []
    first = found[0]
    command = COMMANDS.get(first.text)
    result = [Classified(first, "command" if command else "unknown-command")]
    walker = _Walker(command)
    for word in found[1:]:
        result.append(Classified(word, walker.kind_of(word.text)))
    return result


def _for_argument(arg: Arg | None, prefix: str) -> list[Suggestion]:
    """What completes a positional argument of this kind (None: beyond the declared ones)."""
    if arg is None:
        return []
    if arg.kind == Kind.PATH:
        return [ZnodePath(prefix)]
    if arg.kind == Kind.CHOICE:
        return [Choice(arg.choices, prefix)]
    if arg.kind == Kind.HISTORY:
        return [HistoryNumber(prefix)]
    return []


def suggest(text: str) -> tuple[Suggestion, ...]:
    """What may be typed at the end of `text` (the text before the cursor)."""
    found = words(text)
    at_new_word = not found or text[-1] in JAVA_SPACE
    current = "" if at_new_word else found[-1].text
    before = found if at_new_word else found[:-1]
    if not before:
        return (CommandName(current),)
    command = COMMANDS.get(before[0].text)
    if command is None or current[:1] in ("'", '"'):
        return ()
    walker = _Walker(command)
    for word in before[1:]:
        walker.kind_of(word.text)
    given = frozenset(walker.given)
    if walker.pending is not None:
        choices = walker.pending.choices
        return (FlagValue(choices, current),) if choices else ()
    if current.startswith("-") and not walker.only_args:
        return (FlagName(command, current, given),)
    suggestions = _for_argument(command.arg(walker.positional), current)
    # At an empty word before any argument with nothing else to offer (`config `): flags.
    if (not suggestions and current == "" and walker.positional == 0
            and command.options.flags and not walker.only_args):
        suggestions.append(FlagName(command, current, given))
    return tuple(suggestions)
