"""Tab completion: which matches exist for what `zkshell.suggest` says goes at the cursor.

Command names and flags come from the command table; znode paths from the `ZnodeCache`,
which answers at once from what it holds and fetches the rest in the background.  A path
completes to the znode's full path without a trailing slash (ZooKeeper refuses one); typing
`/` after it and Tab again lists its children.

What a Tab offers from children that were missing or stale is kept (`Offered`): when the
fetched children would offer something else and the line is still as that Tab left it, the
REPL puts the line back and completes it again (`ZkCompleter.redo`), so a znode another
client deleted is taken back and one it created shows up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from zkshell.commands import COMMANDS
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
from zkshell.znode_cache import Cached, ZnodeCache


class Offered(NamedTuple):
    """What one completion of a path offered from children that were not fresh."""
    parent: str
    document: Document  # the line as the Tab found it
    prefix: str  # the path being completed
    texts: tuple[str, ...]  # what the completions would put in its place

    def outdated_by(self, children: tuple[str, ...]) -> bool:
        return tuple(c.text for c in path_completions(self.prefix, children)) != self.texts

    def untouched(self, document: Document, menu_open: bool) -> bool:
        """Whether the line is still as the Tab left it: only the path has changed, and only
        as completing it does (the common part, the one match, a match picked in the menu).
        Anything typed since closes the menu, and then only the Tab's own work counts."""
        before = self.document.text_before_cursor
        head = before[:len(before) - len(self.prefix)]
        now = document.text_before_cursor
        if document.text_after_cursor != self.document.text_after_cursor \
                or not now.startswith(head):
            return False
        path = now[len(head):]
        if path == self.prefix:
            return True
        if menu_open:
            return path.startswith(self.prefix) and any(t.startswith(path) for t in self.texts)
        return len(self.texts) == 1 and path == self.texts[0]


class ZkCompleter(Completer):
    def __init__(self, cache: ZnodeCache | None = None,
                 history: Callable[[], dict[int, str]] = dict) -> None:
        self.cache = cache
        self.history = history
        # The last path completion, when its children were missing or stale: `redo` checks
        # it against the fetched ones.  Only the event loop's thread touches it.
        self.offered: Offered | None = None

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        self.offered = None
        for suggestion in suggest(document.text_before_cursor):
            yield from self.matches(suggestion, document)

    def redo(self, path: str, document: Document, menu_open: bool) -> Document | None:
        """The children of `path` were just fetched: the line to put back and complete again
        when they change what the last Tab offered from a stale answer (None: nothing to do).
        """
        offered = self.offered
        if offered is None or offered.parent != path or self.cache is None:
            return None
        cached = self.cache.lookup(path)
        if not cached.fresh or cached.children is None:
            return None
        self.offered = None  # checked against a fresh answer: nothing more to follow
        if offered.outdated_by(cached.children) and offered.untouched(document, menu_open):
            return offered.document
        return None

    def matches(self, suggestion: Suggestion,
                document: Document | None = None) -> Iterable[Completion]:
        if isinstance(suggestion, CommandName):
            return _command_names(suggestion.prefix)
        if isinstance(suggestion, FlagName):
            return _flags(suggestion)
        if isinstance(suggestion, (FlagValue, Choice)):
            return _words(suggestion.choices, suggestion.prefix)
        if isinstance(suggestion, HistoryNumber):
            return self._history_numbers(suggestion.prefix)
        if isinstance(suggestion, ZnodePath):
            return self._paths(suggestion.prefix, document or Document())
        return ()

    def _paths(self, prefix: str, document: Document) -> list[Completion]:
        cached = self._lookup(prefix)
        completions = path_completions(prefix, cached.children)
        if not cached.fresh:
            self.offered = Offered(parent_of(prefix), document, prefix,
                                   tuple(c.text for c in completions))
        return completions

    def _lookup(self, prefix: str) -> Cached:
        if self.cache is None or (prefix and not prefix.startswith("/")):
            return Cached((), True)  # nothing to fetch: no server, or not a ZooKeeper path
        return self.cache.lookup(parent_of(prefix))

    def _history_numbers(self, prefix: str) -> list[Completion]:
        history = self.history()
        return [Completion(str(n), -len(prefix), display_meta=history[n])
                for n in sorted(history, reverse=True) if str(n).startswith(prefix)]


def parent_of(prefix: str) -> str:
    """The znode whose children complete `prefix`: `/a` for `/a/b`, `/` for `/a`."""
    return prefix.rpartition("/")[0] or "/"


def path_completions(prefix: str, children: tuple[str, ...] | None) -> list[Completion]:
    """The full paths of the children that start as `prefix` goes on (None: not known)."""
    if prefix and not prefix.startswith("/"):
        return []  # ZooKeeper paths are absolute
    parent = parent_of(prefix)
    partial = prefix.rpartition("/")[2]
    completions = [Completion("/", -len(prefix))] if prefix == "" else []
    for child in sorted(children or (), key=java_string_key):
        if child.startswith(partial):
            completions.append(Completion(join(parent, child), -len(prefix), display=child))
    return completions


def _command_names(prefix: str) -> list[Completion]:
    lowered = prefix.lower()
    return [Completion(name, -len(prefix), display_meta=COMMANDS[name].usage_args)
            for name in sorted(COMMANDS, key=str.lower) if name.lower().startswith(lowered)]


def _flags(suggestion: FlagName) -> list[Completion]:
    return [Completion(f"-{flag.name}", -len(suggestion.prefix),
                       display_meta=flag.description or flag.value_name)
            for flag in suggestion.command.options.flags
            if flag.name not in suggestion.given and f"-{flag.name}".startswith(suggestion.prefix)]


def _words(choices: Iterable[str], prefix: str) -> list[Completion]:
    return [Completion(choice, -len(prefix)) for choice in choices if choice.startswith(prefix)]
