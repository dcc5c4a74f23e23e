"""The shell against real servers: one-shot and script modes, failures, reconnects, expiry."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
from kazoo.client import KazooClient

from zkshell.format import watcher_block
from zkshell.output import Output
from zkshell.player.proxy import FaultProxy
from zkshell.server import LocalServer, free_port, zkcli_command, zkcli_env
from zkshell.session import Session, SessionEvent
from zkshell.shell import Shell

from .conftest import make_server, run_zksh, wait_until


class EventLog:
    """Collects the WATCHER blocks a shell prints, and waits for one to arrive."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, event: SessionEvent) -> None:
        with self._changed:
            self.blocks.append(watcher_block(event.state, event.type, event.path))
            self._changed.notify_all()

    def wait_for(self, fragment: str, timeout: float = 10.0, after: int = 0) -> bool:
        """Wait for a block containing `fragment` among those after the first `after`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(fragment in block for block in self.blocks[after:]):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True


def streams(output: Output) -> list[tuple[str, str]]:
    """What went to which stream, in order."""
    return [(chunk.stream, chunk.text) for chunk in output.chunks]


def make_shell(address: str, timeout_ms: int = 4000) -> tuple[Shell, EventLog]:
    events = EventLog()
    shell = Shell(Session(address, timeout_ms), events)
    shell.session.connect()
    assert shell.session.wait_connected(10)
    return shell, events


@pytest.fixture
def admin(zk_server: LocalServer):
    client = KazooClient(hosts=zk_server.address)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


# ---- one-shot and script modes ---------------------------------------------------------

def test_one_shot_prints_only_the_output(chroot_address):
    assert run_zksh("-server", chroot_address, "create", "/a", "x").stderr == "Created /a\n"
    result = run_zksh("-server", chroot_address, "ls", "/")
    assert (result.stdout, result.stderr, result.returncode) == ("[a]\n", "", 0)


def test_one_shot_arguments_are_not_unquoted_like_zkcli(chroot_address):
    run_zksh("-server", chroot_address, "create", "/q", '""')
    assert run_zksh("-server", chroot_address, "get", "/q").stdout == '""\n'


def test_one_shot_exit_status_follows_zkcli(chroot_address):
    missing = run_zksh("-server", chroot_address, "get", "/missing")
    assert (missing.stderr, missing.returncode) == ("Node does not exist: /missing\n", 1)
    unknown = run_zksh("-server", chroot_address, "frobnicate")
    assert unknown.returncode == 127
    assert unknown.stderr.endswith("Command not found: Command not found frobnicate\n")


def test_script_mode_runs_each_line_and_exits_with_the_last_status(chroot_address):
    script = 'create /w ""\nget /w\nls /\nget /nope\n'
    result = run_zksh("-server", chroot_address, input=script)
    # zkCli's banner, then its connection event, then the commands' output.
    assert result.stdout == (f"Connecting to {chroot_address}\nWelcome to ZooKeeper!\n"
                             "JLine support is disabled\n\nWATCHER::\n\nWatchedEvent "
                             "state:SyncConnected type:None path:null\n\n[w]\n")
    assert result.stderr == "Created /w\nNode does not exist: /nope\n"
    assert result.returncode == 1


def test_script_mode_against_a_dead_server_fails_each_command_at_once():
    started = time.monotonic()
    result = run_zksh("-server", f"127.0.0.1:{free_port()}", input="ls /\nls /zookeeper\n")
    assert result.stderr == ("KeeperErrorCode = ConnectionLoss for /\n"
                             "KeeperErrorCode = ConnectionLoss for /zookeeper\n")
    assert "WATCHER" not in result.stdout
    assert time.monotonic() - started < 5  # zkCli: 1.4 s; waiting for a connection: 10 s


def test_an_unresolvable_host_fails_like_a_refused_one():
    started = time.monotonic()
    result = run_zksh("-server", "no-such-host.invalid:2181", "ls", "/")
    assert (result.stderr, result.returncode) == ("KeeperErrorCode = ConnectionLoss for /\n", 1)
    assert time.monotonic() - started < 10  # it used to wait out the whole session timeout


@pytest.mark.parametrize("address", ["127.0.0.1:abc", "", "127.0.0.1:99999", ":",
                                     "127.0.0.1:2181/a/../b", "127.0.0.1:2181//x"])
def test_a_bad_server_address_is_named_before_anything_starts(address):
    result = run_zksh("-server", address, "ls", "/")
    assert result.returncode == 2
    assert result.stderr.startswith("zksh: Invalid ")
    assert address in result.stderr and "Traceback" not in result.stderr


def test_connect_to_a_bad_address_keeps_the_current_session(chroot_address):
    result = run_zksh("-server", chroot_address,
                      input='connect 127.0.0.1:abc\nconnect ""\ncreate /still ""\nls /\n')
    assert ('Invalid server address "127.0.0.1:abc": Port could not be cast to integer '
            "value as 'abc'\n") in result.stderr
    assert 'Invalid server address "": bad hostname\n' in result.stderr
    assert result.stdout.endswith("[still]\n")
    assert "Traceback" not in result.stderr


def test_a_request_after_a_dropped_connection_waits_for_the_reconnect(chroot_address):
    # The server drops a connection whose packet is over its 1 MB limit; the next command
    # must run on the new connection, not fail because the old one ended.
    for _ in range(3):
        result = run_zksh("-server", chroot_address,
                          input=f"create /L {'x' * 1_100_000}\nls /L\n")
        assert result.stderr == ("KeeperErrorCode = ConnectionLoss for /L\n"
                                 "Node does not exist: /L\n")
        assert "state:Disconnected" in result.stdout


@pytest.mark.parametrize("value", ["99999999999", "0", "-5", "abc", ""])
def test_a_timeout_the_protocol_cannot_carry_is_refused(value):
    result = run_zksh("-server", "127.0.0.1:1", "-timeout", value, input="ls /\n",
                      timeout=20)
    assert result.returncode == 2
    assert result.stderr.startswith("-timeout must be a positive number of milliseconds")


def test_a_closed_pipe_ends_the_output_quietly(chroot_address, zk_server, admin):
    root = chroot_address[len(zk_server.address):]
    transaction = admin.transaction()
    for i in range(3000):
        transaction.create(f"{root}/n{i:04d}")
    transaction.commit()
    for args in (["ls", "-R", "/"], []):
        command = " ".join([sys.executable, "-m", "zkshell", "-server", chroot_address, *args])
        piped = "ls -R /\n" if not args else ""
        result = subprocess.run(f"printf '{piped}' | {command} | head -1; "
                                "echo \"status ${PIPESTATUS[1]}\"",
                                shell=True, executable="/bin/bash", capture_output=True,
                                text=True, timeout=60)
        assert "Traceback" not in result.stderr and "Error" not in result.stderr
        assert result.stdout.endswith("status 0\n")


def test_arguments_that_are_not_utf8_are_stored_as_java_stores_them(chroot_address, zk_server,
                                                                  admin):
    argv = [sys.executable, "-m", "zkshell", "-server", chroot_address, "create", "/raw",
            b"\xff\xfeab"]
    result = subprocess.run(argv, capture_output=True, timeout=60)
    assert (result.stderr, result.returncode) == (b"Created /raw\n", 0)
    root = chroot_address[len(zk_server.address):]
    assert admin.get(root + "/raw")[0] == "\ufffd\ufffdab".encode()


def test_one_shot_history_and_delete_root_under_a_chroot_are_zkclis(chroot_address):
    assert run_zksh("-server", chroot_address, "history").stdout == "0 - null\n"
    deleted = run_zksh("-server", chroot_address, "delete", "/")
    assert deleted.stderr == "Arguments are not valid : /\n"


def test_a_character_outside_the_bmp_is_invalid_in_a_path_as_in_java(chroot_address):
    result = run_zksh("-server", chroot_address, "create", "/t\U0001F600")
    assert result.stderr == 'Invalid path string "/t\U0001F600" caused by invalid character @2\n'


def test_dead_server_fails_fast_with_connection_loss_and_no_log_noise():
    started = time.monotonic()
    result = run_zksh("-server", f"127.0.0.1:{free_port()}", "ls", "/")
    assert result.stderr == "KeeperErrorCode = ConnectionLoss for /\n"
    assert result.returncode == 1
    assert time.monotonic() - started < 10


def test_bad_input_never_shows_a_traceback(chroot_address):
    script = ("set -v abc /x y\ndelete -v abc /x\nredo abc\nls nope\nls /a/\nls //\n"
              "create -t abc /t\nls -z /\nget\n\"\ncreate /x \"unterminated\n")
    result = run_zksh("-server", chroot_address, input=script)
    text = result.stdout + result.stderr
    assert "Traceback" not in text
    assert "-v argument must be an int value" in result.stderr
    assert "Command index must be a number: abc" in result.stderr
    assert "Path must start with / character" in result.stderr
    assert "Path must not end with / character" in result.stderr
    assert "Unrecognized option: -z\nls [-s] [-w] [-R] path\n" in result.stderr


@pytest.mark.parametrize("data", [b"ok\xff\xfe!", b"\xed\xa0\x80x", b"\xc0\xafz\xe2\x82",
                                  b"\xf0\x9f\x98\x80 \xf4\x90\x80\x80"])
def test_binary_data_is_printed_as_zkcli_prints_it(chroot_address, zk_server, admin, data):
    root = chroot_address[len(zk_server.address):]
    admin.create(root + "/bin", data)
    zksh = subprocess.run([sys.executable, "-m", "zkshell", "-server", chroot_address, "get",
                           "/bin"], capture_output=True, timeout=60)
    zkcli = subprocess.run([*zkcli_command(chroot_address), "get", "/bin"],
                           capture_output=True, timeout=60, env=zkcli_env())
    # zkCli's one-shot output is its banner, its connection event and the data; the event's
    # two lines come from its event thread, before or after the data (or either side of it).
    banner = f"Connecting to {chroot_address}\n".encode()
    event = [b"\nWATCHER::\n", b"\nWatchedEvent state:SyncConnected type:None path:null\n"]
    assert zkcli.stdout.startswith(banner), zkcli.stdout
    data = zkcli.stdout[len(banner):]
    for line in event:
        assert data.count(line) == 1, zkcli.stdout
        data = data.replace(line, b"")
    assert zksh.stdout == data


# ---- the session through failures ---------------------------------------------------

def test_server_down_then_back_keeps_the_session_and_its_ephemerals(backend):
    # A 20 s session (20 ticks of 1 s): it must outlive a JVM's restart on a busy machine.
    server = make_server(backend, tick_time_ms=1000).start()
    try:
        shell, events = make_shell(server.address, timeout_ms=20000)
        shell.execute('create -e /eph ""')
        shell.execute("get -w /eph")
        # SIGKILL: SIGTERM sometimes keeps ZooKeeper's JVM in its shutdown hooks for 10 s, half the
        # whole session timeout.  The session survives either way (the transaction log).
        server.stop(kill=True)
        assert events.wait_for("state:Disconnected type:None path:null")
        down = shell.execute("ls /")
        assert down.text() == "KeeperErrorCode = ConnectionLoss for /\n"
        assert shell.session.alive
        seen = len(events.blocks)  # the first SyncConnected is among them: wait for a new one
        server.start()
        assert events.wait_for("state:SyncConnected type:None path:null", 20, after=seen)
        assert shell.execute("ls /").text() == "[eph, zookeeper]\n"
        # The watch set before the outage was re-registered on reconnect: nothing is lost.
        shell.execute("delete /eph")
        assert events.wait_for("type:NodeDeleted path:/eph")
        shell.session.close()
    finally:
        server.cleanup()


def test_expired_session_is_reported_and_connect_starts_a_new_one(zk_server, admin):
    proxy = FaultProxy(zk_server.host, zk_server.port)
    try:
        shell, events = make_shell(proxy.address, timeout_ms=800)
        shell.execute('create -e /lost "x"')
        proxy.partition()
        assert events.wait_for("state:Disconnected type:None path:null")
        # the server expires the session
        assert wait_until(lambda: admin.exists("/lost") is None)
        proxy.heal()
        assert events.wait_for("state:Expired type:None path:null")
        assert shell.session.state_name == "CLOSED"
        assert shell.execute("ls /").text() == "Not connected\n"
        shell.execute("connect")
        assert events.wait_for("state:SyncConnected", timeout=10)
        assert shell.session.wait_connected(10)
        assert "zookeeper" in shell.execute("ls /").text()
        shell.session.close()
    finally:
        proxy.close()


def test_crash_leaves_ephemerals_until_expiry_and_quit_removes_them(zk_server, admin):
    proxy = FaultProxy(zk_server.host, zk_server.port)
    try:
        crashed, _ = make_shell(proxy.address, timeout_ms=800)
        crashed.execute('create -e /crashed ""')
        crashed.session.abandon(proxy.crash)
        assert admin.exists("/crashed") is not None  # still there: no close reached the server
        deadline = time.monotonic() + 10
        while admin.exists("/crashed") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert admin.exists("/crashed") is None
        polite, events = make_shell(zk_server.address, timeout_ms=4000)
        polite.execute('create -e /polite ""')
        polite.execute("quit")
        assert polite.state.quit_requested
        assert events.wait_for("state:Closed type:None path:null")
        assert admin.exists("/polite") is None  # gone at once
    finally:
        proxy.close()


def test_persistent_recursive_watch_sees_the_whole_subtree(zk_server, admin):
    shell, events = make_shell(zk_server.address)
    try:
        assert shell.execute("addWatch /pr").text() == ""
        admin.create("/pr/a/b", b"1", makepath=True)
        admin.set("/pr/a/b", b"2")
        for fragment in ("type:NodeCreated path:/pr", "type:NodeCreated path:/pr/a/b",
                         "type:NodeDataChanged path:/pr/a/b"):
            assert events.wait_for(fragment), events.blocks
        assert not any("NodeChildrenChanged" in block for block in events.blocks)
        assert shell.execute("removewatches /pr").text() == ""
        assert events.wait_for("type:PersistentWatchRemoved path:/pr")
        missing = shell.execute("removewatches /pr")
        assert missing.text() == "KeeperErrorCode = No such watcher for /pr\n"
    finally:
        shell.session.close()
        admin.delete("/pr", recursive=True)


def test_printwatches_off_hides_events_but_uses_the_watch(zk_server, admin):
    shell, events = make_shell(zk_server.address)
    try:
        admin.create("/pw", b"")
        shell.execute("get -w /pw")
        shell.execute("printwatches off")
        admin.set("/pw", b"x")
        deadline = time.monotonic() + 10
        while "/pw" in shell.session.watches.snapshot()["data"]:  # wait for the silent event
            assert time.monotonic() < deadline
            time.sleep(0.01)
        shell.execute("printwatches on")
        admin.set("/pw", b"y")  # the one-time watch was used up by the first change
        shell.execute("sync /pw")
        assert not events.wait_for("path:/pw", timeout=0.5)
    finally:
        shell.session.close()
        admin.delete("/pw")


def test_partition_healed_within_the_timeout_resumes_the_same_session(zk_server, admin):
    proxy = FaultProxy(zk_server.host, zk_server.port)
    try:
        shell, events = make_shell(proxy.address, timeout_ms=4000)
        session_id = shell.session.session_id
        shell.execute('create -e /resumed ""')
        shell.execute("ls -w /")
        proxy.partition()
        assert events.wait_for("state:Disconnected type:None path:null")
        seen = len(events.blocks)
        proxy.heal()
        assert events.wait_for("state:SyncConnected type:None path:null", timeout=10, after=seen)
        assert not any("Expired" in block for block in events.blocks)
        assert shell.session.session_id == session_id
        assert admin.exists("/resumed") is not None
        admin.create("/after-heal")  # the child watch set before the partition still fires
        assert events.wait_for("type:NodeChildrenChanged path:/")
        shell.session.close()
        admin.delete("/after-heal")
    finally:
        proxy.close()


# ---- the session's end, and what zkCli prints when the connection is not there --------

def test_refused_credentials_end_the_session_as_auth_failed(chroot_address):
    started = time.monotonic()
    result = run_zksh("-server", chroot_address, input="addauth foo bar\nls /\nwhoami\n",
                      timeout=60)
    assert time.monotonic() - started < 10  # kazoo alone sends the refused auth for ever
    assert result.stdout.count("state:AuthFailed type:None path:null") == 1
    # `ls /` races the refusal, in zkCli too: it fails with AuthFailed or finds the session
    # ended.  By `whoami` the session has ended.
    assert result.stdout.endswith("Not connected\n")
    assert result.stderr in ("", "KeeperErrorCode = AuthFailed for /\n")
    shell, events = make_shell(chroot_address)
    shell.execute("addauth foo bar")
    assert events.wait_for("state:AuthFailed")
    assert shell.session.state_name == "AUTH_FAILED"
    assert shell.prompt().endswith("(AUTH_FAILED) 1] ")
    shell.execute("connect")
    assert shell.session.wait_connected(10)
    assert shell.execute("ls /").text() == "[]\n"
    shell.session.close()


def test_quit_never_waits_on_a_server_that_does_not_answer():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) and never says a word
    port = listener.getsockname()[1]
    try:
        started = time.monotonic()
        result = run_zksh("-server", f"127.0.0.1:{port}", "-timeout", "30000",
                          input="quit\n", timeout=60)
        assert result.returncode == 0
        assert time.monotonic() - started < 8  # zkCli: 0.3 s; kazoo's stop alone: 30 s
    finally:
        listener.close()


def test_ls_r_walks_a_tree_deeper_than_python_recursion(chroot_address, zk_server, admin):
    root = chroot_address[len(zk_server.address):]
    path = root + "/deep"
    # In parts: one transaction of them all is over the 1 MB limit, and a deep one keeps a
    # busy embedded server from answering pings for longer than the 4 s session allows.
    for _ in range(48):
        transaction = admin.transaction()
        for _ in range(25):
            transaction.create(path)
            path += "/d"
        transaction.commit()
    result = run_zksh("-server", chroot_address, "ls", "-R", "/deep")
    assert result.returncode == 0, result.stderr[-500:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1200 and lines[0] == "/deep" and lines[-1] == "/deep" + "/d" * 1199
    for _ in range(48):  # kazoo's recursive delete would itself hit the recursion limit
        transaction = admin.transaction()  # deepest first: a transaction's deletes go in order
        for _ in range(25):
            path = path[:-2]
            transaction.delete(path)
        assert all(result is True for result in transaction.commit())


def test_sync_whoami_and_get_ephemerals_without_a_connection(fresh_server):
    shell, events = make_shell(fresh_server.address, timeout_ms=10000)
    fresh_server.stop()
    assert events.wait_for("state:Disconnected type:None path:null")
    assert streams(shell.execute("sync /")) == [("out", "Sync has failed. rc=-4\n")]
    whoami = shell.execute("whoami")
    # zkCli prints `Auth scheme: User`, exit 0, hiding the failure (docs/zkcli-differences.md).
    assert (streams(whoami), whoami.exit_code) == (
        [("err", "KeeperErrorCode = ConnectionLoss\n")], 1)
    assert streams(shell.execute("getEphemerals /x")) == [
        ("err", "KeeperErrorCode = ConnectionLoss\n")]
    shell.session.close()


def test_a_command_waiting_for_a_connection_fails_as_session_expired_if_it_is(zk_server,
                                                                               admin):
    proxy = FaultProxy(zk_server.host, zk_server.port)
    try:
        shell, events = make_shell(proxy.address, timeout_ms=800)
        shell.execute('create -e /e "x"')
        proxy.partition()
        assert events.wait_for("state:Disconnected type:None path:null")
        assert wait_until(lambda: admin.exists("/e") is None)  # the server expired it
        proxy.heal()
        # Sent while the client is between two connection attempts: the next one connects
        # and learns that the session has expired, which is this command's answer too.
        assert shell.execute("get /e").text() == "KeeperErrorCode = Session expired for /e\n"
        assert events.wait_for("state:Expired type:None path:null")
    finally:
        proxy.close()


def test_setquota_on_the_root_is_refused_as_zkcli_refuses_it(chroot_address):
    result = run_zksh("-server", chroot_address, "setquota", "-n", "1", "/")
    assert result.stderr == "Path must not end with / character\n"
