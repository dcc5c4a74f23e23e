"""`zksh play`: load (and check) scenarios, find or start a server, play, and report."""

from __future__ import annotations

import argparse
import sys

from zkshell.player.loader import ScenarioError, load_scenario
from zkshell.player.runner import FAILED, TIMED_OUT, Player, server_for

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zksh play",
        description="Play ZooKeeper scenarios: several sessions, faults, watches, checks.")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    parser.add_argument("-server", "--server", metavar="HOST:PORT",
                        help="play against this server (default: start a local ZooKeeper)")
    parser.add_argument("--check", action="store_true",
                        help="plain report for CI; exit 1 unless every expectation holds")
    parser.add_argument("--transcript-lines", action="store_true",
                        help="also print every session's output, tagged with its name")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    scenarios = []
    problems = []
    for path in args.scenarios:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:
            problems.append(str(error))
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return EXIT_UNUSABLE
    failed = False
    for scenario in scenarios:
        try:
            failed |= not play(scenario, args)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            return 130
    return EXIT_FAILED if failed else EXIT_OK


def play(scenario, args) -> bool:
    from zkshell.player.report import PlainReport
    from zkshell.server import LocalServer, ZooKeeperUnavailable

    server = None
    address = args.server
    if address is None:
        server = LocalServer(tick_time_ms=server_for(scenario))
        try:
            server.start()
        except ZooKeeperUnavailable as exc:
            sys.stderr.write(f"zksh play: cannot start a local ZooKeeper: {exc}\n"
                             "  or play against a running one: zksh play -server HOST:PORT "
                             f"{scenario.path}\n")
            raise SystemExit(EXIT_UNUSABLE) from None
        address = server.address
    try:
        report = PlainReport(transcript=args.transcript_lines)
        results = Player(scenario, address, report).run()
    finally:
        if server is not None:
            server.cleanup()
    return not any(r.status in (FAILED, TIMED_OUT) for r in results)
