"""Walking a subtree as zkCli does, many requests at a time.

`ls -R` and `setAcl -R` visit nodes in ZKUtil.visitSubTreeDFS's order, `deleteall` lists them
in ZKUtil.listSubTreeBFS's.  zkCli asks for one children list at a time; here the lists of
the nodes the walk will reach next are asked for ahead, many per multiRead (or, on a server
without it and always with watches, as pipelined plain getChildren), and the output is the
same, in the same order.  What is asked ahead is bounded, so a huge tree walks in bounded
memory and its first line comes at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from kazoo.protocol.serialization import GetData

from zkshell import format as fmt
from zkshell import zkprotocol
from zkshell.commands.base import Context
from zkshell.errors import CONNECTION_LOSS, NO_NODE, UNIMPLEMENTED, zookeeper_error
from zkshell.paths import join
from zkshell.session import Pending, RequestFailed

BATCH = 200       # children lists per multiRead, or plain requests per bundle
IN_FLIGHT = 8     # bundles sent and not yet answered
LOOKAHEAD = BATCH * IN_FLIGHT  # lists asked for ahead of the walk, answered or not
# Child paths held ahead of the walk, answered or expected (each list asked for counted as
# the widest answered at its depth): a count of lists alone let a tree of wide folders
# (1,000 x 1,000) bring in nearly all its million paths before the first folder was
# printed.  About 20 MiB of paths.
PATHS_AHEAD = 200_000

Children = list[str] | int  # a node's child paths, sorted as zkCli sorts them, or an error


class ChildLister:
    """Sends getChildren for many nodes at once and reads the answers: one multiRead per
    batch when the server has it, else (and with watches, which multiRead cannot set) one
    plain request per node, all written at once."""

    def __init__(self, ctx: Context, watch: bool, before_send: Callable[[], None]) -> None:
        self.session = ctx.session
        self.watcher = ctx.session.watcher if watch else None
        self.before_send = before_send

    def send(self, nodes: list[str]) -> tuple[bool, Pending]:
        self.before_send()  # zkCli's writes (setAcl -R) reach the server before these reads
        session = self.session
        server = [session.server_path(node) for node in nodes]
        if self.watcher is None and session.multi_read is not False:
            body = zkprotocol.multi_read_children_body(server)
            return True, session.send_bundle([(zkprotocol.MULTI_READ, body)])
        packets = [(zkprotocol.GET_CHILDREN, zkprotocol.get_children_body(path, bool(self.watcher)))
                   for path in server]
        watches = [(path, self.watcher) for path in server] if self.watcher else None
        return False, session.send_bundle(packets, watches)

    def receive(self, nodes: list[str], sent: tuple[bool, Pending],
                sort: bool) -> list[list[str] | int]:
        """Each node's children (as paths, in zkCli's sort order when `sort`) or error code."""
        multi, pending = sent
        try:
            replies = self.session.wait(pending)
        except RequestFailed as failed:
            if not (multi and self.session.multi_read is None and failed.code == CONNECTION_LOSS):
                # The bundle got no answer (a lost connection): each node in it failed so,
                # and the walk reports the first it reaches, as zkCli reports the node it
                # was asking about.
                return [failed.code] * len(nodes)
            # A server before 3.6 answers Unimplemented and hangs up; the answer may not
            # make it before the connection goes.
            replies = [(UNIMPLEMENTED, b"", 0)]
        if multi:
            err, buffer, offset = replies[0]
            if err == UNIMPLEMENTED:
                self.session.multi_read = False
                return self._resend_plain(nodes, sort)
            if err:
                return [err] * len(nodes)
            self.session.multi_read = True
            answers = zkprotocol.read_multi_read(buffer, offset)
        else:
            answers = [err or zkprotocol.read_children(buffer, offset)
                       for err, buffer, offset in replies]
        return [_paths(node, answer, sort) for node, answer in zip(nodes, answers)]

    def _resend_plain(self, nodes: list[str], sort: bool) -> list[list[str] | int]:
        # The server hangs up after its Unimplemented; requests sent before that is seen
        # fail with ConnectionLoss, those sent after wait for the next connection.
        answers = self.receive(nodes, self.send(nodes), sort)
        if answers and all(answer == CONNECTION_LOSS for answer in answers):
            answers = self.receive(nodes, self.send(nodes), sort)
        return answers

    def probe_pending(self) -> bool:
        """Whether nothing yet says if the server has multiRead: then one batch must be
        answered before more go out, as a server without it closes the connection."""
        return self.watcher is None and self.session.multi_read is None


def _paths(node: str, answer: list[str] | int, sort: bool) -> list[str] | int:
    if isinstance(answer, int):
        return answer
    names = sorted(answer, key=fmt.java_string_key) if sort else answer
    return [join(node, name) for name in names]


class _Level:
    """The children of one node on the walk's stack; those not visited yet start at `next`."""

    __slots__ = ("paths", "next", "depth")

    def __init__(self, paths: list[str]) -> None:
        self.paths, self.next = paths, 0
        self.depth = _depth(paths[0])  # siblings all


