"""`zksh play`: load (and check) scenarios, find or start a server, play, and report."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING

from zkshell.exit_status import ExitStatus
from zkshell.player.export import ExportFailed
from zkshell.player.loader import ScenarioError, load_scenario
from zkshell.player.model import FAILED, TIMED_OUT
from zkshell.player.panes import LAYOUTS
from zkshell.player.runner import ServerLost, server_for
from zkshell.player.stop_request import STOP, Stopped

if TYPE_CHECKING:  # the show module is imported only when a scenario is played
    import ssl

    from zkshell.client_config import ClientConfig
    from zkshell.player.model import StepResult
    from zkshell.player.scenario import Scenario
    from zkshell.player.show import ShowOptions

LIVE_DELAY = 0.8  # seconds between steps in the live view, to read what a step printed
REACH_PATIENCE = 3.0  # the least time a -server is given to answer before the run


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
                    "On a terminal each session is shown live, in a pane of its own. "
                    "Each scenario plays against a server of its own: zksh's embedded "
                    "ZooKeeper 3.8 server, in this process (no Java), unless --zookeeper or "
                    "-server says otherwise.")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-server", "--server", metavar="HOST:PORT",
                       help="play against this running server (default: zksh's embedded "
                            "server, in this process: no Java, starts in milliseconds)")
    where.add_argument("--zookeeper", action="store_true",
                       help="play against a local Apache ZooKeeper that zksh starts and "
                            "stops (needs Java and the zookeeper package)")
    parser.add_argument("-client-configuration", "--client-configuration", metavar="FILE",
                        dest="client_configuration",
                        help="zkCli's client properties (TLS, SASL: see docs/shell.md) for "
                             "every session, with -server; spelled as zkCli spells it, and "
                             "with two dashes like play's other options. The -D flags in "
                             "$CLIENT_JVMFLAGS and $JVMFLAGS are read too, under the file")
    parser.add_argument("--reset", action="store_true",
                        help="with -server: first delete the top-level znodes the scenario "
                             "creates (an earlier run's), and everything under them; without "
                             "it a scenario whose znodes exist there is not played")
    parser.add_argument("--check", action="store_true",
                        help="plain report for CI; exit 1 unless every expectation holds")
    parser.add_argument("--bless", action="store_true",
                        help="play quietly, then write what each command printed into its "
                             "expect: line (those without one, or whose expectation failed); "
                             "shows the diff and asks first")
    parser.add_argument("--yes", action="store_true",
                        help="with --bless: write without asking")
    parser.add_argument("--transcript-lines", action="store_true",
                        help="plain report with every session's output, tagged with its "
                             "name (the default when the output is not a terminal, except "
                             "with --check)")
    parser.add_argument("--layout", choices=LAYOUTS, default="auto",
                        help="how the sessions' panes are placed, live and in exports: "
                             "side by side, in a grid (2x2 for four), or auto: side by "
                             "side while each pane gets about 60 columns, else a grid, else "
                             "stacked (default)")
    parser.add_argument("--server-pane", action=argparse.BooleanOptionalAction, default=None,
                        help="beside the sessions, a pane that is the server: the "
                             "scenario's znodes, ephemeral owners and watches by session "
                             "(default: on when the screen has room), live and in exports")
    pacing = parser.add_argument_group("pacing")
    pacing.add_argument("--step", action="store_true",
                        help="wait for a key before each step: Enter runs it, c continues to "
                             "the end, q stops; meanwhile Up/Down, PgUp/PgDn, Home/End scroll "
                             "a pane back, chosen with Tab or its number")
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
    # Not on a terminal, a demo is read as a transcript: every session's lines, interleaved.
    # --check is for CI, where the step report alone says what matters.
    transcript_lines = args.transcript_lines or not (live or args.check)
    return ShowOptions(
        live=live, transcript_lines=transcript_lines, step=args.step,
        delay=args.delay if args.delay is not None else (LIVE_DELAY if live else 0.0),
        typing=args.typing if args.typing is not None else live,
        transcript=args.transcript, svg=args.svg, html=args.html, cast=args.cast,
        size=args.size or DEFAULT_SIZE, layout=args.layout, server_pane=args.server_pane,
        # --bless plays as --check does, but what the awaits after a failed check get
        # still matters: their sessions' output is what it writes.
        check=args.check and not args.bless)


class Unusable(Exception):
    """The run cannot start: the message says what to do."""


# How long stopping may take after SIGTERM or SIGHUP before the process just exits.
STOP_DEADLINE_S = 10.0


def _exit_if_stopping_hangs(signum: int) -> None:
    """The stop is taken at the main thread's next wait (player/stop_request.py); a step
    stuck elsewhere (a request to a server that stopped answering) must not keep the
    process alive, so a daemon timer bounds the stopping."""
    import os
    import threading

    def give_up() -> None:
        sys.stderr.write("zksh play: stopping took too long; exiting now\n")
        sys.stderr.flush()
        os._exit(ExitStatus.killed_by(signum))

    timer = threading.Timer(STOP_DEADLINE_S, give_up)
    timer.daemon = True
    timer.start()


def _stop_on_signals() -> None:
    """Ctrl+C, SIGTERM and SIGHUP stop the run (player/stop_request.py).  A person who
    presses Ctrl+C again while the first is being taken gets out at once, as Python's own
    KeyboardInterrupt would have let them; SIGTERM and SIGHUP have the deadline instead."""
    deadline: list[int] = []  # the signal that started it: one deadline, from the first

    def stop(signum: int, frame: object) -> None:
        if signum == signal.SIGINT and STOP.requested:
            raise Stopped(STOP.signum)  # the second ends the run as the first said
        if signum != signal.SIGINT and not deadline:
            deadline.append(signum)
            _exit_if_stopping_hangs(signum)
        STOP.request(signum)  # raises only where nothing can swallow it

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.yes and not args.bless:
        parser.error("--yes goes with --bless")
    args.check = args.check or args.bless  # a blessing run plays quietly, as --check does
    args.client_config = None
    scenarios = []
    problems = []
    for path in args.scenarios:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:
            problems.append(str(error))
    problems += _export_problems(args)
    client_config, problem = _client_config(args)
    problems += problem
    if args.server is not None:
        problems += _server_problems(args.server)
    problems += [problem for scenario in scenarios
                 for problem in _ensemble_problems(scenario, args.server)]
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return ExitStatus.UNUSABLE
    _name_exports(scenarios)
    options = show_options(args)
    _stop_on_signals()
    if args.bless:
        return _bless(args, scenarios, options)
    failed = False
    for scenario in scenarios:
        try:
            passed, stopped = play(scenario, args.server, options, several=len(scenarios) > 1,
                                   zookeeper=args.zookeeper, reset=args.reset,
                                   client_config=client_config)
            failed |= not passed
            if stopped:  # `q` quits the run, not just this scenario
                break
        except Unusable as exc:
            sys.stderr.write(f"{exc}\n")
            return ExitStatus.UNUSABLE
        except ServerLost as exc:
            # Every step after would only print ConnectionLoss: stop the run, say it once.
            # Its sessions are dropped, and a server zksh started is stopped on the way.
            _say(f"zksh play: {exc}; stopped there\n" + (f"  {exc.hint}\n" if exc.hint else ""))
            failed = True
            break
        except ExportFailed as exc:  # the run itself is over and reported
            sys.stderr.write(f"{exc}\n")
            failed = True
            continue
        except KeyboardInterrupt as exc:
            return _interrupted(exc)
    if STOP.requested:  # one that came after the run's last wait (while exporting, say)
        return _interrupted(STOP.stopped(STOP.signum))
    return ExitStatus.ERROR if failed else ExitStatus.OK


def _interrupted(stop: KeyboardInterrupt) -> int:
    """Player.run has closed every session and play() stopped its server on the way."""
    _say("interrupted\n")
    return (ExitStatus.killed_by(stop.signum) if isinstance(stop, Stopped)
            else ExitStatus.INTERRUPTED)


def _bless(args: argparse.Namespace, scenarios: list[Scenario], options: ShowOptions) -> int:
    """`--bless`: play each scenario and offer to write what it printed into the file."""
    from zkshell.player.bless import bless

    def results_of(scenario: Scenario) -> list[StepResult]:
        kept: list[StepResult] = []
        play(scenario, args.server, options, several=len(scenarios) > 1,
             zookeeper=args.zookeeper, reset=args.reset, keep=kept,
             client_config=args.client_config)
        return kept

    status = ExitStatus.OK
    for scenario in scenarios:
        try:
            status = max(status, bless(scenario, results_of, yes=args.yes))
        except Unusable as exc:
            sys.stderr.write(f"{exc}\n")
            return ExitStatus.UNUSABLE
        except ServerLost as exc:  # what the steps printed after it is no one's output
            _say(f"zksh play: {exc}; stopped there: {scenario.path} not blessed\n")
            return ExitStatus.ERROR
        except ExportFailed as exc:
            sys.stderr.write(f"{exc}\n")
            status = ExitStatus.ERROR
        except KeyboardInterrupt as exc:
            return _interrupted(exc)
    if STOP.requested:  # one that came after the last wait
        return _interrupted(STOP.stopped(STOP.signum))
    return status


def _name_exports(scenarios: list[Scenario]) -> None:
    """a/x.yaml and b/x.yaml in one run: their exports are called x and x-2."""
    from zkshell.player.export import unique_names

    stems = [os.path.splitext(os.path.basename(s.path))[0] for s in scenarios]
    for scenario, name in zip(scenarios, unique_names(stems)):
        scenario.export_name = name


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except OSError:  # the terminal is gone (SIGHUP)
        pass


def _server_problems(address: str) -> list[str]:
    from zkshell.connect_string import InvalidConnectString, check_connect_string
    from zkshell.player.runner import Target

    try:
        check_connect_string(address)
    except InvalidConnectString as exc:
        return [f"zksh play: {exc}"]
    try:
        Target.parse(address)
    except ValueError as exc:
        return [str(exc)]  # Target's refusal starts with "zksh play" already
    return []


def _ensemble_problems(scenario: Scenario, address: str | None) -> list[str]:
    """A scenario with `servers: N` needs N members; with -server they must be named, and
    the server steps need an ensemble zksh started (it stops members by their PIDs)."""
    from zkshell.player.runner import Target
    from zkshell.player.step_kinds import SERVER_STEPS

    if scenario.servers < 2 or address is None or _server_problems(address):
        return []
    named = len(Target.parse(address).hosts)
    if named != scenario.servers:
        single = (" (a single server, such as zksh's embedded one, cannot play an ensemble)"
                  if named == 1 else "")
        return [f"zksh play: {scenario.path} says servers: {scenario.servers}, and -server "
                f"names {named}{single}\n  leave out -server and zksh starts a local "
                f"ensemble of {scenario.servers}: zksh play {scenario.path}"]
    used = sorted({step.kind for step in scenario.steps if step.kind in SERVER_STEPS})
    if used:
        return [f"zksh play: {scenario.path} uses {', '.join(used)}: zksh stops and starts "
                f"members of an ensemble it started itself, not of one given with -server\n"
                f"  leave out -server: zksh play {scenario.path}"]
    return []


def _export_problems(args: argparse.Namespace) -> list[str]:
    """Say before playing (not after a whole demo) when an export cannot be written."""
    problems = []
    for option, path in (("--svg", args.svg), ("--html", args.html), ("--cast", args.cast)):
        if path is None:
            continue
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            problems.append(f"zksh play: {option} {path}: is a directory; give a file name")
        elif not os.path.isdir(parent):
            problems.append(f"zksh play: {option} {path}: no directory {parent}")
        elif not os.access(parent, os.W_OK):
            problems.append(f"zksh play: {option} {path}: cannot write in {parent}")
    if args.transcript is not None:
        problem = _directory_problem(args.transcript)
        if problem:
            problems.append(f"zksh play: --transcript {args.transcript}: {problem}")
    return problems


def _directory_problem(path: str) -> str | None:
    """Why a directory could not be made at `path` (None when it can)."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == os.path.abspath(path):
        return None if os.path.isdir(existing) else "not a directory"
    if not os.path.isdir(existing):
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK):
        return f"cannot write in {existing}"
    return None


