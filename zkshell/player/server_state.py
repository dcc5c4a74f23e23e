"""What the server holds, as a plain value: the znodes a scenario touches, their ephemeral
owners, and every watch on them, with the session that set it (the server pane shows it).

Two sources make a `ServerSnapshot`:

- `EmbeddedSource` reads the in-process embedded server's own tables (`EmbeddedServer.state`):
  znodes, owners and watches of all four kinds, exactly as the server holds them.
- `ZooKeeperSource` reads a real ZooKeeper: a reading session of its own walks the tree
  with getChildren and getData, setting no watch (each znode's Stat names its ephemeral
  owner exactly, so `dump` adds nothing); `wchp` lists the data watches (getData, exists,
  addWatch) by path and session; `cons` says which sessions are connected.  ZooKeeper 3.8
  has no four-letter word for child watches (`wchp`, `wchc` and `wchs` list data watches
  only), so child watches come from the scenario sessions' own registrations (each
  session's `WatchBook`: what zkCli's client holds and re-sends on reconnect), kept only for
  sessions the server has a connection for, since the server drops a connection's watches
  with it.  A server that refuses four-letter words still gives the tree, with a note.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zkshell.player.leftovers import top_znodes
from zkshell.player.scenario import Scenario
from zkshell.server import parse_cons, parse_wchp
from zkshell.tokenizer import split_line

NODE_LIMIT = 60  # znodes a pane can show: beyond it, "… N more"
READ_TIMEOUT = 2.0  # seconds a refresh may take before it gives up (the step loop waits)
# How long a child watch the server has fired is waited for to reach its session (below).
EVENT_WAIT = 1.0

DATA, CHILD, PERSISTENT, RECURSIVE = "data", "child", "persistent", "recursive"
WATCH_KINDS = (DATA, CHILD, PERSISTENT, RECURSIVE)

# A session's watches as its WatchBook lists them (kind -> paths), by session id.
Books = dict[int, dict[str, tuple[str, ...]]]

_quiet = logging.getLogger("zkshell.player.server_state")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class NodeState:
    path: str
    data: bytes | None
    owner: int = 0  # the ephemeral owner's session id; 0 for a persistent znode


@dataclass(frozen=True)
class WatchState:
    path: str
    kind: str  # DATA, CHILD, PERSISTENT or RECURSIVE
    session: int


@dataclass(frozen=True)
class ServerSnapshot:
    nodes: tuple[NodeState, ...] = ()  # depth first, children by name
    watches: frozenset[WatchState] = field(default_factory=frozenset)
    more: int = 0  # znodes past NODE_LIMIT, not listed
    note: str = ""  # what the pane cannot show, and why


def touched_roots(scenario: Scenario) -> list[str]:
    """The top-level znodes the scenario's steps name: those it creates (leftovers'
    rule), then any other path a typed command names (`stat -w /master`), in order."""
    roots = top_znodes(scenario)
    for step in scenario.steps:
        if step.kind != "type":
            continue
        for word in split_line(step.text)[1:]:
            if word.startswith("/") and len(word) > 1:
                top = "/" + word.split("/")[1]
                if top not in ("/", "/zookeeper") and top not in roots:
                    roots.append(top)
    return roots


class Source:
    """Reads the server; `books()` gives the scenario sessions' own watch registrations."""

    def read(self, books: Callable[[], Books]) -> ServerSnapshot:
        raise NotImplementedError

    def close(self) -> None: ...


class EmbeddedSource(Source):
    """The in-process embedded server, read directly: exact for every kind of watch."""

    def __init__(self, server, roots: list[str], limit: int = NODE_LIMIT) -> None:
        self.server = server  # an EmbeddedServer (typed loosely: the player may not load it)
        self.roots = roots
        self.limit = limit

    def read(self, books: Callable[[], Books]) -> ServerSnapshot:
        state = self.server.state(self.roots, self.limit, timeout=READ_TIMEOUT)
        nodes = tuple(NodeState(path, data, owner) for path, data, owner in state.nodes)
        watches = frozenset(WatchState(path, kind, sid) for path, kind, sid in state.watches)
        return ServerSnapshot(nodes, watches, state.more)


CHILD_NOTE = ("child watches: as each session registered them (ZooKeeper's four-letter "
              "words list data watches only)")


def refused(answer: str) -> bool:
    """ZooKeeper's answer to a word outside 4lw.commands.whitelist (or no answer)."""
    return not answer or "is not executed because it is not in the whitelist" in answer


