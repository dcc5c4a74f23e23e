"""`zksh play --bless` on an ensemble scenario: a shipped one with a broken expectation is
played on a local ensemble and, answered `y`, written back as shipped.  A session's
ConnectionLoss after a server step (isolate-server, in ensemble-minority-partition.yaml) is
the scenario's doing: not a reason to refuse."""

from __future__ import annotations

import os
import sys

import pexpect

from zkshell.player.bless import refusals
from zkshell.player.loader import scenario_from_text
from zkshell.player.model import DONE, PASSED, StepResult

from .conftest import CHECKOUT, require_zookeeper

# The quickest shipped ensemble scenario (its steps take a tenth of a second), with a server
# step (isolate-server, rejoin-server) before the expectation broken.
SHIPPED = CHECKOUT / "scenarios" / "ensemble-stale-read.yaml"
RIGHT = "  - reader: get /config\n    expect: v2\n"
WRONG = "  - reader: get /config\n    expect: v1   # wrong\n"


# Added to the copy: the reader's only member stops, so its command loses the server.
LOST = "  - stop-server: 3\n  - reader: ls /\n"


def test_a_broken_expectation_of_a_shipped_ensemble_scenario_is_blessed_back(tmp_path):
    require_zookeeper()
    shipped = SHIPPED.read_text(encoding="utf-8")
    assert shipped.count(RIGHT) == 1 and shipped.endswith(RIGHT)
    scenario = tmp_path / "stale.yaml"
    scenario.write_text(shipped.replace(RIGHT, WRONG) + LOST, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT), TZ="UTC")
    child = pexpect.spawn(sys.executable, ["-m", "zkshell", "play", "--bless", str(scenario)],
                          env=env, encoding="utf-8", timeout=90)
    try:
        child.expect_exact(f"Write {scenario}? [y/N] ")
        diff = child.before.replace("\r\n", "\n")
        assert "-    expect: v1   # wrong\n+    expect: v2   # wrong\n" in diff
        child.sendline("y")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert scenario.read_text(encoding="utf-8") == shipped.replace(
        RIGHT, "  - reader: get /config\n    expect: v2   # wrong\n") + LOST + (
        "    expect: KeeperErrorCode = ConnectionLoss for /\n")


PARTITIONED = """\
servers: 3
sessions:
  near: {server: 3}
  far: Anywhere
steps:
  - isolate-server: 3
  - near: ls /
  - kill-leader:
  - far: ls /
"""


def test_a_server_step_cuts_its_sessions_off_as_a_fault_does():
    """After isolate-server, stop-server or kill-leader a session may be disconnected on
    purpose (its member stopped serving, or is electing): what it prints then is blessed."""
    scenario = scenario_from_text("x.yaml", PARTITIONED)
    lost = "KeeperErrorCode = ConnectionLoss for /\n"
    results = [StepResult(step, status, 0.0, actual) for step, (status, actual) in zip(
        scenario.steps, [(DONE, ""), (DONE, lost), (PASSED, "member 2 was leading; killed"),
                         (DONE, lost)])]
    assert refusals(scenario, results) == []
    before = scenario_from_text("y.yaml", PARTITIONED.replace("  - isolate-server: 3\n", ""))
    assert refusals(before, [StepResult(before.steps[0], DONE, 0.0, lost)])[:1] == [
        "y.yaml:6: near: ls / printed 'KeeperErrorCode = ConnectionLoss' though no step cut "
        "near off: is the server alive?"]
