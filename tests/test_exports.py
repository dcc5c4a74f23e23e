"""Exports of a run (`--transcript`, `--svg`, `--html`, `--cast`), parsed and checked."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zkshell.player.cli import build_parser
from zkshell.player.export import transcript_name
from zkshell.player.loader import load_scenario
from zkshell.player.show import export_path

from .conftest import make_server, run_zksh

# The awaits first: a session's connection event is then in its window before any command.
SCENARIO = """\
title: Exports test
sessions:
  m1: Process 1 — m1.example.com
  m2: Process 2
steps:
  - await: {m1: "state:SyncConnected type:None", within: 10s}
  - await: {m2: "state:SyncConnected type:None", within: 10s}
  - note: "Process 1 creates a job; Process 2 watches it"
  - m1: create /job "x"
    expect: Created /job
  - m2: get -w /job
    expect: x
  - m1: set /job "y"
  - await: {m2: "type:NodeDataChanged path:/job", within: 10s}
  - m2: get /nothing
    expect: "Node does not exist: /nothing"
  - quit: m1
"""

# Each window starts with the shell's banner and ends where it was left: at its prompt, or
# after the process was stopped (the marker the pane shows too).
M1 = """Connecting to {server}
Welcome to ZooKeeper!

WATCHER::

WatchedEvent state:SyncConnected type:None path:null
[zk: {server}(CONNECTED) 0] create /job "x"
Created /job
[zk: {server}(CONNECTED) 1] set /job "y"
[zk: {server}(CONNECTED) 2] quit

WATCHER::

WatchedEvent state:Closed type:None path:null
── quit ──
"""

M2 = """Connecting to {server}
Welcome to ZooKeeper!

WATCHER::

WatchedEvent state:SyncConnected type:None path:null
[zk: {server}(CONNECTED) 0] get -w /job
x

WATCHER::

WatchedEvent state:SyncConnected type:NodeDataChanged path:/job
[zk: {server}(CONNECTED) 1] get /nothing
Node does not exist: /nothing
[zk: {server}(CONNECTED) 2] """


@pytest.fixture(scope="module")
def exported(tmp_path_factory, backend):
    """One `zksh play --check` run with every export, against a server of the test's own."""
    out = tmp_path_factory.mktemp("exports")
    scenario = out / "tiny.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    server = make_server(backend, tick_time_ms=200)
    server.start()
    try:
        run = run_zksh("play", "--check", "-server", server.address,
                       "--transcript", str(out / "transcripts"), "--svg", str(out / "view.svg"),
                       "--html", str(out / "view.html"), "--cast", str(out / "view.cast"),
                       str(scenario), timeout=60)
    finally:
        server.cleanup()
    assert run.returncode == 0, run.stdout + run.stderr
    return out, server.address, load_scenario(str(scenario)), run


def test_the_plain_report_is_unchanged_by_exports(exported):
    _out, _server, _scenario, run = exported
    assert "9 steps, 6 checks: 6 passed, 0 failed, 0 timed out" in run.stdout
    assert "\x1b[" not in run.stdout


def test_each_session_has_the_transcript_of_its_zkcli_window(exported):
    out, server, _scenario, _run = exported
    files = sorted(p.name for p in (out / "transcripts").iterdir())
    assert files == ["m1.txt", "m2.txt", "server.txt"]
    assert (out / "transcripts" / "m1.txt").read_text("utf-8") == M1.format(server=server)
    assert (out / "transcripts" / "m2.txt").read_text("utf-8") == M2.format(server=server)


def test_server_txt_is_the_server_pane_after_each_step(exported):
    out, _server, scenario, _run = exported
    steps = (out / "transcripts" / "server.txt").read_text("utf-8").split("\n\n== ")
    assert len(steps) == 1 + len(scenario.steps)
    assert steps[0] == ("== before the first step\n  (none of the scenario's znodes yet)\n"
                        "(child watches: as each session registered them (ZooKeeper's "
                        "four-letter words list data watches only))")
    after = {step.split("\n")[0]: step.split("\n")[1] for step in steps[1:]}
    assert after['after step 4/9: m1: create /job "x"'] == '+ /job "x"'
    assert after["after step 5/9: m2: get -w /job"] == '~ /job <data m2> "x"'
    assert after['after step 6/9: m1: set /job "y"'] == '~ /job "y"'  # the watch fired


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return "".join((element.text or "").replace("\xa0", " ") for element in root.iter()
                   if element.tag.endswith("}text"))


