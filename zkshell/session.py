"""One ZooKeeper session as zkCli keeps it: a kazoo client, its zkCli state, and its events.

Every event (watch notifications and connection changes) becomes a `SessionEvent` handed to
the session's sink on kazoo's connection thread, in the order the server sent it; the front
end decides where it is shown.  Requests go through `call`, which never waits forever: while
the client is connecting, a request fails with ConnectionLoss as soon as a connection attempt
fails, as zkCli's does.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionDropped
from kazoo.protocol.states import KeeperState
from kazoo.retry import KazooRetry

from zkshell import kazoo_private, zkprotocol
from zkshell.config import DEFAULT_SERVER, DEFAULT_TIMEOUT_MS
from zkshell.connect_string import check_connect_string, encodable_host
from zkshell.errors import (
    AUTH_FAILED,
    CONNECTION_LOSS,
    SESSION_EXPIRED,
    NotConnected,
    RequestFailed,
    error_code,
)
from zkshell.interrupt import SLICE_S, InterruptRequest
from zkshell.watch_book import WatchBook

# kazoo logs warnings on every reconnect; a shell must never show them.
_kazoo_log = logging.getLogger("kazoo")
_kazoo_log.addHandler(logging.NullHandler())
_kazoo_log.propagate = False

# zkCli prints ZooKeeper.States names in its prompt.
_STATE_NAMES = {
    KeeperState.CONNECTING: "CONNECTING",
    KeeperState.CONNECTED: "CONNECTED",
    KeeperState.CONNECTED_RO: "CONNECTEDREADONLY",
    KeeperState.AUTH_FAILED: "AUTH_FAILED",
    KeeperState.CLOSED: "CLOSED",
    KeeperState.EXPIRED_SESSION: "CLOSED",
}
_ALIVE = (KeeperState.CONNECTING, KeeperState.CONNECTED, KeeperState.CONNECTED_RO)
_CONNECTED = (KeeperState.CONNECTED, KeeperState.CONNECTED_RO)


@dataclass(frozen=True)
class Pending:
    """A bundle of requests sent and not yet answered (Session.send_bundle)."""

    client: KazooClient
    result: object


@dataclass(frozen=True)
class SessionEvent:
    """One WatchedEvent, with zkCli's names: `state:SyncConnected type:NodeDeleted path:/x`."""

    state: str
    type: str
    path: str | None


EventSink = Callable[[SessionEvent], None]


@dataclass(frozen=True)
class ConnectFailure:
    """Why the latest attempt to connect failed, for whoever wonders why it says CONNECTING.

    `kind`: "refused"; "silent" (no answer in time); "closed" (the server ended the
    connection); "unresolved" (no server name resolved: `server` names the hosts); "other"
    (`detail` says what).  `server`: the host:port that was tried.
    """

    kind: str
    server: str
    detail: str = ""

    @property
    def words(self) -> str:
        """What the attempt met, in a few words: `connection refused`."""
        return _FAILURE_WORDS.get(self.kind, self.detail)


_FAILURE_WORDS = {
    "refused": "connection refused",
    "silent": "no answer",
    "closed": "connection closed by the server",
    "unresolved": "unknown host",
}


def _connect_failure(host: str, port: int, error: BaseException,
                     timeout_error: type) -> ConnectFailure | None:
    """What an attempt's error means; None for a server that answered (a refused login, an
    expired session): the session's state says those."""
    server = f"{host}:{port}"
    if isinstance(error, ConnectionRefusedError):
        return ConnectFailure("refused", server)
    if isinstance(error, (socket.timeout, TimeoutError, timeout_error)):
        return ConnectFailure("silent", server)
    if isinstance(error, (ConnectionDropped, ConnectionResetError, BrokenPipeError)):
        # ConnectionDropped: kazoo read the end of the stream; the others: the server's
        # close reached us as a reset, or before kazoo's connect request went out.
        return ConnectFailure("closed", server)
    if isinstance(error, OSError):
        return ConnectFailure("other", server, error.strerror or str(error))
    return None


def _ignore_event(event: object) -> None:
    """The watcher object kazoo needs in order to set a watch; events arrive via the hook."""


