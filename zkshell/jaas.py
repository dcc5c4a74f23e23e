"""Java's JAAS login configuration files, as far as ZooKeeper's client reads them.

    Client {
      org.apache.zookeeper.server.auth.DigestLoginModule required
      username="bob"
      password="secret";
    };

A file holds named sections; each section, login modules: a class name, a flag, `key=value`
options, and `;`.  Comments are `//` and `/* */`, as in Java source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"((?:[^"\\]|\\.)*)"|([{};=])|([^\s{};="]+)',
                    re.DOTALL)


DIGEST_MECHANISM = "DIGEST-MD5"


class JaasError(ValueError):
    """The file is not a JAAS configuration; the message says where."""


@dataclass(frozen=True)
class LoginModule:
    name: str
    flag: str
    options: dict[str, str] = field(default_factory=dict)


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise JaasError(f"unexpected {text[position]!r} at line "
                            f"{text.count(chr(10), 0, position) + 1}")
        position = match.end()
        quoted, punctuation, word = match.groups()
        if quoted is not None:
            tokens.append("\0" + re.sub(r"\\(.)", r"\1", quoted))  # \0: a quoted value
        elif punctuation or word:
            tokens.append(punctuation or word)
    return tokens


def parse_jaas(text: str) -> dict[str, list[LoginModule]]:
    """The file's sections by name: each a list of login modules."""
    tokens = _tokens(text)
    sections: dict[str, list[LoginModule]] = {}
    index = 0

    def take(expected: str | None = None) -> str:
        nonlocal index
        if index >= len(tokens):
            raise JaasError("the file ends inside a section")
        token = tokens[index]
        index += 1
        if expected is not None and token != expected:
            raise JaasError(f"expected {expected!r}, found {token.lstrip(chr(0))!r}")
        return token

    while index < len(tokens):
        name = take()
        take("{")
        modules = []
        while tokens[index:index + 1] != ["}"]:
            module, flag = take(), take()
            options = {}
            while tokens[index:index + 1] != [";"]:
                key = take()
                take("=")
                options[key] = take().lstrip("\0")
            take(";")
            modules.append(LoginModule(module, flag, options))
        take("}")
        take(";")
        sections[name.lstrip("\0")] = modules
    return sections
