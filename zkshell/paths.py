"""ZooKeeper's client-side path validation, with the server's own wording."""

from __future__ import annotations


class InvalidPath(ValueError):
    """A path ZooKeeper's client would refuse before sending anything."""


def _is_invalid_char(c: str) -> bool:
    code = ord(c)
    return (0 < code <= 0x1F or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xF8FF
            or 0xFFF0 <= code <= 0xFFFF)


def validate_path(path: str, sequential: bool = False) -> None:
    """Raise InvalidPath with zkCli's message when `path` is not a valid znode path.

    A sequential create may end with `/` (the server appends the counter), so it is
    checked as if one more character followed, as ZooKeeper does.
    """
    if sequential:
        path = path + "1"
    if len(path) == 0:
        raise InvalidPath("Path length must be > 0")
    if path[0] != "/":
        raise InvalidPath("Path must start with / character")
    if len(path) == 1:
        return
    if path[-1] == "/":
        raise InvalidPath("Path must not end with / character")
    reason = _find_invalid(path)
    if reason:
        raise InvalidPath(f'Invalid path string "{path}" caused by {reason}')


def _utf16_units(text: str) -> str:
    """`text` as Java holds it: one character per UTF-16 code unit, so that an astral
    character becomes two surrogates (invalid in a path) and positions count as Java's."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i:i + 2], "little")) for i in range(0, len(data), 2))


def _find_invalid(original: str) -> str | None:
    path = original if original.isascii() else _utf16_units(original)
    last = "/"
    for i in range(1, len(path)):
        c = path[i]
        ends_segment = i + 1 == len(path) or path[i + 1] == "/"
        if c == "\0":
            return f"null character not allowed @{i}"
        if c == "/" and last == "/":
            return f"empty node name specified @{i}"
        if c == "." and last == "." and path[i - 2] == "/" and ends_segment:
            return f"relative paths not allowed @{i}"
        if c == "." and last == "/" and ends_segment:
            return f"relative paths not allowed @{i}"
        if _is_invalid_char(c):
            return f"invalid character @{i}"
        last = c
    return None


def join(parent: str, child: str) -> str:
    return ("" if parent == "/" else parent) + "/" + child
