"""The server pane's lines, from a `ServerSnapshot`: pure, no rich (the view styles them).

    + /workers <child m2>
    + └─ worker1 [eph worker1] "w1.example.com"
    ~ /master [eph m1: orphan] <data m2> "m1.example.com"

The znodes as a tree (`├─`/`└─`), `[eph m1]` on an ephemeral (by the session's name in the
scenario, never its hex id, which only an unknown session gets), `: orphan` on one whose
process crashed (it stays until the server expires its session), `<kind sessions>` for the
watches on a znode (kind: data, child, persistent, recursive), then its short data, cut
first when the pane is narrow.  The first column says what changed since
the previous snapshot: `+` added, `~` changed (data, owner or watches), `-` gone (shown
once, for the step that removed it).  Plain ASCII marks, so every export shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zkshell.player.server_state import WATCH_KINDS, NodeState, ServerSnapshot, WatchState

ADDED, CHANGED, REMOVED = "+", "~", "-"
DATA_WIDTH = 24  # characters of a znode's data shown, then "…"

# What each part of a line is, for the view's styles.
MARK, TREE, NAME, SEQUENCE, DATA, OWNER, ORPHAN, WATCH, NOTE = (
    "mark", "tree", "name", "sequence", "data", "owner", "orphan", "watch", "note")

_CARETS = {code: f"^{chr(code + 64)}" for code in range(32)}
_CARETS[127] = "^?"


@dataclass(frozen=True)
class PaneLine:
    parts: tuple[tuple[str, str], ...]  # (text, role)
    change: str = ""  # ADDED, CHANGED, REMOVED or ""

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


@dataclass(frozen=True)
class ServerView:
    """What the server pane shows at one moment."""

    lines: tuple[PaneLine, ...]
    note: str = ""

    def text(self) -> str:
        """The pane as plain text (server.txt, tests)."""
        lines = [line.text for line in self.lines]
        return "\n".join(lines + ([f"({self.note})"] if self.note else []))


def short_data(data: bytes | None) -> str:
    """A znode's data as the pane quotes it: text, control characters as ^X, cut short."""
    if not data:
        return ""
    text = data.decode("utf-8", errors="replace").translate(_CARETS)
    return text if len(text) <= DATA_WIDTH else text[:DATA_WIDTH - 1] + "…"


def who(session: int, labels: Mapping[int, str]) -> str:
    """A session by its name in the scenario; one the player does not know by its id."""
    return labels.get(session) or f"0x{session & ((1 << 64) - 1):x}"


def server_view(snapshot: ServerSnapshot, previous: ServerSnapshot | None,
                labels: Mapping[int, str], orphans: set[int] | frozenset[int],
                were_orphans: set[int] | frozenset[int] | None = None) -> ServerView:
    """The pane for `snapshot`, marking what changed since `previous` (None: nothing);
    an ephemeral whose owner became an orphan since (`were_orphans`: the orphans then)
    counts as changed."""
    before = previous or snapshot
    were_orphans = orphans if were_orphans is None else were_orphans
    nodes = {node.path: node for node in snapshot.nodes}
    old_nodes = {node.path: node for node in before.nodes}
    watches = _by_path(snapshot.watches)
    old_watches = _by_path(before.watches)
    paths = set(nodes) | set(old_nodes) | set(watches) | set(old_watches)
    lines: list[PaneLine] = []

    def line(path: str, prefix: str, top: bool) -> PaneLine:
        node = nodes.get(path)
        here = watches.get(path, set())
        if node is None and not here:
            change = REMOVED
            node, here = old_nodes.get(path), old_watches.get(path, set())
        elif node is not None and path not in old_nodes:
            change = ADDED
        elif (node != old_nodes.get(path) or here != old_watches.get(path, set())
              or (node is not None and (node.owner in orphans) != (node.owner in were_orphans))):
            change = CHANGED
        else:
            change = ""
        parts = [(f"{change or ' '} ", MARK), (prefix, TREE)]
        parts += _name(path if top else path.rsplit("/", 1)[1])
        # Who owns and who watches before the data: a narrow pane cuts the data first.
        if node is None:
            parts.append((" (no znode)", NOTE))
        else:
            parts += _owner(node, labels, orphans)
        parts += _watch_tags(here, labels)
        data = short_data(node.data) if node is not None else ""
        if data:
            parts.append((f' "{data}"', DATA))
        return PaneLine(tuple(parts), change)

    children: dict[str, list[str]] = {}
    tops = []
    for path in sorted(paths, key=lambda p: p.split("/")):
        parent = path.rsplit("/", 1)[0] or "/"
        if parent in paths and parent != path:
            children.setdefault(parent, []).append(path)
        else:
            tops.append(path)

    def walk(path: str, lead: str, branch: str, top: bool) -> None:
        lines.append(line(path, lead + branch, top))
        kids = children.get(path, [])
        below = lead + ("" if top else ("   " if branch == "└─ " else "│  "))
        for number, kid in enumerate(kids):
            walk(kid, below, "└─ " if number == len(kids) - 1 else "├─ ", False)

    for path in tops:
        walk(path, "", "", True)
    if snapshot.more:
        lines.append(PaneLine(((f"  … {snapshot.more} more znodes", NOTE),)))
    if not lines:
        lines.append(PaneLine((("  (none of the scenario's znodes yet)", NOTE),)))
    return ServerView(tuple(lines), snapshot.note)


def _by_path(watches: frozenset[WatchState]) -> dict[str, set[tuple[str, int]]]:
    found: dict[str, set[tuple[str, int]]] = {}
    for watch in watches:
        found.setdefault(watch.path, set()).add((watch.kind, watch.session))
    return found


def _name(name: str) -> list[tuple[str, str]]:
    """A sequential znode's ten-digit counter apart, so the eye finds it."""
    if len(name) > 10 and name[-10:].isdigit():
        return [(name[:-10], NAME), (name[-10:], SEQUENCE)]
    return [(name, NAME)]


def _owner(node: NodeState, labels: Mapping[int, str],
           orphans: set[int] | frozenset[int]) -> list[tuple[str, str]]:
    parts = []
    if node.owner:
        if node.owner in orphans:
            parts.append((f" [eph {who(node.owner, labels)}: orphan]", ORPHAN))
        else:
            parts.append((f" [eph {who(node.owner, labels)}]", OWNER))
    return parts


def _watch_tags(watches: set[tuple[str, int]],
                labels: Mapping[int, str]) -> list[tuple[str, str]]:
    parts = []
    for kind in WATCH_KINDS:
        names = sorted(who(sid, labels) for k, sid in watches if k == kind)
        if names:
            parts.append((f" <{kind} {','.join(names)}>", WATCH))
    return parts
