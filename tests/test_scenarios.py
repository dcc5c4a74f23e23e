"""The shipped scenarios are tests: all of them played in check mode, in one `zksh play`
per server: the embedded one (the default) and a local Apache ZooKeeper (`--zookeeper`), the
reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import require_zookeeper, run_zksh

# The ensemble scenarios (servers: 3) play on a local ensemble: tests/test_ensemble_scenarios.py.
SHIPPED = sorted(path for path in (Path(__file__).parent.parent / "scenarios").glob("*.yaml")
                 if not path.name.startswith("ensemble-"))
SERVER_LINES = {
    "embedded": r"   server: zksh embedded \(in-process, ZooKeeper 3\.8 protocol\) at "
                r"127\.0\.0\.1:\d+",
    "zookeeper": r"   server: Apache ZooKeeper 3\.8\.\d+ \(local, started by zksh\) at "
                 r"127\.0\.0\.1:\d+",
}


@pytest.mark.parametrize("backend", ["embedded", "zookeeper"])
def test_every_shipped_scenario_passes(backend):
    options = []
    if backend == "zookeeper":
        require_zookeeper()
        options = ["--zookeeper"]
    # One process for them all: each scenario gets a server of its own, started and stopped.
    result = run_zksh("play", "--check", *options, *map(str, SHIPPED), timeout=300)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    headers = re.findall(r"^== .*  \((.*)\)\n(.*)$", out, re.MULTILINE)
    assert [path for path, _server in headers] == list(map(str, SHIPPED))
    for _path, server in headers:
        assert re.fullmatch(SERVER_LINES[backend], server), server
    summaries = re.findall(r"^\d+ steps, .*$", out, re.MULTILINE)
    assert len(summaries) == len(SHIPPED)
    assert all(" 0 failed, 0 timed out" in line for line in summaries), summaries


def test_a_failed_expectation_is_reported_with_line_expected_actual_and_context(tmp_path):
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
