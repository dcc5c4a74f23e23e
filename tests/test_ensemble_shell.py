"""The shell on a three-member real ZooKeeper ensemble: `zksh -server a,b,c` fails over.

One ensemble for the module (three JVMs take seconds to start); each test begins with every
member running and a leader elected.  Killing the member the shell is connected to, and then
the leader, must leave the session, its ephemeral znode and its watches in place, and zksh
must print what zkCli.sh prints through the same failures.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from zkshell.ensemble import FOLLOWER, LEADER, LocalEnsemble, Status, parse_srvr
from zkshell.server import zkcli_command, zkcli_env
from zkshell.session import Session
from zkshell.shell import Shell

from .conftest import require_zookeeper, run_zksh, wait_until
from .test_shell_integration import EventLog

FAILOVER_S = 15.0  # a failover takes about a second; the rest is for a busy machine


@pytest.fixture(scope="module")
def ensemble() -> Iterator[LocalEnsemble]:
    require_zookeeper()
    with LocalEnsemble(3, tick_time_ms=200) as started:
        yield started


@pytest.fixture
def whole(ensemble: LocalEnsemble) -> LocalEnsemble:
    """The ensemble with all its members running again after an earlier test's kills."""
    for member in ensemble.members:
        ensemble.start_member(member.myid)
    ensemble.wait_for_leader()
    return ensemble


@pytest.fixture
def admin(whole: LocalEnsemble) -> Iterator[KazooClient]:
    client = KazooClient(hosts=whole.connect_string)
    client.start(timeout=FAILOVER_S)
    yield client
    client.stop()
    client.close()


def test_srvr_answers_are_read_as_roles():
    assert parse_srvr("Zookeeper version: 3.8.0\nZxid: 0x20000000a\nMode: follower\n") == \
        Status(FOLLOWER, "0x20000000a")
    assert parse_srvr("This ZooKeeper instance is not currently serving requests\n").role \
        == "looking"


def test_the_ensemble_has_one_leader_and_a_member_serves_each_session(whole, admin):
    roles = sorted(status.role for status in whole.statuses().values())
    assert roles == [FOLLOWER, FOLLOWER, LEADER]
    assert whole.serving(admin.client_id[0]) in (1, 2, 3)


def test_session_ephemeral_and_watch_survive_its_member_and_the_leader_dying(whole, admin):
    events = EventLog()
    shell = Shell(Session(whole.connect_string, 4000), events)
    shell.session.connect()
    try:
        assert shell.session.wait_connected(FAILOVER_S)
        session_id = shell.session.session_id
        assert shell.execute("create -e /kept-eph x").text() == "Created /kept-eph\n"
        shell.execute("create /kept-watched v1")
        shell.execute("get -w /kept-watched")

        # 1. the member the shell is connected to dies: the session moves to another one.
        first = whole.serving(session_id)
        assert first is not None
        seen = len(events.blocks)
        whole.stop_member(first)
        assert events.wait_for("state:SyncConnected", FAILOVER_S, after=seen + 1)
        assert events.blocks[seen:] == [_state_block("Disconnected"),
                                        _state_block("SyncConnected")]
        assert wait_until(lambda: whole.serving(session_id) not in (None, first))
        _assert_kept(shell, admin, session_id, events, "v2")
        whole.start_member(first)

        # 2. the leader dies: the survivors elect another; the session carries on.
        old_leader = whole.wait_for_leader()
        seen = len(events.blocks)
        whole.stop_member(old_leader)
        assert whole.wait_for_leader(FAILOVER_S) != old_leader
        assert wait_until(lambda: shell.session.state_name == "CONNECTED", FAILOVER_S)
        assert whole.serving(session_id) not in (None, old_leader)
        shell.execute("get -w /kept-watched")
        _assert_kept(shell, admin, session_id, events, "v3")
        # Every member stops serving while it elects, a follower too: the session was
        # disconnected once and connected again, wherever it was.
        assert events.blocks[seen:seen + 2] == [_state_block("Disconnected"),
                                                _state_block("SyncConnected")]
    finally:
        shell.session.close()


def _assert_kept(shell: Shell, admin: KazooClient, session_id: int, events: EventLog,
                 value: str) -> None:
    assert shell.session.session_id == session_id
    owner = admin.exists("/kept-eph").ephemeralOwner
    assert owner == session_id
    seen = len(events.blocks)
    admin.set("/kept-watched", value.encode())
    assert events.wait_for("type:NodeDataChanged path:/kept-watched", FAILOVER_S, after=seen)
    assert shell.execute("get /kept-watched").text() == value + "\n"


