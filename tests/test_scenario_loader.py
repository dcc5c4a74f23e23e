"""Every broken scenario file gives its expected `file:line: message`, and nothing runs."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from zkshell.player.loader import ScenarioError, load_scenario
from zkshell.player.scenario import Expectation

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
    assert "no-such-scenario.yaml:0: cannot read the file" in result.stderr


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
