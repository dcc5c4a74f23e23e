"""Load a scenario file and check all of it before anything connects.

Every problem is reported as `file:line: message`, naming the key, with a suggestion where one
is obvious; a broken file never starts half-way.  This module reads the document and its
sessions; yaml_nodes reads the nodes with their lines, and step_kinds reads the steps.
"""

from __future__ import annotations

import yaml

from zkshell.player.fault_order import fault_order_problems, server_order_problems
from zkshell.player.scenario import Scenario, SessionSpec, Step
from zkshell.player.step_kinds import StepReader, is_keyword, sessions_named
from zkshell.player.yaml_nodes import Problem, blank, parse_duration, suggest, what

__all__ = ["Problem", "ScenarioError", "load_scenario", "parse_duration", "scenario_from_text"]

TOP_KEYS = ("title", "about", "session_timeout", "servers", "sessions", "steps")
LABEL_KEYS = ("label", "server")
MAX_SERVERS = 7  # an ensemble's members on one machine, each a JVM
DEFAULT_SESSION_TIMEOUT = 4.0


class ScenarioError(Exception):
    """The file cannot be played; `problems` lists every reason, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


class _Loader(StepReader):
    # ---- the document ---------------------------------------------------------------
    def load(self, text: str) -> Scenario | None:
        root = self.compose(text)
        if root is None:
            if not self.problems:
                self.at(1, "the file is empty: a scenario is a mapping with 'sessions' and "
                        "'steps'")
            return None
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, "a scenario is a mapping with 'sessions' and 'steps'")
            return None
        fields = self.mapping(root)
        for key, (key_node, _value) in fields.items():
            if key not in TOP_KEYS:
                self.problem(key_node, f"unknown key '{key}'{suggest(key, TOP_KEYS)}; "
                             f"expected one of: {', '.join(TOP_KEYS)}")
        timeout = DEFAULT_SESSION_TIMEOUT
        if "session_timeout" in fields:
            timeout = self.duration(fields["session_timeout"][1], "session_timeout") or timeout
        if "servers" in fields:
            self.servers = self.server_count(fields["servers"][1])
        used = _sessions_used(fields.get("steps"))
        sessions = self.sessions(fields.get("sessions"), root, used)
        # Without usable sessions the steps are still checked, as if what they use were named.
        names = [spec.name for spec in sessions if not is_keyword(spec.name)] or used
        steps = self.steps(fields.get("steps"), root, names)
        for line, message in (fault_order_problems(steps)
                              + server_order_problems(steps, self.servers)):
            self.at(line, message)
        return Scenario(
            path=self.path,
            title=self.scalar(fields["title"][1], "title") if "title" in fields else self.path,
            about=self.scalar(fields["about"][1], "about") if "about" in fields else "",
            session_timeout=timeout, sessions=sessions, steps=steps, servers=self.servers)

    def server_count(self, node: yaml.Node) -> int:
        """`servers: 3`: how many members the ensemble has (1: a single server)."""
        text = node.value if isinstance(node, yaml.ScalarNode) else ""
        if not text.isdigit() or not 1 <= int(text) <= MAX_SERVERS:
            self.problem(node, f"servers is how many members the ensemble has, 1 to "
                         f"{MAX_SERVERS}, e.g. servers: 3")
            return 1
        return int(text)

    # ---- sessions -------------------------------------------------------------------
    def sessions(self, entry, root: yaml.Node, used: list[str]) -> list[SessionSpec]:
        example = f"sessions: [{', '.join(used or ['m1', 'm2'])}]"
        if entry is None:
            self.problem(root, f"missing 'sessions': name the sessions, e.g. {example}")
            return []
        node = entry[1]
        if blank(node) or (not isinstance(node, yaml.ScalarNode) and not node.value):
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
            self.problem(node, f"sessions: a name must be text, not {what(node)}")
            return ""
        if not node.value:
            self.problem(node, "sessions: a session needs a name")
        return node.value

    def check_names(self, named: list[tuple[yaml.Node, str]]) -> None:
        seen: set[str] = set()
        for node, name in named:
            if is_keyword(name):
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
            specs.append(SessionSpec(name, self.label(name, label_node) or name,
                                     self.pinned(name, label_node)))
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
                             f"{suggest(key, LABEL_KEYS)}; expected: {', '.join(LABEL_KEYS)}")
        if "label" not in fields:
            return ""
        value = fields["label"][1]
        if not isinstance(value, yaml.ScalarNode):
            self.problem(value, f"sessions: {name}: 'label' must be text, not {what(value)}")
            return ""
        return value.value

    def pinned(self, name: str, node: yaml.Node) -> int | None:
        """`m1: {server: 2}`: the member the session connects to, alone."""
        if not isinstance(node, yaml.MappingNode):
            return None
        # Read directly: `label` has reported what is wrong with the mapping itself.
        values = [value for key, value in node.value
                  if isinstance(key, yaml.ScalarNode) and key.value == "server"]
        if not values:
            return None
        value = values[0]
        text = value.value if isinstance(value, yaml.ScalarNode) else ""
        if self.servers < 2:
            self.problem(value, f"sessions: {name}: 'server' pins a session to a member "
                         "of an ensemble: say how many members there are, e.g. servers: 3")
        elif not text.isdigit() or not 1 <= int(text) <= self.servers:
            self.problem(value, f"sessions: {name}: 'server' is a member's number, 1 to "
                         f"{self.servers}")
        else:
            return int(text)
        return None

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


def _sessions_used(entry) -> list[str]:
    """The session names the steps use, in order: what `sessions` should say when it does not."""
    if entry is None or not isinstance(entry[1], yaml.SequenceNode):
        return []
    used: list[str] = []
    for step in entry[1].value:
        for name in sessions_named(step):
            if name and name not in used:
                used.append(name)
    return used


def load_scenario(path: str, known_commands: set[str] | None = None) -> Scenario:
    """Read and check `path`; raise ScenarioError listing every problem found."""
    return scenario_from_text(path, _read(path), known_commands)


def scenario_from_text(path: str, text: str,
                       known_commands: set[str] | None = None) -> Scenario:
    """Check `text` as the contents of `path` (zksh play --bless checks what it would write)."""
    if known_commands is None:
        from zkshell.commands import COMMANDS

        known_commands = set(COMMANDS)
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
