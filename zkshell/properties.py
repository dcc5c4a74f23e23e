"""Java's .properties format (java.util.Properties.load), as zkCli reads -client-configuration.

Each entry keeps the line it starts on, for error messages.  Comments start with `#` or `!`;
a line ending in an odd number of backslashes goes on on the next line; the key ends at the
first unescaped `=`, `:` or white space; `\\t \\n \\r \\f \\uXXXX` are escapes, and a
backslash before any other character stands for that character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHITE = " \t\f"
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


class PropertiesError(ValueError):
    """A line Java's Properties.load refuses (a malformed \\uXXXX escape)."""


@dataclass(frozen=True)
class Entry:
    line: int
    key: str
    value: str


def _unescape(text: str, line: int) -> str:
    if re.search(r"\\u(?![0-9a-fA-F]{4})", text.replace("\\\\", "")):
        raise PropertiesError(f"line {line}: malformed \\uxxxx encoding")

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5:
            return chr(int(code[1:], 16))
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(replace, text)


def _logical_lines(text: str):
    """(line number, logical line): continuation lines joined, comments and blanks dropped."""
    lines = re.split(r"\r\n|\r|\n", text)
    index = 0
    while index < len(lines):
        start = index
        current = lines[index].lstrip(_WHITE)
        index += 1
        if not current or current[0] in "#!":
            continue
        while _odd_backslashes(current) and index < len(lines):
            current = current[:-1] + lines[index].lstrip(_WHITE)
            index += 1
        if _odd_backslashes(current):
            current = current[:-1]  # a continuation at the end of the file: dropped
        yield start + 1, current


def _odd_backslashes(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def parse_properties(text: str) -> list[Entry]:
    """The entries of a .properties file, in order (a later key overrides an earlier one)."""
    entries = []
    for number, line in _logical_lines(text):
        position, escaped = 0, False
        while position < len(line):
            char = line[position]
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char in "=:" or char in _WHITE:
                break
            position += 1
        key = line[:position]
        rest = line[position:].lstrip(_WHITE)
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(_WHITE)
        entries.append(Entry(number, _unescape(key, number), _unescape(rest, number)))
    return entries
