"""Every broken scenario file gives its expected `file:line: message`, and nothing runs."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from zkshell.player.loader import ScenarioError, load_scenario
from zkshell.player.scenario import Expectation, QuietCheck

from .conftest import run_zksh

BAD = Path(__file__).parent / "data" / "bad_scenarios"
SHIPPED = Path(__file__).parent.parent / "scenarios"


def expected_problems() -> dict[str, list[str]]:
    by_file: dict[str, list[str]] = collections.defaultdict(list)
    for line in (BAD / "expected.txt").read_text().splitlines():
        by_file[line.split(":", 1)[0]].append(line)
    return by_file


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("*.yaml")))
def test_broken_file_reports_every_problem_with_its_line(name):
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(BAD / name))
    reported = [f"{Path(p.path).name}:{p.line}: {p.message}" for p in info.value.problems]
    assert reported == expected_problems()[name]


def test_every_bad_file_has_an_expectation():
    assert set(expected_problems()) == {p.name for p in BAD.glob("*.yaml")}


def test_broken_file_on_the_command_line_is_reported_without_a_traceback():
    result = run_zksh("play", str(BAD / "unknown-command.yaml"))
    assert result.returncode == 2
    assert "unknown-command.yaml:3: m1: unknown command 'craete'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_file_is_reported():
    result = run_zksh("play", "no-such-scenario.yaml")
    assert result.returncode == 2
    assert "no-such-scenario.yaml: cannot read the file" in result.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED.glob("*.yaml")))
def test_shipped_scenarios_load(name):
    scenario = load_scenario(str(SHIPPED / name))
    assert scenario.steps and scenario.sessions


def test_expectation_kinds():
    assert Expectation("exact", "Created /x\n").matches("Created /x\n\n")
    assert not Expectation("exact", "Created /x").matches("Created /y")
    assert Expectation("match", r"dataVersion = \d+").matches("a\ndataVersion = 3\n")
    assert Expectation("contains", "NodeDeleted").matches("type:NodeDeleted path:/m")
    like = Expectation("like", "cZxid = 0x29\nctime = Sat Jun 27 14:47:47 UTC 2020")
    assert like.matches("cZxid = 0x1a3\nctime = Tue Nov 24 00:22:41 UTC 2026\n")
    assert not like.matches("cZxid = 0x1a3\nmtime = Tue Nov 24 00:22:41 UTC 2026\n")


def test_like_keeps_zero_apart_from_other_hex_values():
    not_ephemeral = Expectation("like", "ephemeralOwner = 0x0")
    ephemeral = Expectation("like", "ephemeralOwner = 0x100000034f70004")
    assert not_ephemeral.matches("ephemeralOwner = 0x0\n")
    assert not not_ephemeral.matches("ephemeralOwner = 0x100000034f70004")
    assert ephemeral.matches("ephemeralOwner = 0x2000001a2b30000")
    assert not ephemeral.matches("ephemeralOwner = 0x0")


def write(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "scenario.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def problems_in(path: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [f"{p.line}: {p.message}" for p in info.value.problems]


def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path):
    path = write(tmp_path, "sessions: [m1]\nsteps:\n  - m1: " + "[" * 5000 + "\n")
    assert problems_in(path) == ["3: YAML nested more than 50 levels deep; a scenario needs a few"]
    result = run_zksh("play", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout


def test_a_byte_that_is_not_utf8_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, b"sessions: [m1]\nsteps:\n  - m1: ls /\n  - note: caf\xe9\n")
    assert problems_in(path) == ["4: the file is not UTF-8 text (byte 0xe9); save it as UTF-8"]


def test_a_control_character_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, 'sessions: [m1]\nsteps:\n  - note: "a\x07b"\n')
    assert problems_in(path) == ["3: YAML error: unacceptable character #x0007: special "
                                 "characters are not allowed"]


def test_faults_in_an_order_that_makes_sense_load(tmp_path):
    # zombie-master's sequence, typed quit and close (zkCli's window stays), a restart of a
    # running process (it is crashed first), and faults on a partitioned session.
    path = write(tmp_path, """\
