"""The embedded server over TCP: kazoo and a raw wire client against `EmbeddedServer`.

Every implemented opcode, sessions (close, expiry, reconnect, wrong password), watches (once,
in order, before the reply that follows them, setWatches), and bytes that are not ZooKeeper
packets.  A tickTime of 100 ms makes expiry take a few hundred milliseconds; tests wait on
events and conditions, never on fixed sleeps.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    InvalidACLError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
)
from kazoo.security import make_acl, make_digest_acl

from tests.conftest import wait_until
from tests.embedded_wire import WireClient, create_body, read_stat
from zkshell.embedded import EmbeddedServer
from zkshell.embedded.acl import digest_id
from zkshell.embedded.jute import Writer
from zkshell.server import granted_session_timeout


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tick_time_ms=100) as started:
        yield started


@pytest.fixture
def clients(server: EmbeddedServer) -> Iterator:
    made: list[KazooClient] = []

    def connect(**kwargs) -> KazooClient:
        client = KazooClient(hosts=server.address, **kwargs)
        client.start(timeout=5)
        made.append(client)
        return client
    yield connect
    for client in made:
        client.stop()
        client.close()


def settle(client: KazooClient) -> None:
    """Wait until every watch callback already received has run: sync (events come before
    the reply), then queue a marker behind them on kazoo's sequential callback thread."""
    from kazoo.protocol.states import Callback
    client.sync("/")
    done = threading.Event()
    client.handler.dispatch_callback(Callback("watch", done.set, ()))
    assert done.wait(5)


def test_starts_in_milliseconds_on_loopback_and_stops() -> None:
    started = time.monotonic()
    server = EmbeddedServer().start()
    try:
        assert time.monotonic() - started < 0.5
        assert server.address == f"127.0.0.1:{server.port}" and server.port > 0
        assert granted_session_timeout("127.0.0.1", server.port, 1) == 4000  # 2 x 2000
        assert granted_session_timeout("127.0.0.1", server.port, 10**6) == 40000
    finally:
        server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_configured_session_timeout_bounds() -> None:
    with EmbeddedServer(tick_time_ms=100, min_session_timeout_ms=300,
                        max_session_timeout_ms=700) as server:
        assert granted_session_timeout("127.0.0.1", server.port, 1) == 300
        assert granted_session_timeout("127.0.0.1", server.port, 500) == 500
        assert granted_session_timeout("127.0.0.1", server.port, 9999) == 700


def test_a_taken_port_is_an_oserror() -> None:
    with EmbeddedServer() as first:
        with pytest.raises(OSError):
            EmbeddedServer(port=first.port).start()


def test_kazoo_reads_and_writes(clients) -> None:
    zk = clients()
    assert zk.create("/a", b"x") == "/a"
    path, stat = zk.create("/a/b", b"yz", include_data=True)  # create2
    assert (path, stat.dataLength, stat.version) == ("/a/b", 2, 0)
    data, stat = zk.get("/a")
    assert data == b"x" and stat.numChildren == 1 and stat.cversion == 1
    assert zk.exists("/a/b").czxid == stat.pzxid
    assert zk.exists("/nope") is None
    assert zk.set("/a", b"new", version=0).version == 1
    with pytest.raises(BadVersionError):
        zk.set("/a", b"again", version=0)
    children, stat = zk.get_children("/a", include_data=True)  # getChildren2
    assert children == ["b"] and stat.numChildren == 1
    assert sorted(zk.get_children("/")) == ["a", "zookeeper"]
    assert zk.sync("/a") == "/a"
    with pytest.raises(NodeExistsError):
        zk.create("/a")
    with pytest.raises(NoNodeError):
        zk.create("/missing/child")
    with pytest.raises(NotEmptyError):
        zk.delete("/a")
    with pytest.raises(BadVersionError):
        zk.delete("/a/b", version=5)
    zk.delete("/a", recursive=True)
    with pytest.raises(NoNodeError):
        zk.get("/a")


