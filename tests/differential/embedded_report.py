"""Which differential scripts zkCli.sh (or zksh) prints the same for from the embedded server
as zkCli.sh prints from real ZooKeeper.  A report, not a test (all 16 scripts take about two
minutes; tests/test_differential.py checks the same in the test run):

    python -m tests.differential.embedded_report            # zkCli.sh on both servers
    python -m tests.differential.embedded_report --zksh     # zksh on the embedded server
    python -m tests.differential.embedded_report 10 12      # scripts whose name has 10 or 12

Each script runs on fresh servers, twice per side (separate pipes and merged), as in
tests/test_differential.py; the embedded servers first get the same start-up handshake the
real ones had, so zxids line up.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from tests.differential.harness import (
    render,
    run_zkcli,
    run_zksh,
    script_paths,
    script_quits,
    start_embedded_servers,
    start_servers,
    unified_diff,
)


def main(argv: list[str]) -> int:
    use_zksh = "--zksh" in argv
    wanted = [arg for arg in argv if not arg.startswith("--")]
    failures = 0
    for script in script_paths():
        if wanted and not any(word in script.name for word in wanted):
            continue
        text = script.read_text()
        real = start_servers(2)
        ours = start_embedded_servers(2)
        try:
            with ThreadPoolExecutor(2) as pool:
                reference = pool.submit(run_zkcli, real[0].address, text, real[1].address)
                run = run_zksh if use_zksh else run_zkcli
                candidate = pool.submit(run, ours[0].address, text, ours[1].address)
                expected_result, actual_result = reference.result(), candidate.result()
        finally:
            for server in real:
                server.cleanup()
            for server in ours:
                server.stop()
        quits = script_quits(text)
        expected = render(expected_result, zkcli=True, address=real[0].address,
                          merged_address=real[1].address, quits=quits)
        actual = render(actual_result, zkcli=not use_zksh, address=ours[0].address,
                        merged_address=ours[1].address, quits=quits)
        same = expected == actual
        failures += not same
        print(("PASS " if same else "FAIL ") + script.name, flush=True)
        if not same:
            print(unified_diff(expected, actual, "ZooKeeper", "embedded"), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
