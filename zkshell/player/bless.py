"""`zksh play --bless FILE`: play a scenario and write what its commands printed into their
`expect:` lines, as snapshot tests and cram's interactive mode do.

A typed step with no expectation, or one that did not hold, gets the output it printed (as
`like:` when zxids, session ids or times are in it); expectations that held, awaits and
everything else in the file stay as written (yaml_edit keeps the comments and layout).  A run
that went wrong for another reason than an expectation (a timeout, a session that was not
running, a server that went away) is refused: its output is not what the scenario means.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from zkshell.errors import CONNECTION_LOSS, SESSION_EXPIRED, NotConnected, keeper_message
from zkshell.exit_status import ExitStatus
from zkshell.player.loader import ScenarioError, scenario_from_text
from zkshell.player.model import FAILED, OUTPUT_DIFFERS, TIMED_OUT, StepResult
from zkshell.player.scenario import Scenario
from zkshell.player.step_kinds import ISOLATE_SERVER, KILL_LEADER, STOP_SERVER
from zkshell.player.stop_request import STOP
from zkshell.player.yaml_edit import NotEditable, write_expectations
from zkshell.tokenizer import split_line

# What a command prints when its session has lost the server; fine after a step that cut it
# off (a fault, `close`), a sign of a dead server or network otherwise.
_LOST_SERVER = (keeper_message(CONNECTION_LOSS, None), keeper_message(SESSION_EXPIRED, None),
                NotConnected.text)
_FAULTS = ("crash", "quit", "restart", "partition", "heal")
_CUTTING_COMMANDS = ("close", "quit", "connect")
# An ensemble's faults: a member stopped or cut off drops its clients, and while the others
# elect a leader none serves, so any session may lose its server on purpose after these.
_SERVER_FAULTS = (STOP_SERVER, KILL_LEADER, ISOLATE_SERVER)


@dataclass(frozen=True)
class Blessing:
    index: int       # of the step in scenario.steps
    replaced: bool   # the step had an expectation, which did not hold
    actual: str      # what the step printed


def refusals(scenario: Scenario, results: list[StepResult]) -> list[str]:
    """Why this run must not be blessed, one `file:line: ...` reason each; [] when it may."""
    reasons = []
    cut_off: set[str] = set()  # sessions a step has disconnected, on purpose
    for result in results:
        step = result.step
        where = f"{scenario.path}:{step.line_no}"
        if result.status == TIMED_OUT or (result.status == FAILED
                                          and result.message != OUTPUT_DIFFERS):
            reasons.append(f"{where}: {result.status}: {step.summary()} ({result.message})")
        elif (step.kind == "type" and step.session not in cut_off
              and any(words in result.actual for words in _LOST_SERVER)):
            lost = next(words for words in _LOST_SERVER if words in result.actual)
            reasons.append(f"{where}: {step.summary()} printed '{lost}' though no step cut "
                           f"{step.session} off: is the server alive?")
        if step.kind in _FAULTS or (step.kind == "type" and _first_word(step.text)
                                    in _CUTTING_COMMANDS):
            cut_off.add(step.session or "")
        if step.kind in _SERVER_FAULTS:
            cut_off.update(spec.name for spec in scenario.sessions)
    if len(results) < len(scenario.steps):
        reasons.append(f"{scenario.path}: the run stopped after {len(results)} of "
                       f"{len(scenario.steps)} steps")
    return reasons


def blessings(results: list[StepResult]) -> list[Blessing]:
    """The typed steps whose expectation is to be written: none yet, or one that failed."""
    return [Blessing(index, result.step.expect is not None, result.actual)
            for index, result in enumerate(results)
            if result.step.kind == "type"
            and (result.step.expect is None or result.status == FAILED)]


def blessed_text(text: str, scenario: Scenario, results: list[StepResult]) -> tuple[str, int]:
    """The file's new text and how many expectations it writes; checked: the new file loads,
    and every step is as before except that the blessed ones pass on what they printed."""
    chosen = blessings(results)
    steps = scenario.steps
    new_text = write_expectations(
        text, [(steps[b.index].line_no, steps[b.index].session or "", b.actual)
               for b in chosen])
    if new_text == text:
        return text, 0
    try:
        blessed = scenario_from_text(scenario.path, new_text)
    except ScenarioError as exc:
        raise NotEditable(f"the blessed file would not load:\n{exc}") from None
    if len(blessed.steps) != len(steps):
        raise NotEditable("the blessed file would have other steps")
    by_index = {b.index: b for b in chosen}
    for index, (old, new) in enumerate(zip(steps, blessed.steps)):
        same = (old.kind, old.session, old.text, old.within) == (
            new.kind, new.session, new.text, new.within)
        if index in by_index:
            holds = new.expect is not None and new.expect.matches(by_index[index].actual)
        else:
            holds = new.expect == old.expect
        if not (same and holds):
            raise NotEditable(f"the blessed file would change the step at line {old.line_no}")
    return new_text, len(chosen)


def bless(scenario: Scenario, play: Callable[[Scenario], list[StepResult]], *, yes: bool,
          stdin: TextIO | None = None, out: TextIO | None = None,
          err: TextIO | None = None) -> int:
    """Play `scenario` and offer to write its expectations; the exit status."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    path = scenario.path
    before = _read(path)
    results = play(scenario)
    reasons = refusals(scenario, results)
    if reasons:
        err.write(f"zksh play --bless: not blessing {path}: a step went wrong for another "
                  "reason than its expectation\n" + "".join(f"  {r}\n" for r in reasons))
        return ExitStatus.ERROR
    if _read(path) != before:
        err.write(f"zksh play --bless: {path} changed while it played; bless it again\n")
        return ExitStatus.ERROR
    try:
        after, count = blessed_text(before, scenario, results)
    except NotEditable as exc:
        err.write(f"zksh play --bless: cannot bless {path}: {exc}\n")
        return ExitStatus.ERROR
    if after == before:
        out.write(f"{path}: every command has an expectation that holds; nothing to bless\n")
        return ExitStatus.OK
    out.writelines(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        path, f"{path} (blessed)"))
    out.flush()
    if not yes:
        if not _interactive(stdin):
            err.write(f"zksh play --bless: {path} not written (no terminal to ask at); "
                      "add --yes to write it\n")
            return ExitStatus.ERROR
        err.write(f"Write {path}? [y/N] ")
        err.flush()
        with STOP.raising_at_once():  # a blocking read: Ctrl+C must end it at once
            answer = stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            err.write(f"{path} not written\n")
            return ExitStatus.ERROR
    try:
        _write(path, after)
    except OSError as exc:
        err.write(f"zksh play --bless: cannot write {path}: {exc.strerror or exc}\n")
        return ExitStatus.ERROR
    out.write(f"{path}: {count} expectation{'s' if count != 1 else ''} written\n")
    return ExitStatus.OK


def _first_word(line: str) -> str:
    words = split_line(line)
    return words[0] if words else ""


def _interactive(stdin: TextIO) -> bool:
    try:
        return stdin.isatty()
    except (AttributeError, ValueError):  # closed or not a file
        return False


def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as scenario_file:
        return scenario_file.read()


def _write(path: str, text: str) -> None:
    """Replace the file whole, never half-written, with its permissions kept."""
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".bless-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as scenario_file:
            scenario_file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
