"""zkCli's line tokenizer: the same split, the same quote stripping, the same quirks.

zkCli finds tokens with `\\s*([^"']\\S*|"[^"]*"|'[^']*')\\s*` and strips one pair of surrounding
quotes.  There are no escapes: `a"b"c` stays whole, `"a"b` becomes `a` and `b`, and the
quote of an unterminated `"abc d` is dropped.  Java's `\\s` is ASCII whitespace only.
"""

from __future__ import annotations

import re

_JAVA_SPACE = " \t\n\x0b\f\r"
# `[^"']` may start a word with a space: a line of only spaces yields one word, " ".
_TOKEN = re.compile(
    rf"[{_JAVA_SPACE}]*([^\"'][^{_JAVA_SPACE}]*|\"[^\"]*\"|'[^']*')[{_JAVA_SPACE}]*"
)
_QUOTED = re.compile(r"^(['\"])(.*)(\1)$")


def split_line(line: str) -> list[str]:
    """Split one command line into words exactly as zkCli does."""
    words = []
    for match in _TOKEN.finditer(line):
        word = match.group(1)
        if _QUOTED.match(word):
            word = word[1:-1]
        words.append(word)
    return words
