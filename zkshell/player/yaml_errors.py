"""A YAML syntax error in plain words, at the line where the problem is.

PyYAML's errors carry two marks: where the construct it was reading started (the context)
and where it went wrong (the problem).  For indentation that is off, the context is the line
*above* the bad one, and the words (`expected <block end>, but found '<block mapping
start>'`) are the parser's, not the writer's.  This module picks the line a person must fix
and says what is wrong with it.
"""

from __future__ import annotations

import yaml


def explain(text: str, error: yaml.MarkedYAMLError) -> tuple[int, str]:
    """(1-based line, message) for a YAML syntax error in `text`."""
    problem, context = error.problem_mark, error.context_mark
    words = error.problem or ""
    if problem is not None and words.startswith("expected <block end>") and context is not None:
        return problem.line + 1, _misaligned(text, problem, context, error.context or "")
    if problem is not None and words == "mapping values are not allowed here":
        return problem.line + 1, _colon_in_value(text, problem)
    # Elsewhere the context says where the trouble starts: an unterminated quote, say, whose
    # problem mark is the end of the file.
    mark = context or problem
    what_failed = ", ".join(part for part in (error.context, error.problem) if part)
    return (mark.line + 1 if mark else 1), f"YAML syntax error: {what_failed}"


def _indent(text: str, line: int) -> int:
    lines = text.split("\n")
    row = lines[line] if 0 <= line < len(lines) else ""
    return len(row) - len(row.lstrip(" "))


def _spaces(count: int) -> str:
    return "1 space" if count == 1 else f"{count} spaces"


def _misaligned(text: str, problem: yaml.Mark, context: yaml.Mark, parsing: str) -> str:
    indent = _indent(text, problem.line)
    if "collection" not in parsing:  # a mapping: its keys start at the context's column
        return (f"this line is indented by {_spaces(indent)}, the keys above it (from line "
                f"{context.line + 1}) by {_spaces(context.column)}: line it up with them")
    # A list: its items start with '- ' at the context's column, their keys further in.
    row = text.split("\n")[context.line]
    after_dash = row[context.column + 1:]
    key = context.column + 1 + len(after_dash) - len(after_dash.lstrip(" "))
    if indent == context.column:
        return (f"this line lines up with the list items above it ('- ' at "
                f"{_spaces(indent)}) but is not one: a key of the item above goes under its "
                f"first key ({_spaces(key)}), a new item starts with '- '")
    if after_dash.strip():
        return (f"this line is indented by {_spaces(indent)}: a key of the list item above "
                f"it lines up with that item's first key ({_spaces(key)}), a new item "
                f"starts with '- ' ({_spaces(context.column)})")
    return (f"this line is indented by {_spaces(indent)}, the list items above it (from line "
            f"{context.line + 1}) by {_spaces(context.column)}: line it up with them")


def _colon_in_value(text: str, problem: yaml.Mark) -> str:
    row = text.split("\n")[problem.line]
    first_colon = row.find(":")
    if 0 <= first_colon < problem.column:
        # `- m1: echo a: b`: the second colon is inside the value.
        key = row[:first_colon].strip().lstrip("-").strip()
        value = row[first_colon + 1:].strip()
        quote = '"' if "'" in value else "'"
        return f"a value with ': ' in it must be quoted: {key}: {quote}{value}{quote}"
    return ("this line is indented more than the line above it, so YAML reads it as more of "
            "that line's value: line its key up with the keys above")
