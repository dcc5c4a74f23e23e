"""Differential tests: the same operations against real ZooKeeper 3.8 and the embedded server.

Real ZooKeeper is the reference: where the two disagree, the embedded server is wrong.  Each
test gets a fresh real server (the `fresh_server` fixture) and a fresh embedded one.  The
real server's start-up check opened and closed one session (zxids 1 and 2), so the embedded
server gets the same handshake first; after that zxids must match exactly.  Times are
left out of the comparison, session ids are named by who owns them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import Callback, ZnodeStat
from kazoo.security import make_acl, make_digest_acl

from tests.embedded_wire import WireClient, create_body, read_stat
from zkshell.embedded import EmbeddedServer
from zkshell.embedded.jute import Writer
from zkshell.server import LocalServer, granted_session_timeout


@pytest.fixture
def embedded() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tick_time_ms=200) as server:
        # The same start-up handshake LocalServer makes: one session opened and closed.
        granted_session_timeout("127.0.0.1", server.port, 4000)
        yield server


class Recorder:
    """Runs steps against one server and writes down everything a client can see."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.log: list[tuple[str, object]] = []
        self.events: dict[str, list[tuple[str, str]]] = {}
        self.owners: dict[int, str] = {}
        self.clients: dict[str, KazooClient] = {}

    def connect(self, name: str, **kwargs) -> KazooClient:
        client = KazooClient(hosts=self.address, **kwargs)
        client.start(timeout=10)
        self.clients[name] = client
        self.owners[client.client_id[0]] = name
        self.events[name] = []
        return client

    def watcher(self, name: str) -> Callable:
        return lambda event: self.events[name].append((event.type, event.path))

    def _plain(self, value: object) -> object:
        if isinstance(value, ZnodeStat):
            fields = value._asdict()
            fields.pop("ctime")
            fields.pop("mtime")
            owner = fields["ephemeralOwner"]
            fields["ephemeralOwner"] = self.owners.get(owner, owner)
            return fields
        if isinstance(value, (list, tuple)):  # ACL and Id named tuples become plain ones
            return [self._plain(item) for item in value] if isinstance(value, list) else \
                tuple(self._plain(item) for item in value)
        return value

    def step(self, label: str, action: Callable[[], object]) -> None:
        try:
            result = self._plain(action())
        except Exception as exc:  # the error's type is the result
            result = type(exc).__name__
        self.log.append((label, result))

    def settle(self) -> None:
        """Every event received so far has reached its callback (see test_embedded_server)."""
        for client in self.clients.values():
            if client.connected:
                client.sync("/")
                done = threading.Event()
                client.handler.dispatch_callback(Callback("watch", done.set, ()))
                assert done.wait(5)

    def close(self) -> None:
        for client in self.clients.values():
            client.stop()
            client.close()