sessions: [m1, m2, m3]
steps:
  - partition: m1
  - m1: ls /
  - heal: m1
  - await: {m1: "state:Expired", within: 5s}
  - m1: ls /
  - m1: connect
  - m2: close
  - m2: ls /
  - m2: quit
  - restart: m2
  - crash: m2
  - restart: m2
  - partition: m3
  - crash: m3
  - restart: m3
  - partition: m3
  - quit: m3
  - restart: m3
  - m3: ls /
""")
    steps = load_scenario(path).steps
    assert [step.kind for step in steps][:3] == ["partition", "type", "heal"]



def test_expire_goes_with_a_running_cut_off_or_crashed_session_once_per_session(tmp_path):
    # A connected session, one cut off (it may type and heal after), a crashed one (restart
    # gives a new session to expire), and a typed connect (a new session too).
    path = write(tmp_path, """\
sessions: [m1, m2, m3]
steps:
  - expire: m1
  - m1: ls /
  - m1: connect
  - expire: m1
  - partition: m2
  - expire: m2
  - m2: ls /
  - heal: m2
  - crash: m3
  - expire: m3
  - restart: m3
  - expire: m3
""")
    steps = load_scenario(path).steps
    assert [(step.kind, step.session) for step in steps if step.kind == "expire"] == [
        ("expire", "m1"), ("expire", "m1"), ("expire", "m2"), ("expire", "m3"),
        ("expire", "m3")]
    assert steps[0].summary() == "expire: m1"

def test_sessions_with_labels_load(tmp_path):
    path = write(tmp_path, """\
sessions:
  m1: Process 1
  m2: {label: Process 2}
  m3:
steps:
  - m1: ls /
""")
    scenario = load_scenario(path)
    assert [(s.name, s.label) for s in scenario.sessions] == [
        ("m1", "Process 1"), ("m2", "Process 2"), ("m3", "m3")]


def test_a_one_line_block_is_typed_without_its_newline(tmp_path):
    path = write(tmp_path, "sessions: [m1]\nsteps:\n  - m1: |\n      ls /\n")
    assert load_scenario(path).steps[0].text == "ls /"


def test_quiet_names_sessions_with_or_without_a_pattern_and_one_window(tmp_path):
    # A bare name forbids any watch event; text is looked for as await looks; a cut-off
    # session may be checked (hearing nothing is what a partition shows).
    path = write(tmp_path, """\
sessions: [c1, c2, c3]
steps:
  - quiet: {c2, c3: 'type:NodeDeleted', for: 300ms}
  - quiet: {c1: {match: 'path:/lock/.*'}, c2: null, for: 1s}
  - partition: c3
  - quiet: {c3: 'type:NodeDeleted', for: 0.2}
""")
    first, second, third = [step for step in load_scenario(path).steps if step.kind == "quiet"]
    assert (first.session, first.within) == ("c2", 0.3)
    assert [(check.session, check.expect) for check in first.quiet] == [
        ("c2", None), ("c3", Expectation("contains", "type:NodeDeleted"))]
    assert [(check.session, check.expect) for check in second.quiet] == [
        ("c1", Expectation("match", "path:/lock/.*")), ("c2", None)]
    assert first.summary() == "quiet c2: no watch event; c3: type:NodeDeleted, for 0.3s"
    assert third.summary() == "quiet c3: type:NodeDeleted, for 0.2s"


def test_quiet_without_a_pattern_forbids_watch_events_not_connection_events():
    check = QuietCheck("c1")
    assert check.forbids("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDeleted "
                         "path:/a\n")
    assert not check.forbids("\nWATCHER::\n\nWatchedEvent state:Disconnected type:None "
                             "path:null\n")
    assert QuietCheck("c1", Expectation("contains", "state:Disconnected")).forbids(
        "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n")
