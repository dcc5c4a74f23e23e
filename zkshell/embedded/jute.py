"""The jute wire format: reading request records and writing reply records.

Jute (zookeeper-jute/src/main/resources/zookeeper.jute) is big-endian: int is 4 bytes, long
8, boolean 1; a buffer or ustring is an int length and the bytes (length -1 means null); a
vector is an int count (-1 means null) and the elements.  Only the records the server needs
are here; each reader raises `MalformedRecord` when the bytes run out, so a short or garbage
frame never becomes a traceback.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

_INT = struct.Struct("!i")
_LONG = struct.Struct("!q")
_BOOL = struct.Struct("!?")


class MalformedRecord(ValueError):
    """The bytes do not hold the record that was expected."""


class Id(NamedTuple):
    scheme: str
    id: str


class ACL(NamedTuple):
    perms: int
    id: Id


class Stat(NamedTuple):
    """The Stat record, fields in jute's order."""

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    data_length: int
    num_children: int
    pzxid: int


class Reader:
    """Reads jute fields from one frame, front to back."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def _take(self, size: int) -> bytes:
        end = self.offset + size
        if size < 0 or end > len(self.data):
            raise MalformedRecord(f"record needs {size} bytes at offset {self.offset}, "
                                  f"frame has {len(self.data)}")
        chunk = self.data[self.offset:end]
        self.offset = end
        return chunk

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def int(self) -> int:
        return _INT.unpack(self._take(4))[0]

    def long(self) -> int:
        return _LONG.unpack(self._take(8))[0]

    def bool(self) -> bool:
        return self._take(1) != b"\0"

    def buffer(self) -> bytes | None:
        length = self.int()
        return None if length < 0 else self._take(length)

    def string(self) -> str | None:
        raw = self.buffer()
        # Java's new String(bytes, UTF_8) replaces malformed input with U+FFFD; so do we.
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def path(self) -> str:
        """A ustring used as a path: null reads as "" (which no rule accepts as a path)."""
        return self.string() or ""

    def strings(self) -> list[str]:
        count = self.int()
        return [self.path() for _ in range(max(count, 0))]

    def id(self) -> Id:
        return Id(self.string() or "", self.string() or "")

    def acl_list(self) -> list[ACL]:
        count = self.int()
        return [ACL(self.int(), self.id()) for _ in range(max(count, 0))]


class Writer:
    """Builds one reply body."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int(self, value: int) -> Writer:
        self.parts.append(_INT.pack(value))
        return self

    def long(self, value: int) -> Writer:
        self.parts.append(_LONG.pack(value))
        return self

    def bool(self, value: bool) -> Writer:
        self.parts.append(_BOOL.pack(value))
        return self

    def buffer(self, value: bytes | None) -> Writer:
        if value is None:
            return self.int(-1)
        self.int(len(value))
        self.parts.append(bytes(value))
        return self

    def string(self, value: str | None) -> Writer:
        return self.buffer(None if value is None else value.encode("utf-8", "surrogatepass"))

    def strings(self, values: list[str]) -> Writer:
        self.int(len(values))
        for value in values:
            self.string(value)
        return self

    def stat(self, stat: Stat) -> Writer:
        (self.long(stat.czxid).long(stat.mzxid).long(stat.ctime).long(stat.mtime)
         .int(stat.version).int(stat.cversion).int(stat.aversion).long(stat.ephemeral_owner)
         .int(stat.data_length).int(stat.num_children).long(stat.pzxid))
        return self

    def acl_list(self, acls: list[ACL]) -> Writer:
        self.int(len(acls))
        for acl in acls:
            self.int(acl.perms).string(acl.id.scheme).string(acl.id.id)
        return self

    def bytes(self) -> bytes:
        return b"".join(self.parts)


class RequestHeader(NamedTuple):
    xid: int
    type: int


def read_request_header(reader: Reader) -> RequestHeader:
    return RequestHeader(reader.int(), reader.int())


def reply_header(xid: int, zxid: int, err: int) -> bytes:
    """ReplyHeader: xid as the client sent it, the server's last zxid, the error code."""
    return _INT.pack(xid) + _LONG.pack(zxid) + _INT.pack(err)


def frame(payload: bytes) -> bytes:
    """Every packet on the wire is preceded by its length."""
    return _INT.pack(len(payload)) + payload


class ConnectRequest(NamedTuple):
    protocol_version: int
    last_zxid_seen: int
    timeout_ms: int
    session_id: int
    password: bytes
    read_only: bool


def read_connect_request(reader: Reader) -> ConnectRequest:
    """ConnectRequest, then the readOnly byte that 3.4+ clients append (older ones don't)."""
    version, last_zxid, timeout, session_id = (reader.int(), reader.long(), reader.int(),
                                               reader.long())
    password = reader.buffer() or b""
    read_only = reader.bool() if reader.remaining >= 1 else False
    return ConnectRequest(version, last_zxid, timeout, session_id, password, read_only)


def connect_response(timeout_ms: int, session_id: int, password: bytes) -> bytes:
    """ConnectResponse plus the readOnly byte (false: this server is never read-only)."""
    return (Writer().int(0).int(timeout_ms).long(session_id).buffer(password).bool(False)
            .bytes())