def kazoo_scenario(address: str) -> Recorder:
    rec = Recorder(address)
    try:
        a, b = rec.connect("A"), rec.connect("B")
        wa, wb = rec.watcher("A"), rec.watcher("B")
        step = rec.step
        step("B exists /app, watch", lambda: b.exists("/app", watch=wb))
        step("B children /, watch", lambda: b.get_children("/", watch=wb))
        step("create /app", lambda: a.create("/app", b"v1", include_data=True))
        step("create /app again", lambda: a.create("/app"))
        step("create ephemeral", lambda: a.create("/app/e", b"e", ephemeral=True))
        step("child of ephemeral", lambda: a.create("/app/e/x"))
        step("sequential 1", lambda: a.create("/app/s-", sequence=True))
        step("sequential 2", lambda: a.create("/app/s-", sequence=True, include_data=True))
        step("delete seq 1", lambda: a.delete("/app/s-0000000001"))
        step("sequential 3", lambda: a.create("/app/s-", sequence=True))
        step("ephemeral sequential", lambda: a.create("/app/es-", ephemeral=True,
                                                      sequence=True))
        step("get /app", lambda: a.get("/app"))
        step("children2 /app", lambda: a.get_children("/app", include_data=True))
        step("B get /app, watch", lambda: b.get("/app", watch=wb))
        step("B children /app, watch", lambda: b.get_children("/app", watch=wb))
        step("B exists /app/e, watch", lambda: b.exists("/app/e", watch=wb))
        step("A exists /app/s-0000000002, watch", lambda: a.exists("/app/s-0000000002",
                                                                   watch=wa))
        step("set version 0", lambda: a.set("/app", b"v2", version=0))
        step("set version 0 again", lambda: a.set("/app", b"v3", version=0))
        step("set missing", lambda: a.set("/nope", b""))
        step("set any version", lambda: a.set("/app", b"v4"))

        def good_multi():
            tx = a.transaction()
            tx.create("/app/m", b"1")
            tx.set_data("/app/m", b"2")
            tx.check("/app/m", 1)
            tx.delete("/app/s-0000000002")
            return tx.commit()

        def bad_multi():
            tx = a.transaction()
            tx.create("/app/m2")
            tx.delete("/nope")
            tx.create("/app/m3")
            return [type(r).__name__ if isinstance(r, Exception) else r for r in tx.commit()]
        step("multi", good_multi)
        step("failing multi", bad_multi)
        step("after multis", lambda: a.create("/app/after", include_data=True))
        step("delete non-empty", lambda: a.delete("/app"))
        step("delete bad version", lambda: a.delete("/app/m", version=9))
        step("delete missing", lambda: a.delete("/nope"))
        digest = make_digest_acl("bob", "pw", all=True)
        readable = make_acl("world", "anyone", read=True)
        step("create with acl", lambda: a.create("/acl", b"s", acl=[digest, readable]))
        step("get acl hidden", lambda: a.get_acls("/acl"))
        step("set acl no auth", lambda: a.set_acls("/acl", [readable]))
        step("set data no auth", lambda: a.set("/acl", b""))
        step("invalid acl", lambda: a.create("/bad", acl=[make_acl("world", "bob", all=True)]))
        step("add auth", lambda: a.add_auth("digest", "bob:pw"))
        step("get acl shown", lambda: a.get_acls("/acl"))
        step("set acl bad version", lambda: a.set_acls("/acl", [digest], version=3))
        step("set acl", lambda: a.set_acls("/acl", [digest], version=0))
        step("root", lambda: b.get("/"))
        step("/zookeeper", lambda: b.get("/zookeeper"))
        step("/zookeeper/config", lambda: (b.get("/zookeeper/config"),
                                           b.get_acls("/zookeeper/config")))
        step("/zookeeper/quota", lambda: b.get("/zookeeper/quota"))
        rec.settle()
        step("close A", lambda: a.stop())
        rec.settle()
        step("after close", lambda: b.get("/app"))
        step("children after close", lambda: b.get_children("/app"))
        for name in ("zeta", "alpha", "m", "node-10", "Node", "x" * 30, "ünï", "q1", "q2",
                     "b", "c", "lock-", "d"):
            step(f"create /many/{name}", lambda name=name: b.create(f"/many/{name}",
                                                                     makepath=True))
        step("many children, in the server's order", lambda: b.get_children("/many"))
        step("delete some", lambda: [b.delete(f"/many/{n}") for n in ("m", "b", "q1")])
        step("fewer children, in the server's order", lambda: b.get_children("/many"))
        step("root children", lambda: b.get_children("/"))
        step("delete the trees", lambda: (b.delete("/app", recursive=True),
                                          b.delete("/many", recursive=True)))
        step("last", lambda: b.create("/last", include_data=True))
        rec.settle()
    finally:
        rec.close()
    return rec


def test_kazoo_sees_the_same_from_both_servers(fresh_server: LocalServer,
                                               embedded: EmbeddedServer) -> None:
    real = kazoo_scenario(fresh_server.address)
    ours = kazoo_scenario(embedded.address)
    for (label, expected), (_, actual) in zip(real.log, ours.log):
        assert actual == expected, f"step {label!r}"
    assert len(ours.log) == len(real.log)
    assert ours.events == real.events
    assert real.events["B"], "the scenario must fire watches"


