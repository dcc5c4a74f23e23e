"""Reading a scenario's YAML as PyYAML's node tree, which knows the line of everything in it.

A NodeReader notes each problem as `file:line: message` and reads on, so that one run reports
all of a file's problems.  Values are read as the text written (so `expect: 0x1` stays the
string `0x1`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import yaml
from yaml.reader import ReaderError

from zkshell.player.yaml_errors import explain

# PyYAML composes nodes recursively; far below Python's recursion limit, far above any scenario.
MAX_DEPTH = 50
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_NULL_TAG = "tag:yaml.org,2002:null"

Fields = dict[str, tuple[yaml.Node, yaml.Node]]  # key -> (its node, its value's node)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # the file as a whole (it cannot be read)
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """` (did you mean 'x'?)` when one of `choices` is close to `word`, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_duration(text: str) -> float | None:
    """Seconds in `4s`, `500ms`, `2m` or a bare number of seconds; None if it is no duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def blank(node: yaml.Node) -> bool:
    """Nothing written after the colon (`expect:`), unlike `expect: ""` or `expect: null`."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and node.value == ""


def what(node: yaml.Node) -> str:
    """What the node is, as a message names it."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a mapping" if isinstance(node, yaml.MappingNode) else "text"


def line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def too_deep(text: str) -> yaml.Mark | None:
    """Where the nesting passes MAX_DEPTH: the parser is iterative, the composer is not."""
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


class NodeReader:
    """Reads the nodes of the file at `path`, noting a Problem for each one it cannot use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.at(node.start_mark.line + 1, message)

    def at(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def compose(self, text: str) -> yaml.Node | None:
        """The document's root node; None for an empty document, or one that cannot be read
        (a problem says why)."""
        try:
            deep = too_deep(text)
            if deep is not None:
                self.at(deep.line + 1, f"YAML nested more than {MAX_DEPTH} levels deep; "
                        "a scenario needs a few")
                return None
            return yaml.compose(text)
        except yaml.MarkedYAMLError as exc:
            self.at(*explain(text, exc))
        except ReaderError as exc:
            # Its text ends with a position in characters; the line is what helps.
            self.at(line_of(text, exc.position), f"YAML error: {str(exc).splitlines()[0]}")
        except yaml.YAMLError as exc:
            self.at(1, f"YAML error: {exc}")
        return None

    def mapping(self, node: yaml.MappingNode) -> Fields:
        """The mapping's entries by key; a key that is not text, or comes twice, is a problem."""
        fields: Fields = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, f"a key must be a name, not {what(key_node)}")
                continue
            key = key_node.value
            if key in fields:
                self.problem(key_node, f"key '{key}' appears twice")
            fields[key] = (key_node, value_node)
        return fields

    def scalar(self, node: yaml.Node, key: str) -> str:
        """The text of `key`'s value ("" and a problem when it is not text)."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"'{key}' must be text")
            return ""
        return node.value

    def duration(self, node: yaml.Node, key: str) -> float | None:
        """`key`'s value in seconds (None and a problem unless it is a positive duration)."""
        text = self.scalar(node, key)
        value = parse_duration(text)
        if value is None or value <= 0:
            self.problem(node, f"'{key}' must be a duration such as 4s or 500ms, not '{text}'")
            return None
        return value
