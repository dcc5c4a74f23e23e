"""Subtree walks on trees of a few thousand znodes: ls -R, ls -R -w, setAcl -R, deleteall.

They go many requests at a time (multiRead, pipelined bundles); the output and the effect
must stay what zkCli's one-request-at-a-time walks give.
"""

from __future__ import annotations

import subprocess
import threading

import pytest
from kazoo.client import KazooClient
from kazoo.security import ACL, Id, make_digest_acl

from zkshell import format as fmt
from zkshell import zkprotocol
from zkshell.commands import tree
from zkshell.errors import NO_AUTH, NO_NODE, keeper_message
from zkshell.server import zkcli_command, zkcli_env
from zkshell.session import Session
from zkshell.shell import Shell

from .conftest import wait_until

# Names whose order is not the obvious one: case, punctuation, digits, beyond ASCII.  (Names
# outside the BMP, where Java's UTF-16 order differs from code points, are not valid znode
# names: PathUtils refuses surrogates.)
AWKWARD = ["a", "B", "_", "z-1", "z.1", "Z", "é", "\uFF5E", "10", "9", " x", "~"]
OPEN = [ACL(31, Id("world", "anyone"))]
KEY = ("keeper", "key")
# Anyone may read, only KEY's holder (the test's admin client) may do more.
READ_ONLY = [ACL(1, Id("world", "anyone")), make_digest_acl(*KEY, all=True)]


def build(admin: KazooClient, root: str, folders: int, per_folder: int,
          names: list[str] | None = None) -> None:
    """`folders` folders under root, each with `per_folder` children (named from `names`
    when given), a few deeper nodes, made by multi creates."""
    prefixes = names or ["f"]
    names = names or [f"n{i}" for i in range(per_folder)]
    base = root.rstrip("/")
    for f in range(folders):
        txn = admin.transaction()
        folder = f"{base}/{prefixes[f % len(prefixes)]}{f}"
        txn.create(folder)
        for name in names[:per_folder]:
            txn.create(f"{folder}/{name}")
        assert all(isinstance(result, str) for result in txn.commit())
    admin.ensure_path(f"{base}/deep/er/est")


def reference_walk(admin: KazooClient, root: str) -> list[str]:
    """ZKUtil.visitSubTreeDFS, one request at a time: the order zkCli prints."""
    out = [root]

    def helper(node: str) -> None:
        children = sorted(admin.get_children(node), key=fmt.java_string_key)
        paths = [f"{node.rstrip('/')}/{child}" for child in children]
        out.extend(paths)
        for path in paths:
            helper(path)

    helper(root)
    return out


@pytest.fixture
def lock(chroot_admin: KazooClient):
    """Make a znode read-only for everyone but the test's admin client, who unlocks it at
    the end (the tree's clean-up must delete under it)."""
    chroot_admin.add_auth("digest", ":".join(KEY))
    locked: list[str] = []

    def lock_one(path: str) -> None:
        chroot_admin.set_acls(path, READ_ONLY)
        locked.append(path)

    yield lock_one
    for path in locked:
        if chroot_admin.exists(path):
            chroot_admin.set_acls(path, OPEN)


@pytest.fixture
def shell(chroot_address: str):
    made = Shell(Session(chroot_address, 4000), lambda event: None)
    made.session.connect()
    assert made.session.wait_connected(10)
    yield made
    made.session.close()


def lines(output) -> list[str]:
    return output.text("out").splitlines()


def test_ls_r_prints_zkcli_order_on_awkward_names(shell: Shell, chroot_admin: KazooClient
                                                 ) -> None:
    build(chroot_admin, "/", 40, len(AWKWARD), AWKWARD)
    build(chroot_admin, "/deep", 30, 60)
    output = shell.execute("ls -R /")
    assert output.text("err") == ""
    assert lines(output) == reference_walk(chroot_admin, "/")
    assert len(lines(output)) > 1500
    sub = shell.execute("ls -R /deep")
    assert lines(sub) == reference_walk(chroot_admin, "/deep")