def wire_scenario(address: str) -> list[tuple[str, object]]:
    """Opcodes kazoo does not send, compared by reply header and decoded body."""
    log: list[tuple[str, object]] = []
    wire = WireClient(address)
    log.append(("timeout", wire.connect(timeout_ms=1)))

    def call(label: str, opcode: int, body: bytes = b"", decode=None, xid=None) -> None:
        packet = wire.call(opcode, body, xid)
        result = decode(packet.body) if decode and packet.err == 0 else None
        log.append((label, (packet.xid, packet.zxid, packet.err, result)))

    def path_and_stat(body):
        path, stat = body.string(), list(read_stat(body))
        if stat[7] == wire.session_id:
            stat[7] = "own session"
        return path, stat[:2] + stat[4:]  # without ctime and mtime

    call("createContainer", 19, create_body("/c", b"c", flags=4), path_and_stat)
    call("createTTL", 21, create_body("/t", flags=5, ttl=100000), path_and_stat)
    call("createContainer, persistent flags", 19, create_body("/c2", flags=0), path_and_stat)
    call("create, container flags", 1, create_body("/c3", flags=4), lambda b: b.string())
    call("createContainer, ephemeral flags", 19, create_body("/c4", flags=1), path_and_stat)
    for child in ("/c2/k", "/c3/k", "/c4/k"):
        call(f"create {child}", 1, create_body(child))
    call("createTTL zero", 21, create_body("/t0", flags=5, ttl=0))
    call("createTTL plain mode", 21, create_body("/t1", flags=0, ttl=5))
    call("create TTL flags", 1, create_body("/t2", flags=5))
    call("create bad flags", 1, create_body("/t3", flags=9))
    call("create trailing slash", 1, create_body("/c/", flags=0))
    call("create sequential slash", 1, create_body("/c/", flags=2), lambda b: b.string())
    call("create dot", 1, create_body("/c/.", flags=0))
    call("create in missing", 1, create_body("/x/", flags=0))
    call("ephemeral", 1, create_body("/c/e", flags=1), lambda b: b.string())
    call("ephemeral seq", 15, create_body("/c/f", flags=3), path_and_stat)
    for name in ("e1", "lock-", "zz", "a-much-longer-name", "n"):
        call(f"ephemeral /c/{name}", 1, create_body(f"/c/{name}", flags=1))
    call("getEphemerals", 103, Writer().string("/c").bytes(), lambda b: b.strings())
    call("getEphemerals /", 103, Writer().string("/").bytes(), lambda b: b.strings())
    call("getChildren /c", 8, Writer().string("/c").bool(False).bytes(), lambda b: b.strings())
    call("getAllChildrenNumber /", 104, Writer().string("/").bytes(), lambda b: b.int())
    call("getAllChildrenNumber /c", 104, Writer().string("/c").bytes(), lambda b: b.int())
    call("getAllChildrenNumber missing", 104, Writer().string("/zz").bytes())
    call("whoAmI", 107, b"", lambda b: [(b.string(), b.string()) for _ in range(b.int())])
    call("sync", 9, Writer().string("/c").bytes(), lambda b: b.string())
    call("exists with NUL", 3, Writer().string("/a\0").bool(False).bytes())
    call("getData unvalidated", 4, Writer().string("no-slash").bool(False).bytes())
    call("delete /zookeeper", 2, Writer().string("/zookeeper").int(-1).bytes())
    call("setData bad path", 5, Writer().string("/c/").buffer(b"").int(-1).bytes())
    call("check missing", 13, Writer().string("/nope").int(0).bytes())
    call("check bad version", 13, Writer().string("/c").int(7).bytes())
    call("reconfig", 16, Writer().string("").string("").string("").long(-1).bytes())
    call("garbled getData", 4, b"\x00\x00")
    call("garbled create", 1, b"\x00\x00")
    call("garbled setData", 5, Writer().string("/c").bytes())
    call("garbled delete", 2, b"\x00\x00\x00\x02/c")
    call("garbled multi", 14, b"\x00\x00\x00\x01")
    call("zxid after garbled writes", 3, Writer().string("/").bool(False).bytes())
    call("auth digest", 100, Writer().int(0).string("digest").buffer(b"u:p").bytes(), xid=-4)
    call("whoAmI after auth", 107, b"",
         lambda b: [(b.string(), b.string()) for _ in range(b.int())])
    call("ping", 11, b"", xid=-2)
    call("addWatch persistent", 106, Writer().string("/p").int(0).bytes(), lambda b: b.int())
    call("addWatch recursive", 106, Writer().string("/r").int(1).bytes(), lambda b: b.int())
    call("addWatch bad mode", 106, Writer().string("/r").int(7).bytes())
    call("exists /p, watch", 3, Writer().string("/p").bool(True).bytes())
    for label, opcode, body in [
            ("create /p", 1, create_body("/p", b"1")),
            ("create /p/c", 1, create_body("/p/c")),
            ("set /p", 5, Writer().string("/p").buffer(b"2").int(-1).bytes()),
            ("create /r", 1, create_body("/r")),
            ("create /r/x", 1, create_body("/r/x")),
            ("create /r/x/y", 1, create_body("/r/x/y", b"y")),
            ("set /r/x/y", 5, Writer().string("/r/x/y").buffer(b"z").int(-1).bytes()),
            ("delete /r/x/y", 2, Writer().string("/r/x/y").int(-1).bytes()),
            ("delete /p/c", 2, Writer().string("/p/c").int(-1).bytes()),
            ("delete /p", 2, Writer().string("/p").int(-1).bytes())]:
        call(label, opcode, body)
    call("checkWatches /r data", 17, Writer().string("/r").int(2).bytes())
    call("checkWatches /r children", 17, Writer().string("/r").int(1).bytes())
    call("removeWatches /r any", 18, Writer().string("/r").int(3).bytes())
    call("removeWatches /r again", 18, Writer().string("/r").int(3).bytes())
    call("checkWatches /p any", 17, Writer().string("/p").int(3).bytes())
    call("create /r/after", 1, create_body("/r/after"))
    log.append(("events so far", list(wire.events)))

    def multi(*ops: bytes) -> bytes:
        return b"".join(ops) + Writer().int(-1).bool(True).int(-1).bytes()

    def op(opcode: int, body: bytes) -> bytes:
        return Writer().int(opcode).bool(False).int(-1).bytes() + body

    def multi_results(body) -> list:
        results = []
        while True:
            opcode, done, err = body.int(), body.bool(), body.int()
            if done:
                return results
            if opcode == -1:
                results.append(("error", body.int()))
            elif opcode == 1:
                results.append(("create", body.string()))
            elif opcode == 15:
                results.append(("create2", body.string(), read_stat(body)[4:]))
            elif opcode == 5:
                results.append(("setData", read_stat(body)[4:]))
            elif opcode == 8:
                results.append(("children", body.strings()))
            elif opcode == 4:
                results.append(("data", body.buffer(), read_stat(body)[4:]))
            else:
                results.append((opcode, err))

    call("multi of every write", 14, multi(
        op(1, create_body("/mm", b"1")), op(15, create_body("/mm/a", b"2", flags=2)),
        op(19, create_body("/mm/c", flags=4)), op(21, create_body("/mm/t", flags=5, ttl=9000)),
        op(5, Writer().string("/mm").buffer(b"3").int(0).bytes()),
        op(13, Writer().string("/mm").int(1).bytes()),
        op(2, Writer().string("/mm/c").int(-1).bytes())), multi_results)
    call("multi failing on a version", 14, multi(
        op(1, create_body("/mx")), op(13, Writer().string("/mm").int(0).bytes()),
        op(2, Writer().string("/mm").int(-1).bytes())), multi_results)
    call("empty multi", 14, multi(), multi_results)
    call("multi with a read op", 14, multi(op(4, Writer().string("/mm").bool(False).bytes())))
    call("multiRead", 22, multi(
        op(8, Writer().string("/mm").bool(False).bytes()),
        op(4, Writer().string("/mm").bool(False).bytes()),
        op(4, Writer().string("/nope").bool(False).bytes())), multi_results)
    wire.events.clear()
    watches2 = (Writer().long(0).strings(["/mm"]).strings(["/mm/zz"]).strings(["/mm"])
                .strings(["/mm/t"]).strings(["/mm"]).bytes())
    call("setWatches2", 105, watches2)
    call("set under a recursive watch", 5, Writer().string("/mm/t").buffer(b"r").int(-1).bytes())
    call("create under a persistent watch", 1, create_body("/mm/t/kid"))
    log.append(("setWatches2 events", list(wire.events)))
    wire.send(999)
    packet = wire.read_packet()
    log.append(("unknown opcode", (packet.xid, packet.zxid, packet.err, wire.closed_by_server())))
    again = WireClient(address)
    log.append(("reconnect", again.connect(wire.session_id, wire.password, timeout_ms=1) > 0))
    body = Writer().long(0).strings(["/c", "/gone"]).strings(["/c/e", "/absent"]).strings(
        ["/c"]).bytes()
    again.send(101, body, xid=-8)
    events = []
    while (packet := again.read_packet()).xid == -1:
        events.append((packet.body.int(), packet.body.int(), packet.body.string()))
    log.append(("setWatches", (events, packet.xid, packet.err)))
    close = again.call(-11, xid=5)
    log.append(("closeSession", (close.xid, close.zxid, close.err, again.closed_by_server())))
    bad = WireClient(address)
    log.append(("expired session", (bad.connect(again.session_id, again.password),
                                    bad.session_id, bad.closed_by_server())))
    checker = WireClient(address)
    checker.connect()
    checker.send(13, Writer().string("/c").int(0).bytes())
    # No reply to the check: the next packet is the reply to the exists after it.
    log.append(("check outside multi, then exists",
                checker.call(3, Writer().string("/").bool(False).bytes())[:3]))
    bad = WireClient(address)
    bad.send_raw(b"\x00\x00\x00\x0c" + b"\x00" * 12)
    log.append(("short connect closed", bad.closed_by_server()))
    ahead = WireClient(address)
    ahead.send_raw(Writer().int(45).int(0).long(1 << 40).int(4000).long(0).buffer(bytes(16))
                   .bool(False).bytes())
    log.append(("client ahead of the server", ahead.closed_by_server()))
    big = WireClient(address)
    big.connect()
    big.send_raw(Writer().int(0x100000).bytes())
    log.append(("frame over jute.maxbuffer", big.closed_by_server()))
    sasl = WireClient(address)
    sasl.connect()
    sasl.send(102, Writer().buffer(b"token").bytes())
    packet = sasl.read_packet()
    log.append(("sasl", (packet.xid, packet.zxid, packet.err, packet.body.buffer())))
    log.append(("after sasl", sasl.call(3, Writer().string("/").bool(False).bytes()).err))
    return log


