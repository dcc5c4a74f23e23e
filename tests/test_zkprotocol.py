"""zkprotocol against a real ZooKeeper: the requests kazoo lacks, and the event hook."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadArgumentsError, NoNodeError, NoWatcherError
from kazoo.retry import KazooRetry
from kazoo.security import OPEN_ACL_UNSAFE

from zkshell import zkprotocol as zp
from zkshell.server import LocalServer

from .conftest import EmbeddedBackend, make_server

WAIT = 5.0
CREATED, DELETED, CHANGED, CHILD = 1, 2, 3, 4
SYNC_CONNECTED = 3


class Recorder:
    """Collects what the hook reports; tests wait on a condition, never a fixed time."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int, str]] = []
        self._changed = threading.Condition()

    def __call__(self, event_type: int, state: int, path: str) -> None:
        with self._changed:
            self.events.append((event_type, state, path))
            self._changed.notify_all()

    def paths(self) -> list[tuple[int, str]]:
        with self._changed:
            return [(t, p) for t, _, p in self.events]

    def wait_for(self, count: int, timeout: float = WAIT) -> list[tuple[int, str]]:
        """Wait until `count` events have come (or the timeout); return their (type, path)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.events) >= count, timeout)
        return self.paths()


def new_client(hosts: str, **kwargs) -> KazooClient:
    client = KazooClient(hosts=hosts, **kwargs)
    client.start(timeout=10)
    return client


def close(client: KazooClient) -> None:
    client.stop()
    client.close()


@pytest.fixture(scope="module")
def server(backend: str) -> Iterator[LocalServer | EmbeddedBackend]:
    # Look for empty containers and expired TTL nodes every 100 ms, not every minute.
    local = make_server(backend, tick_time_ms=200, container_check_interval_ms=100)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAVA_TOOL_OPTIONS", "-Dznode.container.checkIntervalMs=100")
        local.start()
    try:
        yield local
    finally:
        local.cleanup()


@pytest.fixture
def admin(server: LocalServer | EmbeddedBackend) -> Iterator[KazooClient]:
    """Another session, to change things the client under test watches."""
    client = new_client(server.address)
    yield client
    close(client)


@pytest.fixture
def root(admin: KazooClient) -> Iterator[str]:
    path = f"/t-{uuid.uuid4().hex[:12]}"
    admin.create(path)
    yield path
    admin.delete(path, recursive=True)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(server: LocalServer | EmbeddedBackend, recorder: Recorder) -> Iterator[KazooClient]:
    client = KazooClient(hosts=server.address)
    zp.install_event_hook(client, recorder)
    client.start(timeout=10)
    yield client
    close(client)


def test_recursive_watch_reports_every_descendant_change_again_and_again(
        client, admin, root, recorder):
    assert zp.add_watch_async(client, root, zp.PERSISTENT_RECURSIVE).get(timeout=WAIT) is True
    admin.create(root + "/a")
    admin.create(root + "/a/b")
    admin.set(root + "/a/b", b"1")
    admin.set(root + "/a/b", b"2")
    admin.delete(root + "/a/b")
    expected = [(CREATED, root + "/a"), (CREATED, root + "/a/b"), (CHANGED, root + "/a/b"),
                (CHANGED, root + "/a/b"), (DELETED, root + "/a/b")]
    assert recorder.wait_for(len(expected)) == expected
    assert {state for _, state, _ in recorder.events} == {SYNC_CONNECTED}


def test_an_event_reaches_the_hook_before_the_reply_of_the_request_that_caused_it(
        client, root, recorder):
    zp.add_watch_async(client, root, zp.PERSISTENT_RECURSIVE).get(timeout=WAIT)
    client.create(root + "/x")
    # No waiting: the server sends the notification first, and the hook runs synchronously.
    assert recorder.paths() == [(CREATED, root + "/x")]


def test_persistent_watch_reports_its_node_and_its_children_only(client, root, recorder):
    zp.add_watch_async(client, root, zp.PERSISTENT).get(timeout=WAIT)
    client.create(root + "/x")
    client.create(root + "/x/y")  # a grandchild: nothing for a non-recursive watch
    client.set(root, b"data")
    client.create(root + "/z")  # it is still there after firing
    assert recorder.paths() == [(CHILD, root), (CHANGED, root), (CHILD, root)]


def test_kazoo_own_one_shot_watches_still_fire_with_the_hook_installed(client, root, recorder):
    fired = threading.Event()
    client.get(root, watch=lambda event: fired.set())
    client.set(root, b"x")
    assert recorder.paths() == [(CHANGED, root)]
    assert fired.wait(WAIT)


def test_removing_or_checking_a_watch_that_does_not_exist_is_no_watcher(client, root):
    with pytest.raises(NoWatcherError) as removed:
        zp.remove_watches_async(client, root, zp.WATCHER_ANY).get(timeout=WAIT)
    assert removed.value.code == -121
    with pytest.raises(NoWatcherError):
        zp.check_watches_async(client, root, zp.WATCHER_DATA).get(timeout=WAIT)


def test_removing_a_data_watch_set_by_kazoo(client, root, recorder):
    kazoo_fired = threading.Event()
    client.get(root, watch=lambda event: kazoo_fired.set())
    assert zp.check_watches_async(client, root, zp.WATCHER_DATA).get(timeout=WAIT) is True
    with pytest.raises(NoWatcherError):  # the type must match
        zp.remove_watches_async(client, root, zp.WATCHER_CHILDREN).get(timeout=WAIT)

    assert zp.remove_watches_async(client, root, zp.WATCHER_DATA).get(timeout=WAIT) is True
    with pytest.raises(NoWatcherError):
        zp.check_watches_async(client, root, zp.WATCHER_DATA).get(timeout=WAIT)
    assert root not in client._data_watchers  # kazoo forgot its callback too

    client.set(root, b"x")
    assert recorder.paths() == []
    # A later watch must not wake the removed callback.
    later = threading.Event()
    client.get(root, watch=lambda event: later.set())
    client.set(root, b"y")
    assert later.wait(WAIT)
    assert not kazoo_fired.is_set()


def test_get_ephemerals_matches_a_string_prefix_within_this_session(client, admin, root):
    client.create(root + "/app")
    client.create(root + "/app/eph", ephemeral=True)
    client.create(root + "/app/e2", ephemeral=True)
    client.create(root + "/app/other", ephemeral=True)
    client.create(root + "/app/eternal")  # persistent
    admin.create(root + "/app/e-admin", ephemeral=True)  # another session's

    found = zp.get_ephemerals_async(client, root + "/app/e").get(timeout=WAIT)
    assert sorted(found) == [root + "/app/e2", root + "/app/eph"]
    everything = zp.get_ephemerals_async(client, "/").get(timeout=WAIT)
    assert sorted(everything) == [root + "/app/e2", root + "/app/eph", root + "/app/other"]
    assert zp.get_ephemerals_async(client, "/nothing").get(timeout=WAIT) == []


def test_get_all_children_number_counts_descendants_at_every_depth(client, root):
    for path in ("/a", "/a/b", "/a/b/c", "/d"):
        client.create(root + path)
    assert zp.get_all_children_number_async(client, root).get(timeout=WAIT) == 4
    assert zp.get_all_children_number_async(client, root + "/a").get(timeout=WAIT) == 2
    assert zp.get_all_children_number_async(client, root + "/d").get(timeout=WAIT) == 0
    with pytest.raises(NoNodeError):
        zp.get_all_children_number_async(client, root + "/missing").get(timeout=WAIT)


def test_who_am_i_reports_the_ip_then_the_digest_user(client):
    assert zp.who_am_i_async(client).get(timeout=WAIT) == [("ip", "127.0.0.1")]
    client.add_auth("digest", "alice:pw")
    identities = zp.who_am_i_async(client).get(timeout=WAIT)
    assert sorted(identities) == [("digest", "alice"), ("ip", "127.0.0.1")]


def test_an_invalid_path_is_refused_before_it_is_sent(client):
    with pytest.raises(ValueError):
        zp.add_watch_async(client, "no-slash", zp.PERSISTENT)
    with pytest.raises(ValueError):
        zp.get_ephemerals_async(client, "/app/")


def test_set_watches_registers_what_it_is_given_with_the_server_rules(client, admin, root,
                                                                     recorder):
    admin.create(root + "/old", b"v1")
    admin.set(root + "/old", b"v2")
    admin.create(root + "/same")
    since = admin.exists(root + "/same").mzxid  # the last change so far
    stale = admin.exists(root + "/old").mzxid - 1

    zp.set_watches_async(client, since, data=[root + "/same"],
                         exist=[root + "/later"]).get(timeout=WAIT)
    assert recorder.paths() == []  # nothing changed after `since`
    # Changed after the zxid given, gone: they fire at once instead of being registered.
    zp.set_watches_async(client, stale, data=[root + "/old", root + "/gone"]).get(timeout=WAIT)
    assert sorted(recorder.paths()) == [(DELETED, root + "/gone"), (CHANGED, root + "/old")]

    admin.create(root + "/later")
    admin.set(root + "/same", b"x")
    expected = [(CREATED, root + "/later"), (CHANGED, root + "/same")]
    assert recorder.wait_for(4)[2:] == expected


def test_set_watches_restores_a_data_watch_after_a_reconnect(backend):
    # Ticks of 2 s allow a 10 s session, long enough to outlive a server restart.
    local = make_server(backend, tick_time_ms=2000)
    local.start()
    recorder = Recorder()
    client = KazooClient(hosts=local.address, timeout=10,
                         connection_retry=KazooRetry(max_tries=-1, delay=0.05, backoff=1,
                                                     max_jitter=0.05))
    zp.install_event_hook(client, recorder)
    try:
        client.start(timeout=10)
        client.create("/w")
        client.create("/control")
        client.get("/w", watch=lambda event: None)
        client.get("/control", watch=lambda event: None)
        session = client.client_id

        lost, back = threading.Event(), threading.Event()

        def listen(state: KazooState) -> None:
            if state != KazooState.CONNECTED:
                lost.set()
            elif lost.is_set():
                back.set()

        client.add_listener(listen)
        # SIGKILL: SIGTERM sometimes keeps the JVM in its shutdown hooks for 10 s.  The
        # session survives either way, as its creation is in the transaction log.
        local.stop(kill=True)
        assert lost.wait(WAIT)
        local.start()
        assert back.wait(15)
        assert client.client_id == session  # the same session on a new connection

        # The new connection starts without watches: kazoo does not re-register them.
        with pytest.raises(NoWatcherError):
            zp.check_watches_async(client, "/w", zp.WATCHER_DATA).get(timeout=WAIT)
        zp.set_watches_async(client, client.last_zxid, data=["/w"]).get(timeout=WAIT)
        assert zp.check_watches_async(client, "/w", zp.WATCHER_DATA).get(timeout=WAIT)
        with pytest.raises(NoWatcherError):
            zp.check_watches_async(client, "/control", zp.WATCHER_DATA).get(timeout=WAIT)

        other = new_client(local.address)
        try:
            other.set("/control", b"x")  # first, so an event for it would come first
            other.set("/w", b"x")
        finally:
            close(other)
        assert recorder.wait_for(1) == [(CHANGED, "/w")]
    finally:
        close(client)
        local.cleanup()


def test_chroot_is_added_to_requests_and_removed_from_answers_and_events(
        server, admin, root, recorder):
    sibling = root + "-sibling"  # shares the chroot's string prefix, not its subtree
    admin.create(sibling)
    chrooted = KazooClient(hosts=server.address + root)
    zp.install_event_hook(chrooted, recorder)
    try:
        chrooted.start(timeout=10)
        zp.add_watch_async(chrooted, "/", zp.PERSISTENT_RECURSIVE).get(timeout=WAIT)
        chrooted.create("/n", ephemeral=True)
        assert recorder.paths() == [(CREATED, "/n")]
        assert zp.get_ephemerals_async(chrooted, "/").get(timeout=WAIT) == ["/n"]
        assert zp.get_ephemerals_async(chrooted, "/n").get(timeout=WAIT) == ["/n"]
        assert zp.get_all_children_number_async(chrooted, "/").get(timeout=WAIT) == 1
        assert zp.check_watches_async(chrooted, "/", zp.WATCHER_ANY).get(timeout=WAIT)
        # The watch lives on the server's path, so the chrooted client sees it on "/".
        with pytest.raises(NoWatcherError):  # another session's watch is not admin's
            zp.remove_watches_async(admin, root, zp.WATCHER_ANY).get(timeout=WAIT)
        assert zp.remove_watches_async(chrooted, "/", zp.WATCHER_ANY).get(timeout=WAIT)
        assert zp.unchrooted(chrooted, root) == "/"
        assert zp.unchrooted(chrooted, sibling + "/x") == sibling + "/x"
        assert zp.chrooted(chrooted, "/n") == root + "/n"
    finally:
        close(chrooted)
        admin.delete(sibling)


def test_the_hook_survives_stop_and_start_and_can_be_removed(server, root, recorder):
    client = KazooClient(hosts=server.address)
    uninstall = zp.install_event_hook(client, recorder)
    connection = client._connection
    try:
        client.start(timeout=10)
        client.stop()
        client.start(timeout=10)  # a new session, on the same ConnectionHandler
        assert client._connection is connection
        zp.add_watch_async(client, root, zp.PERSISTENT_RECURSIVE).get(timeout=WAIT)
        client.create(root + "/a")
        assert recorder.paths() == [(CREATED, root + "/a")]
        uninstall()
        client.create(root + "/b")
        assert recorder.paths() == [(CREATED, root + "/a")]
    finally:
        close(client)


def test_a_failing_hook_is_logged_and_does_not_break_the_connection(client, root, recorder,
                                                                     caplog):
    def broken(event_type: int, state: int, path: str) -> None:
        raise RuntimeError("hook bug")

    zp.install_event_hook(client, broken)  # after the recorder: both must run
    zp.add_watch_async(client, root, zp.PERSISTENT_RECURSIVE).get(timeout=WAIT)
    with caplog.at_level("DEBUG", logger=zp.__name__):
        client.create(root + "/a")
    client.create(root + "/b")
    assert recorder.paths() == [(CREATED, root + "/a"), (CREATED, root + "/b")]
    assert "hook bug" in caplog.text


def test_a_container_goes_when_its_last_child_does_and_a_ttl_node_expires(client, root,
                                                                         recorder):
    zp.add_watch_async(client, root, zp.PERSISTENT_RECURSIVE).get(timeout=WAIT)
    container = client.handler.async_result()
    client._call(zp.CreateContainer(root + "/c", b"", OPEN_ACL_UNSAFE, 4), container)
    assert container.get(timeout=WAIT)[0] == root + "/c"
    client.create(root + "/c/x")
    client.delete(root + "/c/x")
    assert recorder.wait_for(4)[3:] == [(DELETED, root + "/c")]  # removed by the server

    ttl = client.handler.async_result()
    client._call(zp.CreateTTL(root + "/t-", b"d", OPEN_ACL_UNSAFE, 6, 1), ttl)
    path, stat = ttl.get(timeout=WAIT)
    assert path == root + "/t-0000000001"  # sequential: the parent's cversion was 1
    assert stat.ephemeralOwner == 0  # the server hides the TTL from clients
    assert recorder.wait_for(6)[4:] == [(CREATED, path), (DELETED, path)]

    with pytest.raises(BadArgumentsError):  # a TTL must be positive
        zp_call(client, zp.CreateTTL(root + "/t0", b"", OPEN_ACL_UNSAFE, 5, 0))


def zp_call(client: KazooClient, request: object) -> object:
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=WAIT)
