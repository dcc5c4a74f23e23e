"""Write `expect:` values into a scenario's YAML text and keep everything else as written.

PyYAML, which the loader reads with, forgets comments, quoting and layout; ruamel.yaml's
round trip keeps them, and writes the new values in the file's indentation.  It still
normalises spacing and quoting here and there, so only the lines it changed for the new values
are spliced into the text as written.  Steps are found by the line they start on, the line
the loader gave each `Step`: this module needs the text and (line, session, output) triples.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections.abc import Iterable

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
)
from ruamel.yaml.tokens import CommentToken

from zkshell.player.scenario import clean_output, normalise_variable

_COMMENT = 2  # in ruamel's comment slots for a mapping key: what follows its value
# Comment lines and a `---` opening the document: ruamel would drop those comments, so they
# are kept aside, as written.
_PREAMBLE = re.compile(r"\A(?:[ \t]*(?:#.*)?\r?\n)*---[ \t]*(?:#.*)?(?:\r?\n|\Z)")
_KEY_LINE = re.compile(r"^( *)(- +)?[^\s#][^#]*:\s*(#.*)?$")


class NotEditable(Exception):
    """The text does not have the step this module was asked to change."""


def expectation(actual: str, flow: bool = False) -> object:
    """The `expect:` value that `actual` passes: the exact text, or `{like: text}` when it
    holds a zxid, session id or time (which differ from run to run).  `flow`: it goes in a
    flow mapping (`- {m1: ls /, expect: ...}`)."""
    text = clean_output(actual)
    if normalise_variable(text) == text:
        return _scalar(text, flow)
    if "\n" in text and not flow:
        return CommentedMap([("like", _scalar(text, flow))])
    like = CommentedMap([("like", _scalar(text, flow=True))])
    like.fa.set_flow_style()  # expect: {like: "ephemeralOwner = 0x1000…"}
    return like


def write_expectations(text: str, blessings: Iterable[tuple[int, str, str]]) -> str:
    """`text` with each (step line, session, output) written as that step's `expect:`,
    replacing the one it has, or added after the command.  Only those lines change."""
    blessings = list(blessings)
    if not blessings:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    if not text.endswith("\n"):
        text += newline  # a line is added after the last one, perhaps
    preamble_match = _PREAMBLE.match(text)
    preamble = preamble_match.group(0) if preamble_match else ""
    shift = preamble.count("\n")  # lines the loader counted that ruamel does not see
    text = text[len(preamble):]
    yaml = _round_trip(text)
    data = yaml.load(text)
    untouched = _dump(yaml, data)
    steps = data.get("steps") if isinstance(data, CommentedMap) else None
    if not isinstance(steps, CommentedSeq):
        raise NotEditable("the file has no list of steps")
    by_line = {item.lc.line + 1 + shift: item for item in steps
               if isinstance(item, CommentedMap)}
    for line, session, actual in blessings:
        step = by_line.get(line)
        key = next((k for k in step if str(k) == session), None) if step is not None else None
        if key is None:
            raise NotEditable(f"line {line} is not a step of {session}")
        _set_expect(step, key, expectation(actual, flow=step.fa.flow_style()))
    return preamble + _splice(text, untouched, _dump(yaml, data), newline)


def _dump(yaml: YAML, data: object) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _splice(original: str, untouched: str, blessed: str, newline: str) -> str:
    """`original` with the lines that changed from `untouched` (ruamel's writing of the file
    as it is) to `blessed` (with the new expectations): ruamel normalises spacing and
    quoting (`[m1,m2]` becomes `[m1, m2]`) that the author's lines keep this way.  When
    ruamel's lines do not match the file's one for one, its writing is taken whole."""
    lines = original.splitlines(True)
    before, after = untouched.splitlines(True), blessed.splitlines(True)
    if len(lines) != len(before):
        return blessed.replace("\n", newline) if newline != "\n" else blessed
    spliced: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spliced += lines[i1:i2]
        else:
            spliced += [line[:-1] + newline if line.endswith("\n") else line
                        for line in after[j1:j2]]
    return "".join(spliced)


def _scalar(text: str, flow: bool) -> object:
    """The text as the file should show it: plain if YAML reads it back as the same text,
    a `|` block if it has several lines, else double-quoted (as the shipped scenarios are)."""
    printable = all(ch.isprintable() or ch in "\n\t" for ch in text)
    if "\n" in text and printable and "\t" not in text and not flow:
        return LiteralScalarString(text + "\n")
    if text and printable and "\n" not in text and _plain_reads_back(text, flow):
        return text
    return DoubleQuotedScalarString(text)


def _plain_reads_back(text: str, flow: bool) -> bool:
    """Whether `text` can go unquoted: ruamel writes it so, and PyYAML (which the loader
    reads with) reads it back as the same text, not a number, a boolean, null or syntax
    (`[zookeeper]`, `a: b`, `x, y` in a flow mapping)."""
    writer = YAML()
    writer.width = 4096
    if flow:
        writer.default_flow_style = True
    out = io.StringIO()
    writer.dump({"k": text}, out)
    written = f"{{k: {text}}}\n" if flow else f"k: {text}\n"
    try:
        return out.getvalue() == written and pyyaml.safe_load(written) == {"k": text}
    except pyyaml.YAMLError:
        return False


def _round_trip(text: str) -> YAML:
    yaml = YAML()  # round trip: comments, key order, flow mappings, block scalars
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the author wrote on one
    mapping, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _indents(text: str) -> tuple[int, int]:
    """(mapping indent, dash offset) as the file writes them; 2 and 2 (`steps:\\n  - m1:`,
    the shipped scenarios' style) where it does not show them."""
    mapping = offset = None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip()
             .startswith("#")]
    for line, following in zip(lines, lines[1:]):
        match = _KEY_LINE.match(line)
        if not match or not line.split("#")[0].rstrip().endswith(":"):
            continue
        column = len(match.group(1)) + len(match.group(2) or "")
        inner = len(following) - len(following.lstrip(" "))
        if following.lstrip().startswith("- ") and inner >= column:
            offset = inner - column if offset is None else offset  # `key:` then `- item`
        elif inner > column and mapping is None:
            mapping = inner - column
    return mapping or 2, 2 if offset is None else offset


