"""Stress repro: `zksh play --check` stopped by a signal while an await waits.

Not part of `make test` (pytest collects only tests/test_*.py; this file is a script).
Run from a checkout:

    python tests/stress/play_signal_stop.py [--runs 50] [--burners 2] [--signal TERM]
                                            [--checkout DIR]

(--checkout plays another checkout's zksh, to compare with the code before a change.)

Each run plays a scenario that creates an ephemeral node then awaits an event that never
comes (60 s), sends the signal once the first output lines are out, and checks what the
test in tests/test_play_runs.py checks: the exit status, the summary, no traceback.  CPU
burners load the machine meanwhile, which is when about 1 stop in 25 used to hang.  A run
that has not ended 5 s after the signal gets SIGUSR1: the stacks of all its threads are
printed (faulthandler), then it is left to end or be killed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CHECKOUT))

# The scenario of tests/test_play_runs.py's signal tests: an ephemeral, then a 60 s await.
from tests.test_play_runs import LONG as SCENARIO  # noqa: E402

# Loaded at start-up through PYTHONPATH: SIGUSR1 prints every thread's stack.
SITECUSTOMIZE = "import faulthandler, signal\nfaulthandler.register(signal.SIGUSR1)\n"


def burn() -> None:
    while True:
        pass


def one_run(scenario: Path, debug_dir: Path, signum: int, checkout: Path) -> str | None:
    """None when the run stopped as it should; else what went wrong."""
    env = dict(os.environ, PYTHONPATH=f"{debug_dir}{os.pathsep}{checkout}")
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               str(scenario)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=checkout)
    try:
        assert player.stdout is not None
        player.stdout.readline()
        player.stdout.readline()
        player.send_signal(signum)
        try:
            out, err = player.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            player.send_signal(signal.SIGUSR1)
            out, err = player.communicate(timeout=30)
    finally:
        player.kill()
    if player.returncode != 128 + signum or "Traceback" in err or "steps, " not in out:
        return f"status {player.returncode}\n--- stdout\n{out}--- stderr\n{err}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--signal", default="TERM", help="TERM, HUP or INT")
    parser.add_argument("--checkout", type=Path, default=CHECKOUT)
    args = parser.parse_args()
    signum = getattr(signal, "SIG" + args.signal)
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.burners)]
    for burner in burners:
        burner.start()
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Path(tmp) / "long.yaml"
            scenario.write_text(SCENARIO, encoding="utf-8")
            (Path(tmp) / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
            for run in range(1, args.runs + 1):
                started = time.monotonic()
                problem = one_run(scenario, Path(tmp), signum, args.checkout)
                took = time.monotonic() - started
                if problem is not None:
                    failures += 1
                    print(f"run {run}: FAILED after {took:.1f} s\n{problem}", flush=True)
                else:
                    print(f"run {run}: ok ({took:.1f} s)", flush=True)
    finally:
        for burner in burners:
            burner.terminate()
    print(f"{failures} failed of {args.runs}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
