"""The embedded server's data tree and codec, without sockets: zxids, Stat fields, sequence
numbers, node types, errors, ACLs, sessions and watch rules as ZooKeeper 3.8 has them."""

from __future__ import annotations

import pytest

from zkshell.embedded.acl import (
    OPEN_ACL_UNSAFE,
    auth_order,
    check_acl,
    digest_id,
    fixup_acl,
)
from zkshell.embedded.codes import Err, EventType, ZooKeeperError
from zkshell.embedded.javaorder import bin_of, string_hash
from zkshell.embedded.jute import ACL, Id, MalformedRecord, Reader, Stat, Writer
from zkshell.embedded.paths import path_problem
from zkshell.embedded.sessions import (
    SessionTracker,
    first_session_id,
    java_random_bytes,
    session_password,
)
from zkshell.embedded.tree import CONTAINER_OWNER, Change, DataTree, ttl_owner
from zkshell.embedded.watches import WatchManager

SESSION = 0x1000000000000AB
NOW = 1_700_000_000_000


def write(tree: DataTree, op: str, *args, session: int = SESSION, auth=(), **kwargs):
    """One write in a transaction of its own, as the processor runs it."""
    txn = tree.begin(session, NOW, list(auth))
    try:
        return getattr(tree, op)(txn, *args, **kwargs)
    except ZooKeeperError:
        tree.rollback(txn)
        raise


def error_of(tree: DataTree, op: str, *args, **kwargs) -> Err:
    with pytest.raises(ZooKeeperError) as caught:
        write(tree, op, *args, **kwargs)
    return caught.value.code


def create(tree: DataTree, path: str, data: bytes | None = b"", flags: int = 0, **kwargs):
    return write(tree, "create", path, data, OPEN_ACL_UNSAFE, flags, **kwargs)