def _client_config(args: argparse.Namespace) -> tuple[ClientConfig | None, list[str]]:
    """-client-configuration over zkCli.sh's JVM flags, as the shell reads them; a server
    zksh starts itself speaks neither TLS nor SASL, so a configuration asking for them
    needs -server (refused here, before anything runs)."""
    from zkshell.client_config import ClientConfigError, config_from_flags, load_client_config

    try:
        if args.client_configuration is not None:
            config = load_client_config(args.client_configuration, os.environ)
        else:
            config = config_from_flags(os.environ)
    except ClientConfigError as exc:
        return None, [f"zksh play: {exc}"]
    args.client_config = config
    if config is None or not config.asks_for or args.server is not None:
        return config, []
    source = (f"-client-configuration {config.path}" if args.client_configuration
              else "CLIENT_JVMFLAGS/JVMFLAGS")
    return config, [f"zksh play: {source} asks for {' and '.join(config.asks_for)}, which "
                    f"no server zksh starts offers (its embedded server, --zookeeper's, an "
                    f"ensemble's)\n  play against a ZooKeeper that does: "
                    f"zksh play -server HOST:PORT ..."]


def _check_reachable(address: str, scenario: Scenario,
                     ssl_context: ssl.SSLContext | None = None) -> None:
    from zkshell.player.runner import Target
    from zkshell.player.servers import granted_within

    target = Target.parse(address)
    asked = int(scenario.session_timeout * 1000)
    # As patient as a session's connect: the session timeout (3 s at least), over all the
    # servers named (an ensemble's members: one that answers will do).
    patience = max(REACH_PATIENCE, scenario.session_timeout) / len(target.hosts)
    granted = None
    for host, port in target.hosts:
        granted = granted_within(host, port, asked, patience, ssl_context)
        if granted is not None:
            break
    if granted is None:
        where = ",".join(f"{h}:{p}" for h, p in target.hosts)
        tls = " over TLS (its certificate trusted? ours accepted?)" if ssl_context else ""
        raise Unusable(f"zksh play: no ZooKeeper answers at {where}{tls} "
                       f"(tried for {max(REACH_PATIENCE, scenario.session_timeout):g} s)\n"
                       f"  leave out -server and zksh plays against its embedded server: "
                       f"zksh play {scenario.path}")
    if granted != asked:
        # The server clamps a session timeout to 2..20 of its ticks: crashes and partitions
        # then expire on its clock, not the scenario's.
        _say(f"zksh play: {host}:{port} grants a {granted / 1000:g} s session "
             f"timeout, not the {asked / 1000:g} s {scenario.path} asks for\n")


