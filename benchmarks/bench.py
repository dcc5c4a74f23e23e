"""`make bench`: zksh against zkCli.sh on the same real server, figures side by side.

- one-shot `ls /`: median wall time of N runs each, and the ratio (goal: zksh <= 1/4);
- a script of 1000 creates piped through one session;
- `zksh play scenarios/walkthrough.yaml`: wall time against the session timeout it must wait
  out for the crash (goal: overhead under 1 s).
Speed is measured here, never asserted in the tests.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from zkshell.player.loader import load_scenario
from zkshell.player.runner import server_for
from zkshell.server import ZKCLI, LocalServer, zkcli_env

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
PLAY_RUNS = 3
_BARE_KAZOO = (
    "import sys\n"
    "from kazoo.client import KazooClient\n"
    "client = KazooClient(sys.argv[1])\n"
    "client.start()\n"
    "print(client.get_children('/'))\n"
    "client.stop()\n"
)


def zksh_command() -> list[str]:
    installed = shutil.which("zksh", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "zkshell"]


def timed(command: list[str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, input=stdin, capture_output=True, text=True,
                            env=zkcli_env(), timeout=300)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result.stderr}")
    return elapsed


def median_of(command: list[str], stdin: str | None = None, runs: int = RUNS) -> float:
    timed(command, stdin)  # warm the page cache and the JIT's files once
    return statistics.median(timed(command, stdin) for _ in range(runs))


def row(label: str, zksh: float, zkcli: float) -> str:
    return f"{label:<34}{zksh:>10.3f} s{zkcli:>10.3f} s{zksh / zkcli:>10.2f}"


def main() -> int:
    server = LocalServer(tick_time_ms=2000).start()
    try:
        address = server.address
        print(f"ZooKeeper on {address}; median of {RUNS} runs\n")
        print(f"{'':<34}{'zksh':>12}{'zkCli.sh':>12}{'ratio':>10}")
        one_shot_zksh = median_of([*zksh_command(), "-server", address, "ls", "/"])
        one_shot_zkcli = median_of([str(ZKCLI), "-server", address, "ls", "/"])
        print(row("one-shot ls /", one_shot_zksh, one_shot_zkcli)
              + ("   goal <= 0.25: met" if one_shot_zksh <= one_shot_zkcli / 4
                 else "   goal <= 0.25: NOT met"))
        # The floor: what Python and kazoo alone take, so zksh's own share can be read off.
        bare = median_of([sys.executable, "-c", _BARE_KAZOO, address])
        print(row("  bare kazoo: import, ls /, stop", bare, one_shot_zkcli)
              + f"   zksh's own share {1000 * (one_shot_zksh - bare):+.0f} ms")
        script = "create /bench ''\n" + "".join(f"create /bench/n{i} x\n" for i in range(1000))
        cleanup = "deleteall /bench\n"
        runs = []
        for command in ([*zksh_command(), "-server", address], [str(ZKCLI), "-server", address]):
            times = []
            for _ in range(3):
                times.append(timed(command, script))
                timed(command, cleanup)
            runs.append(statistics.median(times))
        print(row("1000 creates piped (one session)", runs[0], runs[1]))
    finally:
        server.cleanup()
    walkthrough = ROOT / "scenarios" / "walkthrough.yaml"
    scenario = load_scenario(str(walkthrough))
    timeout = scenario.session_timeout
    own = median_of([*zksh_command(), "play", "--check", str(walkthrough)], runs=PLAY_RUNS)
    shared_runs = []
    for _ in range(PLAY_RUNS):  # a fresh server each time: the scenario leaves its znodes
        with LocalServer(tick_time_ms=server_for(scenario)) as running:
            shared_runs.append(timed([*zksh_command(), "play", "--check", "-server",
                                      running.address, str(walkthrough)]))
    shared = statistics.median(shared_runs)
    print(f"\nzksh play walkthrough.yaml, median of {PLAY_RUNS} "
          f"(session timeout {timeout:g} s, goal: overhead < 1 s)")
    for label, elapsed in (("starting its own ZooKeeper", own),
                           ("against a running ZooKeeper", shared)):
        overhead = elapsed - timeout
        print(f"  {label:<30}{elapsed:>6.2f} s wall, overhead {overhead:.2f} s: "
              f"{'met' if overhead < 1 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