class Session:
    """A zkCli-like session: `connect`, `close`, `call`, and a zkCli state for the prompt."""

    def __init__(self, server: str = DEFAULT_SERVER, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 read_only: bool = False, sink: EventSink | None = None,
                 client_options: dict[str, object] | None = None,
                 interrupt: InterruptRequest | None = None) -> None:
        self.server = server
        # KazooClient's TLS arguments, from -client-configuration (client_config.py).
        self.client_options = dict(client_options or {})
        self.timeout_ms = timeout_ms
        self.read_only = read_only
        self.sink: EventSink = sink or (lambda event: None)
        self.watches = WatchBook()
        self.client: KazooClient | None = None
        self._changed = threading.Condition()
        self._failed_attempts = 0  # passes over the server list that never connected
        self._failed_connects = 0  # attempts to connect to one server that failed
        self._connections = 0
        # Why the latest attempt failed, until a connection is made.
        self.connect_failure: ConnectFailure | None = None
        # The session timeout the server granted: after it, a session left open expires.
        self.granted_timeout_ms: int | None = None
        # Set when the server ended the session: "expired" or "auth_failed" (zkCli's state
        # is then CLOSED or AUTH_FAILED, and kazoo, left alone, would start another one).
        self._ended: str | None = None
        self._closing = False
        self._was_connected = False  # a later CONNECTED is a reconnect: restore the watches
        self._host_names: list[str] = []  # the server list's names, as the user gave them
        # Whether the server answers multiRead (3.6+): None until a walk has tried it.
        self.multi_read: bool | None = None
        # A stop asked for the running command: taken by the waits below (interrupt.py).
        # `zksh play` passes its own, which stops the whole run.
        self.interrupt = interrupt if interrupt is not None else InterruptRequest()

    # ---- lifecycle -------------------------------------------------------------------
    def connect(self, server: str | None = None) -> None:
        """Start a new session (closing the current one first), without waiting for it.

        A server string kazoo cannot use raises InvalidConnectString and leaves the current
        session as it is."""
        if server is not None:
            check_connect_string(server)
        if self.client is not None:
            self.close()
        if server is not None:
            self.server = server
        self._ended = None
        self._closing = False
        self._was_connected = False
        self.connect_failure = None
        self.granted_timeout_ms = None
        self.watches.clear()
        self.multi_read = None
        self.client = self._new_client()
        self.client.start_async()

    def _new_client(self) -> KazooClient:
        # With TLS, the SSLContext client_config.py built (protocol versions, suites):
        # kazoo 2.11 builds its own from use_ssl, ca, certfile..., which cannot narrow them.
        client = kazoo_private.new_client(
            self.client_options,
            hosts=self.server,
            timeout=self.timeout_ms / 1000.0,
            read_only=self.read_only,
            # Reconnect promptly after an outage, as zkCli does (it sleeps under 1 s).
            connection_retry=KazooRetry(max_tries=-1, delay=0.1, backoff=1.5,
                                        max_delay=1.0, max_jitter=0.2),
            logger=_kazoo_log,
        )
        # Names Python cannot encode are left out, so they fail as unresolved names do
        # (kazoo skips those) rather than killing kazoo's thread with a UnicodeError.
        self._host_names = [host for host, _port in client.hosts]
        client.hosts = [(host, port) for host, port in client.hosts if encodable_host(host)]
        zkprotocol.install_event_hook(client, self._on_server_event)
        kazoo_private.follow_state_changes(
            client, lambda previous, state: self._on_state_change(client, previous, state))
        kazoo_private.around_connect_passes(
            client, lambda run_pass: self._connect_pass(client, run_pass))
        kazoo_private.follow_connect_failures(
            client, lambda host, port, error: self._connect_failed(client, host, port, error))
        kazoo_private.follow_granted_timeouts(
            client, lambda timeout_ms: self._granted(client, timeout_ms))
        if self.client_options.get("sasl_options"):
            kazoo_private.follow_sasl_success(client, lambda: self._sasl_done(client))
        return client

    def _connect_pass(self, client: KazooClient, run_pass: Callable[[], object]) -> object:
        """One pass over the server list.  It failed when it never got connected: the servers
        refused, timed out or did not resolve (kazoo then raises before any attempt).  A pass
        that ends because a live connection dropped is no failure."""
        connections_before = self._connections
        failed_before = self._failed_connects
        try:
            return run_pass()
        except Exception:
            if (self._connections == connections_before and client is self.client
                    and self._failed_connects == failed_before):
                # No server was even tried: none of the names resolved.
                names = ", ".join(self._host_names)
                self.connect_failure = ConnectFailure("unresolved", names)
            raise
        finally:
            with self._changed:
                if self._connections == connections_before:
                    self._failed_attempts += 1
                self._changed.notify_all()

    def _connect_failed(self, client: KazooClient, host: str, port: int,
                        error: BaseException) -> None:
        self._failed_connects += 1
        failure = _connect_failure(host, port, error, client.handler.timeout_exception)
        if failure is not None and client is self.client:
            self.connect_failure = failure

    def _sasl_done(self, client: KazooClient) -> None:
        if client is self.client and not self._closing:
            self._emit("SaslAuthenticated", "None", None)

    def _granted(self, client: KazooClient, timeout_ms: int) -> None:
        if client is self.client:
            self.granted_timeout_ms = timeout_ms

    def close(self) -> None:
        """Close the session gracefully: the server removes its ephemerals at once."""
        if self.client is None:
            return
        was_alive = self.alive
        client, self.client = self.client, None
        self._closing = True
        kazoo_private.stop_client(client)
        self.watches.clear()
        if was_alive:
            self._emit("Closed", "None", None)
        self._closing = False

    def abandon(self, cut_connection: Callable[[], None]) -> None:
        """Drop the client without closing the session, as when its process is killed.

        `cut_connection` severs the network path first, so the close request kazoo sends
        on stop never reaches the server and the session lingers until it expires.
        """
        client, self.client = self.client, None
        if client is None:
            return
        self._closing = True  # a killed process prints nothing more
        cut_connection()
        kazoo_private.stop_client(client)

    def leave_open(self) -> None:
        """Drop the client as a process that is killed drops it, for a shell about to exit:
        no closeSession, so the server keeps the session and its ephemeral znodes until the
        granted session timeout has passed.  Returns at once; the client's threads end with
        the process."""
        client, self.client = self.client, None
        if client is None:
            return
        self._closing = True  # a killed process prints nothing more
        self.watches.clear()
        kazoo_private.drop_connection(client)

    # ---- state -------------------------------------------------------------------------
    @property
    def state_name(self) -> str:
        if self._ended == "auth_failed":
            return "AUTH_FAILED"
        if self.client is None or self._ended:
            return "CLOSED"
        state = self.client.client_state
        if state == KeeperState.CLOSED and not kazoo_private.is_stopped(self.client):
            return "CONNECTING"  # started, before kazoo's first connection attempt
        return _STATE_NAMES.get(state, "NOT_CONNECTED")

    @property
    def alive(self) -> bool:
        return self.state_name in ("CONNECTING", "CONNECTED", "CONNECTEDREADONLY")

    @property
    def session_id(self) -> int | None:
        if self.client is None or not self.alive:
            return None
        return kazoo_private.session_id(self.client)

    @property
    def chroot(self) -> str:
        return self.client.chroot if self.client is not None else ""

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._is_connected():
                self.interrupt.check()
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive:
                    return False
                self._changed.wait(min(remaining, SLICE_S))
        return True

    def wait_settled(self, timeout: float) -> bool:
        """Wait until connected, or until a connection attempt has failed; True if connected.

        What a first command needs before it runs: zkCli's would wait just as long."""
        return self._wait_for_connection(self.client, timeout) if self.client else False

    def _is_connected(self) -> bool:
        return self.alive and self.client.client_state in _CONNECTED

    # ---- events ------------------------------------------------------------------------
    def _emit(self, state: str, event_type: str, path: str | None) -> None:
        self.sink(SessionEvent(state, event_type, path))

    def emit_local_event(self, state: str, event_type: str, path: str | None) -> None:
        """An event the client itself raises (a removed watch), delivered like the others."""
        self._emit(state, event_type, path)

    def _on_server_event(self, event_type: int, keeper_state: int, path: str) -> None:
        type_name = zkprotocol.EVENT_TYPE_NAMES.get(event_type, str(event_type))
        self.watches.fired(type_name, path)
        state_name = zkprotocol.KEEPER_STATE_NAMES.get(keeper_state, str(keeper_state))
        self._emit(state_name, type_name, path)

    def _on_state_change(self, client: KazooClient, previous: KeeperState,
                         state: KeeperState) -> None:
        if state in _CONNECTED:
            self._connections += 1  # this connection pass did not fail
            if client is self.client:
                self.connect_failure = None
        with self._changed:
            self._changed.notify_all()
        if client is not self.client or self._closing or self._ended or previous == state:
            return
        if state in _CONNECTED:
            reconnected = previous == KeeperState.CONNECTING and self._was_connected
            self._was_connected = True
            self._emit("ConnectedReadOnly" if state == KeeperState.CONNECTED_RO
                       else "SyncConnected", "None", None)
            if reconnected:
                self._restore_watches(client)
        elif state == KeeperState.CONNECTING and previous in _CONNECTED:
            self._emit("Disconnected", "None", None)
        elif state == KeeperState.EXPIRED_SESSION:
            self._end(client, "expired", "Expired")
        elif state == KeeperState.AUTH_FAILED:
            self._end(client, "auth_failed", "AuthFailed")

    def _end(self, client: KazooClient, why: str, event_state: str) -> None:
        """The server ended the session (expired it, or refused its credentials): zkCli's
        session ends there, where kazoo would quietly start a new one (and, after an
        AuthFailed, send the refused credentials again and again)."""
        self._ended = why
        self.watches.clear()
        self._emit(event_state, "None", None)
        # On kazoo's own thread, which stop() joins: the stopper thread is not waited for.
        kazoo_private.stop_client(client, wait=0)

    @property
    def expired(self) -> bool:
        return self._ended == "expired"

    def _restore_watches(self, client: KazooClient) -> None:
        book = self.watches.snapshot()
        if not any(book.values()):
            return
        zkprotocol.set_watches_async(
            client, client.last_zxid, data=book["data"], exist=book["exist"],
            child=book["child"], persistent=book["persistent"],
            persistent_recursive=book["recursive"])

    # ---- requests ----------------------------------------------------------------------
    def server_path(self, path: str) -> str:
        return zkprotocol.chrooted(self.client, path) if self.client else path

    def client_path(self, path: str) -> str:
        return zkprotocol.unchrooted(self.client, path) if self.client else path

    def call(self, request: object, submit: Callable | None = None) -> object:
        """Send one request and wait for its answer; raise RequestFailed with the error code.

        `submit` sends something other than a plain request (kazoo's add_auth, say) and
        returns its async result.
        """
        client = self.client
        if client is None or not self.alive:
            raise NotConnected()
        timeout = self._request_timeout()
        if not self._wait_for_connection(client, timeout):
            raise RequestFailed(self._failure_code())
        if submit is None:
            result = client.handler.async_result()
            kazoo_private.send(client, request, result)
        else:
            result = submit()
        return self._await(client, result, timeout)

    def _request_timeout(self) -> float:
        return max(self.timeout_ms / 1000.0, 1.0) + 5.0

    def send_bundle(self, packets: list[tuple[int, bytes]],
                    watches: list[tuple[str, Callable]] | None = None) -> Pending:
        """Send many pre-encoded requests at once without waiting (see
        kazoo_private.send_bundle); `wait` gives their replies."""
        client = self.client
        if client is None or not self.alive:
            raise NotConnected()
        if not self._wait_for_connection(client, self._request_timeout()):
            raise RequestFailed(self._failure_code())
        result = client.handler.async_result()
        kazoo_private.send_bundle(client, packets, result, watches)
        return Pending(client, result)

    def answered(self, pending: Pending) -> bool:
        """Whether a bundle's replies have all come (so `wait` will not wait)."""
        return pending.result.ready()

    def wait(self, pending: Pending) -> list[tuple[int, bytes, int]]:
        """The replies of a bundle, `(error code, buffer, offset)` each; raise RequestFailed
        as `call` does when the bundle as a whole got none."""
        return self._await(pending.client, pending.result, self._request_timeout())

    def _await(self, client: KazooClient, result: object, timeout: float) -> object:
        """The answer, waited for in slices so that a stop asked meanwhile is taken at once.
        A stopped request is taken back if it is not sent yet; if it is, its answer comes
        to nobody (kazoo matches answers to requests by order, so nothing else is upset)."""
        deadline = time.monotonic() + timeout
        while not result.wait(min(max(deadline - time.monotonic(), 0.0), SLICE_S)):
            if self.interrupt.requested:
                kazoo_private.withdraw(client, result)
                self.interrupt.check()
            if time.monotonic() >= deadline:
                break
        try:
            return result.get(timeout=0)  # raises the timeout when nothing came
        except client.handler.timeout_exception:
            kazoo_private.withdraw(client, result)
            raise RequestFailed(CONNECTION_LOSS) from None
        except Exception as exc:  # kazoo reports ZooKeeper errors as exceptions with a code
            code = error_code(exc)
            if code is None:
                if "Closed" in type(exc).__name__:
                    raise NotConnected() from None
                raise RequestFailed(CONNECTION_LOSS) from None
            raise RequestFailed(code) from None

    def _failure_code(self) -> int:
        """Why a request that waited for a connection got none: the session's end, if the
        server ended it meanwhile, as the Java client fails its queued requests."""
        if self._ended == "expired":
            return SESSION_EXPIRED
        if self._ended == "auth_failed":
            return AUTH_FAILED
        return CONNECTION_LOSS

    def _wait_for_connection(self, client: KazooClient, timeout: float) -> bool:
        """Connected, or wait until connected; give up when a connection attempt fails."""
        deadline = time.monotonic() + timeout
        with self._changed:
            attempts = self._failed_attempts
            while not self._is_connected():
                self.interrupt.check()
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._failed_attempts != attempts or not self.alive:
                    return False
                self._changed.wait(min(remaining, SLICE_S))
        return True

    @property
    def watcher(self) -> Callable:
        return _ignore_event
