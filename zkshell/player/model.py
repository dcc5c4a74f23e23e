"""What a played scenario is made of, as values: step outcomes, the lines of each session's
window, and the `Observer` protocol through which every view (report, panes, cast, pacing,
the live view) follows a run.  Views import this module, not the runner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zkshell.player.scenario import Step

if TYPE_CHECKING:
    from zkshell.player.runner import PlayedSession, Player

PASSED, FAILED, TIMED_OUT, DONE = "passed", "failed", "timed out", "done"
# An await not waited for: the run had already failed (--check), and what it awaited had
# not arrived.  Each would otherwise wait out its deadline, one after another.
SKIPPED = "skipped"
NOT_AWAITED = "not awaited: the run had already failed"
# A log entry that is the player's verdict on a failed step, not something zkCli printed.
FAILURE = "failure"
# A typed step's message when it ran and only its expectation failed (--bless tells it apart).
OUTPUT_DIFFERS = "output differs"


@dataclass
class LogEntry:
    """One thing a session's zkCli window shows: a typed command, its output, an event."""

    kind: str  # "command" | "output" | "event" | "state" | FAILURE (the views' own)
    text: str
    stream: str = "out"
    prompt: str = ""  # a command's: the prompt it was typed at, which `text` starts with
    at: float = field(default_factory=time.monotonic)


@dataclass
class StepResult:
    step: Step
    status: str
    duration: float
    actual: str = ""
    message: str = ""
    # The session whose window the outcome concerns, when not the step's own: the one of a
    # quiet step's sessions that got something.  Use `where`.
    session: str | None = None

    @property
    def where(self) -> str | None:
        """The session whose pane shows this step's verdict."""
        return self.session or self.step.session


class Observer:
    """What a view is told.  Every method may be called from the player's thread only,
    except `entry_added`, which also arrives from kazoo's threads."""

    def scenario_started(self, player: Player) -> None: ...
    def step_started(self, player: Player, index: int, step: Step) -> None: ...
    def step_finished(self, player: Player, index: int, result: StepResult) -> None: ...
    def entry_added(self, session: PlayedSession, entry: LogEntry) -> None: ...
    # Every step has run (or play was stopped); the sessions are about to be closed, so what
    # the windows show from here on is the player's doing, not the scenario's.
    def closing(self, player: Player) -> None: ...
    def scenario_finished(self, player: Player, results: list[StepResult]) -> None: ...
