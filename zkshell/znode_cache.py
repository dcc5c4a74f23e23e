"""The children of znodes, as completion last saw them, refreshed by a background thread.

Completion runs while the user types and must never wait on the server: it only reads this
cache.  Asking for a path that is missing or stale queues a fetch on the cache's own thread,
which sends a GetChildren on the session's connection and waits a short time for the answer.
When the session is not connected nothing is sent, so a dead server never holds anything up.
A lookup says whether its answer is fresh, so that completion can check what it offered from
a stale answer once `on_update` says the fetched one is in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from zkshell import kazoo_private
from zkshell.session import Session

FETCH_TIMEOUT_S = 1.0   # a busy or dying server: give up on this fetch, try again later
MAX_AGE_S = 3.0         # older children are still shown, and fetched again behind the scenes


class Cached(NamedTuple):
    children: tuple[str, ...] | None  # None: never fetched yet
    fresh: bool  # False: what was last seen, maybe gone by now; a fetch is queued


class ZnodeCache:
    def __init__(self, session: Session, max_age: float = MAX_AGE_S,
                 fetch_timeout: float = FETCH_TIMEOUT_S) -> None:
        self.session = session
        self.max_age = max_age
        self.fetch_timeout = fetch_timeout
        # Called on the cache's thread with the path whose children just arrived.
        self.on_update: Callable[[str], None] = lambda path: None
        self._children: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._client: object = None  # the kazoo client the cached answers came from
        self._wanted: list[str] = []
        self._lock = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    # ---- what the completer uses: never blocks -------------------------------------------
    def lookup(self, path: str) -> Cached:
        """The cached children of `path` and whether they are fresh; stale ones are fetched."""
        with self._lock:
            self._forget_other_sessions()
            entry = self._children.get(path)
            fresh = entry is not None and time.monotonic() - entry[0] <= self.max_age
            if not fresh:
                self._want(path)
            return Cached(entry[1] if entry is not None else None, fresh)

    def children(self, path: str) -> tuple[str, ...] | None:
        """The cached children of `path` (None: not known yet, a fetch is queued)."""
        return self.lookup(path).children

    def want(self, path: str) -> None:
        """Fetch `path`'s children in the background unless they are fresh already."""
        self.children(path)

    def invalidate(self) -> None:
        """Something may have changed (a command ran): refetch what is asked for next."""
        with self._lock:
            self._children = {path: (float("-inf"), kids)
                              for path, (_, kids) in self._children.items()}

    # ---- the background thread ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="zksh-znode-cache",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    def _want(self, path: str) -> None:
        if path not in self._wanted:
            self._wanted.append(path)
            self._lock.notify_all()

    def _forget_other_sessions(self) -> None:
        """`connect` started a new session, maybe with another chroot: start afresh."""
        if self.session.client is not self._client:
            self._client = self.session.client
            self._children.clear()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._wanted and not self._stopped:
                    self._lock.wait()
                if self._stopped:
                    return
                path = self._wanted[0]
            found = self.fetch(path)
            with self._lock:
                if path in self._wanted:
                    self._wanted.remove(path)
                if found is None:
                    continue
                client, kids = found
                if client is not self.session.client:
                    continue
                self._forget_other_sessions()
                self._children[path] = (time.monotonic(), kids)
            self.on_update(path)

    def fetch(self, path: str) -> tuple[object, tuple[str, ...]] | None:
        """GetChildren on the session's connection; None when it cannot answer soon.

        kazoo applies the session's chroot itself.  A missing znode has no children.
        """
        client = self.session.client
        if client is None or self.session.state_name not in ("CONNECTED", "CONNECTEDREADONLY"):
            return None
        try:
            result = client.get_children_async(path)
        except Exception:  # a path kazoo refuses, a client being stopped
            return None
        try:
            return client, tuple(result.get(timeout=self.fetch_timeout))
        except client.handler.timeout_exception:
            kazoo_private.withdraw(client, result)  # not sent yet: never send it
            return None
        except Exception as exc:  # NoNode, a connection lost
            if type(exc).__name__ == "NoNodeError":
                return client, ()
            return None
