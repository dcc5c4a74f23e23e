"""The kinds of step a scenario has, and how a step is read.

Each kind is declared once, in KINDS at the bottom: its key, which of the keys a step may add
(`expect`, `within`) go with it, how its value is read, and which sessions it names.  A step
whose key is a session's name is TYPED: it types a command into that session.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from zkshell.player.scenario import Expectation, QuietCheck, Step
from zkshell.player.yaml_nodes import Fields, NodeReader, blank, suggest, what
from zkshell.tokenizer import split_line

EXTRAS = ("expect", "within")
EXPECT_KINDS = ("exact", "match", "contains", "like")
# A member's roles, as `srvr` tells them ("looking": running but not serving) or "down".
AWAITED_ROLES = ("leader", "follower", "looking", "down")
_AWAIT_EXAMPLE = "await: {m2: 'type:NodeDeleted path:/master', within: 10s}"
_QUIET_EXAMPLE = "quiet: {c4: 'type:NodeDeleted', for: 300ms}"
QUIET_WINDOW = "for"  # a quiet step's own key: how long nothing may arrive
_NULL = "tag:yaml.org,2002:null"


class StepReader(NodeReader):
    """Reads steps, given the names of the scenario's sessions and the commands zksh knows."""

    def __init__(self, path: str, known_commands: set[str]) -> None:
        super().__init__(path)
        self.known_commands = known_commands
        self.servers = 1  # the scenario's `servers:`, which server steps are checked against

    def step(self, node: yaml.Node, names: list[str]) -> Step | None:
        """The step, or None when it cannot be played (and a problem says why)."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "a step is a mapping, e.g. '- m1: ls /' or '- crash: m1'")
            return None
        fields = self.mapping(node)
        line = node.start_mark.line + 1
        keys = [k for k in fields if k in KINDS or k in names]
        unknown = [k for k in fields if k not in keys and k not in EXTRAS]
        for key in unknown:
            choices = [*names, *KINDS, *EXTRAS]
            self.problem(fields[key][0], f"unknown step key '{key}'{suggest(key, choices)}; "
                         f"a step is a session ({', '.join(names) or 'none named'}) or one of: "
                         f"{', '.join(KINDS)}")
        if len(keys) != 1:
            if not unknown:
                found = "no action" if not keys else f"several actions ({', '.join(keys)})"
                self.problem(node, f"step has {found}; give exactly one")
            return None
        key = keys[0]
        kind = TYPED if key in names else KINDS[key]
        for extra in EXTRAS:
            if extra in fields and extra not in kind.accepts:
                self.problem(fields[extra][0], kind.refusal.format(extra=extra, key=key))
        return kind.read(self, key, fields[key][1], fields, line, names)

    # ---- one reader per kind ------------------------------------------------------------------
    def note_step(self, key: str, value: yaml.Node, fields: Fields, line: int,
                  names: list[str]) -> Step | None:
        return Step(key, line, text=self.scalar(value, key))

    def fault_step(self, key: str, value: yaml.Node, fields: Fields, line: int,
                   names: list[str]) -> Step | None:
        example = names[0] if names else "m1"
        if blank(value):
            self.problem(value, f"{key} needs a session name, e.g. {key}: {example}")
            return None
        if not isinstance(value, yaml.ScalarNode):
            items = value.value if isinstance(value, yaml.SequenceNode) else []
            if items and isinstance(items[0], yaml.ScalarNode):
                example = items[0].value
            self.problem(value, f"{key} takes one session name, not {what(value)}, "
                         f"e.g. {key}: {example}")
            return None
        session = value.value
        if session not in names:
            self.problem(value, f"{key}: unknown session '{session}'{suggest(session, names)}")
            return None
        return Step(key, line, session=session)

    def server_step(self, key: str, value: yaml.Node, fields: Fields, line: int,
                    names: list[str]) -> Step | None:
        """stop-server: N, start-server: N, isolate-server: N, rejoin-server: N (a member,
        1..servers), kill-leader (no value)."""
        if self.servers < 2:
            self.problem(value, f"{key} acts on a member of an ensemble: say how many "
                         "members the scenario plays on, e.g. servers: 3")
            return None
        if key == KILL_LEADER:
            if not blank(value):
                self.problem(value, f"{key} takes no value: the member that leads when the "
                             f"step runs is the one killed; write '- {key}:'")
                return None
            return Step(key, line)
        member = value.value if isinstance(value, yaml.ScalarNode) else ""
        if key == STOP_SERVER and member in names:
            # The member that session is on when the step runs: its client fails over.
            return Step(key, line, text=member)
        if not member.isdigit() or not 1 <= int(member) <= self.servers:
            also = " or a session's name (the member it is on)" if key == STOP_SERVER else ""
            self.problem(value, f"{key} needs a member's number, 1 to {self.servers}{also}, "
                         f"e.g. {key}: 2")
            return None
        return Step(key, line, member=int(member))

    def typed_step(self, session: str, value: yaml.Node, fields: Fields, line: int,
                   names: list[str]) -> Step | None:
        expect = self.expectation(fields["expect"][1]) if "expect" in fields else None
        text = self.command(session, value)
        if text is None:
            return None
        return Step("type", line, session=session, text=text, expect=expect)

    def await_step(self, key: str, value: yaml.Node, fields: Fields, line: int,
                   names: list[str]) -> Step | None:
        if not isinstance(value, yaml.MappingNode):
            self.problem(value, f"await needs a session and what to wait for, e.g. "
                         f"{_AWAIT_EXAMPLE}")
            return None
        inner = self.mapping(value)
        within = None
        if "within" in inner:
            within = self.duration(inner.pop("within")[1], "within")
        elif "within" in fields:
            within = self.duration(fields["within"][1], "within")
        if "server" in inner or "role" in inner:
            return self.role_await(value, inner, within, line)
        sessions = [k for k in inner if k in names]
        for name in inner:
            if name not in names:
                self.problem(inner[name][0], f"await: unknown session '{name}'"
                             f"{suggest(name, names)}")
        if len(sessions) != 1:
            if not [k for k in inner if k not in names]:
                self.problem(value, "await names exactly one session")
            return None
        if within is None:
            self.problem(value, "await needs a deadline: within: 10s")
        session = sessions[0]
        target = inner[session][1]
        if blank(target):
            self.problem(target, f"await: {session} has nothing to wait for, e.g. "
                         f"await: {{{session}: 'type:NodeDeleted path:/master', within: 10s}}")
            return None
        if isinstance(target, yaml.ScalarNode):
            expect = Expectation("contains", target.value)
        else:
            expect = self.expectation(target)
        return Step("await", line, session=session, expect=expect, within=within or 10.0)

    def role_await(self, node: yaml.Node, inner: Fields, within: float | None,
                   line: int) -> Step | None:
        """await: {server: 2, role: leader, within: 10s}: a member's role, from `srvr`."""
        example = "await: {server: 2, role: leader, within: 10s}"
        for key, (key_node, _value) in inner.items():
            if key not in ("server", "role"):
                self.problem(key_node, f"await: '{key}' does not go with a server's role; "
                             f"e.g. {example}")
        if self.servers < 2:
            self.problem(node, "await: a server's role is awaited in an ensemble: say how "
                         "many members the scenario plays on, e.g. servers: 3")
            return None
        member = inner["server"][1].value if "server" in inner and isinstance(
            inner["server"][1], yaml.ScalarNode) else ""
        role = inner["role"][1].value if "role" in inner and isinstance(
            inner["role"][1], yaml.ScalarNode) else ""
        if not member.isdigit() or not 1 <= int(member) <= self.servers:
            self.problem(node, f"await: 'server' is a member's number, 1 to {self.servers}; "
                         f"e.g. {example}")
            return None
        if role not in AWAITED_ROLES:
            self.problem(node, f"await: 'role' is one of {', '.join(AWAITED_ROLES)}; "
                         f"e.g. {example}")
            return None
        if within is None:
            self.problem(node, "await needs a deadline: within: 10s")
        return Step("await", line, text=role, member=int(member), within=within or 10.0)

    def quiet_step(self, key: str, value: yaml.Node, fields: Fields, line: int,
                   names: list[str]) -> Step | None:
        if not isinstance(value, yaml.MappingNode):
            self.problem(value, f"quiet needs sessions and a window, e.g. {_QUIET_EXAMPLE}")
            return None
        inner = self.mapping(value)
        window = None
        if QUIET_WINDOW in inner:
            window = self.duration(inner.pop(QUIET_WINDOW)[1], QUIET_WINDOW)
        elif "within" not in inner:  # else that key is the one to fix
            self.problem(value, "quiet needs a window, how long nothing may arrive: for: 300ms")
        checks, ok = [], True
        for name, (name_node, target) in inner.items():
            if name == "within":
                self.problem(name_node, "quiet: the window is 'for', not 'within': for: 300ms")
                ok = False
            elif name not in names:
                self.problem(name_node, f"quiet: unknown session '{name}'{suggest(name, names)}")
                ok = False
            else:
                check = self.quiet_check(name, target)
                ok = ok and check is not None
                checks += [check] if check is not None else []
        if not inner:
            self.problem(value, f"quiet names at least one session, e.g. {_QUIET_EXAMPLE}")
        if not ok or not checks or window is None:
            return None
        return Step("quiet", line, session=checks[0].session, within=window,
                    quiet=tuple(checks))

    def quiet_check(self, session: str, target: yaml.Node) -> QuietCheck | None:
        """Nothing after the session's name: no watch event at all; else what await takes."""
        if blank(target) or (isinstance(target, yaml.ScalarNode) and target.tag == _NULL):
            return QuietCheck(session)
        if isinstance(target, yaml.ScalarNode):
            return QuietCheck(session, Expectation("contains", target.value))
        expect = self.expectation(target)
        return QuietCheck(session, expect) if expect is not None else None

    # ---- what the readers share --------------------------------------------------------------
    def command(self, session: str, value: yaml.Node) -> str | None:
        """The line typed: one line of text, in a command the shell knows."""
        if not isinstance(value, yaml.ScalarNode):
            self.problem(value, f"{session}: a command is one line of text, not {what(value)}; "
                         "quote it if it starts with [ or {")
            return None
        # A `|` block ends with a newline that nobody means to type.
        text = value.value.rstrip("\n")
        lines = text.count("\n") + 1
        if lines > 1:
            self.problem(value, f"{session}: the command has {lines} lines, a step types one; "
                         f"give each line its own step ('- {session}: ...')")
            return None
        words = split_line(text)
        if not words:
            self.problem(value, f"{session}: empty command")
        elif words[0] not in self.known_commands:
            self.problem(value, f"{session}: unknown command '{words[0]}'"
                         f"{suggest(words[0], sorted(self.known_commands))}")
        return text

    def expectation(self, node: yaml.Node) -> Expectation | None:
        if blank(node):
            # An empty output is worth saying: a forgotten value should not check for it.
            self.problem(node, "expect has no value; write expect: \"\" if the output must "
                         "be empty")
            return None
        if isinstance(node, yaml.ScalarNode):
            return Expectation("exact", node.value)
        if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            self.problem(node, f"expect is text, or one of {{{': ..., '.join(EXPECT_KINDS)}: "
                         "...}")
            return None
        fields = self.mapping(node)
        if not fields:
            return None  # its key is not a name, and that is reported
        ((kind, (key_node, value_node)),) = fields.items()
        if kind not in EXPECT_KINDS:
            self.problem(key_node, f"unknown expectation '{kind}'{suggest(kind, EXPECT_KINDS)}; "
                         f"use one of: {', '.join(EXPECT_KINDS)}")
            return None
        if blank(value_node):
            hint = 'write exact: "" if the output must be empty' if kind == "exact" else \
                "give the text to look for"
            self.problem(value_node, f"'{kind}' has no value; {hint}")
            return None
        text = self.scalar(value_node, kind)
        if kind == "match":
            try:
                re.compile(text)
            except re.error as exc:
                self.problem(value_node, f"bad regular expression in 'match': {exc}")
                return None
        return Expectation(kind, text)