def test_sequential_ephemeral_and_acl_rules(clients) -> None:
    zk = clients()
    zk.create("/q")
    assert [zk.create("/q/n-", sequence=True) for _ in range(2)] == [
        "/q/n-0000000000", "/q/n-0000000001"]
    zk.create("/e", ephemeral=True)
    assert zk.exists("/e").ephemeralOwner == zk.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create("/e/child")
    acl = make_digest_acl("bob", "secret", all=True)
    with pytest.raises(InvalidACLError):
        zk.create("/bad", acl=[make_digest_acl("x", "y", all=True)._replace(
            id=acl.id._replace(scheme="world"))])
    zk.create("/secret", b"s", acl=[acl])
    with pytest.raises(NoAuthError):
        zk.get("/secret")
    with pytest.raises(NoAuthError):
        zk.get_acls("/secret")  # needs READ or ADMIN
    bob = clients(auth_data=[("digest", "bob:secret")])
    assert bob.get("/secret")[0] == b"s"
    assert bob.get_acls("/secret")[0] == [acl]
    readable = make_acl("world", "anyone", read=True)
    assert bob.set_acls("/secret", [acl, readable], version=0).aversion == 1
    acls, _ = zk.get_acls("/secret")
    assert acls[0].id.id == "bob:x"  # READ without ADMIN: the digest is hidden
    with pytest.raises(NoAuthError):
        zk.set("/secret", b"mine")
    with pytest.raises(AuthFailedError):
        zk.add_auth("world", "anyone")


def test_multi_applies_all_or_nothing_with_one_zxid(clients) -> None:
    zk = clients()
    tx = zk.transaction()
    tx.create("/m", b"1")
    tx.set_data("/m", b"2")
    tx.check("/m", 1)
    results = tx.commit()
    assert results[0] == "/m" and results[1].version == 1 and results[2] is True
    stat = zk.exists("/m")
    assert stat.czxid == stat.mzxid
    tx = zk.transaction()
    tx.create("/m2")
    tx.delete("/nope")
    tx.create("/m3")
    results = tx.commit()
    assert isinstance(results[0], RolledBackError) and isinstance(results[1], NoNodeError)
    assert zk.exists("/m2") is None
    # The failed multi took a zxid all the same.
    assert zk.create("/after", include_data=True)[1].czxid == stat.czxid + 2


def test_watches_fire_once_in_order_and_with_their_types(clients) -> None:
    writer, watcher = clients(), clients()
    events: list[tuple[str, str]] = []

    def record(event) -> None:
        events.append((event.type, event.path))
    watcher.exists("/w", watch=record)
    watcher.get_children("/", watch=record)
    writer.create("/w", b"1")
    watcher.get("/w", watch=record)
    watcher.get_children("/w", watch=record)
    writer.set("/w", b"2")
    writer.set("/w", b"3")  # the data watch already fired: nothing more
    writer.create("/w/c")
    writer.delete("/w/c")
    writer.delete("/w")
    settle(watcher)
    assert events == [("CREATED", "/w"), ("CHILD", "/"), ("CHANGED", "/w"), ("CHILD", "/w")]


def test_a_watch_event_arrives_before_the_reply_that_follows_it(server) -> None:
    wire = WireClient(server.address)
    wire.connect()
    assert wire.call(1, create_body("/n", b"x")).err == 0
    assert wire.call(4, Writer().string("/n").bool(True).bytes()).err == 0  # getData, watch
    wire.send(5, Writer().string("/n").buffer(b"y").int(-1).bytes())  # setData
    event, reply = wire.read_packet(), wire.read_packet()
    assert (event.xid, event.err) == (-1, 0)
    assert (event.body.int(), event.body.int(), event.body.string()) == (3, 3, "/n")
    assert (reply.xid, reply.err) == (wire.xid, 0)
    wire.close()


