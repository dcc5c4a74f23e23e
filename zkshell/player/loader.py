"""Load a scenario file and check all of it before anything connects.

Every problem is reported as `file:line: message`, naming the key, with a suggestion where one
is obvious; a broken file never starts half-way.  PyYAML's node tree gives the lines; values
are read as the text written (so `expect: 0x1` stays the string `0x1`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import yaml

from zkshell.player.scenario import Expectation, Scenario, SessionSpec, Step
from zkshell.tokenizer import split_line

FAULTS = ("crash", "quit", "restart", "partition", "heal")
STEP_KINDS = ("note", "await", *FAULTS)
TOP_KEYS = ("title", "about", "session_timeout", "sessions", "steps")
EXPECT_KINDS = ("exact", "match", "contains", "like")
DEFAULT_SESSION_TIMEOUT = 4.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ScenarioError(Exception):
    """The file cannot be played; `problems` lists every reason, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_duration(text: str) -> float | None:
    match = _DURATION.match(text)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


class _Loader:
    def __init__(self, path: str, known_commands: set[str]) -> None:
        self.path = path
        self.known_commands = known_commands
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.path, node.start_mark.line + 1, message))

    # ---- the document ---------------------------------------------------------------
    def load(self, text: str) -> Scenario | None:
        try:
            root = yaml.compose(text)
        except yaml.MarkedYAMLError as exc:
            # "while scanning a quoted scalar" points where the trouble starts.
            mark = exc.context_mark or exc.problem_mark
            line = mark.line + 1 if mark else 1
            what = ", ".join(part for part in (exc.context, exc.problem) if part)
            self.problems.append(Problem(self.path, line, f"YAML syntax error: {what}"))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.path, 1, f"YAML error: {exc}"))
            return None
        if not isinstance(root, yaml.MappingNode):
            line_node = root if root is not None else None
            line = line_node.start_mark.line + 1 if line_node else 1
            self.problems.append(Problem(self.path, line, "a scenario is a mapping with "
                                         "'sessions' and 'steps'"))
            return None
        fields = self.mapping(root)
        for key, (key_node, _value) in fields.items():
            if key not in TOP_KEYS:
                self.problem(key_node, f"unknown key '{key}'{_suggest(key, TOP_KEYS)}; "
                             f"expected one of: {', '.join(TOP_KEYS)}")
        timeout = DEFAULT_SESSION_TIMEOUT
        if "session_timeout" in fields:
            timeout = self.duration(fields["session_timeout"][1], "session_timeout") or timeout
        sessions = self.sessions(fields.get("sessions"), root)
        names = [spec.name for spec in sessions]
        steps = self.steps(fields.get("steps"), root, names)
        return Scenario(
            path=self.path,
            title=self.scalar(fields["title"][1], "title") if "title" in fields else self.path,
            about=self.scalar(fields["about"][1], "about") if "about" in fields else "",
            session_timeout=timeout, sessions=sessions, steps=steps)

    def mapping(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in fields:
                self.problem(key_node, f"key '{key}' appears twice")
            fields[key] = (key_node, value_node)
        return fields

    def scalar(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"'{key}' must be text")
            return ""
        return node.value

    def duration(self, node: yaml.Node, key: str) -> float | None:
        text = self.scalar(node, key)
        value = parse_duration(text)
        if value is None or value <= 0:
            self.problem(node, f"'{key}' must be a duration such as 4s or 500ms, not '{text}'")
            return None
        return value

    # ---- sessions -------------------------------------------------------------------
    def sessions(self, entry, root: yaml.Node) -> list[SessionSpec]:
        if entry is None:
            self.problem(root, "missing 'sessions': name the sessions, e.g. sessions: [m1, m2]")
            return []
        key_node, node = entry
        specs: list[SessionSpec] = []
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                name = self.scalar(item, "sessions")
                specs.append(SessionSpec(name, name))
        elif isinstance(node, yaml.MappingNode):
            for name_node, label_node in node.value:
                name = self.scalar(name_node, "sessions")
                label = name
                if isinstance(label_node, yaml.ScalarNode) and label_node.value:
                    label = label_node.value
                elif isinstance(label_node, yaml.MappingNode):
                    label = self.mapping(label_node).get("label", (None, name_node))[1].value
                specs.append(SessionSpec(name, label))
        else:
            self.problem(node, "'sessions' must be a list of names or a mapping of labels")
        seen: set[str] = set()
        for spec in specs:
            if spec.name in STEP_KINDS or spec.name in ("expect", "within"):
                self.problem(key_node, f"session name '{spec.name}' is a step keyword")
            if spec.name in seen:
                self.problem(key_node, f"session '{spec.name}' is named twice")
            seen.add(spec.name)
        if not specs and isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            self.problem(node, "'sessions' is empty")
        return specs

    # ---- steps ----------------------------------------------------------------------
    def steps(self, entry, root: yaml.Node, names: list[str]) -> list[Step]:
        if entry is None:
            self.problem(root, "missing 'steps'")
            return []
        node = entry[1]
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "'steps' must be a list")
            return []
        steps = []
        for item in node.value:
            step = self.step(item, names)
            if step is not None:
                steps.append(step)
        return steps

    def step(self, node: yaml.Node, names: list[str]) -> Step | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "a step is a mapping, e.g. '- m1: ls /' or '- crash: m1'")
            return None
        fields = self.mapping(node)
        line = node.start_mark.line + 1
        kinds = [k for k in fields if k in STEP_KINDS or k in names]
        extras = [k for k in fields if k not in kinds and k not in ("expect", "within")]
        if not names:
            return None  # the missing sessions are reported once, not at every step
        for key in extras:
            choices = [*names, *STEP_KINDS, "expect", "within"]
            self.problem(fields[key][0], f"unknown step key '{key}'{_suggest(key, choices)}; "
                         f"a step is a session ({', '.join(names) or 'none named'}) or one of: "
                         f"{', '.join(STEP_KINDS)}")
        if len(kinds) != 1:
            if not extras:
                what = "no action" if not kinds else f"several actions ({', '.join(kinds)})"
                self.problem(node, f"step has {what}; give exactly one")
            return None
        kind = kinds[0]
        key_node, value = fields[kind]
        if kind in names:
            return self.typed_step(kind, value, fields, line)
        for key in ("expect", "within"):
            if key in fields and not (kind == "await" and key == "within"):
                self.problem(fields[key][0], f"'{key}' does not go with '{kind}'")
        if kind == "note":
            return Step("note", line, text=self.scalar(value, "note"))
        if kind == "await":
            return self.await_step(value, fields, line, names)
        session = self.scalar(value, kind)
        if session not in names:
            self.problem(value, f"{kind}: unknown session '{session}'{_suggest(session, names)}")
        return Step(kind, line, session=session)

    def typed_step(self, session: str, value: yaml.Node, fields, line: int) -> Step:
        text = self.scalar(value, session)
        words = split_line(text)
        if not words:
            self.problem(value, f"{session}: empty command")
        elif words[0] not in self.known_commands:
            self.problem(value, f"{session}: unknown command '{words[0]}'"
                         f"{_suggest(words[0], sorted(self.known_commands))}")
        if "within" in fields:
            self.problem(fields["within"][0], "'within' goes with 'await', not with a command")
        expect = self.expectation(fields["expect"][1]) if "expect" in fields else None
        return Step("type", line, session=session, text=text, expect=expect)

    def await_step(self, value: yaml.Node, fields, line: int, names: list[str]) -> Step | None:
        if not isinstance(value, yaml.MappingNode):
            self.problem(value, "await needs a session and what to wait for, e.g. "
                         "await: {m2: 'type:NodeDeleted path:/master', within: 10s}")
            return None
        inner = self.mapping(value)
        within = None
        if "within" in inner:
            within = self.duration(inner.pop("within")[1], "within")
        elif "within" in fields:
            within = self.duration(fields["within"][1], "within")
        sessions = [k for k in inner if k in names]
        for key in inner:
            if key not in names:
                self.problem(inner[key][0], f"await: unknown session '{key}'"
                             f"{_suggest(key, names)}")
        if len(sessions) != 1:
            if not [k for k in inner if k not in names]:
                self.problem(value, "await names exactly one session")
            return None
        if within is None:
            self.problem(value, "await needs a deadline: within: 10s")
        target = inner[sessions[0]][1]
        if isinstance(target, yaml.ScalarNode):
            expect = Expectation("contains", target.value)
        else:
            expect = self.expectation(target)
        return Step("await", line, session=sessions[0], expect=expect, within=within or 10.0)

    def expectation(self, node: yaml.Node) -> Expectation | None:
        if isinstance(node, yaml.ScalarNode):
            return Expectation("exact", node.value)
        if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            self.problem(node, f"expect is text, or one of {{{': ..., '.join(EXPECT_KINDS)}: "
                         "...}")
            return None
        key_node, value_node = node.value[0]
        kind = key_node.value
        if kind not in EXPECT_KINDS:
            self.problem(key_node, f"unknown expectation '{kind}'{_suggest(kind, EXPECT_KINDS)}; "
                         f"use one of: {', '.join(EXPECT_KINDS)}")
            return None
        text = self.scalar(value_node, kind)
        if kind == "match":
            try:
                re.compile(text)
            except re.error as exc:
                self.problem(value_node, f"bad regular expression in 'match': {exc}")
                return None
        return Expectation(kind, text)


def load_scenario(path: str, known_commands: set[str] | None = None) -> Scenario:
    """Read and check `path`; raise ScenarioError listing every problem found."""
    if known_commands is None:
        from zkshell.commands import COMMANDS

        known_commands = set(COMMANDS)
    try:
        with open(path, encoding="utf-8") as scenario_file:
            text = scenario_file.read()
    except OSError as exc:
        raise ScenarioError([Problem(path, 0, f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(path, 0, "the file is not UTF-8 text")]) from None
    loader = _Loader(path, known_commands)
    scenario = loader.load(text)
    if loader.problems or scenario is None:
        raise ScenarioError(loader.problems)
    return scenario
