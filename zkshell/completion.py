"""Tab completion: which matches exist for what `zkshell.suggest` says goes at the cursor.

Command names and flags come from the command table; znode paths from the `ZnodeCache`,
which answers at once from what it holds and fetches the rest in the background.  A path
completes to the znode's full path without a trailing slash (ZooKeeper refuses one); typing
`/` after it and Tab again lists its children.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from zkshell.commands import COMMANDS
from zkshell.commands.base import Command
from zkshell.format import java_string_key
from zkshell.paths import join
from zkshell.suggest import (
    Choice,
    CommandName,
    FlagName,
    FlagValue,
    HistoryNumber,
    Suggestion,
    ZnodePath,
    suggest,
)
from zkshell.znode_cache import ZnodeCache


class ZkCompleter(Completer):
    def __init__(self, cache: ZnodeCache | None = None,
                 history: Callable[[], dict[int, str]] = dict) -> None:
        self.cache = cache
        self.history = history
        # (parent path, text before the cursor) of the last completion that found the
        # parent's children not yet fetched: the REPL completes again when they arrive.
        self.waiting: tuple[str, str] | None = None

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        self.waiting = None
        for suggestion in suggest(text):
            yield from self.matches(suggestion, text)

    def matches(self, suggestion: Suggestion, text: str = "") -> Iterable[Completion]:
        if isinstance(suggestion, CommandName):
            return _command_names(suggestion.prefix)
        if isinstance(suggestion, FlagName):
            return _flags(suggestion)
        if isinstance(suggestion, (FlagValue, Choice)):
            return _words(suggestion.choices, suggestion.prefix)
        if isinstance(suggestion, HistoryNumber):
            return self._history_numbers(suggestion.prefix)
        if isinstance(suggestion, ZnodePath):
            return self._paths(suggestion.prefix, text)
        return ()

    def _paths(self, prefix: str, text: str) -> list[Completion]:
        if prefix and not prefix.startswith("/"):
            return []  # ZooKeeper paths are absolute
        parent, _, partial = prefix.rpartition("/")
        parent = parent or "/"
        completions = [Completion("/", -len(prefix))] if prefix == "" else []
        children = self.cache.children(parent) if self.cache is not None else ()
        if children is None:
            self.waiting = (parent, text)
            return completions
        for child in sorted(children, key=java_string_key):
            if child.startswith(partial):
                completions.append(Completion(join(parent, child), -len(prefix), display=child))
        return completions

    def _history_numbers(self, prefix: str) -> list[Completion]:
        history = self.history()
        return [Completion(str(n), -len(prefix), display_meta=history[n])
                for n in sorted(history, reverse=True) if str(n).startswith(prefix)]


def _command_names(prefix: str) -> list[Completion]:
    lowered = prefix.lower()
    return [Completion(name, -len(prefix), display_meta=COMMANDS[name].usage_args)
            for name in sorted(COMMANDS, key=str.lower) if name.lower().startswith(lowered)]


def _flags(suggestion: FlagName) -> list[Completion]:
    command = suggestion.command
    return [Completion(f"-{flag.name}", -len(suggestion.prefix),
                       display_meta=flag.description or _flag_value_name(command, flag.name))
            for flag in command.options.flags
            if flag.name not in suggestion.given and f"-{flag.name}".startswith(suggestion.prefix)]


def _flag_value_name(command: Command, name: str) -> str:
    """`version` for `-v` in `[-s] [-v version] path data`."""
    match = re.search(rf"-{re.escape(name)} ([A-Za-z]+)", command.usage_args)
    return match.group(1) if match else ""


def _words(choices: Iterable[str], prefix: str) -> list[Completion]:
    return [Completion(choice, -len(prefix)) for choice in choices if choice.startswith(prefix)]