def test_ephemerals_go_when_the_session_closes(clients) -> None:
    owner, other = clients(), clients()
    owner.create("/eph", ephemeral=True)
    gone = threading.Event()
    other.exists("/eph", watch=lambda event: gone.set())
    owner.stop()
    assert gone.wait(5)
    assert other.exists("/eph") is None


def test_ephemerals_go_when_the_session_expires(server, clients) -> None:
    wire = WireClient(server.address)
    assert wire.connect(timeout_ms=200) == 200
    assert wire.call(1, create_body("/lease", flags=1)).err == 0
    other = clients()
    gone = threading.Event()
    started = time.monotonic()
    assert other.exists("/lease", watch=lambda event: gone.set()) is not None
    assert gone.wait(3)  # wire sends no pings: expired after 200-300 ms
    assert time.monotonic() - started < 1.5
    assert wire.closed_by_server()
    again = WireClient(server.address)
    assert again.connect(wire.session_id, wire.password) == 0  # expired: timeout 0
    assert again.closed_by_server()


def test_a_wrong_password_is_told_the_session_expired(server) -> None:
    first = WireClient(server.address)
    first.connect()
    second = WireClient(server.address)
    assert second.connect(first.session_id, bytes(16)) == 0
    assert second.session_id == 0 and second.closed_by_server()
    third = WireClient(server.address)
    assert third.connect(first.session_id, first.password) == 4000 // 2  # clamped 200..2000
    assert third.session_id == first.session_id
    assert first.closed_by_server()  # the session moved to the new connection


def test_kazoo_reconnects_to_the_same_session(server, clients) -> None:
    zk = clients()
    session = zk.client_id
    zk.create("/mine", ephemeral=True)
    states: list[str] = []
    reconnected = threading.Event()

    def listen(state) -> None:
        states.append(state)
        if state == KazooState.CONNECTED and KazooState.SUSPENDED in states:
            reconnected.set()
    zk.add_listener(listen)
    server.core.drop_connections(session[0])  # what a network blip looks like to kazoo
    assert reconnected.wait(5)
    assert zk.client_id == session
    assert zk.exists("/mine").ephemeralOwner == session[0]


def test_set_watches_on_reconnect_fires_what_was_missed(server, clients) -> None:
    other = clients()
    other.create("/kept", b"1")
    other.create("/changed", b"1")
    other.create("/deleted")
    wire = WireClient(server.address)
    wire.connect()
    relative = wire.call(3, Writer().string("/kept").bool(False).bytes()).zxid
    other.set("/changed", b"2")
    other.delete("/deleted")
    wire.close()
    wire = WireClient(server.address)  # a new session: setWatches only needs a connection
    wire.connect()
    body = (Writer().long(relative).strings(["/kept", "/changed", "/deleted"])
            .strings(["/absent", "/kept"]).strings(["/"]).bytes())
    wire.send(101, body, xid=-8)
    events = []
    while True:
        packet = wire.read_packet()
        if packet.xid != -1:
            break
        events.append((packet.body.int(), packet.body.int(), packet.body.string()))
    assert (packet.xid, packet.err) == (-8, 0)
    assert events == [(3, 3, "/changed"), (2, 3, "/deleted"), (1, 3, "/kept"), (4, 3, "/")]
    other.set("/kept", b"2")  # the re-set data watch on /kept fires
    packet = wire.read_packet()
    assert packet.xid == -1 and packet.body.int() == 3
    wire.close()


