"""One client connection: framing, the connect handshake, then requests in order.

As NIOServerCnxn does: every packet is a 4-byte length and that many bytes; a length below 0
or above jute.maxbuffer, a frame too short for its header, or a connect request that is not
one, closes this connection (and only this one).  The first four bytes may instead be a
four-letter word: `ruok` is answered `imok`, `isro` `rw`, `envi` and `srvr` with the version
line (what kazoo's server_version reads), then the connection closes.
"""

from __future__ import annotations

import asyncio
import struct
from typing import TYPE_CHECKING

from zkshell.embedded.codes import NOTIFICATION_XID, SYNC_CONNECTED, EventType
from zkshell.embedded.jute import (
    Id,
    MalformedRecord,
    Reader,
    Writer,
    connect_response,
    frame,
    read_connect_request,
    read_request_header,
    reply_header,
)
from zkshell.embedded.sessions import session_password

if TYPE_CHECKING:
    from zkshell.embedded.server import ServerCore

# NIOServerCnxn.readLength: a packet may be as long as jute.maxbuffer (0xfffff), no longer.
MAX_FRAME = 0xFFFFF
_VERSION_LINE = b"zookeeper.version=3.8.0-zksh-embedded\n"
_FOUR_LETTER_WORDS = {b"ruok": b"imok", b"isro": b"rw",
                      b"envi": b"Environment:\n" + _VERSION_LINE,
                      b"srvr": b"Zookeeper version: 3.8.0-zksh-embedded\nMode: standalone\n"}


class BadFrame(Exception):
    """The peer sent something that is not a ZooKeeper packet."""


class Connection:
    """Also the watcher of its session's watches: `notify` writes the event at once."""

    def __init__(self, core: ServerCore, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.core = core
        self.reader = reader
        self.writer = writer
        self.session_id = 0
        peer = writer.get_extra_info("peername") or ("", 0)
        # NIOServerCnxn gives every connection the ip id of its peer.
        self.auth: list[Id] = [Id("ip", str(peer[0]))]
        self.closed = False

    # ---------------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            if await self._handshake():
                while not self.closed:
                    self._handle(await self._read_frame())
                    await self.writer.drain()  # a client that does not read is not fed more
        except (asyncio.IncompleteReadError, ConnectionError, BadFrame, MalformedRecord):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping; nothing of this connection is left to finish
        finally:
            self.close()

    async def _read_frame(self, first: bool = False) -> bytes:
        head = await self.reader.readexactly(4)
        if first and head in _FOUR_LETTER_WORDS:
            self.writer.write(_FOUR_LETTER_WORDS[head])
            raise BadFrame("four-letter word answered")
        (length,) = struct.unpack("!i", head)
        if length < 0 or length > MAX_FRAME:
            raise BadFrame(f"length {length} out of range")
        return await self.reader.readexactly(length)

    async def _handshake(self) -> bool:
        """ZooKeeperServer.processConnectRequest; False when the connection is to close.

        A connection without a session is closed after the sessionless timeout
        (NIOServerCnxnFactory, zookeeper.nio.sessionlessCnxnTimeout, 10 s)."""
        try:
            first = await asyncio.wait_for(self._read_frame(first=True),
                                           self.core.sessionless_timeout_ms / 1000)
        except asyncio.TimeoutError:
            return False
        request = read_connect_request(Reader(first))
        core = self.core
        if request.last_zxid_seen > core.tree.last_zxid:
            return False  # the client has seen a newer tree than ours: try another server
        timeout = core.sessions.negotiate(request.timeout_ms)
        if request.session_id == 0:
            self.session_id = core.processor.open_session(timeout)
        else:
            core.drop_connections(request.session_id, keep=self)
            if not (core.sessions.check_password(request.session_id, request.password)
                    and core.sessions.touch(request.session_id, timeout)):
                # finishSessionInit(valid=false): timeout 0 tells the client it expired.
                self._send(connect_response(0, 0, bytes(16)))
                return False
            self.session_id = request.session_id
        core.register(self)
        self._send(connect_response(timeout, self.session_id, session_password(self.session_id)))
        return True

    def _handle(self, payload: bytes) -> None:
        reader = Reader(payload)
        header = read_request_header(reader)
        self.core.sessions.touch(self.session_id)
        reply = self.core.processor.process(self, header.xid, header.type, reader)
        if reply.payload is not None:
            self._send(reply.payload)
        if reply.close_connection:
            self.close()

    # ---------------------------------------------------------------------------------------

    def _send(self, payload: bytes) -> None:
        if not self.closed:
            self.writer.write(frame(payload))

    def notify(self, event_type: EventType, path: str) -> None:
        """A WatcherEvent under the notification xid, written before anything after it."""
        event = Writer().int(event_type).int(SYNC_CONNECTED).string(path).bytes()
        self._send(reply_header(NOTIFICATION_XID, -1, 0) + event)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.core.unregister(self)
        try:
            self.writer.close()
        except (ConnectionError, RuntimeError):
            pass
