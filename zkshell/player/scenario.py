"""A scenario, as loaded and checked: sessions, steps and what each step expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Normalised away by `like` expectations: what differs from run to run.
_HEX = re.compile(r"\b0x[0-9a-f]+\b")
_TIME = re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [A-Z]{2,5} \d{4}\b")


def _free_hex(match: re.Match[str]) -> str:
    # Zero is not a value like the others: `ephemeralOwner = 0x0` says the node is not
    # ephemeral, a zxid of 0x0 is the server's initial tree; only which nonzero one is free.
    return "0x0" if int(match.group(), 16) == 0 else "0x…"


def normalise_variable(text: str) -> str:
    """The text with what differs from run to run made equal: what `like` compares (and what
    `zksh play --bless` looks for, to write `like` instead of an exact expectation)."""
    return _TIME.sub("<time>", _HEX.sub(_free_hex, text))


def clean_output(text: str) -> str:
    """Compare outputs line by line, ignoring trailing spaces and final newlines."""
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


@dataclass(frozen=True)
class Expectation:
    """What a step's output must be: `exact`, `match` (a regex), `contains`, or `like`.

    `like` is the documentation's own text with zxids, session ids and times left free.
    """

    kind: str
    text: str

    def matches(self, actual: str) -> bool:
        if self.kind == "exact":
            return clean_output(actual) == clean_output(self.text)
        if self.kind == "match":
            return re.search(self.text, actual, re.MULTILINE) is not None
        if self.kind == "contains":
            return self.text in actual
        if self.kind == "like":
            return (normalise_variable(clean_output(actual))
                    == normalise_variable(clean_output(self.text)))
        raise ValueError(self.kind)

    def describe(self) -> str:
        return self.text if self.kind == "exact" else f"({self.kind}) {self.text}"


def matches_entry(expect: Expectation, text: str) -> bool:
    """An event or output matches as a whole, or by one of its lines (a WATCHER block's
    `WatchedEvent ...` line, say): how `await` and `quiet` look at what arrives."""
    if expect.matches(text):
        return True
    lines = text.strip("\n").split("\n")
    return len(lines) > 1 and any(expect.matches(line) for line in lines if line)


@dataclass(frozen=True)
class SessionSpec:
    name: str
    label: str
    server: int | None = None  # the ensemble member it is pinned to; None: any member


# What a `quiet` step looks for when it names no pattern: a watch's notification, that is
# an event about a znode.  A connection's own events (`type:None`: connected, disconnected,
# expired) are the session's, not a watch's; a pattern such as 'state:Disconnected' names them.
ANY_WATCH_EVENT = re.compile(r"\btype:(?!None\b)\w+")


@dataclass(frozen=True)
class QuietCheck:
    """One session of a `quiet` step, and what must not arrive in it (None: no watch event)."""

    session: str
    expect: Expectation | None = None

    def forbids(self, text: str) -> bool:
        """Whether an event's text is one this check forbids."""
        if self.expect is None:
            return ANY_WATCH_EVENT.search(text) is not None
        return matches_entry(self.expect, text)

    def describe(self) -> str:
        return self.expect.text if self.expect is not None else "no watch event"


@dataclass(frozen=True)
class Step:
    """One step.  `kind` is "type" (a line typed into `session`), "await", "quiet", "note",
    or a fault: "crash", "quit", "restart", "partition", "heal", "expire"; or a server step:
    "stop-server", "start-server", "kill-leader", "isolate-server", "rejoin-server" (of
    `member`).

    A quiet step's sessions are in `quiet` (the first is also `session`, where views show
    it) and its window is `within`."""

    kind: str
    line_no: int
    session: str | None = None
    text: str = ""
    expect: Expectation | None = None
    within: float | None = None
    quiet: tuple[QuietCheck, ...] = ()
    member: int | None = None  # a server step's ensemble member (1..servers)

    def summary(self) -> str:
        if self.kind == "type":
            return f"{self.session}: {self.text}"
        if self.kind == "await" and self.session is None:  # a member's role
            return f"await server {self.member}: {self.text}"
        if self.kind == "await":
            return f"await {self.session}: {self.expect.text if self.expect else ''}"
        if self.kind == "quiet":
            return f"quiet {_quiet_summary(self.quiet)}, for {self.within or 0:g}s"
        if self.kind == "note":
            return f"note: {self.text}"
        if self.session is None:  # a server step: a member, a session's member, or none
            what = self.member if self.member is not None else self.text
            return f"{self.kind}: {what}" if what else self.kind
        return f"{self.kind}: {self.session}"


def _quiet_summary(checks: tuple[QuietCheck, ...]) -> str:
    """`c3, c4: type:NodeDeleted`: sessions that forbid the same thing said together."""
    groups: dict[str, list[str]] = {}
    for check in checks:
        groups.setdefault(check.describe(), []).append(check.session)
    return "; ".join(f"{', '.join(names)}: {what}" for what, names in groups.items())


@dataclass
class Scenario:
    path: str
    title: str
    about: str
    session_timeout: float
    sessions: list[SessionSpec]
    steps: list[Step] = field(default_factory=list)
    servers: int = 1  # how many members: more than one plays on an ensemble
    # How exports name this scenario when a run has several (zksh play sets it, so that two
    # files called x.yaml in different directories do not overwrite each other's exports).
    export_name: str = ""

    def label(self, name: str) -> str:
        for spec in self.sessions:
            if spec.name == name:
                return spec.label
        return name
