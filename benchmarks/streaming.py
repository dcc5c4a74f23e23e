"""`make bench-large`'s streaming check: `ls -R /` through zksh on 1,000,000 znodes.

- populate: 1000 folders of 1000 znodes, multis kept in flight (benchmarks/trees.py);
- time to the first line of `zksh -server ADDRESS ls -R /` (stdout read as it comes, a pipe);
- zksh's peak RSS growth while it walks: the highest VmRSS seen (sampled every 20 ms from
  /proc/PID/status) minus the highest seen for `ls -R /zookeeper` (start-up, imports and a
  session: the baseline), and the whole walk's time;
- how soon SIGINT stops it: sent after the first 10,000 lines, time until the process exits.

Usage: python benchmarks/streaming.py [--folders N] [--per-folder M]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: zkshell and benchmarks from this checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.trees import BigServer, connect, populate  # noqa: E402

LINES_BEFORE_SIGINT = 10_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:  # exited
                return


def walk(address: str, stop_after: int | None = None, path: str = "/") -> dict[str, float]:
    """Run `ls -R path`; figures in seconds and KiB.  With stop_after, SIGINT after that many
    lines and measure how long the process takes to exit."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "zkshell", "-server", address,
                                "ls", "-R", path], stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None
    sampler = RssSampler(process.pid)
    sampler.start()
    process.stdout.readline()
    figures = {"first_line": time.perf_counter() - started}
    lines = 1
    for _ in process.stdout:
        lines += 1
        if stop_after is not None and lines == stop_after:
            interrupted = time.perf_counter()
            process.send_signal(signal.SIGINT)
            for _ in process.stdout:  # drain what was already written
                pass
            process.wait()
            figures["sigint_to_exit"] = time.perf_counter() - interrupted
            break
    process.wait()
    sampler.done.set()
    sampler.join()
    figures.update(total=time.perf_counter() - started, lines=lines, peak=sampler.peak)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=1000)
    parser.add_argument("--per-folder", type=int, default=1000)
    args = parser.parse_args(argv)
    with BigServer(tick_time_ms=2000) as server:
        client = connect(server.address)
        try:
            started = time.perf_counter()
            count = populate(client, "/big", args.folders, args.per_folder, in_flight=32)
            print(f"\nstreaming: populate {count:,} znodes ({args.folders} folders of "
                  f"{args.per_folder}): {time.perf_counter() - started:.1f} s", flush=True)
        finally:
            client.stop()
            client.close()
        baseline = walk(server.address, path="/zookeeper")
        full = walk(server.address)
        # The process's start and its connect come first whatever the tree: the baseline's
        # first line says how long they take, the difference is what the tree costs.
        print(f"  zksh ls -R /: first line after {full['first_line']:.2f} s "
              f"(ls -R /zookeeper: {baseline['first_line']:.2f} s; the tree's part "
              f"{(full['first_line'] - baseline['first_line']) * 1000:.0f} ms), "
              f"{full['lines']:,.0f} lines in {full['total']:.1f} s", flush=True)
        print(f"  zksh peak RSS {full['peak'] / 1024:.0f} MiB, growth while walking "
              f"{(full['peak'] - baseline['peak']) / 1024:.0f} MiB "
              f"(baseline: ls -R /zookeeper, {baseline['peak'] / 1024:.0f} MiB)", flush=True)
        after = min(LINES_BEFORE_SIGINT, count // 2)
        stopped = walk(server.address, stop_after=after)
        print(f"  SIGINT after {after:,} lines: exited "
              f"{stopped['sigint_to_exit'] * 1000:.0f} ms later", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
