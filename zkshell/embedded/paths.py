"""Path rules as the server applies them (PathUtils.validatePath, PrepRequestProcessor).

Java checks a path by UTF-16 code unit, so a character outside the Basic Multilingual Plane
(a surrogate pair) is rejected like the other reserved ranges.
"""

from __future__ import annotations


def _invalid_char(code: int) -> bool:
    return (0 < code <= 0x1F or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xF8FF
            or 0xFFF0 <= code <= 0xFFFF or code > 0xFFFF)


def path_problem(path: str) -> str | None:
    """Why PathUtils.validatePath rejects `path`, or None when it is a valid path."""
    if not path:
        return "Path length must be > 0"
    if path[0] != "/":
        return "Path must start with / character"
    if len(path) == 1:
        return None
    if path[-1] == "/":
        return "Path must not end with / character"
    last = "/"
    for i in range(1, len(path)):
        char = path[i]
        following = path[i + 1] if i + 1 < len(path) else "/"
        if char == "\0":
            return f"null character not allowed @{i}"
        if char == "/" and last == "/":
            return f"empty node name specified @{i}"
        if char == "." and last == "." and path[i - 2] == "/" and following == "/":
            return f"relative paths not allowed @{i}"
        if char == "." and last == "/" and following == "/":
            return f"relative paths not allowed @{i}"
        if _invalid_char(ord(char)):
            return f"invalid character @{i}"
        last = char
    return None


def parent_of(path: str) -> str:
    """The parent as PrepRequestProcessor computes it: everything before the last slash,
    so the parent of "/a" is "" (the root's other name in DataTree)."""
    return path[:path.rfind("/")]


def child_name(path: str) -> str:
    return path[path.rfind("/") + 1:]


def normal(path: str) -> str:
    """DataTree keeps the root under both "" and "/"; we keep it under "/" only."""
    return path or "/"


SPECIAL_PATHS = frozenset({"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"})
