"""`zksh play --bless`: a scenario's commands played, what they printed written into the file."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from zkshell.player.bless import blessings, refusals
from zkshell.player.loader import load_scenario, scenario_from_text
from zkshell.player.model import DONE, FAILED, OUTPUT_DIFFERS, PASSED, TIMED_OUT, StepResult
from zkshell.player.yaml_edit import write_expectations

from .conftest import CHECKOUT, require_zookeeper, run_zksh

# Written without expectations, with comments everywhere ruamel keeps them apart.
UNBLESSED = """\
# Written by hand: zksh play --bless fills in what the commands print.
title: Bless me
sessions: [m1, m2]
steps:
  # the root first
  - m1: ls /     # what is there
  - m1: create -e /lock "m1"
  - m2: stat /lock   # zxids, times and an ephemeralOwner
  - m1: get /lock
    expect: somebody else   # a wrong guess, replaced

  - m2: get -w /lock
  - quit: m1
  - await: {m2: "type:NodeDeleted path:/lock", within: 10s}
  - m2: ls /
# the end
"""

TIMES_OUT = """\
title: Nothing comes
sessions: [m1]
steps:
  - m1: create /a ""
  - await: {m1: "type:NodeDeleted path:/a", within: 300ms}
"""


def _bless(path: Path, *args: str, input: str | None = ""):
    return run_zksh("play", "--bless", *args, str(path), input=input)


# ---- the program --------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["embedded", "zookeeper"])
def test_a_scenario_without_expectations_is_blessed_into_one_that_passes_check(tmp_path, backend):
    where = []
    if backend == "zookeeper":
        require_zookeeper()
        where = ["--zookeeper"]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(UNBLESSED, encoding="utf-8")

    run = _bless(scenario, "--yes", *where)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 expectations written" in run.stdout
    text = scenario.read_text(encoding="utf-8")
    # Comments, blank lines and order as written; each expect: under its command.
    assert text.startswith("# Written by hand: zksh play --bless")
    assert "  # the root first\n  - m1: ls /     # what is there\n    expect: \"[zookeeper]\"\n" \
        in text
    assert "  - m1: create -e /lock \"m1\"\n    expect: Created /lock\n" in text
    # The replaced value keeps its comment, at the comment's column.
    assert re.search(r"\n    expect: m1 +# a wrong guess, replaced\n\n  - m2: get -w /lock\n"
                     r"    expect: m1\n  - quit: m1\n", text)
    assert text.endswith("  - m2: ls /\n    expect: \"[zookeeper]\"\n# the end\n")
    # What differs by nature is written as like:, so that another run passes.
    stat = load_scenario(str(scenario)).steps[2]
    assert stat.expect is not None and stat.expect.kind == "like"
    assert "ephemeralOwner = 0x" in stat.expect.text and "ctime = " in stat.expect.text
    # The await kept its pattern.
    assert '  - await: {m2: "type:NodeDeleted path:/lock", within: 10s}\n' in text

    check = run_zksh("play", "--check", *where, str(scenario))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "7 checks: 7 passed" in check.stdout
    if backend == "zookeeper":
        return  # a third start of ZooKeeper would show nothing the embedded server does not
    again = _bless(scenario)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to bless" in again.stdout
    assert scenario.read_text(encoding="utf-8") == text


def test_without_a_terminal_the_diff_is_shown_and_nothing_written(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(UNBLESSED, encoding="utf-8")

    run = _bless(scenario, input="y\n")  # piped: not a person's answer

    assert run.returncode == 1
    assert f"--- {scenario}\n+++ {scenario} (blessed)\n" in run.stdout
    assert "+    expect: Created /lock\n" in run.stdout
    assert "-    expect: somebody else   # a wrong guess, replaced\n" in run.stdout
    assert f"{scenario} not written (no terminal to ask at); add --yes" in run.stderr
    assert scenario.read_text(encoding="utf-8") == UNBLESSED


@pytest.mark.parametrize("answer, written", [("y", True), ("", False)])
def test_on_a_terminal_it_asks_before_writing(tmp_path, answer, written):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(UNBLESSED, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT), TZ="UTC")
    child = pexpect.spawn(sys.executable, ["-m", "zkshell", "play", "--bless", str(scenario)],
                          env=env, encoding="utf-8", timeout=30)
    try:
        child.expect_exact(f"Write {scenario}? [y/N] ")
        assert "+    expect: Created /lock" in child.before
        child.sendline(answer)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == (0 if written else 1)
    assert (scenario.read_text(encoding="utf-8") != UNBLESSED) == written


def test_a_run_with_a_timed_out_await_is_refused(tmp_path):
    scenario = tmp_path / "t.yaml"
    scenario.write_text(TIMES_OUT, encoding="utf-8")

    run = _bless(scenario, "--yes")

    assert run.returncode == 1
    assert f"not blessing {scenario}: a step went wrong for another reason" in run.stderr
    assert f"{scenario}:5: timed out: await m1: type:NodeDeleted path:/a " \
        "(nothing matched within 0.3s)" in run.stderr
    assert "+++" not in run.stdout
    assert scenario.read_text(encoding="utf-8") == TIMES_OUT


def test_yes_goes_with_bless(tmp_path):
    scenario = tmp_path / "t.yaml"
    scenario.write_text(TIMES_OUT, encoding="utf-8")
    run = run_zksh("play", "--yes", str(scenario))
    assert run.returncode == 2
    assert "--yes goes with --bless" in run.stderr


# ---- what is refused, what is written (no server) ------------------------------------------------
def _results(text: str, outcomes: list[tuple[str, str, str]]) -> tuple:
    scenario = scenario_from_text("x.yaml", text)
    return scenario, [StepResult(step, status, 0.0, actual, message)
                      for step, (status, actual, message) in zip(scenario.steps, outcomes)]


LOSES = """\
sessions: [m1, m2]
steps:
  - m1: create /a ""
  - partition: m1
  - m1: ls /
  - m2: ls /
  - m2: get /a
    expect: ""
