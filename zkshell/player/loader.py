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
from yaml.reader import ReaderError

from zkshell.player.fault_order import fault_order_problems
from zkshell.player.scenario import Expectation, Scenario, SessionSpec, Step
from zkshell.tokenizer import split_line

FAULTS = ("crash", "quit", "restart", "partition", "heal")
STEP_KINDS = ("note", "await", *FAULTS)
STEP_EXTRAS = ("expect", "within")
TOP_KEYS = ("title", "about", "session_timeout", "sessions", "steps")
EXPECT_KINDS = ("exact", "match", "contains", "like")
LABEL_KEYS = ("label",)
DEFAULT_SESSION_TIMEOUT = 4.0
# PyYAML composes nodes recursively; far below Python's recursion limit, far above any scenario.
MAX_DEPTH = 50
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_NULL_TAG = "tag:yaml.org,2002:null"
_AWAIT_EXAMPLE = "await: {m2: 'type:NodeDeleted path:/master', within: 10s}"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # the file as a whole (it cannot be read)
            return f"{self.path}: {self.message}"
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


def _blank(node: yaml.Node) -> bool:
    """Nothing written after the colon (`expect:`), unlike `expect: ""` or `expect: null`."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and node.value == ""


def _what(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a mapping" if isinstance(node, yaml.MappingNode) else "text"


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _too_deep(text: str) -> yaml.Mark | None:
    """Where the nesting passes MAX_DEPTH: the parser is iterative, the composer is not."""
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _is_keyword(name: str) -> bool:
    return name in STEP_KINDS or name in STEP_EXTRAS


def _looks_like_step_kind(key: str) -> bool:
    return bool(difflib.get_close_matches(key, [*STEP_KINDS, *STEP_EXTRAS], n=1, cutoff=0.8))


class _Loader:
    def __init__(self, path: str, known_commands: set[str]) -> None:
        self.path = path
        self.known_commands = known_commands
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.at(node.start_mark.line + 1, message)

    def at(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    # ---- the document ---------------------------------------------------------------
    def load(self, text: str) -> Scenario | None:
        root = self.compose(text)
        if root is None:
            return None
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, "a scenario is a mapping with 'sessions' and 'steps'")
            return None
        fields = self.mapping(root)
        for key, (key_node, _value) in fields.items():
            if key not in TOP_KEYS:
                self.problem(key_node, f"unknown key '{key}'{_suggest(key, TOP_KEYS)}; "
                             f"expected one of: {', '.join(TOP_KEYS)}")
        timeout = DEFAULT_SESSION_TIMEOUT
        if "session_timeout" in fields:
            timeout = self.duration(fields["session_timeout"][1], "session_timeout") or timeout
        used = _sessions_used(fields.get("steps"))
        sessions = self.sessions(fields.get("sessions"), root, used)
        # Without usable sessions the steps are still checked, as if what they use were named.
        names = [spec.name for spec in sessions if not _is_keyword(spec.name)] or used
        steps = self.steps(fields.get("steps"), root, names)
        for line, message in fault_order_problems(steps):
            self.at(line, message)
        return Scenario(
            path=self.path,
            title=self.scalar(fields["title"][1], "title") if "title" in fields else self.path,
            about=self.scalar(fields["about"][1], "about") if "about" in fields else "",
            session_timeout=timeout, sessions=sessions, steps=steps)

    def compose(self, text: str) -> yaml.Node | None:
        try:
            deep = _too_deep(text)
            if deep is not None:
                self.at(deep.line + 1, f"YAML nested more than {MAX_DEPTH} levels deep; "
                        "a scenario needs a few")
                return None
            root = yaml.compose(text)
        except yaml.MarkedYAMLError as exc:
            # "while scanning a quoted scalar" points where the trouble starts.
            mark = exc.context_mark or exc.problem_mark
            what = ", ".join(part for part in (exc.context, exc.problem) if part)
            self.at(mark.line + 1 if mark else 1, f"YAML syntax error: {what}")
            return None
        except ReaderError as exc:
            # Its text ends with a position in characters; the line is what helps.
            self.at(_line_of(text, exc.position), f"YAML error: {str(exc).splitlines()[0]}")
            return None
        except yaml.YAMLError as exc:
            self.at(1, f"YAML error: {exc}")
            return None
        if root is None:
            self.at(1, "the file is empty: a scenario is a mapping with 'sessions' and 'steps'")
        return root

    def mapping(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, f"a key must be a name, not {_what(key_node)}")
                continue
            key = key_node.value
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
    def sessions(self, entry, root: yaml.Node, used: list[str]) -> list[SessionSpec]:
        example = f"sessions: [{', '.join(used or ['m1', 'm2'])}]"
        if entry is None:
            self.problem(root, f"missing 'sessions': name the sessions, e.g. {example}")
            return []
        node = entry[1]
        if _blank(node) or (not isinstance(node, yaml.ScalarNode) and not node.value):
            self.problem(node, f"'sessions' is empty: name the sessions, e.g. {example}")
            return []
        if isinstance(node, yaml.MappingNode):
            return self.labelled_sessions(node)
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "'sessions' must be a list of names or a mapping of labels, "
                         f"e.g. sessions: [{node.value}]")
            return []
        named = [(item, self.session_name(item)) for item in node.value]
        named = [(item, name) for item, name in named if name]
        self.check_names(named)
        return [SessionSpec(name, name) for _item, name in named]

    def session_name(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"sessions: a name must be text, not {_what(node)}")
            return ""
        if not node.value:
            self.problem(node, "sessions: a session needs a name")
        return node.value

    def check_names(self, named: list[tuple[yaml.Node, str]]) -> None:
        seen: set[str] = set()
        for node, name in named:
            if _is_keyword(name):
                self.problem(node, f"sessions: '{name}' is a step keyword, not a name")
            if name in seen:
                self.problem(node, f"sessions: '{name}' is named twice")
            seen.add(name)

    def labelled_sessions(self, node: yaml.MappingNode) -> list[SessionSpec]:
        fields = self.mapping(node)  # reports a name given twice
        specs = []
        for name, (name_node, label_node) in fields.items():
            if not name:
                self.problem(name_node, "sessions: a session needs a name")
                continue
            specs.append(SessionSpec(name, self.label(name, label_node) or name))
        self.check_names([(key_node, name) for name, (key_node, _) in fields.items() if name])
        return specs

    def label(self, name: str, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return node.value
        if isinstance(node, yaml.SequenceNode):
            self.problem(node, f"sessions: {name}: the label must be text, not a list")
            return ""
        fields = self.mapping(node)
        for key, (key_node, _value) in fields.items():
            if key not in LABEL_KEYS:
                self.problem(key_node, f"sessions: {name}: unknown key '{key}'"
                             f"{_suggest(key, LABEL_KEYS)}; expected: {', '.join(LABEL_KEYS)}")
        if "label" not in fields:
            return ""
        value = fields["label"][1]
        if not isinstance(value, yaml.ScalarNode):
            self.problem(value, f"sessions: {name}: 'label' must be text, not {_what(value)}")
            return ""
        return value.value

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
        extras = [k for k in fields if k not in kinds and k not in STEP_EXTRAS]
        for key in extras:
            choices = [*names, *STEP_KINDS, *STEP_EXTRAS]
            self.problem(fields[key][0], f"unknown step key '{key}'{_suggest(key, choices)}; "
                         f"a step is a session ({', '.join(names) or 'none named'}) or one of: "
                         f"{', '.join(STEP_KINDS)}")
        if len(kinds) != 1:
            if not extras:
                what = "no action" if not kinds else f"several actions ({', '.join(kinds)})"
                self.problem(node, f"step has {what}; give exactly one")
            return None
        kind = kinds[0]
        value = fields[kind][1]
        if kind in names:
            return self.typed_step(kind, value, fields, line)
        for key in STEP_EXTRAS:
            if key in fields and not (kind == "await" and key == "within"):
                self.problem(fields[key][0], f"'{key}' does not go with '{kind}'")
        if kind == "note":
            return Step("note", line, text=self.scalar(value, "note"))
        if kind == "await":
            return self.await_step(value, fields, line, names)
        return self.fault_step(kind, value, line, names)

    def fault_step(self, kind: str, value: yaml.Node, line: int, names: list[str]) -> Step | None:
        example = names[0] if names else "m1"
        if _blank(value):
            self.problem(value, f"{kind} needs a session name, e.g. {kind}: {example}")
            return None
        if not isinstance(value, yaml.ScalarNode):
            items = value.value if isinstance(value, yaml.SequenceNode) else []
            if items and isinstance(items[0], yaml.ScalarNode):
                example = items[0].value
            self.problem(value, f"{kind} takes one session name, not {_what(value)}, "
                         f"e.g. {kind}: {example}")
            return None
        session = value.value
        if session not in names:
            self.problem(value, f"{kind}: unknown session '{session}'{_suggest(session, names)}")
            return None
        return Step(kind, line, session=session)

    def typed_step(self, session: str, value: yaml.Node, fields, line: int) -> Step | None:
        if "within" in fields:
            self.problem(fields["within"][0], "'within' goes with 'await', not with a command")
        expect = self.expectation(fields["expect"][1]) if "expect" in fields else None
        text = self.command(session, value)
        if text is None:
            return None
        return Step("type", line, session=session, text=text, expect=expect)

    def command(self, session: str, value: yaml.Node) -> str | None:
        """The line typed: one line of text, in a command the shell knows."""
        if not isinstance(value, yaml.ScalarNode):
            self.problem(value, f"{session}: a command is one line of text, not {_what(value)}; "
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
                         f"{_suggest(words[0], sorted(self.known_commands))}")
        return text

    def await_step(self, value: yaml.Node, fields, line: int, names: list[str]) -> Step | None:
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
        session = sessions[0]
        target = inner[session][1]
        if _blank(target):
            self.problem(target, f"await: {session} has nothing to wait for, e.g. "
                         f"await: {{{session}: 'type:NodeDeleted path:/master', within: 10s}}")
            return None
        if isinstance(target, yaml.ScalarNode):
            expect = Expectation("contains", target.value)
        else:
            expect = self.expectation(target)
        return Step("await", line, session=session, expect=expect, within=within or 10.0)

    def expectation(self, node: yaml.Node) -> Expectation | None:
        if _blank(node):
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
            self.problem(key_node, f"unknown expectation '{kind}'{_suggest(kind, EXPECT_KINDS)}; "
                         f"use one of: {', '.join(EXPECT_KINDS)}")
            return None
        if _blank(value_node):
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


def _sessions_used(entry) -> list[str]:
    """The session names the steps use, in order: what `sessions` should say when it does not."""
    if entry is None or not isinstance(entry[1], yaml.SequenceNode):
        return []
    used: list[str] = []
    for step in entry[1].value:
        for name in _step_sessions(step):
            if name and name not in used:
                used.append(name)
    return used


def _step_sessions(step: yaml.Node) -> list[str]:
    if not isinstance(step, yaml.MappingNode):
        return []
    names = []
    for key_node, value in step.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if key in FAULTS and isinstance(value, yaml.ScalarNode):
            names.append(value.value)
        elif key == "await" and isinstance(value, yaml.MappingNode):
            names += [k.value for k, _ in value.value
                      if isinstance(k, yaml.ScalarNode) and k.value != "within"]
        elif key and key not in STEP_KINDS and not _looks_like_step_kind(key):
            names.append(key)
    return names


def load_scenario(path: str, known_commands: set[str] | None = None) -> Scenario:
    """Read and check `path`; raise ScenarioError listing every problem found."""
    if known_commands is None:
        from zkshell.commands import COMMANDS

        known_commands = set(COMMANDS)
    text = _read(path)
    loader = _Loader(path, known_commands)
    scenario = loader.load(text)
    if loader.problems or scenario is None:
        raise ScenarioError(loader.problems)
    return scenario


def _read(path: str) -> str:
    try:
        with open(path, "rb") as scenario_file:
            raw = scenario_file.read()
    except OSError as exc:
        raise ScenarioError([Problem(path, 0, f"cannot read the file: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError([Problem(path, line, f"the file is not UTF-8 text (byte "
                                     f"0x{raw[exc.start]:02x}); save it as UTF-8")]) from None
