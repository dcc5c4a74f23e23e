"""Many sessions in one scenario (issue 15): issue 15's group scenario at 200 sessions, a
session the server refuses, awaits skipped after a failure, and the view's summary of the
panes that do not fit."""

from __future__ import annotations

import io
import re
import socket

import pytest
from rich.console import Console

from benchmarks.many_sessions import group_scenario
from zkshell.embedded import EmbeddedServer
from zkshell.exit_status import ExitStatus
from zkshell.player.loader import load_scenario
from zkshell.player.model import FAILURE, LogEntry
from zkshell.player.panes import Pane, Picture, summarised
from zkshell.player.runner import Player, SessionRefused, refused
from zkshell.player.view import TeachingView, layout_shape
from zkshell.server import LocalServer, four_letter_word, free_port

from .conftest import require_zookeeper, run_zksh, wait_until

MANY = 200


@pytest.mark.parametrize("backend", ["embedded", "zookeeper"])
def test_two_hundred_sessions_play_in_check_mode(tmp_path, backend):
    options = []
    if backend == "zookeeper":
        require_zookeeper()
        options = ["--zookeeper"]
    scenario = tmp_path / "group.yaml"
    scenario.write_text(group_scenario(MANY), encoding="utf-8")
    result = run_zksh("play", "--check", *options, str(scenario), timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    checks = 2 + 2 * MANY  # the boss's two creates, each session's create and await
    assert f"{3 * MANY + 2} steps, {checks} checks: {checks} passed, 0 failed" in result.stdout


LIMIT = 5


def _limited_server(backend: str):
    if backend == "embedded":
        return EmbeddedServer(tick_time_ms=400, max_client_cnxns=LIMIT).start()
    require_zookeeper()
    return LocalServer(tick_time_ms=400, max_client_cnxns=LIMIT).start()


@pytest.mark.parametrize("backend", ["embedded", "zookeeper"])
def test_a_session_over_max_client_cnxns_stops_the_run_before_its_first_step(tmp_path,
                                                                              backend):
    server = _limited_server(backend)
    try:
        scenario = tmp_path / "group.yaml"
        scenario.write_text(group_scenario(2 * LIMIT), encoding="utf-8")
        result = run_zksh("play", "--check", "-server", server.address, str(scenario))
    finally:
        server.stop()
        if backend == "zookeeper":
            server.cleanup()
    assert result.returncode == ExitStatus.ERROR, result.stdout + result.stderr
    # The boss and s0..s3 take the five connections; which session is refused first may
    # vary by one, as the server may not have seen the player's probe close yet.
    refused = re.fullmatch(
        r"zksh play: session (s\d+) could not connect to (.*): the server closed the "
        r"connection as soon as it opened; its limit of connections from one address "
        r"\(maxClientCnxns, 60 by default\) is the likely cause; stopped there\n"
        r"  raise maxClientCnxns in the server's zoo.cfg \(0: no limit\), or play fewer "
        r"sessions\n", result.stderr)
    assert refused, result.stderr
    assert refused.group(1) in (f"s{LIMIT - 2}", f"s{LIMIT - 1}")
    assert refused.group(2) == server.address
    assert "0 steps, 0 checks" in result.stdout


def test_the_embedded_server_allows_sixty_connections_from_one_address_by_default():
    with EmbeddedServer() as server:
        held = [socket.create_connection((server.host, server.port)) for _ in range(60)]
        try:
            assert wait_until(lambda: len(server.core.accepted) == 60)
            with socket.create_connection((server.host, server.port), timeout=10) as extra:
                assert extra.recv(16) == b""  # closed at once, as ZooKeeper does
            assert "maxClientCnxns=60\n" in four_letter_word_after(held, server)
        finally:
            for sock in held:
                sock.close()


def four_letter_word_after(held: list[socket.socket], server: EmbeddedServer) -> str:
    """`conf`, once one of the held connections has gone (the limit is full)."""
    held.pop().close()
    assert wait_until(lambda: len(server.core.accepted) < 60)
    return four_letter_word(server.host, server.port, "conf")


def test_after_a_failed_check_the_awaits_left_are_skipped_not_waited_out(tmp_path):
    # Issue 15's failure: /group is never made, so no session's watch can ever fire.  Each
    # await would wait its 30 s; the subprocess's own timeout is far below their sum.
    text = group_scenario(10, within="30s").replace('boss: create /group ""',
                                                      'boss: create /elsewhere ""')
    scenario = tmp_path / "group.yaml"
    scenario.write_text(text, encoding="utf-8")
    result = run_zksh("play", "--check", str(scenario), timeout=100)
    assert result.returncode == ExitStatus.ERROR, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skip ")]
    assert len(skipped) == 10
    assert skipped[0].endswith("(not awaited: the run had already failed)")
    assert ("32 steps, 22 checks: 0 passed, 12 failed, 0 timed out, 10 skipped (not "
            "awaited: the run had already failed)") in result.stdout


# ---- the teaching view ---------------------------------------------------------------------
def _pane(name: str, at: float, state: str = "connected", failed: bool = False) -> Pane:
    entries = [LogEntry("command", "[zk: 1] ls -w /group", prompt="[zk: 1] ", at=at)]
    if failed:
        entries.append(LogEntry(FAILURE, "✗ expected", at=at))
    return Pane(name, name, tuple(entries), state, "[zk: 1] ")


def _render(panes: list[Pane], width: int = 120, height: int = 40) -> str:
    picture = Picture(title="A title", caption="", captions=(), panes=tuple(panes),
                      progress="", status="the status")
    console = Console(file=io.StringIO(), width=width, height=height, record=True)
    console.print(TeachingView(picture))
    return console.export_text()


def test_the_panes_that_do_not_fit_are_summed_up_in_a_line():
    panes = [_pane(f"s{n}", at=n) for n in range(MANY)]
    panes[3] = _pane("s3", at=3, state="crashed")
    panes[5] = _pane("s5", at=5, failed=True)
    text = _render(panes)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= 40 and lines[-1].startswith("the status")  # nothing pushed off
    summary = [line for line in lines if line.startswith("+ ")]
    shown = 18  # MAX_PANES, and two more to fill the last row of three
    assert [line.rstrip() for line in summary] == [
        f"+ {MANY - shown} more sessions: {MANY - shown - 1} connected, 1 crashed"]
    # Drawn: the pane with a failure, and those that printed last.
    assert "s5" in text and f"s{MANY - 1}" in text
    assert " s4 " not in text


def test_the_summary_counts_hidden_failures():
    panes = [_pane(f"s{n}", at=n, failed=n in (1, 2)) for n in range(40)]
    shown, line = summarised(tuple(panes), 1)
    assert [pane.name for pane in shown] == ["s2"]  # a failure, and the later of the two
    assert line == "+ 39 more sessions: 39 connected · 1 failed"


def test_auto_layout_of_many_panes_terminates():
    # Asking 101 columns for 200 panes gives two rows of 100 again: it used to loop forever.
    assert layout_shape(MANY, 120, 38) == (29, 7)


def test_a_server_that_refuses_connections_stops_the_run_with_its_reason(tmp_path):
    path = tmp_path / "nobody.yaml"
    path.write_text("sessions: [m1]\nsteps:\n  - m1: ls /\n", encoding="utf-8")
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    player = Player(load_scenario(str(path)), address)
    assert player.run() == []
    assert isinstance(player.lost, SessionRefused)
    assert player.server_lost == f"session m1 could not connect to {address}: Connection refused"


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"),
                                   ConnectionResetError(104, "Connection reset by peer")])
def test_a_relay_whose_server_closed_at_once_names_max_client_cnxns(error: OSError) -> None:
    # Seen in a full run: ZooKeeper over its limit reached the relay's own connect as a
    # broken pipe, and the run said only "Broken pipe".
    said = refused("s4", "127.0.0.1:2181", None, error)
    assert "maxClientCnxns" in str(said) and "raise maxClientCnxns" in said.hint
