"""Exports of a finished run: one transcript per session, and a picture of the final view.

Transcripts are plain text (what each zkCli window showed, no colour codes).  Pictures are
the final multi-pane view recorded by rich and exported as SVG or HTML; rich is imported
only when a picture is asked for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from itertools import chain, zip_longest

from zkshell.player.member_row import MemberLine
from zkshell.player.panes import Board, transcript_text
from zkshell.player.server_pane import ServerView

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class ExportFailed(Exception):
    """An export could not be written; the message names it and why."""


def transcript_name(session: str) -> str:
    """A file name for a session: its name, with anything a file system dislikes replaced."""
    return (_UNSAFE.sub("_", session).lstrip(".") or "session") + ".txt"


def unique_names(names: list[str]) -> list[str]:
    """`names` with a `-2`, `-3`... before the extension of each repeat (a/b and a_b)."""
    seen: set[str] = set()
    result = []
    for name in names:
        root, ext = os.path.splitext(name)
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{root}-{n}{ext}"
        seen.add(candidate)
        result.append(candidate)
    return result


SERVER_TRANSCRIPT = "server.txt"


def write_transcripts(board: Board, directory: str) -> list[str]:
    """One `<session>.txt` per session in `directory` (created if need be), and
    `server.txt` when the server pane or an ensemble's row of members ran; the paths."""
    os.makedirs(directory, exist_ok=True)
    prompts = {pane.name: pane.prompt for pane in board.picture().panes}
    sessions = board.scenario.sessions
    history, members = board.server_history, board.member_history
    # A session called "server" keeps its name; the server's file then takes another.
    names = unique_names([transcript_name(spec.name) for spec in sessions]
                         + ([SERVER_TRANSCRIPT] if history or members else []))
    paths = []
    for spec, name in zip(sessions, names):
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as transcript:
            transcript.write(transcript_text(board.entries(spec.name), prompts.get(spec.name)))
        paths.append(path)
    if history or members:
        path = os.path.join(directory, names[-1])
        with open(path, "w", encoding="utf-8") as transcript:
            transcript.write(server_transcript(history, members))
        paths.append(path)
    return paths


def server_transcript(history: Sequence[tuple[str, ServerView]],
                      members: Sequence[tuple[str, tuple[MemberLine, ...]]] = ()) -> str:
    """The server after each step, under a line naming the step: an ensemble's members
    (a line each), then the tree.  Either may be missing (no server pane, one server)."""
    trees = dict(history)
    rows = dict(members)
    # Both are kept at each step's end, under the same headings: in the order they came.
    headings = dict.fromkeys(pair[0] for pair in chain.from_iterable(
        zip_longest(history, members)) if pair is not None)
    blocks = []
    for heading in headings:
        parts = [line.text for line in rows.get(heading, ())]
        if heading in trees:
            parts.append(trees[heading].text())
        blocks.append(f"== {heading}\n" + "\n".join(parts) + "\n\n")
    return "".join(blocks)


def render_picture(board: Board, width: int, height: int, kind: str,
                   layout: str = "auto", server_pane: bool | None = None) -> str:
    """The board's final view as an SVG or HTML document, panes placed as the live view
    places them at that size and as tall as their content."""
    import io

    from rich.console import Console

    from zkshell.player.view import TeachingView

    console = Console(file=io.StringIO(), record=True, width=width, height=height,
                      force_terminal=True, color_system="truecolor", legacy_windows=False)
    console.print(TeachingView(board.picture(), fit=True, layout=layout,
                               server_pane=server_pane))
    if kind == "svg":
        return console.export_svg(title=board.scenario.title)
    return console.export_html()


def write_picture(board: Board, path: str, width: int, height: int, kind: str = "svg",
                  layout: str = "auto", server_pane: bool | None = None) -> None:
    with open(path, "w", encoding="utf-8") as picture:
        picture.write(render_picture(board, width, height, kind, layout, server_pane))
