"""Highlighting of the line being typed: command, flags and their values, path, data.

The kinds come from `zkshell.suggest.classify`, the same reading of the command table that
completion uses; an unknown command or flag shows as such before Enter is pressed.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from zkshell.suggest import classify

# Style rules for the classes below (merged into the REPL's style).
STYLE = {
    "zk.command": "bold ansigreen",
    "zk.unknown-command": "ansired",
    "zk.flag": "ansicyan",
    "zk.unknown-flag": "ansired",
    "zk.value": "ansimagenta",
    "zk.path": "ansiblue",
    "zk.argument": "",
    "zk.string": "ansiyellow",
}


def highlight(line: str) -> StyleAndTextTuples:
    """One line as (style, text) fragments; joined, they are the line unchanged."""
    fragments: StyleAndTextTuples = []
    position = 0
    for word, kind in classify(line):
        if word.start > position:
            fragments.append(("", line[position:word.start]))
        if kind == "argument" and word.quoted:
            kind = "string"
        fragments.append((f"class:zk.{kind}", word.text))
        position = word.end
    if position < len(line):
        fragments.append(("", line[position:]))
    return fragments


class ZkLexer(Lexer):
    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = document.lines

        def get_line(number: int) -> StyleAndTextTuples:
            return highlight(lines[number]) if number < len(lines) else []

        return get_line
