"""What the teaching view shows, as plain data: one pane per session, a caption, a status.

`Board` is an `Observer`: it keeps every session's log entries (its own copy, so what it shows
can be frozen when the player starts closing the sessions), what is being typed, and how the
steps went.  `Board.picture()` is a consistent snapshot that the rich renderer (view.py) and
the exports draw from; nothing here imports rich.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from zkshell.player.member_row import MemberLine
from zkshell.player.model import (
    FAILED,
    FAILURE,
    PASSED,
    TIMED_OUT,
    LogEntry,
    Observer,
    StepResult,
)
from zkshell.player.report import counts
from zkshell.player.scenario import Scenario, Step
from zkshell.player.server_pane import ServerView
from zkshell.player.verdict import verdict_text

# Player states worth keeping next to the session's own state: a restarted process is a new
# process, a healed one is the same session after a partition.
_REMEMBERED = ("restarted", "healed")
_LIVE = ("connected", "connectedreadonly", "connecting")


@dataclass(frozen=True)
class Pane:
    """One session's window: its log, state, and the line at the bottom."""

    name: str
    label: str
    entries: tuple[LogEntry, ...]
    state: str
    prompt: str | None  # the idle prompt; None while a command runs or no process runs
    typing: str = ""
    scroll: int = 0  # lines scrolled back from the latest (--step, while waiting for a key)
    selected: bool = False  # the pane the scroll keys move


@dataclass(frozen=True)
class Picture:
    """Everything the view draws at one moment."""

    title: str
    caption: str
    captions: tuple[str, ...]  # every caption of the run, so the view can reserve room once
    panes: tuple[Pane, ...]
    progress: str
    status: str
    waiting: bool = False
    failed: bool = False
    finished: bool = False
    stopped: bool = False  # finished before the last step (a person pressed q)
    server: str = ""  # "server: ..." once the sessions are connected (servers.PlayServer)
    server_view: ServerView | None = None  # the server pane (server_feed.py), when it runs
    members: tuple[MemberLine, ...] = ()  # an ensemble's row of members (member_row.py)


LAYOUTS = ("auto", "columns", "grid")  # --layout; view.layout_shape says what each means


def summarised(panes: tuple[Pane, ...], room: int) -> tuple[tuple[Pane, ...], str]:
    """The panes to draw when only `room` fit, in the scenario's order, and a line for the
    others: `+ 180 more sessions: 178 connected, 2 crashed · 1 failed` ("" when all fit).

    Those drawn are the ones to look at: the pane the scroll keys move, those with a failed
    step, then those that printed last (the step running now, the notifications it set off)."""
    if len(panes) <= room:
        return panes, ""
    def interest(pane: Pane) -> tuple[bool, bool, float]:
        return (pane.selected, _failed(pane), pane.entries[-1].at if pane.entries else 0.0)
    keep = set(sorted(range(len(panes)), key=lambda i: interest(panes[i]))[-room:]
               if room > 0 else [])
    shown = tuple(pane for index, pane in enumerate(panes) if index in keep)
    hidden = [pane for index, pane in enumerate(panes) if index not in keep]
    states: dict[str, int] = {}
    for pane in hidden:
        states[pane.state] = states.get(pane.state, 0) + 1
    counted = ", ".join(f"{count} {state}" for state, count in
                        sorted(states.items(), key=lambda item: -item[1]))
    failed = sum(_failed(pane) for pane in hidden)
    more = "session" if len(hidden) == 1 else "sessions"
    return shown, (f"+ {len(hidden)} more {more}: {counted}"
                   + (f" · {failed} failed" if failed else ""))


def _failed(pane: Pane) -> bool:
    return any(entry.kind == FAILURE for entry in pane.entries)


def waiting_line(index: int, steps: list[Step], scroll_keys: bool = False) -> str:
    """What --step shows while it waits: the keys first, so a narrow screen never cuts them
    (the scroll keys in short: the chosen pane's border names the rest)."""
    keys = ("[Enter] run  [c] to the end  [q] quit  [↑↓ Tab] scroll" if scroll_keys
            else "[Enter] run  [c] run to the end  [q] quit")
    return f"{keys}   next {index + 1}/{len(steps)}: {steps[index].summary()}"


def state_marker(state: str) -> str:
    """The line a window shows where its process crashed, restarted, was cut off..."""
    return f"── {state} ──"


def transcript_text(entries: tuple[LogEntry, ...] | list[LogEntry],
                    prompt: str | None = None) -> str:
    """What a zkCli window showed: prompt and typed line, outputs, WATCHER blocks, in order,
    a marker where the process changed, and the idle `prompt` it was left at, if any.
    The player's verdicts on failed steps are not zkCli's: they are left out.

    A typed line ends where the user pressed Enter, so every entry ends a line.
    """
    lines = []
    for entry in entries:
        if entry.kind == FAILURE:
            continue
        text = state_marker(entry.text) if entry.kind == "state" else entry.text
        lines.append(text if text.endswith("\n") else text + "\n")
    return "".join(lines) + (prompt or "")