class WalkWrites(Protocol):
    """What a walk whose visits write (setAcl -R) needs of the writer."""

    def send(self) -> None:
        """Send the writes of the visits so far."""

    def reads_unchanged(self) -> bool:
        """Whether a node's children read before its write are what they would be after
        it (the write cannot take away this session's right to read them)."""


class _DepthFirst:
    """visitSubTreeDFSHelper without recursion (a chain of a thousand levels is a valid
    tree), with the children lists of the nodes it reaches next asked for ahead.

    A node is visited when its parent's list is taken.  The lists of nodes not visited yet
    are asked for ahead only while `may_read_unvisited()`; with `recheck_unvisited`, such an
    early answer that is an error is asked for again once the node is visited (after its
    write, as zkCli asks).
    """

    def __init__(self, lister: ChildLister, may_read_unvisited: Callable[[], bool],
                 recheck_unvisited: bool) -> None:
        self.lister = lister
        self.may_read_unvisited = may_read_unvisited
        self.recheck_unvisited = recheck_unvisited
        self.asked_unvisited: set[str] = set()
        self.stack: list[_Level] = []
        self.ready: dict[str, Children] = {}
        self.asked: set[str] = set()
        # Each bundle out: its nodes, the request, the child paths expected of it.
        self.in_flight: deque[tuple[list[str], tuple[bool, Pending], int]] = deque()
        self.more_to_ask = True
        self.held = 0      # child paths in `ready`
        self.expected = 0  # child paths expected of the bundles out
        self.widest = 1    # the longest children list answered so far
        self.widest_at: dict[int, int] = {}  # the same at each depth
        self.answered = 0

    def children(self, node: str) -> Children:
        while True:
            answer = self._answer(node)
            if node in self.asked_unvisited:
                self.asked_unvisited.discard(node)
                if isinstance(answer, int):
                    continue  # asked again, now after the node's write
            return answer

    def _answer(self, node: str) -> Children:
        while node not in self.ready:
            if node not in self.asked:
                self._ask(node)
            elif self.lister.probe_pending() or len(self.in_flight) >= IN_FLIGHT \
                    or not self._top_up():
                self._receive_oldest()
        if len(self.in_flight) < IN_FLIGHT and self.more_to_ask \
                and not self.lister.probe_pending():
            self._top_up()
        self.asked.discard(node)
        answer = self.ready.pop(node)
        if isinstance(answer, list):
            self.held -= len(answer)
        return answer

    def push(self, paths: list[str]) -> None:
        if paths:
            self.stack.append(_Level(paths))
            self.more_to_ask = True

    def _ask(self, node: str) -> None:
        batch = [node]  # whatever the room: the walk needs it now
        expected = self._expect(node)
        if not self.lister.probe_pending():
            more, more_expected = self._upcoming(min(BATCH, self._room()) - 1,
                                                 self._paths_room() - expected)
            batch += more
            expected += more_expected
        self._send(batch, expected)

    def _room(self) -> int:
        """How many more lists may be asked for ahead: LOOKAHEAD lists; and, since until
        the walk has seen some lists the widest seen says little, no more lists out than
        have come back (a slow start, doubling each round trip)."""
        unanswered = len(self.asked) - len(self.ready)  # asked holds the ready ones too
        return min(LOOKAHEAD - len(self.asked), self.answered - unanswered)

    def _paths_room(self) -> int:
        return PATHS_AHEAD - self.held - self.expected

    def _expect(self, node: str) -> int:
        """How many children `node` may have: the widest list answered at its depth (a
        leaf's siblings are leaves, a folder's are folders), else the widest of all."""
        return self._expect_at(_depth(node))

    def _expect_at(self, depth: int) -> int:
        return max(1, self.widest_at.get(depth, self.widest))

    def _top_up(self) -> bool:
        """Ask ahead while there is room; whether anything was sent."""
        sent = False
        while len(self.in_flight) < IN_FLIGHT:
            room = self._room()
            batch, expected = self._upcoming(min(room, BATCH), self._paths_room())
            if not batch:
                self.more_to_ask = room <= 0
                return sent
            self._send(batch, expected)
            sent = True
        return sent

    def _send(self, batch: list[str], expected: int) -> None:
        """Ask for the lists of `batch`, whose children are expected to number `expected`."""
        self.asked.update(batch)
        self.expected += expected
        self.in_flight.append((batch, self.lister.send(batch), expected))

    def _receive_oldest(self) -> None:
        batch, sent, expected = self.in_flight.popleft()
        self.expected -= expected
        for node, answer in zip(batch, self.lister.receive(batch, sent, sort=True)):
            self.ready[node] = answer
            self.answered += 1
            if isinstance(answer, list):
                self.held += len(answer)
                self.widest = max(self.widest, len(answer))
                depth = _depth(node)
                self.widest_at[depth] = max(self.widest_at.get(depth, 0), len(answer))
        self.more_to_ask = True  # what came back may open nodes one level further down

    def _upcoming(self, limit: int, paths_room: int) -> tuple[list[str], int]:
        """Up to `limit` nodes the walk reaches next, not asked for yet, whose expected
        children fit in `paths_room`; and how many children they are expected to have.

        The walk's order, as far as known: the nodes on the stack not descended into yet
        (visited), top first, each followed by its children (not visited) once its list
        has come back.  Written out, not as a generator: it runs over every node asked
        ahead (up to LOOKAHEAD) each time, the walk's busiest loop."""
        found: list[str] = []
        expected = 0
        if limit <= 0:
            return found, expected
        asked, ready = self.asked, self.ready
        unvisited_too = self.may_read_unvisited()
        for level in reversed(self.stack):
            paths = level.paths
            here, below = self._expect_at(level.depth), self._expect_at(level.depth + 1)
            for index in range(level.next, len(paths)):
                path = paths[index]
                if path not in asked:  # so no answer either
                    if expected + here > paths_room:
                        return found, expected
                    found.append(path)
                    expected += here
                    if len(found) >= limit:
                        return found, expected
                    continue
                answer = ready.get(path) if unvisited_too else None
                if not isinstance(answer, list):
                    continue
                for child in answer:
                    if child in asked:
                        continue
                    if expected + below > paths_room:
                        return found, expected
                    found.append(child)
                    expected += below
                    if self.recheck_unvisited:
                        self.asked_unvisited.add(child)
                    if len(found) >= limit:
                        return found, expected
        return found, expected