def test_ls_r_falls_back_to_plain_requests_without_multiread(
        shell: Shell, chroot_admin: KazooClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server before 3.6 answers multiRead as any unknown request: Unimplemented, and it
    closes the connection.  An opcode no server knows stands in for it."""
    build(chroot_admin, "/", 20, 50)
    monkeypatch.setattr(zkprotocol, "MULTI_READ", 999)
    output = shell.execute("ls -R /")
    assert lines(output) == reference_walk(chroot_admin, "/")
    assert shell.session.multi_read is False
    assert lines(shell.execute("ls -R /f1")) == reference_walk(chroot_admin, "/f1")


def test_ls_r_w_sets_a_child_watch_on_every_node_and_a_data_watch_on_the_root(
        chroot_address: str, chroot_admin: KazooClient) -> None:
    build(chroot_admin, "/", 10, 30)
    events: list[str] = []
    lock = threading.Condition()

    def sink(event) -> None:
        with lock:
            events.append(f"{event.type} {event.path}")

    shell = Shell(Session(chroot_address, 4000), sink)
    shell.session.connect()
    assert shell.session.wait_connected(10)
    try:
        walked = lines(shell.execute("ls -R -w /f3"))
        assert walked == reference_walk(chroot_admin, "/f3")
        assert shell.execute("printwatches on").exit_code == 0
        book = shell.session.watches.snapshot()
        assert sorted(book["child"]) == sorted(walked)
        assert list(book["data"]) == ["/f3"]
        chroot_admin.create("/f3/n7/new")   # a child watch on a leaf, set by the bundle
        chroot_admin.create("/f4/n1/other")  # not watched
        chroot_admin.set("/f3", b"x")        # the root's data watch
        assert wait_until(lambda: "NodeChildrenChanged /f3/n7" in events
                          and "NodeDataChanged /f3" in events)
        assert not any("/f4" in event for event in events)
    finally:
        shell.session.close()


def test_deleteall_deletes_a_big_tree_in_small_batches(shell: Shell,
                                                        chroot_admin: KazooClient) -> None:
    build(chroot_admin, "/", 30, 100)
    for batch in ("-b 7", ""):
        chroot_admin.ensure_path("/t")
        build(chroot_admin, "/t", 10, 50)
        output = shell.execute(f"deleteall /t {batch}".strip())
        assert (output.text(), output.exit_code) == ("", 0)
        assert chroot_admin.exists("/t") is None
    assert len(reference_walk(chroot_admin, "/")) == 1 + 30 * 101 + 3


def test_deleteall_says_so_when_a_batch_fails_and_sends_no_more(
        shell: Shell, chroot_admin: KazooClient, lock) -> None:
    """The last folder listed is deleted first; its children cannot be (no delete right on
    it), so the first batch fails and nothing after it is sent: the other folders stay."""
    chroot_admin.ensure_path("/t")
    build(chroot_admin, "/t", 30, 20)
    last = reference_walk(chroot_admin, "/t")[-1]  # deep/er/est: listed last, deleted first
    lock("/t/deep/er")
    output = shell.execute("deleteall /t -b 5")
    assert output.text("err") == "Failed to delete some node(s) in the subtree!\n"
    assert chroot_admin.exists(last)
    remaining = reference_walk(chroot_admin, "/t")
    assert len(remaining) > 30 * 21 - 10 * 5 - 1  # at most ten batches in flight applied


def test_setacl_r_sets_every_acl_and_reports_noauth_where_zkcli_does(
        shell: Shell, chroot_admin: KazooClient, lock) -> None:
    build(chroot_admin, "/", 12, 40)
    lock("/f5")  # no admin right: setACL fails, listing works
    output = shell.execute("setAcl -R / world:anyone:cdrwa")
    assert output.text("out") == keeper_message(NO_AUTH, "/f5")
    for path in reference_walk(chroot_admin, "/"):
        if path != "/f5":
            assert chroot_admin.get_acls(path)[0] == OPEN, path


def test_setacl_r_that_takes_read_away_fails_the_walk_as_zkcli_does(
        shell: Shell, chroot_admin: KazooClient) -> None:
    """Each node's setACL reaches the server before the getChildren that lists its
    children, so taking `r` away makes the walk's next listing fail with NoAuth."""
    build(chroot_admin, "/", 3, 5)
    try:
        output = shell.execute("setAcl -R /f1 world:anyone:a")
    finally:
        chroot_admin.set_acls("/f1", OPEN)
    assert output.text("err") == "Insufficient permission : /f1\n"
    assert chroot_admin.get_acls("/f1/n0")[0] == OPEN


def test_a_node_gone_before_its_children_are_read_is_skipped(
        shell: Shell, chroot_admin: KazooClient, monkeypatch: pytest.MonkeyPatch) -> None:
    build(chroot_admin, "/", 5, 10)
    receive = tree.ChildLister.receive

    def gone(self, nodes, sent, sort):
        answers = receive(self, nodes, sent, sort)
        return [NO_NODE if node == "/f2" else answer for node, answer in zip(nodes, answers)]

    monkeypatch.setattr(tree.ChildLister, "receive", gone)
    expected = [path for path in reference_walk(chroot_admin, "/")
                if not path.startswith("/f2/")]
    assert lines(shell.execute("ls -R /")) == expected


def test_ls_r_and_setacl_r_print_what_zkcli_prints(backend: str, zk_server,
                                                   chroot_admin: KazooClient,
                                                   chroot_address: str, lock) -> None:
    if backend != "zookeeper":
        pytest.skip("zkCli.sh runs against the real server")
    build(chroot_admin, "/", 8, len(AWKWARD), AWKWARD)
    lock("/a0")
    for command in (["ls", "-R", "/"], ["setAcl", "-R", "/", "world:anyone:cdrwa"]):
        java = subprocess.run(zkcli_command(chroot_address, *command), capture_output=True,
                              text=True, env=zkcli_env(), timeout=60, check=False)
        shell = Shell(Session(chroot_address, 4000), lambda event: None)
        shell.session.connect()
        assert shell.session.wait_connected(10)
        ours = shell.execute(" ".join(command)).text("out")
        shell.session.close()
        assert ours and java.stdout.endswith(ours), command



def test_a_walk_streams_its_lines_while_it_runs(shell: Shell, chroot_admin: KazooClient
                                                ) -> None:
    """The first line goes out at once, the rest in parts as the walk goes, and nothing is
    left in the returned Output: a huge tree is never held whole."""
    build(chroot_admin, "/", 20, 100)
    parts: list[str] = []
    output = shell.execute("ls -R /", live=lambda chunks: parts.append(
        "".join(chunk.text for chunk in chunks)))
    assert parts[0] == "/\n"
    assert len(parts) > 3
    assert "".join(parts).splitlines() == reference_walk(chroot_admin, "/")
    assert (output.chunks, output.exit_code) == ([], 0)


def test_a_walk_of_wide_folders_holds_a_bounded_number_of_paths_ahead(
        shell: Shell, chroot_admin: KazooClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking ahead is bounded in paths, not only in lists: with folders of 300 children
    and room for 1,000 paths, the walk never holds much more than that (a count of lists
    alone let every folder in at once: 6,000 paths, the whole tree)."""
    build(chroot_admin, "/", 20, 300)
    monkeypatch.setattr(tree, "PATHS_AHEAD", 1_000)
    most = 0
    receive = tree._DepthFirst._receive_oldest

    def counting(walk: tree._DepthFirst) -> None:
        nonlocal most
        receive(walk)
        held = sum(len(answer) for answer in walk.ready.values() if isinstance(answer, list))
        most = max(most, held)

    monkeypatch.setattr(tree._DepthFirst, "_receive_oldest", counting)
    output = shell.execute("ls -R /")
    assert lines(output) == reference_walk(chroot_admin, "/")
    assert 300 <= most <= 1_000 + 300  # the bound, and one list asked for whatever the room