# What the scroll keys ask for (pacing.py reads the keys): a pane, or a move in it.
UP, DOWN, PAGE_UP, PAGE_DOWN, TOP, BOTTOM, NEXT_PANE = (
    "up", "down", "page up", "page down", "top", "bottom", "next pane")


class Board(Observer):
    """`scroll_keys`: while --step waits, the keys can scroll a pane back (the live view)."""

    def __init__(self, scenario: Scenario, scroll_keys: bool = False) -> None:
        self.scenario = scenario
        self.scroll_keys = scroll_keys
        self.player = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._entries: dict[str, list[LogEntry]] = {s.name: [] for s in scenario.sessions}
        self._typing: dict[str, str] = {}
        self._busy: set[str] = set()
        self._frozen: tuple[Pane, ...] | None = None
        self._caption = scenario.about
        self._current: int | None = None
        self._waiting_for: int | None = None
        self._results: list[StepResult] = []
        self._failed = False
        self._finished = False
        self._server_lost: str | None = None  # why the run stopped, when the server died
        self._selected = 0
        self._scroll: dict[str, int] = {}
        self._room: dict[str, tuple[int, int]] = {}
        self._server_view: ServerView | None = None
        # The server pane after each step, for server.txt: (what the step was, the pane).
        self.server_history: list[tuple[str, ServerView]] = []
        self._members: tuple[MemberLine, ...] = ()
        # The row of members after each step, for server.txt too.
        self.member_history: list[tuple[str, tuple[MemberLine, ...]]] = []

    # ---- listeners (the live view redraws) ---------------------------------------------
    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:  # outside the lock: a listener reads the board
            listener()

    # ---- Observer ----------------------------------------------------------------------
    def scenario_started(self, player) -> None:
        self.player = player
        self._changed()

    def step_started(self, player, index: int, step: Step) -> None:
        with self._lock:
            self._current = index
            self._waiting_for = None
            if step.kind == "note":
                self._caption = step.text
        self._changed()

    def entry_added(self, session, entry: LogEntry) -> None:
        # Arrives on kazoo's threads too; `session.shell` may not exist yet while connecting.
        with self._lock:
            if self._frozen is not None:
                return
            self._entries.setdefault(session.name, []).append(entry)
            if entry.kind == "command":  # Enter was pressed: the typed line became the log's
                self._typing.pop(session.name, None)
                self._busy.add(session.name)
        self._changed()

    def step_finished(self, player, index: int, result: StepResult) -> None:
        verdict = verdict_text(result)
        with self._lock:
            if verdict and result.where in self._entries:  # under the step's output
                self._entries[result.where].append(LogEntry(FAILURE, verdict))
            self._results.append(result)
            self._busy.discard(result.step.session or "")
            self._failed |= result.status in (FAILED, TIMED_OUT)
        self._changed()

    def closing(self, player) -> None:
        panes = self._panes()
        with self._lock:
            self._frozen = panes
        self._changed()

    def scenario_finished(self, player, results) -> None:
        with self._lock:
            self._finished = True
            self._server_lost = getattr(player, "server_lost", None)
            self._failed |= self._server_lost is not None  # the run did not do its job
        self._changed()

    def set_server(self, view: ServerView, heading: str | None = None) -> None:
        """What the server pane shows now; `heading`: a step has ended, keep it (server.txt).
        Once the player starts closing the sessions the pane keeps what the scenario left."""
        with self._lock:
            if self._frozen is not None:
                return
            self._server_view = view
            if heading is not None:
                self.server_history.append((heading, view))
        self._changed()

    def set_members(self, lines: tuple[MemberLine, ...], heading: str | None = None) -> None:
        """What the row of members shows now; `heading`: a step has ended, keep it.  As the
        server pane, it keeps what the scenario left once the player starts closing."""
        with self._lock:
            if self._frozen is not None or (heading is None and lines == self._members):
                return  # nothing new to draw (the row is read every second)
            self._members = lines
            if heading is not None:
                self.member_history.append((heading, lines))
        self._changed()

    # ---- pacing ------------------------------------------------------------------------
    def set_typing(self, session: str, text: str) -> None:
        with self._lock:
            self._typing[session] = text
        self._changed()

    def set_waiting(self, index: int | None) -> None:
        """The player waits for a key before step `index` (None: it no longer waits, and
        every pane is back at its latest lines, to show the step run)."""
        with self._lock:
            self._waiting_for = index
            if index is None:
                self._scroll.clear()
        self._changed()

    # ---- scrolling back (--step) -------------------------------------------------------
    def set_scroll_room(self, room: dict[str, tuple[int, int]]) -> None:
        """What the view last drew: for each pane, how many lines back its text goes and how
        tall it is.  Not a change to draw: the view tells it after drawing."""
        with self._lock:
            self._room.update(room)

    def scroll(self, move: str) -> None:
        """Select a pane (`"pane 2"`, NEXT_PANE) or scroll the selected one (UP, PAGE_UP...)."""
        names = [spec.name for spec in self.scenario.sessions]
        if not names:
            return
        with self._lock:
            if move == NEXT_PANE:
                self._selected = (self._selected + 1) % len(names)
            elif move.startswith("pane "):
                number = int(move.split()[1])
                if not 1 <= number <= len(names):
                    return
                self._selected = number - 1
            else:
                name = names[self._selected]
                self._scroll[name] = self._scrolled(name, move)
        self._changed()

    def _scrolled(self, name: str, move: str) -> int:
        furthest, height = self._room.get(name, (0, 1))
        page = max(1, height - 1)  # a line of the last page stays, to read on from
        back = self._scroll.get(name, 0) + {UP: 1, DOWN: -1, PAGE_UP: page, PAGE_DOWN: -page,
                                            TOP: furthest, BOTTOM: -furthest}[move]
        return max(0, min(furthest, back))

    # ---- snapshots ---------------------------------------------------------------------
    def entries(self, name: str) -> tuple[LogEntry, ...]:
        with self._lock:
            return tuple(self._entries.get(name, ()))

    def picture(self) -> Picture:
        panes = self._frozen if self._frozen is not None else self._panes()
        with self._lock:
            progress, status = self._progress(), self._status()
            return Picture(
                title=self.scenario.title, caption=self._caption,
                captions=tuple(c for c in (self.scenario.about, *self._notes()) if c),
                panes=panes, progress=progress, status=status,
                waiting=self._waiting_for is not None, failed=self._failed,
                finished=self._finished,
                stopped=self._finished and len(self._results) < len(self.scenario.steps),
                server=self.player.server_line if self.player is not None else "",
                server_view=self._server_view, members=self._members)

    def _notes(self) -> list[str]:
        return [step.text for step in self.scenario.steps if step.kind == "note"]

    def _panes(self) -> tuple[Pane, ...]:
        played_sessions = self.player.sessions if self.player is not None else {}
        panes = []
        for number, spec in enumerate(self.scenario.sessions):
            played = played_sessions.get(spec.name)
            with self._lock:
                entries = tuple(self._entries.get(spec.name, ()))
                typing = self._typing.get(spec.name, "")
                busy = spec.name in self._busy
                scroll = self._scroll.get(spec.name, 0)
                selected = (self.scroll_keys and self._waiting_for is not None
                            and number == self._selected)
            state, prompt = "starting", None
            if played is not None and hasattr(played, "shell"):
                state = _state_label(played, played_sessions.values())
                if played.running and not busy:
                    prompt = played.shell.prompt()
            panes.append(Pane(spec.name, spec.label, entries, state, prompt, typing, scroll,
                              selected))
        return tuple(panes)

    def _progress(self) -> str:
        total = len(self.scenario.steps)
        done = len(self._results)
        passed = sum(r.status == PASSED for r in self._results)
        failed = sum(r.status in (FAILED, TIMED_OUT) for r in self._results)
        return f"step {done}/{total} · {passed} passed · {failed} failed"

    def _status(self) -> str:
        steps = self.scenario.steps
        if self._waiting_for is not None:
            index = self._waiting_for
            return waiting_line(index, steps, self.scroll_keys)
        if self._finished:
            return self._outcome()
        if self._current is None:
            return "connecting the sessions…"
        step = steps[self._current]
        return f"{self._current + 1}/{len(steps)}: {step.summary()}"

    def _outcome(self) -> str:
        results = self._results
        stopped = ("" if len(results) == len(self.scenario.steps)
                   else f" (stopped after {len(results)} of {len(self.scenario.steps)})")
        outcome = counts(results) + stopped
        # Why the run stopped comes first: a narrow footer cuts the counts (the header has
        # them), not the reason.
        return f"{self._server_lost} · {outcome}" if self._server_lost else outcome


def _state_label(played, sessions) -> str:
    state = played.session_state()
    if played.state in _REMEMBERED and state in _LIVE:
        return f"{state} · {played.state}"
    silence = played.silence()
    if silence is not None:  # crashed or cut off: the server's clock is running (countdown.py)
        removals = [at for other in sessions if other is not played for at in other.removals]
        confirmed = silence.confirmed(played.ended, played.shell.session.expired, removals)
        return f"{state} · {silence.describe(time.monotonic(), confirmed)}"
    return state