def test_opcodes_kazoo_does_not_send(server) -> None:
    wire = WireClient(server.address)
    wire.connect()
    ping = wire.call(11, xid=-2)
    assert (ping.xid, ping.err) == (-2, 0)
    container = wire.call(19, create_body("/c", flags=4))  # createContainer
    assert container.err == 0 and container.body.string() == "/c"
    assert read_stat(container.body)[7] == 0  # a container's owner shows as 0
    ttl = wire.call(21, create_body("/t", flags=5, ttl=60000))  # createTTL
    assert ttl.err == 0 and ttl.body.string() == "/t"
    assert wire.call(21, create_body("/t0", flags=5, ttl=0)).err == -8  # BadArguments
    assert wire.call(1, create_body("/c/e", flags=1)).err == 0
    assert wire.call(1, create_body("/c/f", flags=3)).err == 0
    ephemerals = wire.call(103, Writer().string("/c").bytes()).body.strings()
    assert ephemerals == ["/c/e", "/c/f0000000001"]
    count = wire.call(104, Writer().string("/").bytes())
    assert count.body.int() == 7  # /zookeeper, its two children, /c, /t, /c/e, /c/f...
    who = wire.call(107).body
    assert (who.int(), who.string(), who.string()) == (1, "ip", "127.0.0.1")
    assert wire.call(100, Writer().int(0).string("digest").buffer(b"u:p").bytes(),
                     xid=-4).err == 0
    who = wire.call(107).body
    assert who.int() == 2 and who.string() == "ip" and who.string() == "127.0.0.1"
    assert (who.string(), who.string()) == ("digest", "u")
    assert wire.call(106, Writer().string("/c").int(1).bytes()).err == 0  # addWatch recursive
    wire.send(5, Writer().string("/c/e").buffer(b"x").int(-1).bytes())
    event = wire.read_packet()
    assert event.xid == -1 and (event.body.int(), event.body.int(), event.body.string()) == (
        3, 3, "/c/e")
    assert wire.read_packet().err == 0
    assert wire.call(17, Writer().string("/c").int(2).bytes()).err == 0  # checkWatches
    assert wire.call(18, Writer().string("/c").int(3).bytes()).err == 0  # removeWatches
    assert wire.call(18, Writer().string("/c").int(3).bytes()).err == -121  # NoWatcher
    assert wire.call(16, Writer().string("").string("").string("").long(-1).bytes()).err == -123
    assert wire.call(4, b"\x00\x00").err == -5  # a body that is no GetDataRequest
    close = wire.call(-11, xid=77)
    assert (close.xid, close.err) == (77, 0)
    assert wire.closed_by_server()


def test_an_unknown_opcode_is_unimplemented_and_closes_the_connection(server) -> None:
    wire = WireClient(server.address)
    wire.connect()
    reply = wire.call(999)
    assert (reply.err, reply.zxid) == (-6, -1)
    assert wire.closed_by_server()
    again = WireClient(server.address)
    assert again.connect(wire.session_id, wire.password) > 0  # the session lives on


@pytest.mark.parametrize("garbage", [
    struct.pack("!i", 0x7FFFFFFF),  # an absurd length
    struct.pack("!i", -5),
    struct.pack("!i", 3) + b"abc",  # too short for a connect request
    b"\x00\x00\x00\x10" + b"\xff" * 16,  # a connect request with a bad password length
    b"GET / HTTP/1.1\r\n\r\n",
    b"ruok",
])
def test_garbage_closes_only_that_connection(server, clients, garbage: bytes) -> None:
    zk = clients()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(garbage)
    sock.shutdown(socket.SHUT_WR)
    answer = sock.recv(100)
    assert answer in (b"", b"imok")
    assert sock.recv(100) == b""
    sock.close()
    assert zk.create("/still-here") == "/still-here"


def test_garbage_after_the_handshake_closes_only_that_connection(server, clients) -> None:
    zk = clients()
    wire = WireClient(server.address)
    wire.connect()
    wire.send_raw(struct.pack("!i", 4) + b"\x00\x00\x00\x01")  # no room for the opcode
    assert wire.closed_by_server()
    assert zk.exists("/") is not None
    assert wait_until(lambda: len(server.core.connections) == 1, timeout=5)


