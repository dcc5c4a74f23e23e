"""Issue 15's many-session scenario, generated: N sessions check in with an ephemeral under
`/group` and watch it, then one change by the boss notifies them all; and its figures for
`make bench` (`bench.py --sessions N`): wall time and memory per session of `zksh play
--check`, on the embedded server and on a real ZooKeeper the player starts.

    python benchmarks/many_sessions.py 200 > /tmp/group.yaml && zksh play --check /tmp/group.yaml
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NOTIFIED = "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/group"


def group_scenario(sessions: int, within: str = "30s") -> str:
    """The scenario's YAML text: sessions s0..s{N-1} and a boss."""
    names = [f"s{number}" for number in range(sessions)]
    lines = [
        f"title: {sessions} sessions watch one group",
        "session_timeout: 4s",
        "sessions: [boss, " + ", ".join(names) + "]",
        "steps:",
        "  - boss: create /group \"\"",
        "    expect: Created /group",
    ]
    for name in names:
        lines += [f"  - {name}: create -e /group/{name} \"\"",
                  f"    expect: Created /group/{name}"]
    for name in names:
        lines += [f"  - {name}: ls -w /group"]
    lines += ["  - boss: create /group/go \"\"", "    expect: Created /group/go"]
    lines += [f"  - await: {{{name}: \"{NOTIFIED}\", within: {within}}}" for name in names]
    return "\n".join(lines) + "\n"


GOAL_MIB = 2.0  # memory a session, at most (a zkCli JVM is about 48 MiB)
POLL = 0.02  # seconds between two looks at the processes' memory


@dataclass(frozen=True)
class Played:
    wall: float  # seconds, start to exit
    play_mib: float  # the zksh play process's peak RSS (the embedded server's included)
    server_mib: float  # the peak RSS of the ZooKeeper JVM it started; 0 for none


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:  # it has exited meanwhile
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def play_group(command: list[str], sessions: int, zookeeper: bool) -> Played:
    """Play the group scenario of `sessions` with `command` (zksh) in check mode."""
    with tempfile.TemporaryDirectory() as directory:
        scenario = Path(directory) / f"group-{sessions}.yaml"
        scenario.write_text(group_scenario(sessions), encoding="utf-8")
        argv = [*command, "play", "--check", *(["--zookeeper"] if zookeeper else []),
                str(scenario)]
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        play = server = 0
        while process.poll() is None:
            play = max(play, _peak_kib(process.pid))
            server = max([server, *map(_peak_kib, _children(process.pid))])
            time.sleep(POLL)
        wall = time.perf_counter() - started
        out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"zksh play of {sessions} sessions failed:\n{out[-2000:]}{err}")
    return Played(wall, play / 1024, server / 1024)


def report(command: list[str], sessions: int) -> None:
    """The table `make bench` prints: each server, N sessions against one."""
    print(f"\nzksh play --check, issue 15's group scenario: {sessions} sessions against 1 "
          f"(goal: under {GOAL_MIB:g} MiB a session)")
    print(f"{'':<40}{'embedded':>14}{'ZooKeeper':>14}")
    runs = {name: (play_group(command, 1, zookeeper), play_group(command, sessions, zookeeper))
            for name, zookeeper in (("embedded", False), ("ZooKeeper", True))}
    embedded, real = runs["embedded"], runs["ZooKeeper"]
    print(f"{f'wall time, {sessions} sessions':<40}{embedded[1].wall:>12.2f} s"
          f"{real[1].wall:>12.2f} s")
    print(f"{f'zksh play peak RSS, {sessions} sessions':<40}{embedded[1].play_mib:>10.0f} MiB"
          f"{real[1].play_mib:>10.0f} MiB   (embedded: its server included)")
    print(f"{'  the same, 1 session':<40}{embedded[0].play_mib:>10.0f} MiB"
          f"{real[0].play_mib:>10.0f} MiB")
    each = [(many.play_mib - one.play_mib) / (sessions - 1) for one, many in runs.values()]
    verdict = "met" if max(each) < GOAL_MIB else "NOT met"
    print(f"{'  a session more costs':<40}{each[0]:>10.2f} MiB{each[1]:>10.2f} MiB"
          f"   goal < {GOAL_MIB:g} MiB: {verdict}")
    jvm_each = (real[1].server_mib - real[0].server_mib) / (sessions - 1)
    print(f"{'ZooKeeper JVM peak RSS':<40}{'':>14}{real[1].server_mib:>10.0f} MiB"
          f"   ({jvm_each:+.2f} MiB a session)")


if __name__ == "__main__":
    sys.stdout.write(group_scenario(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