class ZooKeeperSource(Source):
    """A real ZooKeeper at `address` (a chroot in it applies, as for the sessions)."""

    def __init__(self, address: str, roots: list[str], limit: int = NODE_LIMIT,
                 ask: Callable[[str], str] | None = None,
                 client_options: dict | None = None) -> None:
        from zkshell.player.runner import Target

        self.client_options = dict(client_options or {})
        self.target = Target.parse(address)
        self.address = address
        self.roots = roots
        self.limit = limit
        self._ask = ask or self._four_letter_word
        self._client = None
        self._pzxids: dict[str, int] = {}  # each znode's pzxid at the last read
        self._shown: set[tuple[int, str]] = set()  # the child watches it showed

    def _four_letter_word(self, word: str) -> str:
        """The word's answer; an ensemble's members each hold the watches and connections
        of the sessions on them, so their answers together (those that answer)."""
        from zkshell.player.servers import ssl_context_of
        from zkshell.server import four_letter_word

        answers = []
        for host, port in self.target.hosts:
            try:
                answers.append(four_letter_word(host, port, word, timeout=READ_TIMEOUT,
                                                ssl_context=ssl_context_of(
                                                    self.client_options)))
            except OSError:
                if len(self.target.hosts) == 1:
                    raise
        return "".join(answers)

    def _reader(self):
        from zkshell.kazoo_private import new_client

        if self._client is None:
            client = new_client(self.client_options, hosts=self.address,
                                timeout=READ_TIMEOUT * 2, logger=_quiet)
            try:
                client.start(timeout=READ_TIMEOUT)
            except Exception:
                client.close()
                raise
            self._client = client
        return self._client

    def read(self, books: Callable[[], Books]) -> ServerSnapshot:
        nodes, more, pzxids = self._tree()
        try:
            by_path = self._words("wchp", parse_wchp)
            connected = self._words("cons", parse_cons)
        except _Refused as exc:
            return ServerSnapshot(nodes, frozenset(), more,
                                  f"no watches shown: {self.target.host}:{self.target.port} "
                                  f"refuses the four-letter word {exc}")
        held = self._settled(books, pzxids)
        self._pzxids = pzxids
        watches = self._watches(by_path, connected, held)
        self._shown = {(w.session, w.path) for w in watches if w.kind == CHILD}
        return ServerSnapshot(nodes, watches, more, CHILD_NOTE)

    def _settled(self, books: Callable[[], Books], pzxids: dict[str, int]) -> Books:
        """The sessions' books once the child watches the server has fired since the last
        read have reached them.  The server fires a child watch when the znode's children
        change (its pzxid moves) or it goes, and sends the event at once, but the event
        reaches its session a moment later: until then the book still lists the watch.
        One shown last time on a znode that changed since is waited for (EVENT_WAIT at
        most: a session can set it again, as `ls -w` does, but not in the same step)."""
        moved = {path for path in {p for _, p in self._shown}
                 if pzxids.get(path) != self._pzxids.get(path)}
        deadline = time.monotonic() + EVENT_WAIT
        while True:
            held = books()
            waiting = {(sid, path) for sid, book in held.items()
                       for path in book.get(CHILD, ()) if path in moved} & self._shown
            if not waiting or time.monotonic() >= deadline:
                return held
            time.sleep(0.01)

    def _words(self, word: str, parse: Callable[[str], object]):
        try:
            answer = self._ask(word)
        except OSError:
            answer = ""
        if refused(answer):
            raise _Refused(word)
        return parse(answer)

    def _watches(self, by_path: dict[str, list[int]], connected: set[int],
                 books: Books) -> frozenset[WatchState]:
        chroot = self.target.chroot
        watches = set()
        for server_path, sessions in by_path.items():
            path = _client_path(server_path, chroot)
            if path is None:
                continue
            for sid in sessions:
                book = books.get(sid, {})
                # The server keeps addWatch's watches in its data table too: their mode is
                # what the session asked for.
                kind = (RECURSIVE if path in book.get(RECURSIVE, ()) else
                        PERSISTENT if path in book.get(PERSISTENT, ()) else DATA)
                watches.add(WatchState(path, kind, sid))
        for sid, book in books.items():
            if sid in connected:
                watches.update(WatchState(path, CHILD, sid) for path in book.get(CHILD, ()))
        return frozenset(watches)

    def _tree(self) -> tuple[tuple[NodeState, ...], int, dict[str, int]]:
        from kazoo.exceptions import NoNodeError

        client = self._reader()
        nodes: list[NodeState] = []
        more = 0
        pzxids: dict[str, int] = {}
        stack = sorted(set(self.roots), reverse=True)
        while stack:
            path = stack.pop()
            try:
                # Asked together, and each answer waited for a bounded time: a session
                # that lost its server would otherwise queue the requests until it is back.
                got, listed = client.get_async(path), client.get_children_async(path)
                data, stat = got.get(timeout=READ_TIMEOUT)
                children = listed.get(timeout=READ_TIMEOUT)
            except NoNodeError:  # not there (yet), or gone between two reads
                continue
            pzxids[path] = stat.pzxid
            if len(nodes) >= self.limit:
                more += 1
            else:
                nodes.append(NodeState(path, data, stat.ephemeralOwner))
            stack.extend(f"{path.rstrip('/')}/{name}" for name in sorted(children,
                                                                          reverse=True))
        return tuple(nodes), more, pzxids

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.stop()
                client.close()
            except Exception:  # the server is gone: nothing to close politely
                pass


class _Refused(Exception):
    """A four-letter word the server will not answer (the message names it)."""


def _client_path(server_path: str, chroot: str) -> str | None:
    if not chroot:
        return server_path
    if server_path == chroot:
        return "/"
    if server_path.startswith(chroot + "/"):
        return server_path[len(chroot):]
    return None


def source_for(server, address: str, scenario: Scenario,
               client_options: dict | None = None) -> Source:
    """The embedded server's own tables when it runs in this process, else a real
    ZooKeeper's (server: an EmbeddedServer or None), read as the sessions connect to it
    (`client_options`: -client-configuration's TLS and SASL)."""
    roots = touched_roots(scenario)
    if server is not None:
        return EmbeddedSource(server, roots)
    return ZooKeeperSource(address, roots, client_options=client_options)


def books_of(sessions: Iterable) -> Books:
    """Each running scenario session's watches, by its session id (see WatchBook)."""
    books: Books = {}
    for played in sessions:
        session = getattr(getattr(played, "shell", None), "session", None)
        sid = session.session_id if session is not None and session.client else None
        if sid is not None and played.running:
            books[sid] = session.watches.snapshot()
    return books