def test_empty_containers_and_expired_ttl_nodes_are_reaped() -> None:
    with EmbeddedServer(tick_time_ms=100, container_check_interval_ms=50) as server:
        wire = WireClient(server.address)
        wire.connect()
        assert wire.call(19, create_body("/never-used", flags=4)).err == 0
        assert wire.call(19, create_body("/box", flags=4)).err == 0
        assert wire.call(1, create_body("/box/item")).err == 0
        assert wire.call(21, create_body("/lease", flags=5, ttl=200)).err == 0
        tree = server.core.tree
        assert tree.get("/box") is not None and tree.get("/lease") is not None
        assert wire.call(2, Writer().string("/box/item").int(-1).bytes()).err == 0
        assert wait_until(lambda: tree.get("/box") is None, timeout=5)
        assert wait_until(lambda: tree.get("/lease") is None, timeout=5)
        assert tree.get("/never-used") is not None  # a container is kept until it had a child
        wire.close()


def test_random_requests_never_break_the_server(server, clients, caplog) -> None:
    """Seeded random bodies for every opcode, on a few connections: each gets a reply or
    its connection closes, the server logs no error, and other clients carry on."""
    rng = random.Random(10)
    opcodes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22,
               101, 102, 103, 104, 105, 106, 107]
    closers = [0, -1, 42, 100]  # unknown opcodes, and auth that fails, close the connection
    zk = clients()
    zk.create("/fuzz", b"x")
    answered = 0
    with caplog.at_level(logging.WARNING):
        for _ in range(8):
            wire = WireClient(server.address)
            wire.connect()
            for _ in range(80):
                opcode = rng.choice(closers if rng.random() < 0.02 else opcodes)
                path = rng.choice([b"/fuzz", b"/", b"/fuzz/x", b"", b"\xff\xfe", b"a//b"])
                body = (struct.pack("!i", len(path)) + path
                        + bytes(rng.randrange(256) for _ in range(rng.randrange(12))))
                try:
                    wire.call(opcode, body if rng.random() < 0.8 else body[:rng.randrange(6)])
                    answered += 1
                except (ConnectionError, OSError):
                    break
            wire.close()
    assert answered > 200
    assert zk.get("/fuzz")[0] is not None
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_restarted_server_keeps_its_port_tree_and_sessions(clients, server) -> None:
    zk = clients()
    zk.create("/kept", b"1")
    session = zk.client_id
    reconnected = threading.Event()
    zk.add_listener(lambda state: state == KazooState.CONNECTED and reconnected.set())
    port = server.port
    server.stop()
    server.start()
    assert server.port == port
    assert reconnected.wait(10)
    assert zk.client_id == session and zk.get("/kept")[0] == b"1"


def test_a_super_digest_passes_every_acl() -> None:
    with EmbeddedServer(super_digest=digest_id("super:test")) as server:
        owner = KazooClient(hosts=server.address, auth_data=[("digest", "bob:pw")])
        owner.start(timeout=5)
        owner.create("/locked", b"s", acl=[make_digest_acl("bob", "pw", all=True)])
        admin = KazooClient(hosts=server.address, auth_data=[("digest", "super:test")])
        admin.start(timeout=5)
        impostor = KazooClient(hosts=server.address, auth_data=[("digest", "super:nope")])
        impostor.start(timeout=5)
        try:
            assert admin.get("/locked")[0] == b"s"
            assert admin.set_acls("/locked", [make_acl("world", "anyone", read=True)])
            with pytest.raises(NoAuthError):
                impostor.set("/locked", b"x")
        finally:
            for client in (owner, admin, impostor):
                client.stop()
                client.close()


def test_a_connection_that_never_says_hello_is_closed(server) -> None:
    server.core.sessionless_timeout_ms = 200
    silent = WireClient(server.address)
    started = time.monotonic()
    assert silent.closed_by_server(wait=3)
    assert 0.15 < time.monotonic() - started < 2
