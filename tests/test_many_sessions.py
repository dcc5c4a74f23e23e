"""Many sessions in one scenario (issue 15): issue 15's group scenario at 200 sessions, a
session the server refuses, awaits skipped after a failure, and the view's summary of the
panes that do not fit."""

from __future__ import annotations

import pytest

from benchmarks.many_sessions import group_scenario

from .conftest import require_zookeeper, run_zksh

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
