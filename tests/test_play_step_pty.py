"""`zksh play --step` in a pseudo-terminal: keys drive the live view, which shows the panes."""

from __future__ import annotations

import json
import os
import pty
import sys

import pexpect
import pytest
from kazoo.client import KazooClient

from zkshell.player.pacing import NEXT, KeyReader
from zkshell.player.panes import BOTTOM, DOWN, NEXT_PANE, PAGE_DOWN, TOP, UP
from zkshell.player.panes import PAGE_UP as PAGE_UP_MOVE

from .conftest import require_zookeeper

SCENARIO = """\
title: Step by step
session_timeout: 4s
sessions:
  m1: Process 1 — m1.example.com
  m2: Process 2 — m2.example.com
steps:
  - note: "Process 2 watches the master's znode"
  - m1: create -e /master "m1"
    expect: Created /master
  - m2: stat -w /master
    expect: {contains: 'dataLength = 2'}
  - m1: delete /master
  - await: {m2: "type:NodeDeleted path:/master", within: 10s}
  - m2: ls /
    expect: "[zookeeper]"
"""
STEPS = 6
TIMEOUT = 60  # generous: a loaded CI machine starts Java slowly; nothing here sleeps


@pytest.fixture
def scenario(tmp_path):
    require_zookeeper()
    path = tmp_path / "step.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def spawn(*args: str, dimensions: tuple[int, int] = (40, 120)) -> pexpect.spawn:
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", TZ="UTC")
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    # Against real ZooKeeper, as before the embedded server became the default: the
    # reference stays covered (tests/test_scenarios.py plays the default too).
    where = [] if "-server" in args else ["--zookeeper"]
    return pexpect.spawn(sys.executable, ["-m", "zkshell", "play", *where, *args], env=env,
                         dimensions=dimensions, encoding="utf-8", timeout=TIMEOUT)


def expect(child: pexpect.spawn, text: str) -> None:
    """Wait for `text`; on failure say what was expected and what the terminal got."""
    try:
        child.expect_exact(text)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pytest.fail(f"Expected: {text!r}\nActual (last 3000 chars): {child.before[-3000:]!r}")


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    rest = child.before
    child.close()
    return rest


def test_keys_advance_the_scenario_and_the_panes_show_each_step(scenario, tmp_path):
    cast = tmp_path / "step.cast"
    child = spawn("--step", "--delay", "0", "--cast", str(cast), str(scenario))
    transcript = []
    child.logfile_read = _Collect(transcript)
    # A frame is drawn top to bottom and only when something changed: expect in that order.
    expect(child, "Process 1 — m1.example.com")
    expect(child, "Process 2 — m2.example.com")
    expect(child, f"next 1/{STEPS}: note: Process 2 watches")
    child.send("\r")
    expect(child, "Process 2 watches the master's znode")  # the note, as the caption
    expect(child, f"next 2/{STEPS}: m1: create -e /master")
    child.send("\r")
    expect(child, "Created /master")
    expect(child, f"next 3/{STEPS}: m2: stat -w /master")
    child.send(" ")
    expect(child, "dataLength = 2")
    expect(child, f"next 4/{STEPS}")
    child.send("c")  # the rest without waiting
    expect(child, "WatchedEvent state:SyncConnected type:NodeDeleted")  # wraps in a pane
    expect(child, "[zookeeper]")
    expect(child, "6 steps, 4 checks: 4 passed, 0 failed, 0 timed out")
    finish(child)
    assert child.exitstatus == 0
    assert "Traceback" not in "".join(transcript)
    lines = cast.read_text("utf-8").splitlines()
    header = json.loads(lines[0])
    assert (header["width"], header["height"]) == (120, 39)  # the view leaves the last line
    markers = [json.loads(line)[2] for line in lines[1:] if json.loads(line)[1] == "m"]
    assert len(markers) == STEPS and markers[1] == 'm1: create -e /master "m1"'


def test_q_stops_the_demo_and_the_exit_status_says_not_everything_was_checked(scenario):
    child = spawn("--step", str(scenario))
    expect(child, f"next 1/{STEPS}")
    child.send("\r")
    expect(child, f"next 2/{STEPS}")
    child.send("q")
    rest = finish(child)
    assert child.exitstatus == 1
    assert "(stopped after 1 of 6)" in rest
    assert "Traceback" not in rest


def test_ctrl_c_stops_cleanly_and_closes_every_session(scenario, fresh_server):
    child = spawn("--step", "-server", fresh_server.address, str(scenario))
    for number in (1, 2):
        expect(child, f"next {number}/{STEPS}")
        child.send("\r")
    expect(child, "Created /master")
    expect(child, f"next 3/{STEPS}")
    child.sendintr()
    rest = finish(child)
    assert child.exitstatus == 130
    assert "interrupted" in rest and "Traceback" not in rest
    # Closed, not abandoned: m1's ephemeral went with its session, at once.
    client = KazooClient(hosts=fresh_server.address)
    client.start(timeout=10)
    try:
        assert client.exists("/master") is None
    finally:
        client.stop()
        client.close()


SCROLLING = """\
title: Scrolling back
sessions:
  m1: Process 1
  m2: Process 2
steps:
  - m1: create /early "x"
  - m1: stat /
  - m1: stat /early
  - m2: ls /
"""
PAGE_UP, END = "\x1b[5~", "\x1b[F"  # as xterm sends them


def test_while_waiting_the_teacher_scrolls_a_pane_back_and_the_next_step_snaps_back(tmp_path):
    require_zookeeper()
    path = tmp_path / "scroll.yaml"
    path.write_text(SCROLLING, encoding="utf-8")
    # 80x24: a pane a row, each eight lines tall; m1's `Created /early` is long gone when
    # the last step waits, under two stat blocks.
    child = spawn("--step", "--delay", "0", str(path), dimensions=(24, 80))
    for number in (1, 2, 3):
        expect(child, f"next {number}/4")
        child.send("\r")
    expect(child, "next 4/4: m2: ls /")
    child.send("2")
    expect(child, "▶ Process 2")
    child.send("1")
    expect(child, "▶ Process 1")
    child.send(PAGE_UP * 3)  # the frames come only from the keys: nothing else changes
    expect(child, "Created /early")
    expect(child, "lines back")
    child.send(END)
    expect(child, "(CONNECTED) 3]")  # m1's latest prompt, at the bottom again
    child.send(PAGE_UP * 3)
    expect(child, "Created /early")
    child.send("\r")  # the next step: every pane shows its latest lines again
    expect(child, "(CONNECTED) 3]")
    expect(child, "4 steps, 0 checks")
    finish(child)
    assert child.exitstatus == 0


def test_scroll_keys_are_read_whole_from_a_terminal():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream, KeyReader(stream) as keys:
            os.write(master, b"\x1b[5~\x1b[A\x1bOB\x1b[6~\x1b[H\x1b[Fx\t3\r")
            actions = [keys.read_action() for _ in range(9)]
    finally:
        os.close(master)
        os.close(slave)
    assert actions == [PAGE_UP_MOVE, UP, DOWN, PAGE_DOWN, TOP, BOTTOM, NEXT_PANE, "pane 3",
                       NEXT]


class _Collect:
    """A pexpect log that keeps everything the terminal received."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def write(self, data: str) -> None:
        self.sink.append(data)

    def flush(self) -> None:
        pass
