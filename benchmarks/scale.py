"""The scale table: `ls -R`, `setAcl -R` and `deleteall` on a big tree, zksh against zkCli.sh.

Both programs run as a person runs them, as subprocesses in script mode (the command piped
on stdin), on one real ZooKeeper run as its package runs it (trees.BenchServer), warmed by
an untimed run of each command first.  The tree is built again before every run.

The fair way for zkCli.sh's JVM start-up: each program's time for a command is its wall time
for `<command>` minus its median wall time for the trivial `ls /` in the same mode, so both
columns are the command's own time, start-up (JVM, or Python and kazoo) taken out.

Usage: python benchmarks/scale.py [--large] [--runs N]   (N default 1: a run at 20,000 znodes
takes minutes on a shared 2-core machine)
  --large: 200,000 znodes (2,000 folders of 100) instead of 20,000 (200 of 100).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: zkshell, tests and benchmarks from here
    sys.path.insert(0, str(ROOT))

from benchmarks.trees import BenchServer, BigServer, clear, connect, populate  # noqa: E402
from tests.differential.harness import normalise  # noqa: E402
from zkshell.server import zkcli_command, zkcli_env  # noqa: E402

BIG = "/big"
COMMANDS = (f"ls -R {BIG}", f"setAcl -R {BIG} world:anyone:cdrwa", f"deleteall {BIG}")
TRIVIAL = "ls /"


@dataclass(frozen=True)
class Size:
    folders: int
    per_folder: int

    @property
    def znodes(self) -> int:
        return 1 + self.folders * (1 + self.per_folder)


SMALL, LARGE = Size(200, 100), Size(2000, 100)


def programs(address: str) -> dict[str, list[str]]:
    return {"zksh": [sys.executable, "-m", "zkshell", "-server", address],
            "zkCli.sh": zkcli_command(address)}


def piped(command: list[str], line: str) -> tuple[float, str]:
    """Wall time and stdout of one run with `line` on stdin."""
    started = time.perf_counter()
    result = subprocess.run(command, input=line + "\n", capture_output=True, text=True,
                            env={**zkcli_env(), "TZ": "UTC"}, cwd=ROOT, timeout=3600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {line!r} through {command[0]}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def normalised(stdout: str, *, zkcli: bool, address: str) -> list[str]:
    return normalise(stdout, zkcli=zkcli, address=address).lines


def scale_table(size: Size, runs: int) -> list[str]:
    """Run the benchmark on a fresh server; return the lines to print.  Raises SystemExit
    when the two programs' normalised outputs differ."""
    lines = [f"\nscale: {size.znodes:,} znodes ({size.folders} folders of {size.per_folder}), "
             f"median of {runs} runs, the tree built again before each",
             "  command time = wall time of the command piped in, minus the same program's "
             f"wall time for `{TRIVIAL}` (JVM / Python start-up taken out)"]
    server = (BigServer if size.znodes > 100_000 else BenchServer)(tick_time_ms=2000).start()
    client = connect(server.address)
    try:
        address = server.address
        commands = programs(address)
        start_up = {name: statistics.median(piped(command, TRIVIAL)[0] for _ in range(runs))
                    for name, command in commands.items()}
        lines.append(f"  start-up (`{TRIVIAL}`): zksh {start_up['zksh']:.2f} s, "
                     f"zkCli.sh {start_up['zkCli.sh']:.2f} s")
        clear(client, BIG)
        started = time.perf_counter()
        populate(client, BIG, size.folders, size.per_folder)
        lines.append(f"  populate: {time.perf_counter() - started:.2f} s (kazoo multis)")
        # A ZooKeeper in service has long since compiled its request paths; a fresh JVM runs
        # its first tens of thousands of requests slower, and the first program timed on it
        # paid for that.  One untimed run of each command by each program warms it.
        for line in COMMANDS:
            for command in commands.values():
                clear(client, BIG)
                populate(client, BIG, size.folders, size.per_folder)
                piped(command, line)
        lines.append("  the server warmed first: each command run once by each program, untimed")
        lines.append(f"  {'command':<40}{'zksh':>10}{'zkCli.sh':>10}{'zksh speed-up':>15}")
        for line in COMMANDS:
            times: dict[str, list[float]] = {name: [] for name in commands}
            outputs: dict[str, list[str]] = {}
            for _ in range(runs):
                for name, command in commands.items():
                    clear(client, BIG)
                    populate(client, BIG, size.folders, size.per_folder)
                    elapsed, stdout = piped(command, line)
                    times[name].append(elapsed - start_up[name])
                    outputs[name] = normalised(stdout, zkcli=name == "zkCli.sh",
                                               address=address)
            if outputs["zksh"] != outputs["zkCli.sh"]:
                raise SystemExit(f"zksh's output for {line!r} differs from zkCli.sh's")
            ours, theirs = (statistics.median(times[name]) for name in ("zksh", "zkCli.sh"))
            # Start-up subtracted, a fast command can come out at or under 0: say so
            # rather than divide by it.
            speed_up = f"{theirs / ours:>14.1f}x" if ours > 0.005 else f"{'(< 5 ms)':>15}"
            lines.append(f"  {line:<40}{ours:>8.2f} s{theirs:>8.2f} s{speed_up}")
        lines.append("  outputs identical (normalised as the differential tests do)")
    finally:
        client.stop()
        client.close()
        server.cleanup()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    for line in scale_table(LARGE if args.large else SMALL, args.runs):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
