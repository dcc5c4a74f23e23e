"""One client connection: framing, the connect handshake, then requests in order.

As NIOServerCnxn does: every packet is a 4-byte length and that many bytes; a length below 0
or above jute.maxbuffer, a frame too short for its header, or a connect request that is not
one, closes this connection (and only this one).  The first four bytes may instead be a
four-letter word (`ruok`, `mntr`, ...: four_letter.py), answered before the connection
closes.  Each connection keeps ServerCnxn's counters (stats.py) for the words to report.
"""

from __future__ import annotations

import asyncio
import struct
import time
from typing import TYPE_CHECKING

from zkshell.embedded import four_letter
from zkshell.embedded.codes import NOTIFICATION_XID, SYNC_CONNECTED, EventType, Op
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
from zkshell.embedded.stats import ConnectionStats

if TYPE_CHECKING:
    from zkshell.embedded.server import ServerCore

# NIOServerCnxn.readLength: a packet may be as long as jute.maxbuffer (0xfffff), no longer.
MAX_FRAME = 0xFFFFF


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
        self.session_timeout_ms = 0
        self.peer = writer.get_extra_info("peername") or ("", 0)
        # NIOServerCnxn gives every connection the ip id of its peer.
        self.auth: list[Id] = [Id("ip", str(self.peer[0]))]
        self.closed = False
        self.stats = ConnectionStats(established_ms=time.time_ns() // 1_000_000)
        self.expires_at_ms = 0
        self._touch()
        core.accept(self)

    def _touch(self) -> None:
        """NIOServerCnxnFactory.touchCnxn at every read and write: the connection's bucket
        in the connection expiry queue, as `dump` lists it.  The buckets are
        sessionless-timeout wide; a connection expires that long after its last I/O until
        it has a session, then the session's timeout after."""
        interval = self.core.sessionless_timeout_ms
        now = self.core.sessions.clock()
        timeout = self.session_timeout_ms or interval
        self.expires_at_ms = ((now + timeout) // interval + 1) * interval
        self.core.connection_buckets.note(self.expires_at_ms, now)

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
        if first and head in four_letter.KNOWN:
            self._touch()
            self.core.stats.received(self.stats, 4)
            # Not yet a packet for the tests of length below: a word ZooKeeper knows but
            # does not run ("telnet close") falls through to them, as in readLength.
            argument = (await self.reader.readexactly(8)
                        if head == four_letter.SET_TRACE_MASK else b"")
            text = four_letter.answer(head, self.core, self, argument)
            if text is not None:
                self.writer.write(text)
                self.core.stats.sent(self.stats)
                raise BadFrame("four-letter word answered")
        (length,) = struct.unpack("!i", head)
        if length < 0 or length > MAX_FRAME:
            raise BadFrame(f"length {length} out of range")
        payload = await self.reader.readexactly(length)
        self._touch()
        self.core.stats.received(self.stats, 4 + length)
        return payload

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
        core.stats.connection_requests += 1
        start = core.sessions.clock()
        if request.last_zxid_seen > core.tree.last_zxid:
            return False  # the client has seen a newer tree than ours: try another server
        timeout = core.sessions.negotiate(request.timeout_ms)
        self.session_timeout_ms = timeout
        if request.session_id == 0:
            self.session_id = core.processor.open_session(timeout)
            self._responded(Op.CREATE_SESSION, 0, start)
        else:
            core.drop_connections(request.session_id, keep=self)
            if not (core.sessions.check_password(request.session_id, request.password)
                    and core.sessions.touch(request.session_id, timeout)):
                # finishSessionInit(valid=false): timeout 0 tells the client it expired.
                self._send(connect_response(0, 0, bytes(16)), response=False)
                return False
            self.session_id = request.session_id
        core.register(self)
        self._send(connect_response(timeout, self.session_id, session_password(self.session_id)),
                   response=False)
        return True

    def _handle(self, payload: bytes) -> None:
        reader = Reader(payload)
        header = read_request_header(reader)
        start = self.core.sessions.clock()
        self.core.sessions.touch(self.session_id)
        reply = self.core.processor.process(self, header.xid, header.type, reader)
        self._responded(header.type, header.xid, start, reply.payload)
        if reply.payload is not None:
            self.core.stats.response_bytes += len(reply.payload)
            self._send(reply.payload)
        if reply.close_connection:
            self.close()

    # ---------------------------------------------------------------------------------------

    def _responded(self, opcode: int, xid: int, start_ms: int,
                   payload: bytes | None = None) -> None:
        """FinalRequestProcessor.updateStats: the zxid is the reply header's (the tree's
        last one when nothing is sent)."""
        zxid = (struct.unpack_from("!q", payload, 4)[0] if payload and len(payload) >= 12
                else self.core.tree.last_zxid)
        end = self.core.sessions.clock()
        self.stats.responded(opcode, xid, zxid, start_ms, end)
        self.core.stats.responded(opcode, end - start_ms)

    def _send(self, payload: bytes, response: bool = True) -> None:
        """`response`: a reply or event, whose size ServerStats keeps (not the connect
        response, which ZooKeeper does not send through sendResponse)."""
        if not self.closed:
            self.writer.write(frame(payload))
            self._touch()
            self.core.stats.sent(self.stats, len(payload) if response else None)

    def notify(self, event_type: EventType, path: str) -> None:
        """A WatcherEvent under the notification xid, written before anything after it."""
        event = Writer().int(event_type).int(SYNC_CONNECTED).string(path).bytes()
        self._send(reply_header(NOTIFICATION_XID, -1, 0) + event)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.core.unregister(self)
        self.core.forget(self)
        try:
            self.writer.close()
        except (ConnectionError, RuntimeError):
            pass
