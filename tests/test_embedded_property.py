"""Property-based differential test: random operation sequences on real ZooKeeper and ours.

Hypothesis draws a list of operations for two or three sessions (creates of every node type,
versioned sets and deletes, multi, ACL changes, auth, watches, closes); the same list runs
through kazoo against real ZooKeeper 3.8 and against the embedded server, and what each
client can see must be equal: return values, errors, Stat fields apart from times, and each
session's watch events in order.

Design, for speed: one real server and one embedded server for the whole module (a JVM start
per example would cost seconds), each example in a fresh chroot on both.  Zxids then differ
by the server's history, so every zxid in a Stat is compared relative to the czxid of the
example's chroot: the same number of transactions since it (session creates and closes and
failed writes take a zxid too) gives the same relative zxid.  Nothing else may write to the
servers meanwhile, hence servers of the module's own rather than the shared `zk_server`.
Container nodes are only created at leaf paths: a container that had a child and lost it is
reaped by ZooKeeper's 60 s timer, which would fall at a random step (and take a zxid); TTL
nodes get a TTL no run outlives.

The bounded run (`make test`) tries ZKSH_PROOF_EXAMPLES examples (default 150, about 15 s),
derandomized so that it never flakes; `make proof` runs thousands at random.  A failing
example prints its operations one per line.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from kazoo.client import KazooClient
from kazoo.protocol.serialization import Create2, long_struct
from kazoo.protocol.states import ZnodeStat
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl

from tests.conftest import require_zookeeper
from tests.test_embedded_differential import Recorder
from zkshell.embedded import EmbeddedServer
from zkshell.server import LocalServer

EXAMPLES = int(os.environ.get("ZKSH_PROOF_EXAMPLES", "150"))
SESSIONS = ("A", "B", "C")
PATHS = ("/a",) * 3 + ("/a/b",) * 3 + ("/a/c", "/b", "/a/b/d")  # repeats: weights
CREATE_PATHS = PATHS
LEAVES = ("/a/c", "/b", "/a/b/d")  # nothing is ever created below these
ACLS = {
    "open": OPEN_ACL_UNSAFE,
    "read-only": [make_acl("world", "anyone", read=True)],
    "bob+read": [make_digest_acl("bob", "pw", all=True),
                 make_acl("world", "anyone", read=True)],
    "creator": [make_acl("auth", "", all=True)],  # InvalidACL without an auth id
    "no-delete": [make_acl("world", "anyone", read=True, write=True, create=True,
                           admin=True)],
}
ZXID_FIELDS = ("czxid", "mzxid", "pzxid")


class CreateContainer(Create2):
    type = 19


class CreateTTL(Create2):
    type = 21
    ttl = 10**10  # ms, 115 days: never expires during a run

    def serialize(self) -> bytearray:
        return super().serialize() + long_struct.pack(self.ttl)


@dataclass(frozen=True)
class Op:
    """One operation by one session; its repr is the line a failing example prints."""

    session: str
    kind: str
    path: str = "/a"
    args: tuple = ()

    def __repr__(self) -> str:
        extra = " ".join(str(a) for a in self.args)
        return f"\n  {self.session}: {self.kind} {self.path} {extra}".rstrip()


versions = st.sampled_from([-1, -1, 0, 1, 2])
data = st.sampled_from([b"", b"x", b"yy"])
paths = st.sampled_from(PATHS)
sessions = st.sampled_from(SESSIONS)
acl_names = st.sampled_from(["open"] * 4 + list(ACLS))  # most creates must let others in
create_kinds = st.sampled_from(["persistent", "ephemeral", "sequential", "ephemeral-seq",
                                "ttl", "ttl-seq"])


sub_ops = st.one_of(
    st.tuples(st.just("create"), paths, data),
    st.tuples(st.just("set"), paths, data, versions),
    st.tuples(st.just("delete"), paths, versions),
    st.tuples(st.just("check"), paths, versions),
)
# Each kind's arguments after the path; the path strategy comes first in each tuple.
ARGUMENTS: dict[str, tuple] = {
    "create": (st.sampled_from(CREATE_PATHS), create_kinds, data,
               acl_names),
    "container": (st.sampled_from(LEAVES), data),
    "set": (paths, data, versions),
    "delete": (paths, versions),
    "get": (paths, st.booleans()),
    "exists": (paths, st.booleans()),
    "children": (paths, st.booleans(), st.booleans()),
    "multi": (st.just("/"), st.lists(sub_ops, min_size=1, max_size=4).map(tuple)),
    "set_acls": (paths, acl_names, versions),
    "get_acls": (paths,),
    "add_auth": (st.just("/"), st.sampled_from(["bob:pw", "eve:no"])),
    "close": (st.just("/"),),
}
# Weighted by repetition: paths must exist for the other operations to do more than fail
# with NoNode, and a close ends that session's part of the example.
KINDS = ["create"] * 6 + ["delete"] * 2 + ["set", "get", "exists", "children", "children",
                                            "multi", "multi", "set_acls", "get_acls",
                                            "add_auth", "container", "close"]


def _op(session: str, kind: str) -> st.SearchStrategy[Op]:
    return st.tuples(*ARGUMENTS[kind]).map(lambda t: Op(session, kind, t[0], tuple(t[1:])))


def _ops(count: int) -> st.SearchStrategy[list[Op]]:
    one = st.tuples(st.sampled_from(SESSIONS[:count]), st.sampled_from(KINDS))
    return st.lists(one.flatmap(lambda pair: _op(*pair)), min_size=4, max_size=30)


# Every example starts from a node /a to work under: without it most drawn operations only
# fail with NoNode, and few Stats of a node with children are ever compared.
SEED = Op("A", "create", "/a", ("persistent", b"", "open"))
operations = st.integers(2, 3).flatmap(_ops).map(lambda ops: [SEED, *ops])


class Run(Recorder):
    """A Recorder inside a fresh chroot, zxids relative to the chroot's creation."""

    def __init__(self, admin: KazooClient, address: str) -> None:
        root = f"/p-{uuid.uuid4().hex[:10]}"
        self.base = admin.create(root, include_data=True)[1].czxid
        super().__init__(address + root)
        self.admin, self.root = admin, root
        self.closed: set[str] = set()
        self.over = False

    def _plain(self, value: object) -> object:
        if isinstance(value, ZnodeStat):
            fields = super()._plain(value)
            for name in ZXID_FIELDS:
                fields[name] -= self.base
            return fields
        if isinstance(value, Exception):
            return type(value).__name__
        if isinstance(value, str) and value.startswith(self.root):  # low-level creates
            return value[len(self.root):] or "/"
        return super()._plain(value)

    def watcher(self, name: str) -> Callable:
        # kazoo itself calls pending watchers with type NONE when a client stops, on its own
        # thread, sometimes after the comparison: not the server's doing, so not recorded.
        # Nor what the closing clients at the end cause (an ephemeral's DELETED reaching a
        # session not yet stopped): the example is over, and its timing is the threads'.
        record = super().watcher(name)
        return lambda event: event.type != "NONE" and not self.over and record(event)

    def run(self, ops: list[Op]) -> None:
        names = sorted({op.session for op in ops})
        clients = {name: self.connect(name) for name in names}
        watchers = {name: self.watcher(name) for name in names}
        for index, op in enumerate(ops):
            if op.session in self.closed:
                self.log.append((f"{index}{op!r}", "session closed"))
                continue
            client, watch = clients[op.session], watchers[op.session]
            if op.kind == "close":
                self.settle()  # its events so far are in before it goes
                self.closed.add(op.session)
            self.step(f"{index}{op!r}", self._action(client, watch, op))
        self.settle()
        self.over = True

    def _action(self, client: KazooClient, watch: Callable, op: Op) -> Callable[[], object]:
        path, args = op.path, op.args
        if op.kind == "create":
            kind, value, acl = args
            if kind.startswith("ttl"):  # kazoo has no TTL create: by hand, the path chrooted
                flags = 6 if kind == "ttl-seq" else 5
                request = CreateTTL(self.root + path, value, ACLS[acl], flags)
                return lambda: self._low_level(client, request)
            return lambda: client.create(path, value, acl=ACLS[acl], include_data=True,
                                         ephemeral=kind.startswith("ephemeral"),
                                         sequence=kind.endswith("seq") or kind == "sequential")
        if op.kind == "container":
            request = CreateContainer(self.root + path, args[0], OPEN_ACL_UNSAFE, 4)
            return lambda: self._low_level(client, request)
        if op.kind == "set":
            return lambda: client.set(path, args[0], version=args[1])
        if op.kind == "delete":
            return lambda: client.delete(path, version=args[0])
        if op.kind == "get":
            return lambda: client.get(path, watch=watch if args[0] else None)
        if op.kind == "exists":
            return lambda: client.exists(path, watch=watch if args[0] else None)
        if op.kind == "children":
            return lambda: client.get_children(path, watch=watch if args[0] else None,
                                               include_data=args[1])
        if op.kind == "multi":
            def multi() -> object:
                tx = client.transaction()
                for sub in args[0]:
                    getattr(tx, {"set": "set_data"}.get(sub[0], sub[0]))(*sub[1:])
                return tx.commit()
            return multi
        if op.kind == "set_acls":
            return lambda: client.set_acls(path, ACLS[args[0]], version=args[1])
        if op.kind == "get_acls":
            return lambda: client.get_acls(path)
        if op.kind == "add_auth":
            return lambda: client.add_auth("digest", args[0])
        if op.kind == "close":
            return lambda: client.stop()
        raise AssertionError(op.kind)

    def _low_level(self, client: KazooClient, request: Create2) -> object:
        result = client.handler.async_result()
        client._call(request, result)
        return result.get(timeout=10)

    def finish(self) -> None:
        # The chroot stays: ACLs drawn may forbid deleting it, and what is left in it never
        # wakes a server timer (containers never had a child, TTLs outlive any run).
        self.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[list[tuple[KazooClient, str]]]:
    require_zookeeper()
    real = LocalServer(tick_time_ms=200).start()
    ours = EmbeddedServer(tick_time_ms=200).start()
    admins = (KazooClient(real.address), KazooClient(ours.address))
    try:
        for admin in admins:
            admin.start(timeout=10)
        yield [(admins[0], real.address), (admins[1], ours.address)]
    finally:
        for admin in admins:
            admin.stop()
            admin.close()
        ours.stop()
        real.cleanup()


def run_both(servers: list[tuple[KazooClient, str]], ops: list[Op]) -> tuple[Run, Run]:
    runs = []
    for admin, address in servers:
        run = Run(admin, address)
        try:
            run.run(ops)
        finally:
            run.finish()
        runs.append(run)
    return runs[0], runs[1]


def assert_same(real: Run, ours: Run) -> None:
    for (label, expected), (_, actual) in zip(real.log, ours.log):
        assert actual == expected, f"step {label.strip()}: real {expected!r}, ours {actual!r}"
    assert len(ours.log) == len(real.log)
    for name in real.events:
        assert ours.events[name] == real.events[name], f"session {name}'s watch events"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 500, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops=operations)
def test_random_operations_look_the_same_on_both_servers(servers, ops: list[Op]) -> None:
    note("operations:" + "".join(map(repr, ops)))  # hypothesis's own listing is unreadable
    assert_same(*run_both(servers, ops))

