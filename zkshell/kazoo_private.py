"""Every use zksh makes of kazoo's private parts, in one place, each saying why it is needed.

zkCli does things kazoo's public API cannot: send requests kazoo does not know (addWatch,
whoAmI, ...), see persistent watch events, tell an expired session from a failed login, fail
a waiting request as soon as a connection attempt fails, say why an attempt failed, name the
session while it reconnects and the timeout its server granted, die without closing it, and
hand a session's id and password to another connection that ends it.
The functions here reach into kazoo for exactly that, and nothing else in zksh touches an
attribute of kazoo's that starts with an underscore.

Checked against kazoo 2.10.0 and 2.11.0, the versions pyproject.toml allows (>=2.10,<2.12):
every name in RELIED_ON exists in both, with the same meaning and the same parameters
(KazooClient in kazoo/client.py, ConnectionHandler in kazoo/protocol/connection.py).  Before
allowing another kazoo, read those two files for each name; tests/test_kazoo_private.py fails
when the installed kazoo lacks one.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionDropped
from kazoo.protocol.serialization import Connect, int_struct
from kazoo.protocol.states import KeeperState

log = logging.getLogger(__name__)

_XID_TYPE = struct.Struct("!ii")  # a RequestHeader: xid, opcode

# What this module relies on, by owner: a method's parameters (after self), or None for data.
RELIED_ON: dict[str, dict[str, tuple[str, ...] | None]] = {
    "KazooClient": {
        "_call": ("request", "async_object"),
        "_session_callback": ("state",),
        "_connection": None,      # the ConnectionHandler, made once in __init__
        "_queue": None,           # a deque of (request, async_object) not sent yet
        "_state": None,           # the KeeperState the connection last reported
        "_session_id": None,      # None until the first connection
        "_session_passwd": None,  # the session's password, beside _session_id
        "_stopped": None,         # an event: set before start() and after stop()
        "_data_watchers": None,   # server path -> kazoo's one-shot data watch callbacks
        "_child_watchers": None,  # server path -> kazoo's one-shot child watch callbacks
        "_pending": None,         # a deque of (request, async_object, xid) sent, unanswered
    },
    "ConnectionHandler": {
        "_connect_loop": ("retry",),
        "_connect": ("host", "hostip", "port"),
        "_authenticate_with_sasl": ("host", "timeout"),
        "_invoke": ("timeout", "request", "xid"),
        "_read_watch_event": ("buffer", "offset"),
        "_socket": None,          # the socket of the current connection attempt, or None
        "_submit": ("request", "timeout", "xid"),
        "_write": ("msg", "timeout"),
        "_read_response": ("header", "buffer", "offset"),
        "_xid": None,             # the xid the last request sent got
    },
    # Public, but called by ConnectionHandler._connect with keyword arguments zksh relies on
    # (address, hostname, timeout, use_ssl and kazoo's TLS arguments): use_ssl_context.
    "SequentialThreadingHandler": {
        "create_connection": ("args", "kwargs"),
    },
}

# The watch event types kazoo's reader handles; any other it only logs, through the
# deprecated Logger.warn.
_KAZOO_EVENT_TYPES = (1, 2, 3, 4)

StateHook = Callable[[KeeperState, KeeperState], None]
ConnectPass = Callable[[], object]
WatchReader = Callable[[bytes, int], None]
GrantedHook = Callable[[int], None]
FailedHook = Callable[[str, int, BaseException], None]


# ---- requests -------------------------------------------------------------------------------
def send(client: KazooClient, request: object, result: object) -> None:
    """Queue `request` on the client's connection; its answer or error goes into `result`.

    kazoo's public methods only send the requests kazoo knows.  Its `_call` takes any record
    with `type`, `serialize()` and a `deserialize(buffer, offset)` classmethod, gives it the
    next xid, turns an error in the reply header into kazoo's exception, and reads the reply
    on the connection thread, in order with everything else.
    """
    client._call(request, result)


class _Bundle:
    """Requests encoded by the caller that travel through kazoo's queue as one entry: written
    to the socket in one go, with consecutive xids, their replies collected as raw bytes."""

    type = None  # never kazoo's Auth: kazoo gives it the next xid, as any request

    def __init__(self, packets: list[tuple[int, bytes]],
                 watches: list[tuple[str, Callable]] | None) -> None:
        self.packets = packets
        self.watches = watches
        self.replies: list[tuple[int, bytes, int]] = []
        self.next_xid = 0

    def __bool__(self) -> bool:
        return True


def _next_xid(xid: int) -> int:
    return (xid % 2147483647) + 1  # kazoo's own wrap-around


def send_bundle(client: KazooClient, packets: list[tuple[int, bytes]], result: object,
                watches: list[tuple[str, Callable]] | None = None) -> None:
    """Send many pre-encoded requests, each `(opcode, body)`, as one entry of the client's
    queue; `result` gets the list of their replies, `(error code, buffer, offset of the
    body)` in order, or the connection's exception (ConnectionLoss...) for the lot.

    kazoo's per-request path (a result object, a queue entry, a socket write, a wake-up of
    its thread and a deserialisation each) costs more than the server's work for a small
    read; this writes the whole bundle at once and reads the replies as bytes.  `watches`,
    one `(server path, callback)` per packet, registers child watches as kazoo registers a
    getChildren's watcher when its reply comes without an error.
    """
    _install_bundle_path(client._connection)
    client._call(_Bundle(packets, watches), result)


def _install_bundle_path(connection: object) -> None:
    """Teach the connection to write a _Bundle and to read its replies; once per connection
    object (kazoo makes one per client and keeps it across reconnects)."""
    if connection.__dict__.get("_zksh_bundles"):
        return
    connection._zksh_bundles = True
    client = connection.client
    original_submit = connection._submit
    original_read = connection._read_response

    def submit(request: object, timeout: float, xid: int | None = None) -> object:
        if not isinstance(request, _Bundle):
            return original_submit(request, timeout, xid)
        out = bytearray()
        next_xid = xid
        for opcode, body in request.packets:
            out += int_struct.pack(8 + len(body)) + _XID_TYPE.pack(next_xid, opcode) + body
            last, next_xid = next_xid, _next_xid(next_xid)
        request.next_xid = xid
        connection._xid = last  # kazoo gave the bundle one xid; it used len(packets)
        connection._write(bytes(out), timeout)
        return None

    def read_response(header: object, buffer: bytes, offset: int) -> object:
        pending = client._pending
        if not pending or not isinstance(pending[0][0], _Bundle):
            return original_read(header, buffer, offset)
        bundle, result, _xid = pending[0]
        if header.zxid and header.zxid > 0:
            client.last_zxid = header.zxid
        if header.xid != bundle.next_xid:
            error = RuntimeError(f"xids do not match, expected {bundle.next_xid} "
                                 f"received {header.xid}")
            pending.popleft()
            result.set_exception(error)
            raise error  # as kazoo does: the connection is dropped and made again
        _take_reply(client, bundle, header.err, buffer, offset)
        if len(bundle.replies) < len(bundle.packets):
            _drain_replies(connection._socket, client, bundle)
        if len(bundle.replies) == len(bundle.packets):
            pending.popleft()
            result.set(bundle.replies)
        return None

    connection._submit = submit
    connection._read_response = read_response


def _take_reply(client: KazooClient, bundle: _Bundle, err: int, buffer: bytes,
                offset: int) -> None:
    index = len(bundle.replies)
    bundle.replies.append((err, buffer, offset))
    if bundle.watches is not None and not err and not client._stopped.is_set():
        path, watcher = bundle.watches[index]
        client._child_watchers[path].add(watcher)
    bundle.next_xid = _next_xid(bundle.next_xid)


_DRAIN_BYTES = 256 * 1024
_REPLY_HEADER = struct.Struct("!iiqi")  # length, then a ReplyHeader: xid, zxid, err


def _drain_replies(sock: socket.socket | None, client: KazooClient, bundle: _Bundle) -> None:
    """Take, in one read, the bundle's further replies already waiting on the socket.

    kazoo reads a reply with three select() calls, each making and closing an epoll object,
    and two recv()s: ~50 µs of its thread per reply, most of zksh's time in a 20,000-node
    `setAcl -R`.  This peeks at what has arrived, takes the whole replies that answer the
    bundle's next xids, and leaves everything else (a watch event, a ping's answer, a reply
    that has not fully arrived) on the socket for kazoo to read as usual, so the order of
    replies and events is kept.  It reads at most once per call, so kazoo's loop still gets
    to send between reads.  TLS sockets cannot peek; their replies take kazoo's path.
    """
    if sock is None or isinstance(sock, ssl.SSLSocket):
        return
    try:
        data = sock.recv(_DRAIN_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:  # nothing more has arrived, or the connection broke: kazoo will see it
        return
    taken = 0
    last_zxid = 0
    wanted = len(bundle.packets)
    while len(bundle.replies) < wanted and taken + _REPLY_HEADER.size <= len(data):
        length, xid, zxid, err = _REPLY_HEADER.unpack_from(data, taken)
        end = taken + 4 + length
        if xid != bundle.next_xid or end > len(data):
            break
        _take_reply(client, bundle, err, data, taken + _REPLY_HEADER.size)
        if zxid > 0:
            last_zxid = zxid
        taken = end
    if taken:
        _consume(sock, taken)
    if last_zxid:
        client.last_zxid = last_zxid


def _consume(sock: socket.socket, size: int) -> None:
    """Read and drop `size` bytes already peeked at (so already in the socket's buffer)."""
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise ConnectionDropped("socket connection broken")
        size -= len(chunk)


def withdraw(client: KazooClient, result: object) -> None:
    """Take back a request that was never sent, so it cannot run after its caller gave up.

    kazoo has no way to cancel a request; one that waits in its queue while the connection is
    down would otherwise be sent, and act, once the connection is back.  A request already
    sent is left alone: nobody waits for its answer any more.
    """
    queue = client._queue
    for entry in list(queue):
        if entry[1] is result:
            try:
                queue.remove(entry)
            except ValueError:  # the connection thread took it meanwhile
                pass


def forget_watchers(client: KazooClient, server_path: str, data: bool, child: bool) -> None:
    """Drop the callbacks of kazoo's own one-shot watches on `server_path`.

    The server sends no event for a watch that removeWatches removed, so kazoo would keep the
    callbacks forever and fire them at the next watch someone else sets on that path.
    """
    if data:
        client._data_watchers.pop(server_path, None)
    if child:
        client._child_watchers.pop(server_path, None)


# ---- state ----------------------------------------------------------------------------------
def session_id(client: KazooClient) -> int | None:
    """The id of the client's session, or None before its first connection.

    kazoo's public client_id is None while the connection is down, but the session lives on
    until the server expires it, and zkCli goes on naming it.
    """
    return client._session_id or None


def session_credentials(client: KazooClient) -> tuple[int, bytes] | None:
    """The session's id and password, or None before its first connection.

    What a second connection needs to take the session over (and close it: `zksh play`'s
    `expire` step).  kazoo's public client_id gives them only while connected, and a
    session is most often expired while its client is cut off.
    """
    if not client._session_id:
        return None
    return client._session_id, bytes(client._session_passwd)


def is_stopped(client: KazooClient) -> bool:
    """Whether the client is stopped: never started, or stop() was called.

    kazoo's client_state is CLOSED both then and in the moment after start_async() before its
    connection thread reports CONNECTING; only this tells the two apart.
    """
    return client._stopped.is_set()


# ---- hooks ----------------------------------------------------------------------------------
def follow_state_changes(client: KazooClient, hook: StateHook) -> None:
    """Call `hook(previous, state)` each time the connection reports a KeeperState (repeats
    included), on kazoo's connection thread, once kazoo has handled it.

    kazoo's public listeners only get its coarse KazooState, in which a read-only connection
    is CONNECTED like any other, and an expired session, a refused login and a stopped client
    are all LOST; zkCli shows each of them differently.
    """
    original = client._session_callback

    def session_callback(state: KeeperState) -> None:
        previous = client._state
        original(state)
        hook(previous, state)

    client._session_callback = session_callback


def around_connect_passes(client: KazooClient,
                          around: Callable[[ConnectPass], object]) -> None:
    """Run each pass kazoo's connection thread makes over the server list as
    `around(run_pass)`, which must call `run_pass()` and return what it returns (or raise).

    A pass is kazoo's unit of retry: it returns or raises only when it is over, because a
    connection it made dropped or because every server failed.  Nothing public says which, or
    when, and zkCli fails a request waiting for a connection as soon as an attempt fails.
    """
    # kazoo makes `client._connection` once, in KazooClient.__init__, and reuses it across
    # stop()/start() and reconnects, so wrapping it once covers the client's whole life.
    connection = client._connection
    original = connection._connect_loop

    def connect_loop(*args: object, **kwargs: object) -> object:
        return around(lambda: original(*args, **kwargs))

    connection._connect_loop = connect_loop


def follow_granted_timeouts(client: KazooClient, granted: GrantedHook) -> None:
    """Call `granted(timeout_ms)` with the session timeout the server grants, each time the
    client connects, on kazoo's connection thread.

    The server clamps the timeout a client asks for to 2..20 of its ticks, and a session whose
    client is gone expires after the granted one; kazoo reads it from the connect response
    (to time its pings) and keeps it nowhere.
    """
    connection = client._connection
    original = connection._invoke

    def invoke(timeout: float, request: object, xid: int | None = None) -> object:
        result = original(timeout, request, xid)
        if isinstance(request, Connect) and isinstance(result, tuple) \
                and isinstance(result[0], Connect) and result[0].time_out > 0:
            granted(result[0].time_out)
        return result

    connection._invoke = invoke


def follow_connect_failures(client: KazooClient, failed: FailedHook) -> None:
    """Call `failed(host, port, error)` each time an attempt to connect to one server fails,
    on kazoo's connection thread, before kazoo goes on to the next one.

    `error` is the socket's own error (ConnectionRefusedError, a timeout, ...) when kazoo
    wrapped one in its ConnectionDropped, else kazoo's exception: ConnectionDropped when the
    server closed the connection, the handler's timeout_exception when it accepted it but
    never answered.  kazoo only logs why an attempt failed; a shell left connecting should
    say it.  A host that does not resolve is never attempted, so it is not reported here.
    """
    connection = client._connection
    original = connection._connect

    def connect(host: str, hostip: str, port: int) -> object:
        try:
            return original(host, hostip, port)
        except Exception as exc:
            cause = exc.__context__
            wrapped = isinstance(exc, ConnectionDropped) and isinstance(cause, OSError)
            try:
                failed(host, port, cause if wrapped else exc)
            except Exception:  # an exception here would replace kazoo's own
                log.debug("connect failure hook %r failed", failed, exc_info=True)
            raise

    connection._connect = connect


def follow_sasl_success(client: KazooClient, succeeded: Callable[[], None]) -> None:
    """Call `succeeded()` each time SASL authentication (kazoo's `sasl_options`) completes on
    a new connection, on kazoo's connection thread, before any queued request is sent.

    The Java client then delivers `state:SaslAuthenticated`, which zkCli prints; kazoo
    reports a SASL failure (AUTH_FAILED) and nothing on success.
    """
    connection = client._connection
    original = connection._authenticate_with_sasl

    def authenticate(host: str, timeout: float) -> object:
        result = original(host, timeout)
        succeeded()
        return result

    connection._authenticate_with_sasl = authenticate


def read_watch_events(client: KazooClient, reader: WatchReader) -> Callable[[], None]:
    """Call `reader(buffer, offset)` with every watch notification the client's connection
    receives (a WatcherEvent record at `offset`), before kazoo reads it; returns a function
    that stops it.

    kazoo hands a notification only to the one-shot watchers it registered itself, so
    persistent and recursive watch events would never reach anyone.  The reader runs on
    kazoo's connection thread, in the order the server sent things: it must not block.
    """
    connection = client._connection
    readers: list[WatchReader] | None = connection.__dict__.get("_zksh_watch_readers")
    if readers is None:
        readers = []
        original = connection._read_watch_event

        def read_watch_event(buffer: bytes, offset: int) -> object:
            for each in list(readers):
                try:
                    each(buffer, offset)
                except Exception:
                    # An exception here would end kazoo's connection loop.
                    log.debug("watch event reader %r failed", each, exc_info=True)
            if int_struct.unpack_from(buffer, offset)[0] in _KAZOO_EVENT_TYPES:
                return original(buffer, offset)
            return None

        connection._zksh_watch_readers = readers
        connection._read_watch_event = read_watch_event
    readers.append(reader)

    def stop() -> None:
        if reader in readers:
            readers.remove(reader)

    return stop


# ---- connecting ---------------------------------------------------------------------------
def use_ssl_context(client: KazooClient, context: ssl.SSLContext) -> None:
    """Connect this client's TLS sockets with `context` (client_config.py's: its stores,
    protocol versions and cipher suites).

    kazoo 2.11's create_tcp_connection builds a new SSLContext for every attempt from
    use_ssl, ca, certfile...: it cannot pin versions or suites.  Its handler's
    create_connection, which ConnectionHandler._connect calls with address, hostname and
    timeout as keywords, is replaced on this client's own handler (every KazooClient makes
    one of its own) by one that wraps the socket with `context` instead."""
    def create_connection(address: tuple[str, int], hostname: str | None = None,
                          timeout: float | None = None, **_kazoos_tls_arguments: object
                          ) -> socket.socket:
        family = socket.getaddrinfo(address[0], address[1], 0, socket.SOCK_STREAM)[0][0]
        raw = socket.socket(family, socket.SOCK_STREAM)
        try:
            conn = context.wrap_socket(raw, server_hostname=hostname)
            conn.settimeout(timeout)
            conn.connect(address)
        except BaseException:
            raw.close()
            raise
        # What kazoo's _set_default_tcpsock_options does: requests go out at once.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    client.handler.create_connection = create_connection  # type: ignore[method-assign]


def new_client(client_options: dict[str, object] | None, **arguments: object) -> KazooClient:
    """A KazooClient with -client-configuration's arguments (ClientConfig.kazoo_options)
    over `arguments`; its `ssl_context`, if any, given to it with use_ssl_context."""
    options = dict(client_options or {})
    context = options.pop("ssl_context", None)
    client = KazooClient(**arguments, **options)
    if isinstance(context, ssl.SSLContext):
        use_ssl_context(client, context)
    return client


# ---- stopping -------------------------------------------------------------------------------
# How long closing a session may take.  kazoo's stop() waits for its connection thread,
# which may sit in a read that a server that does not answer never ends (30 s and more);
# a person typing quit must not wait for that.  The thread is a daemon: it dies with us.
CLOSE_WAIT_S = 3.0


def drop_connection(client: KazooClient) -> None:
    """End the client's connection as the death of its process would: without closeSession,
    so the server keeps the session, and its ephemeral znodes, until the session expires.

    kazoo's only way to stop, stop(), queues the close request first.  This marks the client
    stopped instead, which keeps stop() from queueing it and the connection thread from
    connecting again, and shuts the socket down, so the server sees the connection end now
    and the connection thread wakes up and ends.  Nothing here waits.
    """
    client._stopped.set()
    connection = client._connection
    sock = connection._socket
    if sock is None:
        return  # between attempts, or opening a socket: no connection to end yet
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # not connected yet, or already closed by kazoo
        pass


def stop_client(client: KazooClient, wait: float | None = CLOSE_WAIT_S) -> None:
    """Stop and release a kazoo client, giving up after `wait` seconds; safe when another
    thread is stopping it too."""
    def stop() -> None:
        client.stop()
        try:
            client.close()
        except Exception:  # kazoo refuses to close while its other stop() is still running
            pass

    stopper = threading.Thread(target=stop, daemon=True, name="zksh-close")
    stopper.start()
    stopper.join(wait)
