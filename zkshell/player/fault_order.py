"""The order of a scenario's faults, checked per session before anything runs.

A scenario that types into a crashed process or heals a session that was never cut off is a
mistake in the file, so it is reported with the file's other problems, by line.
"""

from __future__ import annotations

from dataclasses import replace

from zkshell.player.scenario import Step
from zkshell.tokenizer import split_line

# What each step may find its session in.  Expiry by time is left out: it depends on time,
# and a session that typed on after it expired (zombie-master) is what a scenario may want to
# show.  An `expire` step is not: the session it ended stays ended until a `restart`, or a
# typed `connect`, starts another.
# A typed `quit` or `close` is left out too: the player keeps such a session running (what
# later lines print shows it closed), and only its own `quit` step ends the process.
ALIVE, PARTITIONED, CRASHED, QUIT = "alive", "partitioned", "crashed", "quit"
_ALLOWED = {
    "type": (ALIVE, PARTITIONED),
    "crash": (ALIVE, PARTITIONED),
    "quit": (ALIVE, PARTITIONED),
    "partition": (ALIVE,),
    "heal": (PARTITIONED,),
    "restart": (ALIVE, PARTITIONED, CRASHED, QUIT),  # a running process is crashed first
    "expire": (ALIVE, PARTITIONED, CRASHED),  # a quit process closed its session
    # A dead process hears nothing, so its quiet would pass and prove nothing.  A cut-off one
    # may: that it hears nothing of a change is what a partition scenario can show.
    "quiet": (ALIVE, PARTITIONED),
}
_AFTER = {"crash": CRASHED, "quit": QUIT, "partition": PARTITIONED, "heal": ALIVE,
          "restart": ALIVE}


def fault_order_problems(steps: list[Step]) -> list[tuple[int, str]]:
    """Each session's steps in order: no typing into a dead process, no healing a session
    that is not cut off, no fault that finds its session already in that state, no
    expiring a session twice."""
    states: dict[str, tuple[str, int]] = {}
    expired: dict[str, int] = {}  # session -> the line of the `expire` that ended it
    problems = []
    for step in _one_session_each(steps):
        if step.kind not in _ALLOWED or step.session is None:
            continue
        state, since = states.get(step.session, (ALIVE, 0))
        if state not in _ALLOWED[step.kind]:
            problems.append((step.line_no, _misuse(step, state, since)))
        elif step.kind == "expire" and step.session in expired:
            problems.append((step.line_no, f"expire: {step.session}'s session is already "
                             f"expired (since line {expired[step.session]}); restart it or "
                             "type connect first"))
        elif step.kind == "expire":
            expired[step.session] = step.line_no
        elif step.kind == "type" and split_line(step.text)[:1] == ["connect"]:
            expired.pop(step.session, None)  # a new session
        elif step.kind in _AFTER:
            states[step.session] = (_AFTER[step.kind], step.line_no)
            if step.kind == "restart":
                expired.pop(step.session, None)  # a new process, a new session
    return problems


def _one_session_each(steps: list[Step]) -> list[Step]:
    """The steps, a quiet step once for each of its sessions."""
    return [replace(step, session=check.session) if step.kind == "quiet" else step
            for step in steps for check in (step.quiet or (None,))]


def _misuse(step: Step, state: str, since: int) -> str:
    name = step.session
    prefix = "" if step.kind == "type" else f"{step.kind}: "
    if step.kind == "expire":  # only QUIT refuses it
        return (f"expire: {name} has quit here (since line {since}): its session is closed; "
                "restart it first")
    if state == ALIVE:
        return f"{prefix}{name} is not partitioned here; there is nothing to heal"
    if state == PARTITIONED:
        return f"{prefix}{name} is already partitioned (since line {since}); heal it first"
    if _AFTER.get(step.kind) == state:
        where = "is already crashed" if state == CRASHED else "has already quit"
    else:
        where = ("is crashed" if state == CRASHED else "has quit") + " here"
    advice = "restart it instead" if step.kind == "heal" else "restart it first"
    return f"{prefix}{name} {where} (since line {since}); {advice}"


def server_order_problems(steps: list[Step], servers: int) -> list[tuple[int, str]]:
    """The ensemble's members in order: no stopping a stopped member, no starting a running
    one, no killing the leader where too few members run to have one, no isolating an
    isolated member, no rejoining one that is not."""
    stopped: dict[int, int] = {}  # member -> the line of the step that stopped it
    # Members stopped by kill-leader, or as the one a session is on: which is not known here.
    killed = 0
    isolated: dict[int, int] = {}  # member -> the line of the isolate-server
    problems = []
    for step in steps:
        if step.kind == "isolate-server" and step.member in isolated:
            problems.append((step.line_no, f"isolate-server: member {step.member} is already "
                             f"isolated (since line {isolated[step.member]})"))
        elif step.kind == "isolate-server" and step.member is not None:
            isolated[step.member] = step.line_no
        elif step.kind == "rejoin-server" and step.member not in isolated:
            problems.append((step.line_no, f"rejoin-server: member {step.member} is not "
                             "isolated here; there is nothing to rejoin"))
        elif step.kind == "rejoin-server" and step.member is not None:
            del isolated[step.member]
        elif step.kind == "stop-server" and step.member in stopped:
            problems.append((step.line_no, f"stop-server: member {step.member} is already "
                             f"stopped (since line {stopped[step.member]})"))
        elif step.kind == "stop-server" and step.member is not None:
            stopped[step.member] = step.line_no
        elif step.kind == "start-server" and step.member in stopped:
            del stopped[step.member]
        elif step.kind == "start-server" and killed:
            killed -= 1  # perhaps the killed leader: no line can tell
        elif step.kind == "start-server":
            problems.append((step.line_no, f"start-server: member {step.member} is running "
                             "here; stop it first (stop-server, kill-leader)"))
        elif step.kind == "kill-leader" and servers - len(stopped) - killed <= servers // 2:
            problems.append((step.line_no, f"kill-leader: only {servers - len(stopped) - killed}"
                             f" of {servers} members run here, not a quorum: none leads"))
        elif step.kind == "kill-leader" or step.kind == "stop-server":  # a session's member
            killed += 1
    return problems