def _state_block(state: str) -> str:
    return f"\nWATCHER::\n\nWatchedEvent state:{state} type:None path:null\n"


class Piped:
    """A shell program reading commands from a pipe as they are written, its stdout kept."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env=zkcli_env())
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in list(self.lines))

    def finish(self) -> list[str]:
        """Quit, and the lines that tell the session's story: the events and data read."""
        self.send("quit")
        try:
            self.process.wait(timeout=FAILOVER_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        return [line for line in self.lines
                if line.startswith(("WatchedEvent", "value-", "[eph"))]


def test_zksh_prints_what_zkcli_prints_through_a_leader_election(whole, admin):
    admin.create("/zkcli-same", b"value-1")
    zkcli = Piped(zkcli_command(whole.connect_string))
    zksh = Piped([sys.executable, "-m", "zkshell", "-server", whole.connect_string])
    shells = (zkcli, zksh)
    try:
        for shell in shells:
            shell.send("create -e -s /zkcli-same/eph-")
            shell.send("get -w /zkcli-same")
        assert wait_until(lambda: all(s.count("value-1") == 1 for s in shells), FAILOVER_S)
        old_leader = whole.wait_for_leader()
        whole.stop_member(old_leader)
        whole.wait_for_leader(FAILOVER_S)
        assert wait_until(lambda: all(s.count("state:SyncConnected") == 2 for s in shells),
                          FAILOVER_S)
        admin.set("/zkcli-same", b"value-2")
        assert wait_until(lambda: all(s.count("NodeDataChanged") == 1 for s in shells),
                          FAILOVER_S)
        # Both ephemerals are still there: each shell's session survived under its own name.
        children = sorted(admin.get_children("/zkcli-same"))
        for shell in shells:
            shell.send("get /zkcli-same")
            shell.send("ls /zkcli-same")
        transcripts = [shell.finish() for shell in shells]
    finally:
        for shell in shells:
            if shell.process.poll() is None:
                shell.process.kill()
                shell.process.wait()
    assert len(children) == 2
    assert transcripts[0] == [
        "WatchedEvent state:SyncConnected type:None path:null",
        "value-1",
        "WatchedEvent state:Disconnected type:None path:null",
        "WatchedEvent state:SyncConnected type:None path:null",
        "WatchedEvent state:SyncConnected type:NodeDataChanged path:/zkcli-same",
        "value-2",
        f"[{', '.join(children)}]",
        "WatchedEvent state:Closed type:None path:null",
    ]
    assert transcripts[1] == transcripts[0]


GIVEN_ENSEMBLE = """\
servers: 3
sessions:
  anywhere: Anywhere
  on2: {label: "On server 2", server: 2}
steps:
  - await: {server: LEADER, role: leader, within: 10s}
  - await: {server: FOLLOWER, role: follower, within: 10s}
  - anywhere: create -e /given-eph ""
    expect: Created /given-eph
  - on2: ls /given-eph
    expect: "[]"
"""


def test_play_relays_each_session_to_the_members_of_a_given_ensemble(whole, tmp_path):
    scenario = tmp_path / "given.yaml"
    leader = whole.wait_for_leader()  # earlier tests' kills decide which
    follower = 1 if leader != 1 else 2
    scenario.write_text(GIVEN_ENSEMBLE.replace("LEADER", str(leader))
                        .replace("FOLLOWER", str(follower)))
    result = run_zksh("play", "--check", "--transcript", str(tmp_path / "t"),
                      "-server", whole.connect_string, str(scenario), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"   server: {whole.connect_string} (-server)\n" in result.stdout
    assert "4 steps, 4 checks: 4 passed, 0 failed, 0 timed out" in result.stdout
    # The pinned session's prompt names its member; the other's, one of the three.
    assert f"[zk: {whole.member(2).address}(CONNECTED) 0] ls /given-eph" in \
        (tmp_path / "t" / "on2.txt").read_text()
    anywhere = (tmp_path / "t" / "anywhere.txt").read_text()
    assert any(f"[zk: {m.address}(CONNECTED) 0] create" in anywhere for m in whole.members)
