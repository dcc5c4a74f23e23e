"""The watches a session holds: set again after a reconnect, and removed by removewatches
with the outcome ZooKeeper's Java client decides."""

from __future__ import annotations

import threading

from zkshell.errors import NO_WATCHER, RequestFailed

_ALL_KINDS = ("child", "data", "exist", "persistent", "recursive")
_REMOVED_EVENTS = {"child": "ChildWatchRemoved", "data": "DataWatchRemoved",
                   "exist": "DataWatchRemoved", "persistent": "PersistentWatchRemoved",
                   "recursive": "PersistentWatchRemoved"}


class WatchBook:
    """The one-time and persistent watches this session holds, kept to re-register them.

    kazoo drops all watches on a disconnect; ZooKeeper's own clients re-send them
    (SetWatches) when the session reconnects, and so do we, so no event is lost.
    """

    def __init__(self) -> None:
        self.data: set[str] = set()
        self.exist: set[str] = set()
        self.child: set[str] = set()
        self.persistent: set[str] = set()
        self.recursive: set[str] = set()
        self._lock = threading.Lock()

    def add(self, kind: str, path: str) -> None:
        with self._lock:
            getattr(self, kind).add(path)

    def fired(self, event_type: str, path: str) -> None:
        with self._lock:
            if event_type in ("NodeCreated", "NodeDataChanged", "DataWatchRemoved"):
                self.data.discard(path)
                self.exist.discard(path)
            elif event_type == "NodeDeleted":
                self.data.discard(path)
                self.exist.discard(path)
                self.child.discard(path)
            elif event_type in ("NodeChildrenChanged", "ChildWatchRemoved"):
                self.child.discard(path)
            elif event_type == "PersistentWatchRemoved":
                self.persistent.discard(path)
                self.recursive.discard(path)

    def deregister(self, path: str, watcher_type: str, local: bool, rc: int) -> list[str]:
        """The client's half of removewatches, once the server has answered with `rc`.

        ZooKeeper's Java client (ZKWatchManager.removeWatcher) decides the outcome itself,
        and zkCli shows that: the path must hold a watch the type covers (`c` and `d` count
        persistent watches too), but `c` only removes child watches and `d` only data and
        exist watches, so either one on a persistent watch ends in NoWatcher although the
        server removed its watch.  A server error wins unless `local` (-l) is set.  Returns
        the `...WatchRemoved` event types to deliver; raises RequestFailed.
        """
        checked = {"c": ("child", "persistent", "recursive"),
                   "d": ("data", "exist", "persistent", "recursive")}.get(
                       watcher_type, _ALL_KINDS)
        removed_from = {"c": ("child",), "d": ("data", "exist")}.get(watcher_type, _ALL_KINDS)
        with self._lock:
            if not any(path in getattr(self, kind) for kind in checked):
                raise RequestFailed(NO_WATCHER)
            events: list[str] = []
            for kind in removed_from:
                if rc != 0 and not local:
                    raise RequestFailed(rc)
                paths = getattr(self, kind)
                if path in paths:
                    paths.discard(path)
                    if _REMOVED_EVENTS[kind] not in events:
                        events.append(_REMOVED_EVENTS[kind])
        if not events:
            raise RequestFailed(NO_WATCHER)
        return events

    def snapshot(self) -> dict[str, tuple[str, ...]]:
        with self._lock:
            return {kind: tuple(sorted(getattr(self, kind)))
                    for kind in ("data", "exist", "child", "persistent", "recursive")}

    def count(self) -> int:
        return sum(len(paths) for paths in self.snapshot().values())

    def clear(self) -> None:
        with self._lock:
            for kind in ("data", "exist", "child", "persistent", "recursive"):
                getattr(self, kind).clear()