def test_wire_replies_are_the_same_from_both_servers(fresh_server: LocalServer,
                                                     embedded: EmbeddedServer) -> None:
    real = wire_scenario(fresh_server.address)
    ours = wire_scenario(embedded.address)
    for (label, expected), (_, actual) in zip(real, ours):
        assert actual == expected, f"step {label!r}"
    assert len(ours) == len(real)


def session_scenario(address: str) -> list[tuple[str, object]]:
    """Ephemerals going on closeSession and on expiry: which events, in which order, and
    the zxids the server shows afterwards."""
    log: list[tuple[str, object]] = []
    watcher = WireClient(address)
    watcher.connect(timeout_ms=4000)
    watcher.call(1, create_body("/s"))
    for owner_name in ("closer", "silent"):
        owner = WireClient(address)
        log.append((f"{owner_name} timeout", owner.connect(timeout_ms=1)))
        names = [f"/s/{owner_name}-{n}" for n in ("a", "lock-", "zz", "e1")]
        for name in names:
            owner.call(1, create_body(name, flags=1))
            watcher.call(3, Writer().string(name).bool(True).bytes())
        watcher.call(8, Writer().string("/s").bool(True).bytes())
        watcher.events.clear()
        if owner_name == "closer":
            close = owner.call(-11, xid=9)
            log.append(("closeSession", (close.xid, close.zxid, close.err)))
        # else: the owner goes silent and its session expires after 400-600 ms
        while len(watcher.events) < len(names) + 1:
            packet = watcher.read_packet()
            assert packet.xid == -1, packet
            watcher.events.append((packet.body.int(), packet.body.int(), packet.body.string()))
        log.append((f"{owner_name} events", list(watcher.events)))
        after = watcher.call(3, Writer().string("/s").bool(False).bytes())
        log.append((f"after {owner_name}", (after.zxid, read_stat(after.body)[9:])))
        again = WireClient(address)
        log.append((f"{owner_name} again", again.connect(owner.session_id, owner.password)))
    return log


