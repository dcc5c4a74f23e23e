"""The embedded server: a ZooKeeper 3.8 wire-compatible, single-node, in-memory server.

`ServerCore` holds the state (tree, sessions, watches, connections) and runs on one asyncio
event loop, so every request is applied alone, in arrival order.  `EmbeddedServer` gives that
loop a thread of its own for use from ordinary code and tests:

    with EmbeddedServer() as server:
        client = KazooClient(server.address)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

from zkshell.embedded.connection import Connection
from zkshell.embedded.four_letter import DEFAULT_TRACE_MASK
from zkshell.embedded.processor import RequestProcessor
from zkshell.embedded.sessions import ExpiryBuckets, SessionTracker, monotonic_ms
from zkshell.embedded.stats import ServerStats
from zkshell.embedded.tree import DataTree, owner_kind
from zkshell.embedded.watches import STANDARD, WatchManager

CONTAINER_CHECK_INTERVAL_MS = 60_000  # znode.container.checkIntervalMs
SESSIONLESS_TIMEOUT_MS = 10_000  # zookeeper.nio.sessionlessCnxnTimeout
MAX_CLIENT_CNXNS = 60  # maxClientCnxns: ZooKeeper's default, connections from one address


class StateDump(NamedTuple):
    """What a view of the server shows (zksh play's server pane), read in one go.

    `nodes`: (path, data, ephemeral owner or 0) depth first, children by name, at most the
    limit asked for; `more`: how many more there were.  `watches`: (path, kind, session
    id), kind "data" (getData, exists), "child" (getChildren), "persistent" or "recursive"
    (addWatch)."""

    nodes: list[tuple[str, bytes | None, int]]
    more: int
    watches: list[tuple[str, str, int]]


class ServerCore:
    def __init__(self, tick_time_ms: int, min_session_timeout_ms: int | None = None,
                 max_session_timeout_ms: int | None = None,
                 clock: Callable[[], int] = monotonic_ms,
                 super_digest: str | None = None,
                 sessionless_timeout_ms: int = SESSIONLESS_TIMEOUT_MS,
                 max_client_cnxns: int = MAX_CLIENT_CNXNS) -> None:
        self.sessionless_timeout_ms = sessionless_timeout_ms
        self.max_client_cnxns = max_client_cnxns  # 0: no limit
        self.tree = DataTree()
        self.sessions = SessionTracker(tick_time_ms, min_session_timeout_ms,
                                       max_session_timeout_ms, clock)
        self.stats = ServerStats(started_ms=time.time_ns() // 1_000_000)
        self.watches = WatchManager(told=self.stats.watchers_told)
        self.processor = RequestProcessor(self.tree, self.sessions, self.watches,
                                          super_digest=super_digest,
                                          namespaces=self.stats.namespaces)
        self.connections: set[Connection] = set()  # those with a session
        # Every open connection, in accept order: those still in their handshake and
        # the one asking a four-letter word too, as ServerCnxnFactory.getConnections.
        self.accepted: dict[Connection, None] = {}
        self.connection_buckets = ExpiryBuckets()  # NIOServerCnxnFactory's cnxnExpiryQueue
        self.trace_mask = DEFAULT_TRACE_MASK  # gtmk and stmk: ZooTrace's, read by nothing

    def admits(self, peer_host: str) -> bool:
        """NIOServerCnxnFactory's maxClientCnxns: one more connection from `peer_host`
        only while fewer than the limit are open from it (handshakes and four-letter words
        count); over it the connection is closed as soon as it is accepted."""
        if not self.max_client_cnxns:
            return True
        open_from = sum(1 for c in self.accepted if c.peer[0] == peer_host)
        return open_from < self.max_client_cnxns

    def accept(self, connection: Connection) -> None:
        self.accepted[connection] = None

    def forget(self, connection: Connection) -> None:
        self.accepted.pop(connection, None)

    def register(self, connection: Connection) -> None:
        self.connections.add(connection)

    def unregister(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.watches.remove_watcher(connection)

    def drop_connections(self, session_id: int, keep: Connection | None = None) -> None:
        """Close the session's connections (a reconnect elsewhere, a close, an expiry)."""
        for connection in [c for c in self.connections
                           if c.session_id == session_id and c is not keep]:
            connection.close()

    def state(self, roots: Iterable[str], limit: int) -> StateDump:
        """The znodes under `roots` and every watch, as the server holds them now."""
        nodes: list[tuple[str, bytes | None, int]] = []
        more = 0
        stack = [root for root in sorted(set(roots), reverse=True) if self.tree.get(root)]
        while stack:
            path = stack.pop()
            node = self.tree.nodes[path]
            if len(nodes) >= limit:
                more += 1
            else:
                owner = node.ephemeral_owner
                nodes.append((path, node.data, owner if owner_kind(owner) == "session" else 0))
            prefix = path.rstrip("/") + "/"
            stack.extend(prefix + name for name in sorted(node.child_names(), reverse=True))
        watches = set()
        for table, standard in ((self.watches.data, "data"), (self.watches.child, "child")):
            for path, modes in table.by_path.items():
                for watcher, mode in modes.items():
                    kind = standard if mode == STANDARD else mode
                    watches.add((path, kind, watcher.session_id))
        return StateDump(nodes, more, sorted(watches))

    def expire_sessions(self) -> None:
        """SessionTrackerImpl.run: each expired session is closed as if it had asked."""
        for session in self.sessions.expired():
            self.stats.sessions_expired += 1
            self.processor.close_session(session.id)
            self.drop_connections(session.id)


class EmbeddedServer:
    """Start with `start()` (or `with`), stop with `stop()`; `address` is "host:port".

    `max_client_cnxns`: how many connections one client address may hold open, as
    ZooKeeper's maxClientCnxns (60 by default; 0 for no limit).

    `super_digest` ("super:" + base64 of sha1("super:password"), see
    `zkshell.embedded.acl.digest_id`) makes `addauth digest super:password` pass every ACL,
    as ZooKeeper's zookeeper.DigestAuthenticationProvider.superDigest does.

    Stopping closes every connection and the port; starting again serves the same tree on
    the same port, and sessions that have not expired meanwhile carry on: a server restart.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tick_time_ms: int = 2000,
                 min_session_timeout_ms: int | None = None,
                 max_session_timeout_ms: int | None = None,
                 container_check_interval_ms: int = CONTAINER_CHECK_INTERVAL_MS,
                 super_digest: str | None = None,
                 max_client_cnxns: int = MAX_CLIENT_CNXNS) -> None:
        self.host = host
        self.port = port
        self.tick_time_ms = tick_time_ms
        self.container_check_interval_ms = container_check_interval_ms
        self.core = ServerCore(tick_time_ms, min_session_timeout_ms, max_session_timeout_ms,
                               super_digest=super_digest, max_client_cnxns=max_client_cnxns)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def min_session_timeout_ms(self) -> int:
        return self.core.sessions.min_timeout_ms

    @property
    def max_session_timeout_ms(self) -> int:
        return self.core.sessions.max_timeout_ms

    def start(self) -> EmbeddedServer:
        """Bind and serve on a thread of its own; raises OSError if the port is taken."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure),
                                        name=f"zksh-embedded-server-{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket, and end the thread."""
        thread, self._thread = self._thread, None
        if thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        thread.join()

    def state(self, roots: Iterable[str], limit: int = 1000,
              timeout: float = 2.0) -> StateDump:
        """`ServerCore.state`, read on the server's own loop (between two requests, never
        half-way through one), from any thread; TimeoutError if the loop does not get to it
        within `timeout` seconds."""
        loop, roots = self._loop, list(roots)
        if self._thread is None or loop is None or loop.is_closed():
            return self.core.state(roots, limit)  # stopped: nothing changes it meanwhile
        answer: concurrent.futures.Future[StateDump] = concurrent.futures.Future()

        def read() -> None:
            try:
                answer.set_result(self.core.state(roots, limit))
            except BaseException as exc:  # handed to the caller, not lost on the loop
                answer.set_exception(exc)
        try:
            loop.call_soon_threadsafe(read)
        except RuntimeError:  # the loop closed meanwhile: the server stopped
            return self.core.state(roots, limit)
        return answer.result(timeout)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as exc:  # handed to start() when it happens while binding
            if not ready.is_set():
                failure.append(exc)
                ready.set()
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        listener = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = listener.sockets[0].getsockname()[1]
        # a (re)started server counts from zero, as a new ZooKeeper process does
        self.core.stats.reset(started_ms=time.time_ns() // 1_000_000)
        ready.set()
        timers = [asyncio.ensure_future(self._every(self._session_check_interval,
                                                    self.core.expire_sessions)),
                  asyncio.ensure_future(self._every(
                      lambda: self.container_check_interval_ms / 1000,
                      self.core.processor.delete_expired_containers))]
        async with listener:
            await self._stopping.wait()
            for timer in timers:
                timer.cancel()
            for connection in list(self.core.connections):
                connection.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _session_check_interval(self) -> float:
        """Wake at the next tick bucket a session expires in (ExpiryQueue), at most a tick."""
        next_expiry = self.core.sessions.next_expiry_ms()
        now = self.core.sessions.clock()
        if next_expiry is None:
            return self.tick_time_ms / 1000
        return max(0.0, min(next_expiry - now, self.tick_time_ms)) / 1000

    @staticmethod
    async def _every(interval: Callable[[], float], action: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(interval())
            action()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        if not self.core.admits(str(peer[0])):
            writer.close()
            return
        await Connection(self.core, reader, writer).serve()
