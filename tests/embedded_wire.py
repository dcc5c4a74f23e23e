"""A minimal ZooKeeper wire client for the tests: the requests kazoo cannot send (createTTL,
createContainer, setWatches, getEphemerals, whoAmI, ...) and bytes no client would send.

It speaks to real ZooKeeper and to the embedded server alike, so the same calls make the
differential tests.  It reuses the embedded server's codec to build and read records.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from zkshell.embedded.jute import Reader, Writer


class Packet(NamedTuple):
    xid: int
    zxid: int
    err: int
    body: Reader


class WireClient:
    def __init__(self, address: str, timeout: float = 5.0) -> None:
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.xid = 0
        self.session_id = 0
        self.password = bytes(16)
        self.timeout_ms = 0
        self.events: list[tuple[int, int, str]] = []  # (type, state, path) met by call()

    def connect(self, session_id: int = 0, password: bytes = bytes(16),
                timeout_ms: int = 4000, last_zxid: int = 0) -> int:
        """The handshake; returns the granted timeout (0: the session is expired)."""
        body = (Writer().int(0).long(last_zxid).int(timeout_ms).long(session_id)
                .buffer(password).bool(False).bytes())
        self.send_raw(struct.pack("!i", len(body)) + body)
        reader = Reader(self.read_frame())
        _version, self.timeout_ms = reader.int(), reader.int()
        self.session_id, self.password = reader.long(), reader.buffer()
        return self.timeout_ms

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_frame(self) -> bytes:
        (length,) = struct.unpack("!i", self._read_exactly(4))
        return self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed by the server")
            data += chunk
        return data

    def read_packet(self) -> Packet:
        reader = Reader(self.read_frame())
        return Packet(reader.int(), reader.long(), reader.int(), reader)

    def send(self, opcode: int, body: bytes = b"", xid: int | None = None) -> int:
        if xid is None:
            self.xid += 1
            xid = self.xid
        payload = struct.pack("!ii", xid, opcode) + body
        self.send_raw(struct.pack("!i", len(payload)) + payload)
        return xid

    def call(self, opcode: int, body: bytes = b"", xid: int | None = None) -> Packet:
        """Send one request and return its reply, collecting watch events met on the way."""
        self.send(opcode, body, xid)
        while True:
            packet = self.read_packet()
            if packet.xid != -1:
                return packet
            self.events.append((packet.body.int(), packet.body.int(), packet.body.string()))

    def closed_by_server(self, wait: float = 2.0) -> bool:
        """True when the server has closed the connection (EOF or reset) within `wait`
        seconds; False when it is still open (then a byte it sent is lost)."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except ConnectionError:
            return True
        except socket.timeout:
            return False

    def close(self) -> None:
        self.sock.close()


def create_body(path: str, data: bytes = b"", flags: int = 0, ttl: int | None = None) -> bytes:
    writer = Writer().string(path).buffer(data).int(1).int(31).string("world").string("anyone")
    writer.int(flags)
    if ttl is not None:
        writer.long(ttl)
    return writer.bytes()


def read_stat(reader: Reader) -> tuple[int, ...]:
    return (reader.long(), reader.long(), reader.long(), reader.long(), reader.int(),
            reader.int(), reader.int(), reader.long(), reader.int(), reader.int(),
            reader.long())