def test_sessions_end_the_same_on_both_servers(fresh_server: LocalServer,
                                               embedded: EmbeddedServer) -> None:
    real = session_scenario(fresh_server.address)
    ours = session_scenario(embedded.address)
    assert ours == real


def acl_scenario(address: str) -> Recorder:
    """Every operation against nodes whose ACLs grant one permission each, from a client
    with no credentials, one with digest credentials and one matched by ip."""
    rec = Recorder(address)
    try:
        owner = rec.connect("owner", auth_data=[("digest", "bob:pw")])
        stranger = rec.connect("stranger")
        step = rec.step
        bob = make_digest_acl("bob", "pw", all=True)
        grants = {"read": make_acl("world", "anyone", read=True),
                  "write": make_acl("world", "anyone", write=True),
                  "create": make_acl("world", "anyone", create=True),
                  "delete": make_acl("world", "anyone", delete=True),
                  "admin": make_acl("world", "anyone", admin=True),
                  "ip": make_acl("ip", "127.0.0.0/8", read=True, write=True),
                  "other-ip": make_acl("ip", "10.1.2.3", all=True)}
        for name, grant in grants.items():
            step(f"owner creates /{name}", lambda n=name, g=grant: owner.create(
                f"/{n}", b"d", acl=[bob, g]))
            step(f"owner creates /{name}/kid", lambda n=name: owner.create(f"/{n}/kid"))
        for name in grants:
            node = f"/{name}"
            step(f"{name}: get", lambda p=node: stranger.get(p))
            step(f"{name}: exists", lambda p=node: stranger.exists(p))
            step(f"{name}: children", lambda p=node: stranger.get_children(p))
            step(f"{name}: get acl", lambda p=node: stranger.get_acls(p))
            step(f"{name}: set", lambda p=node: stranger.set(p, b"x"))
            step(f"{name}: create child", lambda p=node: stranger.create(f"{p}/new"))
            step(f"{name}: delete child", lambda p=node: stranger.delete(f"{p}/kid"))
            step(f"{name}: set acl", lambda p=node: stranger.set_acls(
                p, [make_acl("world", "anyone", all=True)]))

            def checked_multi(p=node):
                tx = stranger.transaction()
                tx.check(p, 0)
                tx.create(f"{p}/via-multi")
                return [type(r).__name__ if isinstance(r, Exception) else r
                        for r in tx.commit()]
            step(f"{name}: multi", checked_multi)
        step("auth acl for an ip-only client", lambda: stranger.create(
            "/mine", acl=[make_acl("auth", "", all=True)]))
        step("auth acl for a digest client", lambda: owner.create(
            "/mine", acl=[make_acl("auth", "", read=True)]))
        step("owner reads /mine", lambda: owner.get_acls("/mine"))
        third = rec.connect("third")
        step("addauth world", lambda: third.add_auth("world", "anyone"))
        step("addauth unknown scheme", lambda: rec.connect("fourth").add_auth("nope", "x"))
        step("addauth ip", lambda: rec.connect("fifth").add_auth("ip", "10.0.0.1"))
        step("ip auth reads /other-ip", lambda: rec.clients["fifth"].get("/other-ip"))
    finally:
        rec.close()
    return rec


def test_acls_are_enforced_the_same_on_both_servers(fresh_server: LocalServer,
                                                    embedded: EmbeddedServer) -> None:
    real = acl_scenario(fresh_server.address)
    ours = acl_scenario(embedded.address)
    for (label, expected), (_, actual) in zip(real.log, ours.log):
        assert actual == expected, f"step {label!r}"
    assert len(ours.log) == len(real.log)
    assert any(result == "NoAuthError" for _, result in real.log)