def _depth(node: str) -> int:
    return node.rstrip("/").count("/")


def walk_subtree(ctx: Context, root: str, watch: bool, visit: Callable[[str], None],
                 writes: WalkWrites | None = None) -> None:
    """Visit the root, then each node's sorted children before descending into each child.

    With `watch`, the root gets a data watch and every node a child watch, as in zkCli.
    With `writes`, for visits that write (setAcl -R): zkCli reads a node's children after
    its write, so the writes so far go out before each batch of getChildren, a node's list
    is read ahead of its visit only while `writes.reads_unchanged()`, and an error read
    ahead is read again after the write (a setACL may be what lets the walk read a node).
    """
    watcher = ctx.session.watcher if watch else None
    ctx.call(GetData(ctx.server_path(root), watcher), root)
    if watch:
        ctx.session.watches.add("data", root)
    visit(root)
    if writes is None:
        walk = _DepthFirst(ChildLister(ctx, watch, lambda: None), lambda: True, False)
    else:
        walk = _DepthFirst(ChildLister(ctx, watch, writes.send), writes.reads_unchanged, True)
    walk.push([root])
    while walk.stack:
        ctx.session.interrupt.check()  # the answers asked ahead may print long without a wait
        level = walk.stack[-1]
        if level.next == len(level.paths):
            walk.stack.pop()
            continue
        node = level.paths[level.next]
        level.next += 1
        try:
            answer = walk.children(node)
        except RequestFailed as failed:  # no connection to send on
            raise zookeeper_error(failed.code, node) from None
        if isinstance(answer, int):
            if answer == NO_NODE:
                continue  # deleted while we walked: zkCli skips it too
            raise zookeeper_error(answer, node)
        if watch:
            ctx.session.watches.add("child", node)
        for path in answer:
            visit(path)
        walk.push(answer)


def subtree_breadth_first(ctx: Context, root: str) -> list[str]:
    """ZKUtil.listSubTreeBFS: the root, then each node's children in the server's order,
    level by level; a node that cannot be listed fails the whole listing."""
    lister = ChildLister(ctx, False, lambda: None)
    tree = [root]
    sent_up_to = 0
    in_flight: deque[tuple[list[str], tuple[bool, Pending]]] = deque()
    while in_flight or sent_up_to < len(tree):
        while sent_up_to < len(tree) and len(in_flight) < IN_FLIGHT \
                and not (in_flight and lister.probe_pending()):
            batch = tree[sent_up_to:sent_up_to + BATCH]
            sent_up_to += len(batch)
            try:
                in_flight.append((batch, lister.send(batch)))
            except RequestFailed as failed:  # no connection to send on
                raise zookeeper_error(failed.code, batch[0]) from None
        batch, sent = in_flight.popleft()
        for node, answer in zip(batch, lister.receive(batch, sent, sort=False)):
            if isinstance(answer, int):
                raise zookeeper_error(answer, node)
            tree.extend(answer)
    return tree


__all__ = ["RequestFailed", "WalkWrites", "subtree_breadth_first", "walk_subtree"]
