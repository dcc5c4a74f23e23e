"""Scenarios with `servers: 3`: played on a local ensemble of real ZooKeepers zksh starts,
with server steps (stop-server, start-server, kill-leader); refused up front where they
cannot be played."""

from __future__ import annotations

import re
from pathlib import Path

from zkshell.player.loader import scenario_from_text

from .conftest import require_zookeeper, run_zksh

SCENARIOS = Path(__file__).parent.parent / "scenarios"
ENSEMBLE_SCENARIOS = sorted(SCENARIOS.glob("ensemble-*.yaml"))
SERVER_LINE = (r"   server: Apache ZooKeeper 3\.8\.\d+ ensemble of 3 \(local, started by zksh\) "
               r"at (127\.0\.0\.1:\d+),(127\.0\.0\.1:\d+),(127\.0\.0\.1:\d+)")

# m1 has no other member to go to while member 1 is down: whether its session outlives the
# restart (a JVM starting: 2 s and more on a busy machine) is a race, so a new m1 connects.
PINNED_AND_RESTARTED = """\
servers: 3
session_timeout: 6s
sessions:
  m1: {label: "On server 1 only", server: 1}
  m2: Anywhere
  on3: {label: "On server 3 only", server: 3}
steps:
  - m1: create /on1 ""
    expect: Created /on1
  - on3: get -w /on1
    expect: ""
  - stop-server: 1
  - await: {server: 1, role: down, within: 10s}
  - await: {m1: "WatchedEvent state:Disconnected type:None path:null", within: 10s}
  - note: "m1 has no other server to go to; m2 carries on"
  - m2: ls /
    expect: "[on1, zookeeper]"
  - start-server: 1
  - await: {server: 1, role: follower, within: 10s}
  - restart: m1
  - await: {m1: "WatchedEvent state:SyncConnected type:None path:null", within: 15s}
  - m1: ls /
    expect: "[on1, zookeeper]"
"""


def test_the_shipped_ensemble_scenarios_pass_on_a_local_ensemble(tmp_path):
    require_zookeeper()
    extra = tmp_path / "pinned.yaml"
    extra.write_text(PINNED_AND_RESTARTED)
    paths = [*map(str, ENSEMBLE_SCENARIOS), str(extra)]
    result = run_zksh("play", "--check", "--transcript", str(tmp_path / "t"), *paths,
                      timeout=240)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    headers = re.findall(r"^== .*  \((.*)\)\n(.*)$", out, re.MULTILINE)
    assert [path for path, _server in headers] == paths
    for _path, server in headers:
        assert re.fullmatch(SERVER_LINE, server), server
    summaries = re.findall(r"^\d+ steps, .*$", out, re.MULTILINE)
    assert len(summaries) == len(paths)
    assert all(" 0 failed, 0 timed out" in line for line in summaries), summaries
    # The last scenario's transcripts: a pinned session's prompt
    # names its member; one given all three names the member it connected to.
    members = re.fullmatch(SERVER_LINE, headers[-1][1]).groups()
    pinned = (tmp_path / "t" / "pinned" / "m1.txt").read_text()
    assert pinned.startswith(f"Connecting to {members[0]}\n")
    assert set(re.findall(r"\[zk: (\S+)\(", pinned)) == {members[0]}
    anywhere = (tmp_path / "t" / "pinned" / "m2.txt").read_text()
    assert anywhere.startswith(f"Connecting to {','.join(members)}\n")
    assert len(set(re.findall(r"\[zk: (\S+)\(", anywhere))) == 1
    assert set(re.findall(r"\[zk: (\S+)\(", anywhere)) <= set(members)
    _members_row_follows_the_leader(tmp_path / "t" / "ensemble-leader-failover" / "server.txt")
    # The server pane shows the watch member 3 holds, though the pane's first member is 1.
    pane = (tmp_path / "t" / "pinned" / "server.txt").read_text()
    assert "== after step 2/" in pane
    assert "/on1 <data on3>" in pane.split("== after step 2/")[1].split("==")[0]


def test_an_ensemble_scenario_against_one_server_is_refused_before_anything_runs():
    scenario = str(SCENARIOS / "ensemble-leader-failover.yaml")
    result = run_zksh("play", "-server", "127.0.0.1:1", scenario)
    assert result.returncode == 2
    assert result.stderr == (
        f"zksh play: {scenario} says servers: 3, and -server names 1 (a single server, "
        "such as zksh's embedded one, cannot play an ensemble)\n"
        f"  leave out -server and zksh starts a local ensemble of 3: zksh play {scenario}\n")


def test_server_steps_need_an_ensemble_zksh_started():
    scenario = str(SCENARIOS / "ensemble-leader-failover.yaml")
    result = run_zksh("play", "-server", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", scenario)
    assert result.returncode == 2
    assert result.stderr.startswith(f"zksh play: {scenario} uses kill-leader: zksh stops and "
                                    "starts members of an ensemble it started itself")


def test_servers_pinned_sessions_and_server_steps_are_read():
    scenario = scenario_from_text("x.yaml", PINNED_AND_RESTARTED)
    assert scenario.servers == 3
    assert [(s.name, s.server) for s in scenario.sessions] == [("m1", 1), ("m2", None),
                                                                 ("on3", 3)]
    server_steps = [s for s in scenario.steps if s.session is None and s.kind != "note"]
    assert [s.summary() for s in server_steps] == [
        "stop-server: 1", "await server 1: down", "start-server: 1", "await server 1: follower"]
    failover = scenario_from_text("y.yaml", (SCENARIOS / "ensemble-client-failover.yaml")
                                  .read_text())
    assert "stop-server: m1" in [s.summary() for s in failover.steps]


def _members_after(server_txt: Path) -> dict[str, list[str]]:
    """server.txt's row of members (a line each, `N role ...`) under each step's heading."""
    blocks = re.findall(r"^== (.*)\n((?:.*\n)*?)\n", server_txt.read_text(), re.MULTILINE)
    return {heading: re.findall(r"^\d .*$", body, re.MULTILINE) for heading, body in blocks}


def _on(lines: list[str]) -> dict[str, str]:
    """Which member each session is on: session name -> the member's number."""
    return {name: line.split()[0] for line in lines if " · " in line
            for name in line.split(" · ")[1].split()}


def _members_row_follows_the_leader(server_txt: Path) -> None:
    """Member 2 leads at the start; kill-leader leaves it down, and another leads, with both
    sessions on the members left."""
    rows = _members_after(server_txt)
    first = rows["before the first step"]
    assert [line.split()[:2] for line in first] == [["1", "follower"], ["2", "leader"],
                                                    ["3", "follower"]], first
    assert all(re.fullmatch(r"\d \w+ zxid 0x[0-9a-f]+( · .*)?", line) for line in first)
    connected = rows[next(h for h in rows if h.startswith("after step 3/"))]
    assert sorted(_on(connected)) == ["m1", "w1"], connected
    killed = [h for h in rows if h.startswith("after step 7/")]
    assert killed and killed[0].endswith(": kill-leader")
    for heading in list(rows)[list(rows).index(killed[0]):]:
        assert rows[heading][1] == "2 down", (heading, rows[heading])
    # Once both sessions are connected again (step 11), they are on a new leader's ensemble.
    after = rows[next(h for h in rows if h.startswith("after step 11/"))]
    leaders = [line for line in after if line.split()[1] == "leader"]
    assert len(leaders) == 1 and leaders[0].split()[0] in ("1", "3"), after
    assert sorted(_on(after)) == ["m1", "w1"] and set(_on(after).values()) <= {"1", "3"}