# ---- the sessions a step names, before the sessions are known --------------------------------
def _none(key: str, value: yaml.Node) -> list[str]:
    return []


def _the_key(key: str, value: yaml.Node) -> list[str]:
    return [key]


def _the_value(key: str, value: yaml.Node) -> list[str]:
    return [value.value] if isinstance(value, yaml.ScalarNode) else []


def _awaited(key: str, value: yaml.Node) -> list[str]:
    if not isinstance(value, yaml.MappingNode):
        return []
    return [k.value for k, _ in value.value
            if isinstance(k, yaml.ScalarNode) and k.value not in ("within", "server", "role")]


def _quieted(key: str, value: yaml.Node) -> list[str]:
    return [name for name in _awaited(key, value) if name != QUIET_WINDOW]


def sessions_named(step: yaml.Node) -> list[str]:
    """The session names a step uses: what `sessions` should say when it does not."""
    if not isinstance(step, yaml.MappingNode):
        return []
    names = []
    for key_node, value in step.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if key in KINDS:
            names += KINDS[key].sessions_in(key, value)
        elif key and not _looks_like_keyword(key):  # a misspelt keyword names no session
            names += TYPED.sessions_in(key, value)
    return names


def is_keyword(name: str) -> bool:
    """A step's own key, which cannot name a session."""
    return name in KINDS or name in EXTRAS or name == QUIET_WINDOW


