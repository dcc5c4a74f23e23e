"""walkthrough.yaml against the document it replays: the same commands, outputs and events,
in the same order, word for word.

The document (the master/worker walkthrough, typed into zkCli.sh windows) is the team's
reference material, kept beside the repository rather than in it; set ZKSH_WALKTHROUGH to its
path elsewhere.  Without it there is nothing to compare with, and the test says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zkshell.player.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = Path(os.environ.get(
    "ZKSH_WALKTHROUGH", ROOT.parent / "shared" / "reference" / "master-worker-walkthrough.txt"))
PROMPT = "[zk: ...] "


def document_transcript(text: str) -> list[tuple[str, str]]:
    """("command", line) with ("output", text) after it, and ("event", line), in order."""
    items: list[tuple[str, str]] = []
    in_code = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code or not line or line == "WATCHER::":
            continue
        if line.startswith(PROMPT):
            items.append(("command", line[len(PROMPT):]))
        elif line.startswith("WatchedEvent "):
            items.append(("event", line))
        elif line.startswith("path:") and items and items[-1][0] == "event":
            # The document wraps a long event line; zkCli prints it as one.
            items[-1] = ("event", f"{items[-1][1]} {line}")
        elif items and items[-1][0] in ("command", "output"):
            if items[-1][0] == "output":
                items[-1] = ("output", items[-1][1] + "\n" + line)
            else:
                items.append(("output", line))
    return items


def scenario_transcript(path: Path) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for step in load_scenario(str(path)).steps:
        if step.kind == "type":
            items.append(("command", step.text))
            if step.expect is not None:
                items.append(("output", step.expect.text.strip("\n")))
        elif step.kind == "await":
            assert step.expect is not None
            items.append(("event", step.expect.text))
    return items


def test_the_walkthrough_checks_every_output_of_the_document_in_its_own_words():
    if not DOCUMENT.is_file():
        pytest.skip(f"the reference document is not at {DOCUMENT} (set ZKSH_WALKTHROUGH)")
    expected = document_transcript(DOCUMENT.read_text("utf-8"))
    assert len(expected) > 40  # the parser found the document's sessions
    assert scenario_transcript(ROOT / "scenarios" / "walkthrough.yaml") == expected


def test_the_document_parser_reads_commands_outputs_and_wrapped_events():
    text = ("prose\n```\n[zk: ...] ls /  \n[zookeeper]  \n```\n\nWATCHER::\n\n```\n"
            "WatchedEvent state:SyncConnected type:NodeChildrenChanged\npath:/assign/w1\n"
            "[zk: ...] get /a\nline one\nline two\n```\n")
    assert document_transcript(text) == [
        ("command", "ls /"), ("output", "[zookeeper]"),
        ("event", "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/assign/w1"),
        ("command", "get /a"), ("output", "line one\nline two")]
