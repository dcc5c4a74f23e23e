"""kazoo_private's bulk read of a bundle's replies: it takes only whole replies that answer the
bundle's next xids, and leaves everything else on the socket, in order, for kazoo's reader."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections import defaultdict
from types import SimpleNamespace

import pytest

from zkshell import kazoo_private

WATCH_XID = -1


def _reply(xid: int, zxid: int, err: int = 0, body: bytes = b"") -> bytes:
    packet = struct.pack("!iqi", xid, zxid, err) + body
    return struct.pack("!i", len(packet)) + packet


@pytest.fixture
def pair():
    ours, server = socket.socketpair()
    ours.setblocking(False)  # as kazoo's own socket
    yield ours, server
    ours.close()
    server.close()


def _client() -> SimpleNamespace:
    return SimpleNamespace(last_zxid=0, _stopped=threading.Event(),
                           _child_watchers=defaultdict(set))


def _bundle(packets: int, first_xid: int, answered: int = 1,
            watches: list | None = None) -> kazoo_private._Bundle:
    """A bundle of `packets` requests whose first `answered` replies kazoo has read."""
    bundle = kazoo_private._Bundle([(8, b"")] * packets, watches)
    bundle.replies = [(0, b"", 0)] * answered
    bundle.next_xid = first_xid + answered
    return bundle


def _left_on(sock: socket.socket, size: int) -> bytes:
    sock.setblocking(True)
    sock.settimeout(5)
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_it_takes_the_replies_before_a_watch_event_and_leaves_the_rest_in_order(pair) -> None:
    ours, server = pair
    event = _reply(WATCH_XID, -1, 0, b"event body")
    rest = _reply(14, 103)
    server.sendall(_reply(12, 101, 0, b"a") + _reply(13, 102, -101, b"b") + event + rest)
    client, bundle = _client(), _bundle(5, 11)

    kazoo_private._drain_replies(ours, client, bundle)

    taken = [(err, buffer[offset:offset + 1]) for err, buffer, offset in bundle.replies[1:]]
    assert taken == [(0, b"a"), (-101, b"b")]
    assert bundle.next_xid == 14
    assert client.last_zxid == 102
    assert _left_on(ours, len(event) + len(rest)) == event + rest


def test_a_reply_not_fully_arrived_stays_on_the_socket(pair) -> None:
    ours, server = pair
    whole, partial = _reply(2, 7, 0, b"x"), _reply(3, 8, 0, b"a longer body")[:12]
    server.sendall(whole + partial)
    bundle = _bundle(4, 1)

    kazoo_private._drain_replies(ours, _client(), bundle)

    assert len(bundle.replies) == 2 and bundle.next_xid == 3
    assert _left_on(ours, len(partial)) == partial


def test_it_takes_no_more_replies_than_the_bundle_sent(pair) -> None:
    ours, server = pair
    next_request = _reply(3, 9)  # the answer to whatever kazoo sent after the bundle
    server.sendall(_reply(2, 8) + next_request)
    bundle = _bundle(2, 1)

    kazoo_private._drain_replies(ours, _client(), bundle)

    assert len(bundle.replies) == 2
    assert _left_on(ours, len(next_request)) == next_request


def test_child_watches_are_registered_for_the_lists_answered_without_error(pair) -> None:
    ours, server = pair
    server.sendall(_reply(2, 5) + _reply(3, 5, -101))
    client = _client()
    watcher = object()
    bundle = _bundle(3, 1, watches=[("/a", watcher), ("/b", watcher), ("/c", watcher)])

    kazoo_private._drain_replies(ours, client, bundle)

    assert dict(client._child_watchers) == {"/b": {watcher}}


def test_nothing_arrived_yet_takes_nothing(pair) -> None:
    ours, _server = pair
    bundle = _bundle(3, 1)
    kazoo_private._drain_replies(ours, _client(), bundle)
    assert len(bundle.replies) == 1 and bundle.next_xid == 2


def test_a_tls_socket_is_left_to_kazoo(pair) -> None:
    ours, server = pair
    server.sendall(_reply(2, 5))
    wrapped = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_socket(
        ours, server_hostname="localhost",
        do_handshake_on_connect=False)  # TLS records cannot be peeked at
    try:
        bundle = _bundle(3, 1)
        kazoo_private._drain_replies(wrapped, _client(), bundle)
        assert len(bundle.replies) == 1
    finally:
        wrapped.close()