"""


def test_a_lost_server_is_refused_unless_a_step_cut_the_session_off():
    scenario, results = _results(LOSES, [
        (DONE, "Created /a\n", ""), (DONE, "", ""),
        (DONE, "KeeperErrorCode = ConnectionLoss for /\n", ""),  # partitioned: its point
        (DONE, "KeeperErrorCode = ConnectionLoss for /\n", ""),  # m2 was never cut off
        (FAILED, "x\n", OUTPUT_DIFFERS)])
    assert refusals(scenario, results) == [
        "x.yaml:6: m2: ls / printed 'KeeperErrorCode = ConnectionLoss' though no step cut m2 "
        "off: is the server alive?"]
    assert [b.index for b in blessings(results)] == [0, 2, 3, 4]


def test_failures_other_than_an_expectation_and_a_stopped_run_are_refused():
    scenario, results = _results(LOSES, [
        (PASSED, "Created /a\n", ""), (DONE, "", ""),
        (FAILED, "", "session m1 is not running (crashed); restart it first"),
        (TIMED_OUT, "", "nothing matched within 1s")])
    assert refusals(scenario, results) == [
        "x.yaml:5: failed: m1: ls / (session m1 is not running (crashed); restart it first)",
        "x.yaml:6: timed out: m2: ls / (nothing matched within 1s)",
        "x.yaml: the run stopped after 4 of 5 steps"]


def test_the_shipped_scenarios_keep_their_layout_when_a_step_is_blessed():
    """ruamel rewrites the whole file: folded `about`, labelled sessions, flow awaits and
    `like: |` blocks must come out as they went in."""
    for path in sorted((CHECKOUT / "scenarios").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        scenario = load_scenario(str(path))
        step = next(s for s in scenario.steps if s.expect and s.expect.kind == "exact")
        assert write_expectations(text, [(step.line_no, step.session, step.expect.text)]) \
            == text, path.name


EDITS = """\
sessions: [m1]
steps:
  - m1: get /a
    expect: old   # checked by hand
  # next
  - {m1: ls /}
  - m1: stat /a
    expect:
      like: |
        old
  # after stat
  - m1: get /b
"""


def test_values_are_written_readably_and_comments_stay_where_they_were():
    blessed = write_expectations(EDITS, [
        (3, "m1", "line 1\nline 2\n"),          # a block; the end-of-line comment moves below
        (6, "m1", "[zookeeper]\n"),             # YAML syntax: quoted, in the flow mapping
        (7, "m1", "x: 1\n"),                    # would read as a mapping: quoted
        (12, "m1", "ephemeralOwner = 0x1000002a7b40001\n")])  # a session id: like
    assert blessed == """\
sessions: [m1]
steps:
  - m1: get /a
    expect: |
      line 1
      line 2
    # checked by hand
  # next
  - {m1: ls /, expect: "[zookeeper]"}
  - m1: stat /a
    expect: "x: 1"
  # after stat
  - m1: get /b
    expect: {like: ephemeralOwner = 0x1000002a7b40001}
"""
    steps = scenario_from_text("x.yaml", blessed).steps
    assert [s.expect.kind for s in steps] == ["exact", "exact", "exact", "like"]
    assert steps[3].expect.matches("ephemeralOwner = 0x1000002a7b40009\n")
    assert not steps[3].expect.matches("ephemeralOwner = 0x0\n")


def test_an_empty_output_is_blessed_as_an_empty_expectation():
    text = "sessions: [m1]\nsteps:\n  - m1: connect\n"
    blessed = write_expectations(text, [(3, "m1", "")])
    assert blessed == text + '    expect: ""\n'
    assert scenario_from_text("x.yaml", blessed).steps[0].expect.matches("")


def test_a_document_marker_the_comments_above_it_and_unindented_lists_are_kept():
    text = """\
# header
---
# doc comment
sessions:
- m1
steps:
- m1: |
    ls /
- m1: get /x
  expect: 'y'   # was single-quoted
"""
    blessed = write_expectations(text, [(7, "m1", "[zookeeper]\n"), (9, "m1", "z\n")])
    assert blessed == """\
# header
---
# doc comment
sessions:
- m1
steps:
- m1: |
    ls /
  expect: "[zookeeper]"
- m1: get /x
  expect: z     # was single-quoted
"""


def test_lines_other_than_the_expectations_keep_their_bytes():
    """ruamel would write `[m1, m2]` and `m1: ls /`; only the expect: lines are its."""
    text = 'title:   spaced\r\nsessions: [m1,m2]\r\nsteps:\r\n  - m1:    ls /\r\n  - m2: "ls /"'
    blessed = write_expectations(text, [(4, "m1", "[zookeeper]\n"), (5, "m2", "[]\n")])
    assert blessed == ('title:   spaced\r\nsessions: [m1,m2]\r\nsteps:\r\n  - m1:    ls /\r\n'
                       '    expect: "[zookeeper]"\r\n  - m2: "ls /"\r\n    expect: "[]"\r\n')
