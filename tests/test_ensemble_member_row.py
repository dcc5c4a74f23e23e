"""The teaching view's row of an ensemble's members: the pure lines, how the view places
them, server.txt, and reading a member without waiting on one that is down or silent.
(Played on a real ensemble: tests/test_ensemble_scenarios.py.)"""

from __future__ import annotations

import io
import socket
import time

import pytest
from rich.console import Console

from zkshell.player.export import server_transcript
from zkshell.player.member_row import (
    ISOLATED,
    MemberReading,
    member_lines,
    read_member,
    read_members,
)
from zkshell.player.panes import Pane, Picture
from zkshell.player.server_pane import ServerView
from zkshell.player.view import TeachingView, member_rows
from zkshell.server import free_port

NAMES = {0x100: "m1", 0x200: "w1", 0x300: "on3"}
ORDER = ("m1", "w1", "on3")


def _texts(readings, names=NAMES, order=ORDER) -> list[str]:
    return [line.text for line in member_lines(readings, names, order)]


def test_a_line_per_member_names_its_role_its_zxid_and_its_sessions_in_scenario_order():
    readings = [MemberReading(2, "leader", "0x100000004", frozenset({0x300, 0x100})),
                MemberReading(1, "follower", "0x100000004", frozenset({0x200})),
                MemberReading(3, "down")]
    assert _texts(readings) == ["1 follower zxid 0x100000004 · w1",
                                "2 leader zxid 0x100000004 · m1 on3",
                                "3 down"]


def test_sessions_the_scenario_does_not_name_are_left_out():
    """The server pane's own reading session, another client: not the scenario's."""
    reading = MemberReading(1, "follower", "0x100000004", frozenset({0x999}))
    assert _texts([reading]) == ["1 follower zxid 0x100000004"]


def test_a_member_not_serving_shows_no_zxid_and_an_isolated_one_says_so():
    readings = [MemberReading(1, "looking"),
                MemberReading(2, "follower", "0x100000007", frozenset({0x300}),
                              isolated=True),
                MemberReading(3, "looking", isolated=True),
                MemberReading(4, "down", isolated=True)]
    lines = member_lines(readings, NAMES, ORDER)
    assert [line.text for line in lines] == [
        "1 looking",
        "2 isolated (follower) zxid 0x100000007 · on3",  # it has not noticed yet
        "3 isolated (looking)",
        "4 isolated"]
    assert [line.state for line in lines] == ["looking", ISOLATED, ISOLATED, ISOLATED]


def test_the_row_takes_lines_by_count_and_width_only():
    assert member_rows(0, 120) == (0, 0)
    assert member_rows(3, 120) == (3, 1)
    assert member_rows(5, 120) == (3, 2)
    assert member_rows(3, 70) == (2, 2)
    assert member_rows(3, 20) == (1, 3)


def _picture(members) -> Picture:
    pane = Pane("m1", "Master", (), "connected", "[zk: a(CONNECTED) 0] ")
    return Picture(title="Leader failover", caption="", captions=(), panes=(pane,),
                   progress="step 7/17", status="running", members=members)


def _render(picture: Picture, width: int = 120, height: int = 12) -> list[str]:
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None)
    console.print(TeachingView(picture))
    return console.file.getvalue().splitlines()


def test_the_view_shows_the_members_under_the_title_and_keeps_its_height():
    members = member_lines([MemberReading(1, "follower", "0x200000000", frozenset({0x100})),
                            MemberReading(2, "down"),
                            MemberReading(3, "leader", "0x200000000", frozenset({0x200}))],
                           NAMES, ORDER)
    screen = _render(_picture(members))
    assert len(screen) == 12
    assert screen[0].startswith("Leader failover")
    assert screen[1].split() == ["1", "follower", "zxid", "0x200000000", "·", "m1",
                                 "2", "down",
                                 "3", "leader", "zxid", "0x200000000", "·", "w1"]
    assert screen[2].startswith("╭─ Master")
    narrow = _render(_picture(members), width=70)
    assert narrow[1].split()[:2] == ["1", "follower"] and "2 down" in narrow[1]
    assert narrow[2].split()[:2] == ["3", "leader"]
    assert narrow[3].startswith("╭─ Master")


def test_a_single_server_shows_no_member_row():
    screen = _render(_picture(()))
    assert screen[1].startswith("╭─ Master")


def test_server_txt_gives_the_members_above_the_tree_after_each_step():
    tree = ServerView(lines=(), note="")
    members = member_lines([MemberReading(1, "leader", "0x100000001", frozenset({0x100}))],
                           NAMES, ORDER)
    text = server_transcript([("before the first step", tree), ("after step 1/1: x", tree)],
                             [("before the first step", members),
                              ("after step 1/1: x", members)])
    assert text == ("== before the first step\n1 leader zxid 0x100000001 · m1\n\n\n"
                    "== after step 1/1: x\n1 leader zxid 0x100000001 · m1\n\n\n")
    assert server_transcript([], [("after step 1/1: x", members)]) == (
        "== after step 1/1: x\n1 leader zxid 0x100000001 · m1\n\n")


def test_a_member_zksh_stopped_is_down_without_being_asked():
    with socket.socket() as silent:  # would hold a reader for its whole timeout
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        assert read_member(2, host, port, known="down") == MemberReading(2, "down")
        silent.setblocking(False)
        with pytest.raises(BlockingIOError):  # no connection came
            silent.accept()


def test_a_member_that_refuses_is_down_and_one_that_says_nothing_is_looking_at_once():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        readings = read_members([("127.0.0.1", free_port())], timeout=0.3)
        started = time.monotonic()
        reading = read_member(2, *silent.getsockname(), known=ISOLATED)
        elapsed = time.monotonic() - started
    assert readings == [MemberReading(1, "down")]
    assert reading == MemberReading(2, "looking", isolated=True)
    # READ_TIMEOUT (0.3 s), not four_letter_word's second; the rest is for a busy machine.
    assert elapsed < 0.9

class _Board:
    def __init__(self) -> None:
        self.shown: list[tuple[tuple[str, ...], str | None]] = []

    def set_members(self, lines, heading=None) -> None:
        self.shown.append((tuple(line.text for line in lines), heading))


def test_the_feed_reads_before_the_first_step_and_after_each_one_until_closing():
    from types import SimpleNamespace

    from zkshell.player.member_row import MemberFeed
    from zkshell.player.model import DONE, StepResult
    from zkshell.player.scenario import Step

    board = _Board()
    hosts = [("127.0.0.1", free_port()), ("127.0.0.1", free_port())]
    feed = MemberFeed(hosts, board, known=lambda n: "down" if n == 1 else None, tick=60)
    player = SimpleNamespace(
        scenario=SimpleNamespace(sessions=[SimpleNamespace(name="m1")], steps=[None, None]),
        sessions={})
    feed.scenario_started(player)
    step = Step(kind="stop-server", line_no=3, member=2)
    feed.step_finished(player, 0, StepResult(step, DONE, 0.0))
    feed.closing(player)
    feed.step_finished(player, 1, StepResult(step, DONE, 0.0))  # the player's clean-up
    assert board.shown == [(("1 down", "2 down"), "before the first step"),
                           (("1 down", "2 down"), "after step 1/2: stop-server: 2")]
