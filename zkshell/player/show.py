"""How one scenario is shown: the live teaching view or the plain report, paced, exported.

The live view is for a person at a terminal; anything else (a pipe, a file, --check, the
interleaved --transcript-lines) gets the plain report.  Exports work with either, since they
draw from the same `Board`.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from zkshell.player.model import FAILED, TIMED_OUT, StepResult
from zkshell.player.observers import Fanout
from zkshell.player.panes import waiting_line
from zkshell.player.runner import Player
from zkshell.player.scenario import Scenario, Step
from zkshell.player.servers import PlayServer

if TYPE_CHECKING:  # imported when needed: the plain report never loads rich
    from zkshell.player.cast import CastRecorder
    from zkshell.player.live import LiveView
    from zkshell.player.member_row import MemberFeed
    from zkshell.player.pacing import Pacer
    from zkshell.player.panes import Board
    from zkshell.player.server_feed import ServerFeed

DEFAULT_SIZE = (120, 40)


@dataclass
class ShowOptions:
    live: bool = False
    transcript_lines: bool = False
    step: bool = False
    delay: float = 0.0
    typing: bool = False
    transcript: str | None = None
    svg: str | None = None
    html: str | None = None
    cast: str | None = None
    size: tuple[int, int] = DEFAULT_SIZE
    layout: str = "auto"  # how panes are placed, in the live view and every export of it
    server_pane: bool | None = None  # None: beside the sessions when the screen has room
    check: bool = False  # --check: the verdict is all that matters (not --bless's run)

    @property
    def exports(self) -> bool:
        return any((self.transcript, self.svg, self.html, self.cast))


def export_path(path: str, scenario: Scenario, several: bool) -> str:
    """With several scenarios in one run, each export gets the scenario's name."""
    if not several:
        return path
    root, ext = os.path.splitext(path)
    return f"{root}-{export_stem(scenario)}{ext}"


def export_stem(scenario: Scenario) -> str:
    """The scenario's name in export names: its file's, unless the run gave it another."""
    return scenario.export_name or os.path.splitext(os.path.basename(scenario.path))[0]


@dataclass
class _Views:
    """Who watches one run: the board and what draws it, the recorder, typist and report."""

    board: Board | None = None
    cast: CastRecorder | None = None
    live: LiveView | None = None
    feed: ServerFeed | None = None  # reads the server for the server pane
    members: MemberFeed | None = None  # reads an ensemble's members for their row
    observers: tuple = ()
    size: tuple[int, int] = DEFAULT_SIZE


def _views(scenario: Scenario, options: ShowOptions, out: TextIO,
           server: PlayServer | None = None) -> _Views:
    views = _Views(size=options.size)
    if not (options.live or options.exports):
        from zkshell.player.report import PlainReport

        views.observers = (PlainReport(out, transcript=options.transcript_lines),)
        return views  # the plain report alone: rich is not even imported
    from zkshell.player.panes import Board

    # Scrolling back needs a person at the live view, and --step's pause to read it.
    views.board = Board(scenario, scroll_keys=options.live and options.step)
    terminal = None
    if options.live:
        from rich.console import Console

        from zkshell.player.live import terminal_view_size

        terminal = Console(file=out, force_terminal=True)
        views.size = terminal_view_size(terminal)
    if options.cast:
        from zkshell.player.cast import CastRecorder

        views.cast = CastRecorder(*views.size, title=scenario.title,
                                  idle_time_limit=2.0 if options.step else None)
    if terminal is not None or views.cast is not None:
        from zkshell.player.live import LiveView

        views.live = LiveView(views.board, terminal, views.cast, views.size, options.layout,
                              options.server_pane)
    if options.server_pane is not False and server is not None:
        from zkshell.player.server_feed import ServerFeed
        from zkshell.player.server_state import source_for

        views.feed = ServerFeed(source_for(server.embedded, server.address, scenario,
                                           server.client_options), views.board)
    if scenario.servers > 1 and server is not None:
        views.members = _member_feed(server, views.board)
    typist = report = None
    if options.typing:
        from zkshell.player.pacing import Typist

        typist = Typist(views.board)
    if not options.live:
        from zkshell.player.report import PlainReport

        report = PlainReport(out, transcript=options.transcript_lines)
    # In this order: the cast marks a step before the typist starts typing it.
    views.observers = (views.board, views.feed, views.members, views.cast, typist, report)
    return views