def test_the_svg_is_the_final_view(exported):
    out, _server, _scenario, _run = exported
    root = ET.parse(out / "view.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [(element.text or "").replace("\xa0", " ") for element in root.iter()
             if element.tag.endswith("}text")]
    joined = "\n".join(texts)
    assert "Exports test" in texts  # the window's title
    for expected in ("Process 1 — m1.example.com", "Process 2", 'create /job "x"',
                     "get -w /job", "WATCHER::", "Node does not exist: /nothing",
                     "Process 1 creates a job; Process 2 watches it"):
        assert expected in joined, expected
    assert "╭─ server ─" in svg_text(out / "view.svg")


def test_the_html_page_is_the_final_view(exported):
    out, _server, _scenario, _run = exported
    page = html.unescape((out / "view.html").read_text("utf-8"))
    assert page.lstrip().lower().startswith("<!doctype html>")
    for expected in ("Process 1 — m1.example.com", "Process 2", 'create /job "x"',
                     "get -w /job", "quit", "WatchedEvent state:SyncConnected"):
        assert expected in page, expected


def read_cast(path: Path):
    lines = path.read_text("utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def replay(header, events) -> list[str]:
    """The screen at the end of a recording made of zksh's row updates, as plain text."""
    rows = [""] * header["height"]
    for _at, code, data in events:
        if code == "o":
            for match in re.finditer(r"\x1b\[(\d+);1H(.*?)(?=\x1b\[\d+;1H|\Z)", data, re.S):
                rows[int(match.group(1)) - 1] = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "",
                                                       match.group(2))
    return rows


def check_cast(path: Path, scenario) -> list[str]:
    header, events = read_cast(path)
    assert header["version"] == 2
    assert isinstance(header["width"], int) and isinstance(header["height"], int)
    assert isinstance(header["timestamp"], int) and header["title"] == scenario.title
    times = []
    for event in events:
        assert isinstance(event, list) and len(event) == 3
        at, code, data = event
        assert isinstance(at, float) and code in ("o", "m") and isinstance(data, str)
        times.append(at)
    assert times == sorted(times)
    markers = [data for _at, code, data in events if code == "m"]
    assert markers == [step.summary() for step in scenario.steps]
    return replay(header, events)


def test_the_cast_is_asciicast_v2_with_a_marker_per_step(exported):
    out, _server, scenario, _run = exported
    screen = check_cast(out / "view.cast", scenario)
    header, _events = read_cast(out / "view.cast")
    assert (header["width"], header["height"]) == (120, 40)
    text = "\n".join(screen)
    assert "Process 1 — m1.example.com" in text and "Process 2" in text
    assert "Node does not exist: /nothing" in text
    assert "9 steps, 6 checks: 6 passed, 0 failed, 0 timed out" in text
    assert re.search(r"│\s+/job \"y\"\s+│", text)  # the server pane, beside the sessions
    assert "╭─ server ─" in text


def test_the_plain_report_and_every_picture_say_which_server_played(exported):
    out, server, scenario, run = exported
    line = f"server: {server} (-server)"
    assert run.stdout.splitlines()[:2] == [f"== Exports test  ({out / 'tiny.yaml'})",
                                           f"   {line}"]
    # The view's title row: the title, then the server.
    title_row = f"Exports test  ·  {line}"
    svg = ET.parse(out / "view.svg").getroot()
    svg_text = "".join((element.text or "").replace("\xa0", " ") for element in svg.iter()
                       if element.tag.endswith("}text"))
    assert title_row in svg_text
    page = re.sub(r"<[^>]*>", "", (out / "view.html").read_text("utf-8"))  # style spans
    assert title_row in html.unescape(page)
    assert check_cast(out / "view.cast", scenario)[0].startswith(title_row)


def test_a_cast_writes_only_the_lines_that_changed():
    from zkshell.player.cast import CastRecorder

    cast = CastRecorder(40, 3, title="t")
    cast.frame(["a", "b", "c"], 40, 3)
    cast.frame(["a", "B", "c"], 40, 3)
    cast.frame(["a", "B", "c"], 40, 3)
    outputs = [data for _at, code, data in cast.events if code == "o"]
    assert len(outputs) == 2
    assert outputs[1] == "\x1b[2;1HB\x1b[0m"
    cast.frame(["x"], 50, 1)
    assert [code for _at, code, _data in cast.events] == ["o", "o", "r", "o"]
    assert cast.events[2][2] == "50x1"


