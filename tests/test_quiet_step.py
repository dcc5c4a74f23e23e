"""The `quiet` step: a session received no (matching) watch event, on both servers.

What it exists for is the lock recipe's lesson: a release wakes exactly one waiter, and the
other waiters' windows stay quiet.
"""

from __future__ import annotations

import threading

from kazoo.client import KazooClient

from zkshell.player.loader import load_scenario
from zkshell.player.model import DONE, FAILED, FAILURE, PASSED, Observer
from zkshell.player.panes import Board
from zkshell.player.runner import Player
from zkshell.player.verdict import verdict_text

# Each test has znodes of its own (ephemeral: the session-wide server keeps no leftovers).
SETUP = """\
session_timeout: 4s
sessions: [c1, c2, c3]
steps:
  - c1: create -e /{name}-a ""
  - c1: create -e /{name}-b ""
  - c2: stat -w /{name}-a
  - c3: stat -w /{name}-b
"""


def write(tmp_path, name: str, steps: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(SETUP.format(name=name) + steps.format(name=name), encoding="utf-8")
    return path


def play(tmp_path, address: str, name: str, steps: str, observer: Observer | None = None):
    player = Player(load_scenario(str(write(tmp_path, name, steps))), address, observer)
    return player, player.run()[4:]


def test_a_release_that_wakes_one_waiter_leaves_the_other_quiet(tmp_path, zk_server):
    _player, results = play(tmp_path, zk_server.address, "quiet-one", """\
  - quiet: {{c2, c3, for: 200ms}}
  - c1: delete /{name}-a
  - await: {{c2: 'type:NodeDeleted path:/{name}-a', within: 5s}}
  - quiet: {{c3, c2, for: 500ms}}
""")
    # The first quiet passes though each window shows its connection's SyncConnected event;
    # the last passes for c2 because its one event was taken by the await.
    assert [r.status for r in results] == [PASSED, DONE, PASSED, PASSED]
    assert [r.message for r in results] == ["", "", "", ""]
    assert 0.5 <= results[3].duration < 0.95  # one window for both sessions, not one each


def test_an_event_that_came_before_the_step_fails_it_at_once(tmp_path, zk_server):
    # The server sends a deletion's NodeDeleted before its parent's NodeChildrenChanged:
    # once the await has the second, the first is in c3's window before the quiet step.
    scenario = load_scenario(str(write(tmp_path, "quiet-before", """\
  - c3: ls -w /
  - c1: delete /{name}-b
  - await: {{c3: 'type:NodeChildrenChanged path:/', within: 5s}}
  - quiet: {{c2, c3, for: 2s}}
""")))
    board = Board(scenario)
    results = Player(scenario, zk_server.address, board).run()[5:]
    assert [r.status for r in results] == [DONE, PASSED, FAILED]
    got = ("c3 got: WATCHER:: WatchedEvent state:SyncConnected type:NodeDeleted "
           "path:/quiet-before-b")
    assert results[2].message == got
    assert results[2].duration < 1  # not the whole 2 s window
    assert verdict_text(results[2]) == f"✗ {got}"
    assert "type:NodeDeleted path:/quiet-before-b" in results[2].actual
    # The verdict goes to the pane of the session that got it, not the first one named.
    assert [e.text for e in board.entries("c3") if e.kind == FAILURE] == [f"✗ {got}"]
    assert [e.text for e in board.entries("c2") if e.kind == FAILURE] == []


def test_an_event_that_arrives_within_the_window_fails_the_step(tmp_path, zk_server):
    client = KazooClient(hosts=zk_server.address)
    client.start(timeout=10)

    class DeleteDuringQuiet(Observer):
        def step_started(self, player, index, step):
            if step.kind == "quiet":  # from outside the scenario, 100 ms into the window
                threading.Timer(0.1, client.delete, ["/quiet-during-b"]).start()

    try:
        _player, results = play(tmp_path, zk_server.address, "quiet-during", """\
  - quiet: {{c3, for: 1s}}
""", DeleteDuringQuiet())
    finally:
        client.stop()
        client.close()
    assert [r.status for r in results] == [FAILED]
    assert results[0].message == ("c3 got: WATCHER:: WatchedEvent state:SyncConnected "
                                  "type:NodeDeleted path:/quiet-during-b")
    assert results[0].duration >= 1  # it came 0.1 s in; the step waited its window out


def test_a_pattern_forbids_only_what_it_matches(tmp_path, zk_server):
    _player, results = play(tmp_path, zk_server.address, "quiet-pattern", """\
  - c3: ls -w /
  - c1: create -e /{name}-c ""
  - await: {{c1: 'Created', within: 1s}}
  - quiet: {{c3: 'type:NodeDeleted', c2: {{match: 'path:/{name}-'}}, for: 200ms}}
  - quiet: {{c3: 'type:NodeChildrenChanged path:/', for: 200ms}}
""")
    assert [r.status for r in results] == [DONE, DONE, PASSED, PASSED, FAILED]
    assert results[4].message == ("c3 got: WATCHER:: WatchedEvent state:SyncConnected "
                                  "type:NodeChildrenChanged path:/")