def test_fresh_tree_has_zookeepers_own_nodes_with_their_real_stats() -> None:
    tree = DataTree()
    assert set(tree.nodes) == {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"}
    # Measured on ZooKeeper 3.8.0: cversion is 2 * creates - children, so -1 and -2 here.
    assert tree.get("/").stat().cversion == -1
    assert tree.get("/zookeeper").stat().cversion == -2
    assert tree.get("/zookeeper/config").stat().aversion == -1
    assert tree.get("/zookeeper/config").acl == [ACL(1, Id("world", "anyone"))]
    assert tree.last_zxid == 0


def test_every_write_takes_a_zxid_even_when_it_fails() -> None:
    tree = DataTree()
    path, stat = create(tree, "/a", b"x")
    assert (path, stat.czxid, stat.mzxid, stat.pzxid) == ("/a", 1, 1, 1)
    assert error_of(tree, "create", "/a", b"", OPEN_ACL_UNSAFE, 0) == Err.NODE_EXISTS
    assert tree.last_zxid == 2
    assert error_of(tree, "set_data", "/a", b"y", 7) == Err.BAD_VERSION
    stat = write(tree, "set_data", "/a", b"yy", 0)
    assert (stat.czxid, stat.mzxid, stat.version, stat.data_length) == (1, 4, 1, 2)
    assert tree.get("/a").data == b"yy"


def test_sequence_suffix_counts_child_creates_and_cversion_counts_changes() -> None:
    tree = DataTree()
    create(tree, "/q")
    assert create(tree, "/q/n-", flags=2)[0] == "/q/n-0000000000"
    assert create(tree, "/q/n-", flags=2)[0] == "/q/n-0000000001"
    write(tree, "delete", "/q/n-0000000001", -1)
    # A delete does not reuse the number: the suffix counts creates.
    assert create(tree, "/q/n-", flags=2)[0] == "/q/n-0000000002"
    stat = tree.get("/q").stat()
    assert (stat.num_children, stat.cversion) == (2, 2 * 3 - 2)
    assert stat.pzxid == 5  # the last create's zxid: /q 1, creates 2 3 5, delete 4


def test_delete_moves_pzxid_and_cversion_of_the_parent() -> None:
    tree = DataTree()
    create(tree, "/p")
    create(tree, "/p/c")
    before = tree.get("/p").stat()
    write(tree, "delete", "/p/c", 0)
    after = tree.get("/p").stat()
    assert (before.cversion, after.cversion) == (1, 2)
    assert (before.pzxid, after.pzxid) == (2, 3)


@pytest.mark.parametrize("path, flags, code", [
    ("/nope/child", 0, Err.NO_NODE),
    ("/nope/", 0, Err.NO_NODE),  # the parent is looked up before the path is checked
    ("/a/", 0, Err.BAD_ARGUMENTS),
    ("/a/.", 0, Err.BAD_ARGUMENTS),
    ("relative", 0, Err.BAD_ARGUMENTS),
    ("/a\0b", 0, Err.BAD_ARGUMENTS),
    ("/a", 0, Err.NODE_EXISTS),
    ("/x", 7, Err.BAD_ARGUMENTS),
    ("/x", 5, Err.BAD_ARGUMENTS),  # a TTL mode needs createTTL's ttl
])
def test_create_errors(path: str, flags: int, code: Err) -> None:
    tree = DataTree()
    create(tree, "/a")
    assert error_of(tree, "create", path, b"", OPEN_ACL_UNSAFE, flags) == code
    assert tree.last_zxid == 2 and set(tree.nodes) == {
        "/", "/a", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"}


def test_a_trailing_slash_is_fine_for_a_sequential_create() -> None:
    tree = DataTree()
    create(tree, "/s")
    assert create(tree, "/s/", flags=2)[0] == "/s/0000000000"


def test_ephemerals_cannot_have_children_and_go_with_their_session() -> None:
    tree = DataTree()
    create(tree, "/e", flags=1)
    assert tree.get("/e").stat().ephemeral_owner == SESSION
    assert error_of(tree, "create", "/e/c", b"", OPEN_ACL_UNSAFE, 0) == \
        Err.NO_CHILDREN_FOR_EPHEMERALS
    txn = tree.begin(SESSION, NOW)
    assert tree.close_session(txn, SESSION) == ["/e"]
    assert tree.get("/e") is None
    assert tree.get("/").pzxid == txn.zxid
    assert Change(EventType.NODE_DELETED, "/e") in txn.changes


def test_containers_and_ttl_nodes_show_owner_zero_and_are_reaped() -> None:
    tree = DataTree()
    create(tree, "/c", flags=4, container=True)
    create(tree, "/t", flags=5, ttl=1000)
    assert tree.get("/c").ephemeral_owner == CONTAINER_OWNER
    assert tree.get("/t").ephemeral_owner == ttl_owner(1000)
    assert tree.get("/c").stat().ephemeral_owner == tree.get("/t").stat().ephemeral_owner == 0
    assert tree.expired_containers(NOW) == []  # never had a child / not old enough
    create(tree, "/c/x")
    write(tree, "delete", "/c/x", -1)
    assert tree.expired_containers(NOW + 1001) == ["/c", "/t"]
    assert error_of(tree, "create", "/t2", b"", OPEN_ACL_UNSAFE, 5, ttl=0) == Err.BAD_ARGUMENTS


def test_delete_rules() -> None:
    tree = DataTree()
    create(tree, "/d")
    create(tree, "/d/c")
    assert error_of(tree, "delete", "/d", -1) == Err.NOT_EMPTY
    assert error_of(tree, "delete", "/d/c", 3) == Err.BAD_VERSION
    assert error_of(tree, "delete", "/missing", -1) == Err.NO_NODE
    assert error_of(tree, "delete", "/zookeeper", -1) == Err.BAD_ARGUMENTS
    assert error_of(tree, "delete", "/", -1) == Err.BAD_ARGUMENTS


def test_a_failed_multi_is_rolled_back_but_keeps_its_zxid() -> None:
    tree = DataTree()
    txn = tree.begin(SESSION, NOW)
    tree.create(txn, "/m", b"", OPEN_ACL_UNSAFE, 0)
    tree.set_data(txn, "/m", b"1", -1)
    with pytest.raises(ZooKeeperError):
        tree.delete(txn, "/nope", -1)
    tree.rollback(txn)
    assert tree.get("/m") is None
    assert tree.get("/").stat().num_children == 1
    assert tree.last_zxid == 1 and txn.changes == []


def test_single_writes_keep_no_undo_and_fail_before_changing_anything() -> None:
    """The processor runs single writes without undo records (a create would otherwise copy
    its parent's child set, quadratic under a large parent): each must fail, if at all,
    before it changes the tree."""
    tree = DataTree()
    create(tree, "/p", b"d")
    create(tree, "/p/c")
    create(tree, "/locked")
    tree.set_acl(tree.begin(SESSION, NOW), "/locked", [ACL(1, Id("world", "anyone"))], -1)
    before = {path: (node.stat(), node.data, list(node.children)) for path, node in
              tree.nodes.items()}
    failing = [("create", "/p", b"", OPEN_ACL_UNSAFE, 0), ("create", "/x/y", b"",
               OPEN_ACL_UNSAFE, 0), ("create", "/locked/z", b"", OPEN_ACL_UNSAFE, 0),
               ("delete", "/p", -1), ("delete", "/p/c", 5), ("delete", "/nope", -1),
               ("set_data", "/p", b"", 7), ("set_data", "/locked", b"", -1),
               ("set_acl", "/p", OPEN_ACL_UNSAFE, 3), ("set_acl", "/locked", [], -1)]
    for op, *args in failing:
        txn = tree.begin(SESSION, NOW, undoable=False)
        with pytest.raises(ZooKeeperError):
            getattr(tree, op)(txn, *args)
        assert txn.undo == {} and txn.changes == []
    after = {path: (node.stat(), node.data, list(node.children)) for path, node in
             tree.nodes.items()}
    assert after == before
    txn = tree.begin(SESSION, NOW, undoable=False)
    tree.create(txn, "/p/d", b"", OPEN_ACL_UNSAFE, 0)
    assert txn.undo == {} and tree.get("/p").stat().num_children == 2


def test_acl_rules() -> None:
    user = Id("digest", digest_id("bob:secret"))
    assert fixup_acl("/x", [ACL(31, Id("auth", ""))], [Id("ip", "127.0.0.1"), user]) == \
        [ACL(31, user)]
    with pytest.raises(ZooKeeperError) as caught:
        fixup_acl("/x", [ACL(31, Id("auth", ""))], [Id("ip", "127.0.0.1")])
    assert caught.value.code == Err.INVALID_ACL
    for bad in ([], [ACL(31, Id("world", "bob"))], [ACL(31, Id("digest", "no-colon"))],
                [ACL(31, Id("ip", "300.1.1.1"))]):
        with pytest.raises(ZooKeeperError):
            fixup_acl("/x", bad, [])
    check_acl([ACL(1, Id("ip", "127.0.0.0/8"))], 1, [Id("ip", "127.0.0.1")], "/x")
    with pytest.raises(ZooKeeperError) as caught:
        check_acl([ACL(1, user)], 1, [Id("ip", "127.0.0.1")], "/x")
    assert caught.value.code == Err.NO_AUTH


def test_digest_is_sha1_base64_of_user_and_password() -> None:
    # The value ZooKeeper's DigestAuthenticationProvider gives for "super:test".
    assert digest_id("super:test") == "super:D/InIHSb7yEEbrWz8b9l71RjZJU="


@pytest.mark.parametrize("path, valid", [
    ("/", True), ("/a/b", True), ("/a/..b", True), ("/a/.b", True), ("", False),
    ("a", False), ("/a/", False), ("//a", False), ("/a/..", False), ("/a/.", False),
    ("/a\u0001", False), ("/a\ud7ff", True), ("/a\ue000", False), ("/\U0001F600", False),
])
def test_path_rules(path: str, valid: bool) -> None:
    assert (path_problem(path) is None) is valid


def test_watch_rules_one_shot_and_no_double_delete() -> None:
    class Sink:
        def __init__(self) -> None:
            self.events: list[tuple[EventType, str]] = []

        def notify(self, event_type: EventType, path: str) -> None:
            self.events.append((event_type, path))

    watches, sink = WatchManager(), Sink()
    watches.watch_data("/a", sink)
    watches.watch_children("/a", sink)
    watches.watch_children("/", sink)
    watches.deliver([Change(EventType.NODE_DELETED, "/a"),
                     Change(EventType.NODE_CHILDREN_CHANGED, "/")])
    watches.deliver([Change(EventType.NODE_CREATED, "/a"),
                     Change(EventType.NODE_CHILDREN_CHANGED, "/")])
    assert sink.events == [(EventType.NODE_DELETED, "/a"),
                           (EventType.NODE_CHILDREN_CHANGED, "/")]
    watches.add_watch("/r", sink, recursive=True)
    watches.deliver([Change(EventType.NODE_CREATED, "/r/x/y"),
                     Change(EventType.NODE_CHILDREN_CHANGED, "/r/x"),
                     Change(EventType.NODE_DATA_CHANGED, "/r")])
    assert sink.events[2:] == [(EventType.NODE_CREATED, "/r/x/y"),
                               (EventType.NODE_DATA_CHANGED, "/r")]


def test_set_watches_fires_what_was_missed() -> None:
    class Sink:
        def __init__(self) -> None:
            self.events: list[tuple[EventType, str]] = []

        def notify(self, event_type: EventType, path: str) -> None:
            self.events.append((event_type, path))

    tree, watches, sink = DataTree(), WatchManager(), Sink()
    create(tree, "/seen")
    create(tree, "/changed")
    write(tree, "set_data", "/changed", b"new", -1)
    watches.set_watches(tree, 2, ["/seen", "/changed", "/gone"], ["/seen", "/absent"],
                        ["/seen"], sink)
    assert sink.events == [(EventType.NODE_DATA_CHANGED, "/changed"),
                           (EventType.NODE_DELETED, "/gone"), (EventType.NODE_CREATED, "/seen")]
    assert watches.data.has("/seen", sink) and watches.data.has("/absent", sink)
    assert watches.child.has("/seen", sink)


def test_sessions_negotiate_ids_passwords_and_expire_in_tick_buckets() -> None:
    now = [10_000]
    tracker = SessionTracker(100, clock=lambda: now[0])
    assert [tracker.negotiate(t) for t in (1, 500, 99_999)] == [200, 500, 2000]
    assert SessionTracker(100, 50, 300).negotiate(1000) == 300
    session = tracker.create(200)
    assert session.id >> 56 == 1  # the standalone server's id in the top byte
    assert tracker.create(200).id == session.id + 1
    assert session.expires_at_ms == 10_300  # the next tick after 10_000 + 200
    assert tracker.check_password(session.id, session_password(session.id))
    assert not tracker.check_password(session.id, bytes(16))
    now[0] = 10_250
    assert tracker.touch(session.id) and session.expires_at_ms == 10_500
    now[0] = 10_499
    assert [s.id for s in tracker.expired()] == [session.id + 1]
    now[0] = 10_500
    assert [s.id for s in tracker.expired()] == [session.id]
    assert not tracker.is_live(session.id)
    assert first_session_id(0) == 1 << 56


def test_passwords_are_zookeepers_own() -> None:
    # new java.util.Random(42).nextInt() is -1170105035; nextBytes takes its low byte first.
    assert java_random_bytes(42, 4) == (-1170105035 & 0xFFFFFFFF).to_bytes(4, "little")
    # A session id and the password a real ZooKeeper 3.8.0 gave it.
    assert session_password(0x100004A302F0001) == \
        b"\xb6\xc7\x17\xa6\x94\xe2\x0eh\xae\x8c:Q1ku\xb6"


def test_jute_round_trip_and_truncation() -> None:
    stat = Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    data = Writer().string("/p").buffer(None).stat(stat).acl_list(OPEN_ACL_UNSAFE).bytes()
    reader = Reader(data)
    assert reader.string() == "/p" and reader.buffer() is None
    assert Stat(*(reader.long(), reader.long(), reader.long(), reader.long(), reader.int(),
                  reader.int(), reader.int(), reader.long(), reader.int(), reader.int(),
                  reader.long())) == stat
    assert reader.acl_list() == OPEN_ACL_UNSAFE
    with pytest.raises(MalformedRecord):
        Reader(data[:5]).string()
    with pytest.raises(MalformedRecord):
        Reader(b"\x7f\xff\xff\xff").buffer()


def test_quota_stats_follow_the_subtree_and_roll_back_with_a_multi() -> None:
    tree = DataTree()
    create(tree, "/q", b"abc")
    create(tree, "/q/a", b"de")
    create(tree, "/zookeeper/quota/q")
    create(tree, "/zookeeper/quota/q/zookeeper_limits", b"count=2,bytes=-1")
    create(tree, "/zookeeper/quota/q/zookeeper_stats", b"count=0,bytes=0")

    def stats() -> bytes:
        return tree.get("/zookeeper/quota/q/zookeeper_stats").data
    assert stats() == b"count=2,bytes=5"  # recounted when the stats node is created
    create(tree, "/q/a/b", b"xyz")
    write(tree, "set_data", "/q", b"a", -1)
    assert stats() == b"count=3,bytes=6"
    write(tree, "delete", "/q/a/b", -1)
    assert stats() == b"count=2,bytes=3"
    create(tree, "/other", b"123")  # outside the quota
    assert stats() == b"count=2,bytes=3"
    txn = tree.begin(SESSION, NOW)
    tree.create(txn, "/q/m", b"1234", OPEN_ACL_UNSAFE, 0)
    tree.rollback(txn)
    assert stats() == b"count=2,bytes=3"
    write(tree, "delete", "/zookeeper/quota/q/zookeeper_limits", -1)
    create(tree, "/q/after", b"zz")  # no quota any more: the stats stay as they were
    assert stats() == b"count=2,bytes=3"


def test_auth_ids_are_listed_in_zookeepers_hash_order() -> None:
    # Measured with zkCli on ZooKeeper 3.8.0: after `addauth digest alice:wrong` and then
    # `addauth digest alice:secret`, an auth:: ACL lists alice:secret's digest first.
    wrong = Id("digest", digest_id("alice:wrong"))
    right = Id("digest", digest_id("alice:secret"))
    assert right.id == "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
    assert auth_order([wrong, right]) == [right, wrong]
    ip = Id("ip", "127.0.0.1")
    assert auth_order([ip, Id("digest", digest_id("u:p"))])[0] == ip


def test_children_come_in_java_hashset_order() -> None:
    assert string_hash("hello") == 99162322  # "hello".hashCode() in Java
    assert string_hash("\U0001F600") == (31 * 0xD83D + 0xDE00)  # by UTF-16 unit
    tree = DataTree()
    create(tree, "/p")
    names = [f"n{i}" for i in range(7)]
    for name in names:
        create(tree, f"/p/{name}")
    node = tree.get("/p")
    assert node.children.capacity == 16  # grown past 6 entries (0.75 of 8)
    assert node.child_names() == sorted(names, key=lambda n: bin_of(n, 16))
    # Whether that is ZooKeeper's order is checked against the real server in
    # test_embedded_differential.py.