def test_export_names_are_safe_and_distinct_per_scenario(tmp_path):
    assert transcript_name("worker1") == "worker1.txt"
    assert transcript_name("../etc/passwd") == "_etc_passwd.txt"
    path = tmp_path / "failover.yaml"
    path.write_text("sessions: [m1]\nsteps:\n  - m1: ls /\n", encoding="utf-8")
    scenario = load_scenario(str(path))
    assert export_path("out/view.svg", scenario, several=False) == "out/view.svg"
    assert export_path("out/view.svg", scenario, several=True) == "out/view-failover.svg"


@pytest.mark.parametrize("argv, message", [
    (["--size", "10x5", "x.yaml"], "at least 40x10"),
    (["--delay", "-1", "x.yaml"], "cannot be negative"),
    (["--delay", "soon", "x.yaml"], "not a number of seconds"),
])
def test_bad_pacing_and_size_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_size_and_typing_options_parse():
    args = build_parser().parse_args(["--size", "100x30", "--no-typing", "x.yaml"])
    assert args.size == (100, 30) and args.typing is False
    assert build_parser().parse_args(["x.yaml"]).typing is None


def test_the_layout_option_parses_and_reaches_the_view(capsys):
    from zkshell.player.cli import show_options

    assert build_parser().parse_args(["x.yaml"]).layout == "auto"
    args = build_parser().parse_args(["--layout", "grid", "x.yaml"])
    assert show_options(args).layout == "grid"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--layout", "rows", "x.yaml"])
    assert "invalid choice: 'rows'" in capsys.readouterr().err


def test_the_server_pane_option_parses_and_reaches_the_view():
    from zkshell.player.cli import show_options

    assert show_options(build_parser().parse_args(["x.yaml"])).server_pane is None
    assert show_options(build_parser().parse_args(["--server-pane", "x.yaml"])).server_pane
    assert show_options(build_parser().parse_args(["--no-server-pane", "x.yaml"])
                        ).server_pane is False


def test_no_server_pane_leaves_it_out_of_every_export(tmp_path, zk_server):
    scenario = tmp_path / "one.yaml"
    scenario.write_text("sessions: [a]\nsteps:\n  - a: create /no-pane ''\n",
                        encoding="utf-8")
    run = run_zksh("play", "--check", "--no-server-pane", "--reset", "-server",
                   zk_server.address, "--transcript", str(tmp_path / "t"),
                   "--svg", str(tmp_path / "v.svg"), str(scenario), timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["a.txt"]
    assert "╭─ server ─" not in svg_text(tmp_path / "v.svg")


def picture_rows(page: str) -> list[list[str]]:
    """The pane titles of an exported HTML picture, row by row."""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    return [re.findall(r"╭─ (.+?) ─", line) for line in text.split("\n") if "╭─" in line]


@pytest.mark.parametrize("layout, size, rows", [
    ("auto", (160, 45), [["m1", "m2"], ["worker1", "client"]]),
    ("auto", (80, 24), [["m1"], ["m2"], ["worker1"], ["client"]]),
    ("columns", (160, 45), [["m1", "m2", "worker1", "client"]]),
    ("grid", (240, 60), [["m1", "m2"], ["worker1", "client"]]),
])
def test_pictures_place_the_panes_as_the_live_view_does(tmp_path, layout, size, rows):
    from types import SimpleNamespace

    from zkshell.player.export import render_picture
    from zkshell.player.model import LogEntry
    from zkshell.player.panes import Board

    path = tmp_path / "four.yaml"
    path.write_text("sessions: [m1, m2, worker1, client]\nsteps:\n  - m1: ls /\n",
                    encoding="utf-8")
    board = Board(load_scenario(str(path)))
    for name in ("m1", "m2", "worker1", "client"):
        board.entry_added(SimpleNamespace(name=name), LogEntry("output", f"{name} was here\n"))
    page = render_picture(board, *size, "html", layout=layout)
    assert picture_rows(page) == rows
    for name in ("m1", "m2", "worker1", "client"):
        assert f"{name} was here" in html.unescape(page)
