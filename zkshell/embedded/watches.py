"""Watches: who is told what when the tree changes (WatchManager and DataTree).

Data watches (set by getData and exists) fire NodeCreated, NodeDataChanged and NodeDeleted
on their path; child watches (getChildren) fire NodeChildrenChanged on their path and
NodeDeleted when the node itself goes, but a watcher told NodeDeleted by its data watch is not
told again by its child watch.  Standard watches fire once; persistent ones (addWatch mode 0)
stay; recursive ones (mode 1) also fire for every path below theirs, but never
NodeChildrenChanged.  A watcher is anything hashable with a `notify(event_type, path)`
method; in the server it is a connection, so a client's watches end with its connection
and come back through setWatches on reconnect.
"""

from __future__ import annotations

from typing import Protocol

from zkshell.embedded.codes import EventType
from zkshell.embedded.stats import Latency
from zkshell.embedded.tree import Change, DataTree

STANDARD, PERSISTENT, RECURSIVE = "standard", "persistent", "recursive"


class Watcher(Protocol):
    def notify(self, event_type: EventType, path: str) -> None: ...


def _ancestors(path: str) -> list[str]:
    """The parents of `path`, nearest first, up to "/"."""
    found = []
    while path != "/":
        path = path[:path.rfind("/")] or "/"
        found.append(path)
    return found


class _Table:
    """One WatchManager: path -> {watcher: mode}, in the order the watches were set."""

    def __init__(self) -> None:
        self.by_path: dict[str, dict[Watcher, str]] = {}

    def add(self, path: str, watcher: Watcher, mode: str = STANDARD) -> None:
        """WatchManager.addWatch: the mode set last wins, so a getData watch turns a
        persistent watch on the same path back into a one-shot one, as in ZooKeeper."""
        self.by_path.setdefault(path, {})[watcher] = mode

    def has(self, path: str, watcher: Watcher) -> bool:
        return watcher in self.by_path.get(path, {})

    def any_on(self, path: str) -> bool:
        """WatchManager.containsWatcher as 3.8 has it: true when anyone watches `path`."""
        return bool(self.by_path.get(path))

    def trigger(self, path: str, event: EventType) -> list[Watcher]:
        """WatchManager.triggerWatch: the watchers to tell, one-shot ones removed."""
        told: dict[Watcher, None] = {}
        modes = self.by_path.get(path, {})
        for watcher, mode in list(modes.items()):
            if mode == RECURSIVE:
                if event != EventType.NODE_CHILDREN_CHANGED:
                    told[watcher] = None
                continue
            told[watcher] = None
            if mode == STANDARD:
                del modes[watcher]
        for ancestor in _ancestors(path):
            for watcher, mode in self.by_path.get(ancestor, {}).items():
                if mode == RECURSIVE and event != EventType.NODE_CHILDREN_CHANGED:
                    told[watcher] = None
        if not modes:
            self.by_path.pop(path, None)
        return list(told)

    def remove(self, path: str, watcher: Watcher) -> bool:
        modes = self.by_path.get(path, {})
        found = modes.pop(watcher, None) is not None
        if not modes:
            self.by_path.pop(path, None)
        return found

    def remove_watcher(self, watcher: Watcher) -> None:
        for path in list(self.by_path):
            self.remove(path, watcher)


class WatchManager:
    def __init__(self, told: dict[int, Latency] | None = None) -> None:
        self.data = _Table()
        self.child = _Table()
        # per event type, how many watchers each table's trigger told (for `mntr`)
        self.told = told if told is not None else {}

    def _count(self, event: EventType, watchers: list[Watcher]) -> None:
        """ZooKeeper counts a trigger that found watchers, per table."""
        if watchers:
            self.told.setdefault(event, Latency()).add(len(watchers))

    def watch_data(self, path: str, watcher: Watcher) -> None:
        self.data.add(path, watcher)

    def watch_children(self, path: str, watcher: Watcher) -> None:
        self.child.add(path, watcher)

    def add_watch(self, path: str, watcher: Watcher, recursive: bool) -> None:
        """addWatch (DataTree 3.8): both tables, in either mode; a recursive watch in the
        child table never fires NodeChildrenChanged, and its NodeDeleted is the one the data
        table already gave."""
        mode = RECURSIVE if recursive else PERSISTENT
        self.data.add(path, watcher, mode)
        self.child.add(path, watcher, mode)

    def deliver(self, changes: list[Change]) -> None:
        """Tell every watcher about a committed transaction's changes, in order."""
        for change in changes:
            if change.event == EventType.NODE_CHILDREN_CHANGED:
                told = self.child.trigger(change.path, change.event)
                self._count(change.event, told)
            elif change.event == EventType.NODE_DELETED:
                told = self.data.trigger(change.path, change.event)
                self._count(change.event, told)
                also = self.child.trigger(change.path, change.event)
                self._count(change.event, also)
                told += [w for w in also if w not in told]
            else:
                told = self.data.trigger(change.path, change.event)
                self._count(change.event, told)
            for watcher in told:
                watcher.notify(change.event, change.path)

    def set_watches(self, tree: DataTree, relative_zxid: int, data: list[str],
                    exist: list[str], child: list[str], watcher: Watcher,
                    persistent: list[str] = (), recursive: list[str] = ()) -> None:
        """DataTree.setWatches: re-set a reconnecting client's watches, or fire at once what
        it missed since `relative_zxid` (the last zxid it saw)."""
        for path in data:
            node = tree.get(path)
            if node is None:
                watcher.notify(EventType.NODE_DELETED, path)
            elif node.mzxid > relative_zxid:
                watcher.notify(EventType.NODE_DATA_CHANGED, path)
            else:
                self.data.add(path, watcher)
        for path in exist:
            if tree.get(path) is not None:
                watcher.notify(EventType.NODE_CREATED, path)
            else:
                self.data.add(path, watcher)
        for path in child:
            node = tree.get(path)
            if node is None:
                watcher.notify(EventType.NODE_DELETED, path)
            elif node.pzxid > relative_zxid:
                watcher.notify(EventType.NODE_CHILDREN_CHANGED, path)
            else:
                self.child.add(path, watcher)
        for path in persistent:
            self.add_watch(path, watcher, recursive=False)
        for path in recursive:
            self.add_watch(path, watcher, recursive=True)

    def remove_watcher(self, watcher: Watcher) -> None:
        """The connection closed: its watches go with it (ZKDatabase.removeCnxn)."""
        self.data.remove_watcher(watcher)
        self.child.remove_watcher(watcher)
