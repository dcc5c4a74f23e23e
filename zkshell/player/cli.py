"""`zksh play`: load (and check) scenarios, find or start a server, play, and report."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import TYPE_CHECKING

from zkshell.player.loader import ScenarioError, load_scenario
from zkshell.player.runner import FAILED, TIMED_OUT, server_for

if TYPE_CHECKING:  # the show module is imported only when a scenario is played
    from zkshell.player.scenario import Scenario
    from zkshell.player.show import ShowOptions

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
LIVE_DELAY = 0.8  # seconds between steps in the live view, to read what a step printed


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a delay cannot be negative: {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match.group(1)) < 40 or int(match.group(2)) < 10:
        raise argparse.ArgumentTypeError(f"expected COLSxROWS, at least 40x10: {text!r}")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zksh play",
        description="Play ZooKeeper scenarios: several sessions, faults, watches, checks. "
                    "On a terminal the sessions are shown side by side, live.")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    parser.add_argument("-server", "--server", metavar="HOST:PORT",
                        help="play against this server (default: start a local ZooKeeper)")
    parser.add_argument("--check", action="store_true",
                        help="plain report for CI; exit 1 unless every expectation holds")
    parser.add_argument("--transcript-lines", action="store_true",
                        help="plain report with every session's output, tagged with its name")
    pacing = parser.add_argument_group("pacing")
    pacing.add_argument("--step", action="store_true",
                        help="wait for a key before each step: Enter runs it, c continues to "
                             "the end, q stops")
    pacing.add_argument("--delay", type=_seconds, metavar="SECONDS",
                        help=f"pause between steps (default {LIVE_DELAY:g} in the live view, "
                             "0 otherwise)")
    pacing.add_argument("--typing", action=argparse.BooleanOptionalAction, default=None,
                        help="type commands out one character at a time (default: on in the "
                             "live view only)")
    exports = parser.add_argument_group("exports (with or without the live view)")
    exports.add_argument("--transcript", metavar="DIR",
                         help="one file per session, what its zkCli window showed")
    exports.add_argument("--svg", metavar="FILE", help="the final view as an SVG picture")
    exports.add_argument("--html", metavar="FILE", help="the final view as an HTML page")
    exports.add_argument("--cast", metavar="FILE",
                         help="an asciicast v2 recording of the view, a marker per step")
    exports.add_argument("--size", type=_size, metavar="COLSxROWS",
                         help="size of the view exported without a terminal (default 120x40)")
    return parser


def _live_wanted(args: argparse.Namespace) -> bool:
    """The live view needs a person at a real terminal; everything else gets plain text."""
    return (not args.check and not args.transcript_lines and sys.stdout.isatty()
            and os.environ.get("TERM", "") != "dumb")


def show_options(args: argparse.Namespace) -> ShowOptions:
    from zkshell.player.show import DEFAULT_SIZE, ShowOptions

    live = _live_wanted(args)
    return ShowOptions(
        live=live, transcript_lines=args.transcript_lines, step=args.step,
        delay=args.delay if args.delay is not None else (LIVE_DELAY if live else 0.0),
        typing=args.typing if args.typing is not None else live,
        transcript=args.transcript, svg=args.svg, html=args.html, cast=args.cast,
        size=args.size or DEFAULT_SIZE)


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
    options = show_options(args)
    failed = False
    for scenario in scenarios:
        try:
            failed |= not play(scenario, args.server, options, several=len(scenarios) > 1)
        except KeyboardInterrupt:
            # Player.run has closed every session and play() stopped its server on the way.
            sys.stderr.write("interrupted\n")
            return EXIT_INTERRUPTED
    return EXIT_FAILED if failed else EXIT_OK


def play(scenario: Scenario, address: str | None, options: ShowOptions,
         several: bool = False) -> bool:
    """Play one scenario; True when every step ran and every expectation held."""
    from zkshell.player.show import show
    from zkshell.server import LocalServer, ZooKeeperUnavailable

    server = None
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
        results = show(scenario, address, options, several)
    finally:
        if server is not None:
            server.cleanup()
    # A run stopped part-way did not check what it skipped.
    return (len(results) == len(scenario.steps)
            and not any(r.status in (FAILED, TIMED_OUT) for r in results))
