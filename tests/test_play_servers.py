"""Which server `zksh play` plays against, and every view saying which one it was."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from zkshell.player import servers
from zkshell.player.cli import build_parser
from zkshell.player.panes import Pane, Picture
from zkshell.player.report import PlainReport
from zkshell.player.scenario import Scenario
from zkshell.player.view import TeachingView

from .conftest import require_zookeeper, run_zksh

TINY = """\
title: Tiny
sessions: [m1]
steps:
  - m1: create /x "1"
    expect: Created /x
"""


def test_each_server_is_named_in_one_line():
    assert (servers.PlayServer(servers.EMBEDDED, "127.0.0.1:4000").line
            == "server: zksh embedded (in-process, ZooKeeper 3.8 protocol) at 127.0.0.1:4000")
    assert (servers.PlayServer(servers.ZOOKEEPER, "127.0.0.1:4000", "3.8.0").line
            == "server: Apache ZooKeeper 3.8.0 (local, started by zksh) at 127.0.0.1:4000")
    assert (servers.PlayServer(servers.ZOOKEEPER, "127.0.0.1:4000").line
            == "server: Apache ZooKeeper (local, started by zksh) at 127.0.0.1:4000")
    assert servers.given("zk1:2181/app").line == "server: zk1:2181/app (-server)"


def test_the_embedded_server_is_the_default_and_zookeeper_or_server_choose_another():
    parser = build_parser()
    args = parser.parse_args(["x.yaml"])
    assert (args.server, args.zookeeper) == (None, False)
    assert parser.parse_args(["--zookeeper", "x.yaml"]).zookeeper
    with pytest.raises(SystemExit):  # one server or the other, not both
        parser.parse_args(["--zookeeper", "-server", "h:2181", "x.yaml"])


def test_the_started_embedded_server_serves_and_is_stopped_after():
    import socket

    with servers.started(servers.EMBEDDED, 100) as server:
        assert server.kind == servers.EMBEDDED
        host, port = server.address.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=2).close()
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()


class _Player:
    scenario = Scenario(path="tiny.yaml", title="Tiny", about="", session_timeout=1.0, sessions=[])
    server_line = "server: zksh embedded (in-process, ZooKeeper 3.8 protocol) at 127.0.0.1:1"
    sessions: dict = {}


def test_the_plain_report_says_which_server_played_under_the_title():
    out = io.StringIO()
    PlainReport(out).scenario_started(_Player())
    assert out.getvalue() == ("== Tiny  (tiny.yaml)\n"
                              "   server: zksh embedded (in-process, ZooKeeper 3.8 protocol) "
                              "at 127.0.0.1:1\n")


def test_the_view_s_title_row_names_the_server_after_the_title():
    pane = Pane(name="m1", label="m1", entries=(), state="connected", prompt=None)
    picture = Picture(title="Tiny", caption="", captions=(), panes=(pane,), progress="1/1",
                      status="", server="server: 127.0.0.1:2181 (-server)")
    console = Console(file=io.StringIO(), width=100, height=12, color_system=None)
    lines = console.render_lines(TeachingView(picture), console.options.update(height=12))
    first = "".join(segment.text for segment in lines[0])
    assert first.startswith("Tiny  ·  server: 127.0.0.1:2181 (-server)")
    assert first.rstrip().endswith("1/1")


def test_play_without_server_needs_no_java(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    # Nothing on PATH: LocalServer would fail with "no 'java' on PATH".
    result = run_zksh("play", "--check", str(scenario), env={"PATH": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "   server: zksh embedded (in-process, ZooKeeper 3.8 protocol) at " in result.stdout
    assert "1 steps, 1 checks: 1 passed" in result.stdout


def test_zookeeper_without_java_says_what_to_do(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    result = run_zksh("play", "--check", "--zookeeper", str(scenario),
                      env={"PATH": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("zksh play: cannot start a local ZooKeeper: ")
    assert "zksh play -server HOST:PORT" in result.stderr
    assert result.stdout == ""


def test_zookeeper_plays_against_apache_zookeeper(tmp_path):
    require_zookeeper()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    result = run_zksh("play", "--check", "--zookeeper", str(scenario))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "   server: Apache ZooKeeper 3.8." in result.stdout
    assert "(local, started by zksh) at 127.0.0.1:" in result.stdout


def test_the_help_texts_name_the_embedded_server_and_zksh_server():
    play_help = " ".join(run_zksh("play", "--help").stdout.split())  # as argparse wraps it
    assert "zksh's embedded ZooKeeper 3.8 server, in this process (no Java)" in play_help
    assert "--zookeeper play against a local Apache ZooKeeper" in play_help
    usage = run_zksh("--help").stdout
    assert "zksh server [--port 2181] [options]" in usage
    assert "a single node, in memory" in usage
