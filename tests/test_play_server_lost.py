"""A server that dies during a run is noticed at the step where it stops answering: the run
stops there, and a partition's lost connections (the player's own doing) are no alarm."""

from __future__ import annotations

import time

from zkshell.player.loader import load_scenario
from zkshell.player.model import Observer
from zkshell.player.observers import Fanout
from zkshell.player.panes import Board
from zkshell.player.runner import Player

SHORT = """\
session_timeout: 1s
sessions: [m1, m2]
steps:
  - m1: create /a ""
  - m2: ls /
  - m1: ls /
  - m2: ls /
  - m1: ls /
  - m2: ls /
"""

PARTITION = """\
session_timeout: 4s
sessions: [m1, m2]
steps:
  - m1: create /a ""
  - partition: m1
  - m1: ls /
  - m2: ls /
  - heal: m1
  - m1: ls /
  - crash: m2
  - restart: m2
  - m2: ls /
"""


class _StopServerAt(Observer):
    def __init__(self, server, index: int) -> None:
        self.server, self.index = server, index

    def step_started(self, player, index, step) -> None:
        if index == self.index:
            self.server.stop(kill=True)


def _scenario(tmp_path, text: str):
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(str(path))


def test_the_run_stops_at_the_step_where_the_server_stopped_answering(tmp_path, fresh_server):
    scenario = _scenario(tmp_path, SHORT)
    board = Board(scenario)
    player = Player(scenario, fresh_server.address,
                    Fanout(_StopServerAt(fresh_server, 2), board))
    started = time.monotonic()
    results = player.run()
    assert time.monotonic() - started < 10
    assert len(results) == 3  # the step that noticed, and none after
    assert player.server_lost == (f"server {fresh_server.address} stopped answering at step 3 "
                                  f"of 6 (m1: ls /, line 6)")
    # The view's status line says why the run stopped, before the counts, as a failure.
    picture = board.picture()
    assert picture.status.startswith(f"{player.server_lost} · 3 steps, 0 checks")
    assert picture.failed
    assert all(not played.running or played.shell.session.client is None
               for played in player.sessions.values())


def test_a_partition_s_lost_connection_is_no_dead_server(tmp_path, fresh_server):
    scenario = _scenario(tmp_path, PARTITION)
    player = Player(scenario, fresh_server.address)
    results = player.run()
    assert player.server_lost is None
    assert len(results) == len(scenario.steps)
