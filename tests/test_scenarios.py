"""The shipped scenarios are tests: each is played in check mode against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_zookeeper, run_zksh

SHIPPED = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_passes(scenario):
    require_zookeeper()
    result = run_zksh("play", "--check", str(scenario), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed, 0 timed out" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_failed_expectation_is_reported_with_line_expected_actual_and_context(tmp_path):
    require_zookeeper()
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "sessions: [m1]\n"
        "steps:\n"
        "  - m1: create /workers \"\"\n"
        "    expect: Created /workers\n"
        "  - m1: ls /\n"
        "    expect: \"[tasks, zookeeper]\"\n"
        "  - m1: get /workers\n"
        "    expect: \"\"\n")
    result = run_zksh("play", "--check", str(scenario), timeout=60)
    assert result.returncode == 1
    out = result.stdout
    assert f"{scenario}:5: failed: m1: ls /" in out
    assert "expected:\n    [tasks, zookeeper]" in out
    assert "actual:\n    [workers, zookeeper]" in out
    assert "recent output of m1:" in out and "Created /workers" in out
    assert "3 steps, 3 checks: 2 passed, 1 failed, 0 timed out" in out


def test_an_await_that_never_matches_times_out_at_its_deadline(tmp_path):
    require_zookeeper()
    scenario = tmp_path / "never.yaml"
    scenario.write_text(
        "sessions: [m1]\n"
        "steps:\n"
        "  - m1: ls -w /\n"
        "  - await: {m1: 'type:NodeDeleted path:/nothing', within: 300ms}\n")
    result = run_zksh("play", "--check", str(scenario), timeout=60)
    assert result.returncode == 1
    assert f"{scenario}:4: timed out: await m1: type:NodeDeleted path:/nothing" in result.stdout
    assert "nothing matched within 0.3s" in result.stdout
