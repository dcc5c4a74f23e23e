"""zkCli's text, produced in one place: stat blocks, ACL lines, lists, WATCHER blocks.

A sink that shows the text its own way (in colour) passes a `decorate(role, text)` that may
wrap a part in escapes; the layout around the parts stays here.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterable

# decorate(role, text): roles are "field" (a stat block's field name), "watcher" (the
# WATCHER:: line) and "event" (the WatchedEvent line).
Decorate = Callable[[str, str], str]

_PERM_LETTERS = (("c", 4), ("d", 8), ("r", 1), ("w", 2), ("a", 16))
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_hex(value: int) -> str:
    """Long.toHexString: negative values print as their 64-bit two's complement."""
    return "0x" + format(value & 0xFFFFFFFFFFFFFFFF, "x")


def java_date(millis: int) -> str:
    """Java's Date.toString() in the local time zone: `Tue Nov 24 00:22:41 UTC 2026`."""
    t = time.localtime(millis // 1000)
    zone = t.tm_zone or "UTC"
    return (f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {zone} {t.tm_year}")


def _as_is(role: str, text: str) -> str:
    return text


def stat_block(stat, decorate: Decorate = _as_is) -> str:
    """The 11-line stat block of `stat`, `get -s`, `ls -s` and the others."""
    values = (
        ("cZxid", java_hex(stat.czxid)),
        ("ctime", java_date(stat.ctime)),
        ("mZxid", java_hex(stat.mzxid)),
        ("mtime", java_date(stat.mtime)),
        ("pZxid", java_hex(stat.pzxid)),
        ("cversion", stat.cversion),
        ("dataVersion", stat.version),
        ("aclVersion", stat.aversion),
        ("ephemeralOwner", java_hex(stat.ephemeralOwner)),
        ("dataLength", stat.dataLength),
        ("numChildren", stat.numChildren),
    )
    return "".join(f"{decorate('field', name)} = {value}\n" for name, value in values)


def child_list(children: Iterable[str]) -> str:
    """`[a, b, c]`, sorted as Java sorts strings (by UTF-16 code unit)."""
    return "[" + ", ".join(sorted(children, key=java_string_key)) + "]\n"


def java_list(items: Iterable[str]) -> str:
    """AbstractCollection.toString(): `[x, y]`, in the order given."""
    return "[" + ", ".join(items) + "]\n"


def java_string_key(text: str) -> bytes:
    return text.encode("utf-16-be")


def perm_string(perms: int) -> str:
    return "".join(letter for letter, bit in _PERM_LETTERS if perms & bit)


def acl_lines(acls) -> str:
    """Each ACL as the two lines zkCli prints: `'scheme,'id` then `: perms`."""
    return "".join(f"'{acl.id.scheme},'{acl.id.id}\n: {perm_string(acl.perms)}\n"
                   for acl in acls)


def who_am_i(identities: Iterable[tuple[str, str]]) -> str:
    """whoami's answer: `Auth scheme: User`, then `<scheme>: <user>` for each identity."""
    return "Auth scheme: User\n" + "".join(f"{scheme}: {user}\n" for scheme, user in identities)


def _java_replace(error: UnicodeError) -> tuple[str, int]:
    """Java's UTF-8 decoder replaces an encoded surrogate (ED A0..BF 80..BF) with one U+FFFD
    where Python replaces each of its three bytes; otherwise the two agree."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    data, start = error.object, error.start
    if (data[start] == 0xED and start + 2 < len(data) and 0xA0 <= data[start + 1] <= 0xBF
            and 0x80 <= data[start + 2] <= 0xBF):
        return "\ufffd", start + 3
    return "\ufffd", error.end


codecs.register_error("zksh-java-replace", _java_replace)


def decode_data(data: bytes | None) -> str:
    """Node data as zkCli prints it: `null` for none, UTF-8 with U+FFFD for bad bytes."""
    if data is None:
        return "null"
    return data.decode("utf-8", errors="zksh-java-replace")


def watched_event(state: str, event_type: str, path: str | None) -> str:
    shown = path if path is not None else "null"
    return f"WatchedEvent state:{state} type:{event_type} path:{shown}"


def watcher_block(state: str, event_type: str, path: str | None,
                  decorate: Decorate = _as_is) -> str:
    """What zkCli's default watcher prints for one event: a blank line before each line."""
    event = decorate("event", watched_event(state, event_type, path))
    return f"\n{decorate('watcher', 'WATCHER::')}\n\n{event}\n"


def banner(server: str, piped: bool) -> str:
    """What zkCli prints before reading commands.  Piped, the Debian zkCli (no JLine on its
    class path) also says so; on a terminal zksh leaves that Java detail out."""
    text = f"Connecting to {server}\nWelcome to ZooKeeper!\n"
    return text + "JLine support is disabled\n" if piped else text