def _looks_like_keyword(key: str) -> bool:
    return bool(difflib.get_close_matches(key, [*KINDS, *EXTRAS], n=1, cutoff=0.8))


# ---- the table ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepKind:
    name: str                      # its key in a step, and its Step.kind
    accepts: tuple[str, ...]       # which of EXTRAS may go with it
    # Reads the step (its key, value, fields, line, and the session names) into a Step.
    read: Callable[[StepReader, str, yaml.Node, Fields, int, list[str]], Step | None]
    sessions_in: Callable[[str, yaml.Node], list[str]]  # the sessions a step names by key, value
    refusal: str = "'{extra}' does not go with '{key}'"  # an extra it does not accept


_FAULTS = ("crash", "quit", "restart", "partition", "heal", "expire")
KILL_LEADER = "kill-leader"
STOP_SERVER = "stop-server"
ISOLATE_SERVER, REJOIN_SERVER = "isolate-server", "rejoin-server"
# An ensemble member's faults.
SERVER_STEPS = (STOP_SERVER, "start-server", KILL_LEADER, ISOLATE_SERVER, REJOIN_SERVER)
# By key, in the order messages list them.
KINDS: dict[str, StepKind] = {kind.name: kind for kind in (
    StepKind("note", (), StepReader.note_step, _none),
    StepKind("await", ("within",), StepReader.await_step, _awaited),
    StepKind("quiet", (), StepReader.quiet_step, _quieted,
             refusal="'{extra}' does not go with 'quiet': its window is 'for', inside it"),
    *(StepKind(fault, (), StepReader.fault_step, _the_value) for fault in _FAULTS),
    *(StepKind(step, (), StepReader.server_step, _none) for step in SERVER_STEPS),
)}
TYPED = StepKind("type", ("expect",), StepReader.typed_step, _the_key,
                 refusal="'{extra}' goes with 'await', not with a command")