def _member_feed(server: PlayServer, board: Board) -> MemberFeed:
    """The members' row reads each member; what zksh did to one (stopped it, cut it off)
    it knows without asking."""
    from zkshell.player.member_row import MemberFeed
    from zkshell.player.runner import Target

    known = getattr(server.members, "known_state", None)
    return MemberFeed(Target.parse(server.address).hosts, board, known)


def show(scenario: Scenario, server: PlayServer, options: ShowOptions, several: bool = False,
         out: TextIO | None = None) -> list[StepResult]:
    """Play `scenario` against `server` as the options say; the results of the steps run.
    Raises ServerLost (views and exports done) when the server stopped answering, or
    SessionRefused when a session could not connect."""
    out = out or sys.stdout
    views = _views(scenario, options, out, server)
    player = Player(scenario, server.address, Fanout(*views.observers), server.line,
                    server.members, server.client_options,
                    skip_awaits_after_failure=options.check)
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            pacer = _pacer(player, options, views.board, stack)
            if views.live is not None:
                stack.enter_context(views.live)
            results = player.run(pause_before_step=pacer)
        if options.step and pacer.keys is None:
            options.step = False  # `c` continues to the end of the run, later scenarios too
    except KeyboardInterrupt:
        _interrupted(player, time.monotonic() - started, out)
        raise
    finally:
        for feed in (views.feed, views.members):  # stopped at the end, or here on Ctrl+C
            if feed is not None:
                feed.stop()
    if options.live:
        _outcome(player, results, out)
    _export(views, options, scenario, several)
    if player.lost is not None:
        raise player.lost
    return results


def _interrupted(player: Player, elapsed: float, out: TextIO) -> None:
    """What had run when Ctrl+C came: the summary the end of the run would have given."""
    from zkshell.player.report import summary_line

    try:
        out.write(summary_line(player.results, elapsed, len(player.scenario.steps)) + "\n")
        out.flush()
    except OSError:  # the terminal is gone (SIGHUP)
        pass


def _pacer(player: Player, options: ShowOptions, board: Board | None,
           stack: ExitStack) -> Pacer:
    from zkshell.player.pacing import KeyReader, Pacer

    keys = None
    if options.step or options.live:
        # In the live view keys must not echo over the panes, even without --step.
        keys = stack.enter_context(KeyReader())
    hint = None if options.live else _plain_hint(player.scenario)
    return Pacer(stop=lambda: setattr(player, "stopped", True),
                 keys=keys if options.step else None, delay=options.delay,
                 board=board, hint=hint)


def _plain_hint(scenario: Scenario):
    def hint(index: int, step: Step) -> None:
        sys.stderr.write(waiting_line(index, scenario.steps) + "\n")
        sys.stderr.flush()
    return hint


def _outcome(player: Player, results: list[StepResult], out: TextIO) -> None:
    """Below the final view, whose status line already sums the run up: what failed."""
    from zkshell.player.report import failure_report

    for result in results:
        if result.status in (FAILED, TIMED_OUT):
            played = player.sessions.get(result.step.session or "")
            out.write(failure_report(player.scenario.path, result,
                                     played.recent() if played else ""))
    out.flush()


def _export(views: _Views, options: ShowOptions, scenario: Scenario, several: bool) -> None:
    """Write every export asked for; one that fails does not keep the others from being
    written, and all failures are raised together at the end."""
    from zkshell.player.export import ExportFailed, write_picture, write_transcripts

    jobs = []
    if options.transcript and views.board is not None:
        directory = options.transcript
        if several:
            directory = os.path.join(directory, export_stem(scenario))
        jobs.append(("--transcript", directory,
                     lambda: write_transcripts(views.board, directory)))
    for kind, path in (("svg", options.svg), ("html", options.html)):
        if path and views.board is not None:
            target = export_path(path, scenario, several)
            jobs.append((f"--{kind}", target, lambda t=target, k=kind: write_picture(
                views.board, t, *views.size, kind=k, layout=options.layout,
                server_pane=options.server_pane)))
    if views.cast is not None and options.cast:
        target = export_path(options.cast, scenario, several)
        jobs.append(("--cast", target, lambda t=target: views.cast.save(t)))
    failures = []
    for option, target, job in jobs:
        try:
            job()
        except OSError as exc:
            failures.append(f"zksh play: {option} {target}: {exc.strerror or exc}")
    if failures:
        raise ExportFailed("\n".join(failures))
