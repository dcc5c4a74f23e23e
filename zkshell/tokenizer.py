"""zkCli's line tokenizer: the same split, the same quote stripping, the same quirks.

zkCli finds tokens with `\\s*([^"']\\S*|"[^"]*"|'[^']*')\\s*` and strips one pair of surrounding
quotes.  There are no escapes: `a"b"c` stays whole, `"a"b` becomes `a` and `b`, and the
quote of an unterminated `"abc d` is dropped.  Java's `\\s` is ASCII whitespace only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

JAVA_SPACE = " \t\n\x0b\f\r"


def _token_pattern(closing_quote: str) -> re.Pattern[str]:
    # `[^"']` may start a word with a space: a line of only spaces yields one word, " ".
    return re.compile(rf"[{JAVA_SPACE}]*([^\"'][^{JAVA_SPACE}]*"
                      rf"|\"[^\"]*\"{closing_quote}|'[^']*'{closing_quote})[{JAVA_SPACE}]*")


_TOKEN = _token_pattern("")
# A line still being typed: a quote not closed yet opens the word the cursor is in.
_TOKEN_TYPING = _token_pattern("?")
_QUOTED = re.compile(r"^(['\"])(.*)(\1)$")


def spans(line: str, typing: bool = False) -> Iterator[tuple[int, int, str]]:
    """Each word as zkCli finds it, quotes kept, with where it starts and ends in `line`.

    With `typing`, a quote not closed yet runs to the end of the line (where zkCli would
    drop it), so that completion and highlighting see the word the cursor is in.
    """
    for match in (_TOKEN_TYPING if typing else _TOKEN).finditer(line):
        yield match.start(1), match.end(1), match.group(1)


def split_line(line: str) -> list[str]:
    """Split one command line into words exactly as zkCli does."""
    words = []
    for _start, _end, word in spans(line):
        if _QUOTED.match(word):
            word = word[1:-1]
        words.append(word)
    return words