# ---- comments ------------------------------------------------------------------------------
# ruamel keeps a comment after a value, and the comment and blank lines below it up to the next
# key, with the key that value belongs to (the innermost one of a block mapping).  A new
# `expect:` goes between the command's end-of-line comment and the lines that introduce the
# next step; a replaced one takes over the lines below the old one, and its end-of-line
# comment, on a line of its own when the new value is a `|` block.
def _set_expect(step: CommentedMap, command_key: object, value: object) -> None:
    replacing = "expect" in step
    holder, key = _tail(step, "expect" if replacing else command_key)
    end_of_line, below = _take_comment(holder, key)
    if replacing:
        # Deleted and inserted, not assigned: ruamel gives an assigned text the old one's
        # quoting style, which may not suit the new text.
        position = list(step).index("expect")
        del step["expect"]
        step.insert(position, "expect", value)
    else:
        step.insert(list(step).index(command_key) + 1, "expect", value)
        if end_of_line is not None:  # it stays beside the command
            _put_comment(holder, key, end_of_line, "")
            end_of_line = None
    _put_comment(*_tail(step, "expect"), end_of_line, below, indent=step.lc.col)


def _tail(mapping: CommentedMap, key: object) -> tuple[CommentedMap, object]:
    """Which mapping and key hold the lines that follow `mapping[key]`: the last key of a
    block mapping value (`expect:` then `like: |`), else the key itself."""
    value = mapping[key]
    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
        return _tail(value, list(value)[-1])
    return mapping, key


def _take_comment(mapping: CommentedMap, key: object):
    """(the end-of-line comment's token or None, the lines below as text) after `key`'s
    value, taken away from it."""
    slots = mapping.ca.items.get(key)
    if not slots or len(slots) <= _COMMENT or slots[_COMMENT] is None:
        return None, ""
    token, slots[_COMMENT] = slots[_COMMENT], None
    if _is_block(mapping[key]):
        # After a `|` block the line has ended: the token is lines only, the first one
        # starting at the token's column.
        return None, " " * token.column + token.value
    end_of_line, _newline, below = token.value.partition("\n")
    if not end_of_line.strip():
        return None, below
    kept = copy.copy(token)
    kept.value = end_of_line + "\n"
    return kept, below


def _put_comment(mapping: CommentedMap, key: object, end_of_line, below: str,
                 indent: int = 0) -> None:
    if _is_block(mapping[key]):
        if end_of_line is not None:  # a block has no end of line left: a line of its own
            below = " " * indent + end_of_line.value + below
            end_of_line = None
        if not below:
            return
        token = CommentToken(below, CommentMark(0), None)
    elif end_of_line is not None:
        token = copy.copy(end_of_line)
        token.value = end_of_line.value + below
    elif below:
        token = CommentToken("\n" + below, CommentMark(0), None)
    else:
        return
    slots = mapping.ca.items.setdefault(key, [None, None, None, None])
    slots[_COMMENT] = token


def _is_block(value: object) -> bool:
    return isinstance(value, (LiteralScalarString, FoldedScalarString))
