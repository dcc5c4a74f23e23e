"""The `expire` step: the server ends a session now, as its expiry would, on both servers.

The sessions ask for 4 s (the most a test server's 200 ms tick grants); every await after an
`expire` allows 1 s, so a pass is the step's doing, not the clock's.
"""

from __future__ import annotations

import time

import pytest

from zkshell.player import runner
from zkshell.player.expire_now import ExpireFailed, end_session
from zkshell.player.loader import load_scenario
from zkshell.player.model import DONE, PASSED, Observer
from zkshell.player.runner import Player
from zkshell.server import free_port

DELETED = "WatchedEvent state:SyncConnected type:NodeDeleted path:/master"
DISCONNECTED = "WatchedEvent state:Disconnected type:None path:null"
EXPIRED = "WatchedEvent state:Expired type:None path:null"


def play(tmp_path, address: str, steps: str):
    path = tmp_path / "expire.yaml"
    path.write_text("session_timeout: 4s\nsessions: [m1, m2]\nsteps:\n"
                    '  - m1: create -e /master "m1"\n  - m2: stat -w /master\n' + steps,
                    encoding="utf-8")
    player = Player(load_scenario(str(path)), address)
    started = time.monotonic()
    results = player.run()
    return player, results, time.monotonic() - started


def statuses(results) -> list[str]:
    return [f"{r.step.summary()}: {r.status} {r.message}".strip() for r in results[2:]]


def events(played) -> list[str]:
    return [entry.text.strip().rpartition("\n")[2] for entry in played.log
            if entry.kind == "event"]


def test_a_crashed_session_ends_at_once_instead_of_after_its_timeout(tmp_path, zk_server):
    _player, results, took = play(tmp_path, zk_server.address, f"""\
  - crash: m1
  - m2: get /master
    expect: m1
  - expire: m1
  - await: {{m2: "{DELETED}", within: 1s}}
  - m2: create -e /master "m2"
    expect: Created /master
""")
    assert statuses(results) == ["crash: m1: done", "m2: get /master: passed",
                                 "expire: m1: done", f"await m2: {DELETED}: passed",
                                 'm2: create -e /master "m2": passed']
    assert took < 3.5  # the session's 4 s never ran out


def test_a_connected_session_sees_what_a_zkcli_window_sees(tmp_path, zk_server):
    # zkCli.sh, its session ended by another connection: Disconnected, then Expired, then
    # its prompt says CLOSED and a command says Not connected (checked by hand, 3.8.0).
    player, results, _took = play(tmp_path, zk_server.address, f"""\
  - expire: m1
  - await: {{m2: "{DELETED}", within: 1s}}
  - await: {{m1: "{EXPIRED}", within: 1s}}
  - m1: ls /
    expect: Not connected
""")
    assert [r.status for r in results[2:]] == [DONE, PASSED, PASSED, PASSED]
    m1 = player.sessions["m1"]
    assert events(m1)[-2:] == [DISCONNECTED, EXPIRED]
    assert "(CLOSED) 1] ls /" in m1.recent()


def test_a_cut_off_session_learns_it_was_expired_when_the_network_heals(tmp_path, zk_server):
    _player, results, took = play(tmp_path, zk_server.address, f"""\
  - partition: m1
  - expire: m1
  - await: {{m2: "{DELETED}", within: 1s}}
  - heal: m1
  - await: {{m1: "{EXPIRED}", within: 3s}}
""")
    assert [r.status for r in results[2:]] == [DONE, DONE, PASSED, DONE, PASSED]
    assert took < 3.5


def test_expiring_a_session_the_server_has_already_closed_is_no_failure(tmp_path, zk_server):
    # A typed `close` ends the session; the loader cannot know, and there is nothing to end.
    _player, results, _took = play(tmp_path, zk_server.address, f"""\
  - m1: close
  - await: {{m2: "{DELETED}", within: 1s}}
  - expire: m1
  - m1: connect
  - m1: create -e /master "m1 again"
    expect: Created /master
""")
    assert [r.status for r in results[2:]] == [DONE, PASSED, DONE, DONE, PASSED]


def test_a_server_that_does_not_answer_fails_the_step_with_a_reason_in_bounded_time():
    started = time.monotonic()
    with pytest.raises(ExpireFailed, match=r"no connection to 127\.0\.0\.1:\d+ within 0\.5s "
                                           r"to end session 0x1c"):
        end_session("127.0.0.1", free_port(), (0x1c, bytes(16)), 4000, wait=0.5)
    assert time.monotonic() - started < 4.5  # the wait, and stopping the client


def test_a_session_that_never_connected_cannot_be_expired(monkeypatch):
    # Nothing listens on the port: m1 never gets a session.  (A scenario's run stops before
    # its first step when a session cannot connect; a restarted one may never connect.)
    monkeypatch.setattr(runner, "CONNECT_WAIT", 0.2)
    played = runner.PlayedSession("m1", "m1", runner.Target.parse(f"127.0.0.1:{free_port()}"),
                                  4000, Observer())
    try:
        assert played.expire() == "session m1 never connected: there is no session to expire"
    finally:
        played.close()