def _check_leftovers(address: str, scenario: Scenario, reset: bool,
                     client_options: dict | None = None) -> None:
    """A server that is not fresh may hold an earlier run's znodes: the scenario's first
    create would fail part-way through the demo.  Say so before playing, or delete them."""
    from zkshell.player.leftovers import ServerTrouble, delete, existing, top_znodes

    patience = max(REACH_PATIENCE, scenario.session_timeout)
    try:
        found = existing(address, top_znodes(scenario), patience, client_options)
        if found and reset:
            delete(address, found, patience, client_options)
            _say(f"zksh play: --reset: deleted {', '.join(found)} (and all under them) "
                 f"at {address}\n")
            return
    except ServerTrouble as exc:
        raise Unusable(f"zksh play: {exc}") from None
    if found:
        them = "it" if len(found) == 1 else "them"
        raise Unusable(f"zksh play: {', '.join(found)} already "
                       f"{'exists' if len(found) == 1 else 'exist'} at {address} (an earlier "
                       f"run's?), and {scenario.path} creates {them}\n"
                       f"  delete {them} first (and all under {them}): "
                       f"zksh play --reset -server {address} {scenario.path}")


def play(scenario: Scenario, address: str | None, options: ShowOptions,
         several: bool = False, zookeeper: bool = False,
         reset: bool = False,
         keep: list[StepResult] | None = None,
         client_config: ClientConfig | None = None) -> tuple[bool, bool]:
    """Play one scenario: (every step ran and every expectation held, a person stopped it).

    Against `address` when given, else against a server started for this scenario and
    stopped after it: the embedded one, or a local Apache ZooKeeper with `zookeeper`.
    `reset`: first delete what an earlier run left at `address` (a started server is
    fresh: there is nothing to delete)."""
    from zkshell.player import servers
    from zkshell.player.show import show

    if address is not None:
        # Every connection to it as zkCli's would be made with the same configuration.
        client_options = client_config.kazoo_options() if client_config else None
        server = servers.given(address, client_options)
        with STOP.raising_at_once():  # our own probes: they swallow nothing
            _check_reachable(address, scenario, server.ssl_context)
        _check_leftovers(address, scenario, reset, client_options)  # kazoo's: it may
        STOP.check()  # before the run, which would sum up the steps it did not play
        results = show(scenario, server, options, several)
    else:
        kind = servers.ZOOKEEPER if zookeeper else servers.EMBEDDED
        if scenario.servers > 1:  # the embedded server is a single node
            kind = servers.ENSEMBLE
        try:
            with ExitStack() as stack:
                # Starting is zksh's own code, which stops what it started on the way out:
                # a signal may raise there at once rather than after the quorum is up.
                with STOP.raising_at_once():
                    server = stack.enter_context(
                        servers.started(kind, server_for(scenario), scenario.servers))
                results = show(scenario, server, options, several)
        except servers.ServerUnavailable as exc:
            hint = ("" if zookeeper or kind == servers.ENSEMBLE
                    else "\n  or play against a local Apache ZooKeeper: "
                    f"zksh play --zookeeper {scenario.path}")
            raise Unusable(f"zksh play: {exc}{hint}\n  or play against a running one: "
                           f"zksh play -server HOST:PORT {scenario.path}") from None
    if keep is not None:  # --bless writes what the steps printed
        keep[:] = results
    # A run stopped part-way did not check what it skipped.
    stopped = len(results) < len(scenario.steps)  # only a person's `q` ends a run early
    return (not stopped and not any(r.status in (FAILED, TIMED_OUT) for r in results),
            stopped)
