"""The plain view: one line per step, full detail for a failure, a summary at the end.

Used for `--check`, CI and any output that is not a terminal.  With `transcript=True` it
also prints what every session shows, each line tagged with the session's name, in order.
"""

from __future__ import annotations

import difflib
import sys
import threading
from typing import TextIO

from zkshell.player.model import (
    DONE,
    FAILED,
    NOT_AWAITED,
    PASSED,
    SKIPPED,
    TIMED_OUT,
    Observer,
    StepResult,
)
from zkshell.sinks.plain import discard_from_now_on

_MARKS = {PASSED: "ok  ", DONE: "    ", FAILED: "FAIL", TIMED_OUT: "TIME", SKIPPED: "skip"}


def failure_report(path: str, result: StepResult, recent: str) -> str:
    """What went wrong at one step: the scenario line, expected against actual, context."""
    step = result.step
    lines = [f"{path}:{step.line_no}: {result.status}: {step.summary()}"]
    if result.message:
        lines.append(f"  {result.message}")
    if step.expect is not None and result.status == FAILED:
        lines.append("  expected:")
        lines += [f"    {line}" for line in step.expect.describe().splitlines() or [""]]
        lines.append("  actual:")
        lines += [f"    {line}" for line in result.actual.splitlines() or [""]]
        if step.expect.kind == "exact":
            diff = list(difflib.unified_diff(step.expect.text.strip("\n").splitlines(),
                                             result.actual.strip("\n").splitlines(),
                                             "expected", "actual", lineterm=""))
            if diff:
                lines.append("  difference:")
                lines += [f"    {line}" for line in diff]
    if recent:
        lines.append(f"  recent output of {result.where}:")
        lines += [f"    | {line}" for line in recent.splitlines()]
    return "\n".join(lines) + "\n"


def summary_line(results: list[StepResult], elapsed: float, total: int | None = None) -> str:
    """The closing line; `total` steps in the scenario, to say when a run stopped early."""
    stopped = (f", stopped after {len(results)} of {total}"
               if total is not None and len(results) < total else "")
    return f"{counts(results)} ({elapsed:.1f}s{stopped})"


def counts(results: list[StepResult]) -> str:
    """`12 steps, 8 checks: 7 passed, 1 failed, 0 timed out`, and the awaits skipped after
    a failure when there were any: `, 3 skipped (not awaited: ...)`."""
    checked = [r for r in results if r.status != DONE]
    passed = sum(r.status == PASSED for r in results)
    failed = sum(r.status == FAILED for r in results)
    timed_out = sum(r.status == TIMED_OUT for r in results)
    skipped = sum(r.status == SKIPPED for r in results)
    return (f"{len(results)} steps, {len(checked)} checks: {passed} passed, "
            f"{failed} failed, {timed_out} timed out"
            + (f", {skipped} skipped ({NOT_AWAITED})" if skipped else ""))


def failures_recap(path: str, results: list[StepResult]) -> str:
    """One line per failed step, so a long report ends with what to look at."""
    failed = [r for r in results if r.status in (FAILED, TIMED_OUT)]
    return "".join(f"{path}:{r.step.line_no}: {r.status}: {r.step.summary()}\n"
                   for r in failed)


class PlainReport(Observer):
    def __init__(self, stream: TextIO | None = None, transcript: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.transcript = transcript
        self.started = 0.0
        self._lock = threading.Lock()
        # Sessions connect (and print) before the scenario starts: their first lines wait
        # for the header.  After `closing`, what they print is the player's clean-up.
        self._early: list[str] | None = []
        self._closed = False

    def write(self, text: str) -> None:
        with self._lock:  # events arrive on kazoo's threads
            self._write(text)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            # `| head` closed the pipe: the run goes on (its exit status still counts) and
            # the rest of the report is dropped, as the shell drops its output.
            discard_from_now_on(self.stream)

    def scenario_started(self, player) -> None:
        import time

        self.started = time.monotonic()
        scenario = player.scenario
        header = f"== {scenario.title}  ({scenario.path})\n   {player.server_line}\n"
        if scenario.about:
            header += f"   {scenario.about}\n"
        with self._lock:
            early, self._early = self._early or [], None
            self._write(header + "".join(early))

    def entry_added(self, session, entry) -> None:
        if not self.transcript or self._closed:
            return
        if entry.kind == "state":
            text = f"-- {entry.text} --"
        else:
            text = entry.text.rstrip("\n")
        lines = "".join(f"{session.name:>10} | {line}\n" for line in text.split("\n"))
        with self._lock:
            if self._early is not None:
                self._early.append(lines)
                return
        self.write(lines)

    def closing(self, player) -> None:
        self._closed = True

    def step_finished(self, player, index, result: StepResult) -> None:
        step = result.step
        if step.kind == "note":
            self.write(f"     -- {step.text}\n")
            return
        why = f"  ({result.message})" if result.status == SKIPPED else ""
        self.write(f"{_MARKS[result.status]} {step.line_no:4d} {step.summary()}"
                   f"  [{result.duration:.2f}s]{why}\n")
        if result.status in (FAILED, TIMED_OUT):
            played = player.sessions.get(result.where or "")
            self.write(failure_report(player.scenario.path, result,
                                      played.recent() if played else ""))

    def scenario_finished(self, player, results) -> None:
        import time

        scenario = player.scenario
        recap = failures_recap(scenario.path, results)
        if recap:
            self.write("failed:\n" + recap)
        self.write(summary_line(results, time.monotonic() - self.started,
                                len(scenario.steps)) + "\n")
