"""A loopback TCP relay between one scenario session and the server, that can fail on demand.

- crash: every connection is torn down and new ones are refused, so the client's close
  request never reaches the server; the session lives on there until it expires, exactly as
  when a zkCli process is killed.
- partition: nothing gets through either way and new connections are cut.  What is sent is
  held back, as a real network holds it (TCP keeps resending it), not lost: heal delivers it
  in order, so a client that has not given up on its connection simply carries on with it,
  and one that has (it closed it, or the server expired the session and closed its end)
  finds out at heal, as it would when the network came back.
"""

from __future__ import annotations

import select
import socket
import threading
import time

OPEN, CUT, DEAD = "open", "cut", "dead"
POLL_MS = 100  # how soon a relay notices a crash, a partition or a heal


class FaultProxy:
    def __init__(self, target_host: str, target_port: int,
                 connect_patience: float = 0.0) -> None:
        self.target = (target_host, target_port)
        # How long a connection accepted here waits for the target to listen (0: it is
        # dropped at once when the target refuses).  A link between ensemble members waits:
        # a follower's connection accepted before its new leader listens must not fail, or
        # the follower gives up on that leader and a new election begins.
        self.connect_patience = connect_patience
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self.mode = OPEN
        # When bytes of the client's last reached the server (time.monotonic()), or None:
        # the server counts a session's timeout from the last it heard of it.
        self.last_contact: float | None = None
        # When the latest connection through it was made: of a session's relays to an
        # ensemble's members, the one it connected through last is the member it is on.
        self.last_connected: float | None = None
        # Why the latest connection through it could not reach the target (the client only
        # sees its connection closed), or None when it did.
        self.upstream_error: OSError | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True, name="zksh-proxy").start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode != OPEN:
                _abort(client)
                continue
            if self.connect_patience:
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()
            else:
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        deadline = time.monotonic() + self.connect_patience
        while True:
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                self.upstream_error = None
                break
            except OSError as exc:
                if time.monotonic() >= deadline or self._closed:
                    self.upstream_error = exc
                    _abort(client)
                    return
                time.sleep(0.05)
        # A relay forwards whatever it read, often a reply in two pieces; with Nagle on,
        # the second piece waits for the peer's delayed ACK: 40 ms added to a request.
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._pairs.append((client, upstream))
            self.last_connected = time.monotonic()
        threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        held: dict[socket.socket, bytearray] = {client: bytearray(), upstream: bytearray()}
        # poll, not select: select() fails on descriptors past 1024, which a scenario of
        # a hundred-odd sessions reaches (each has a client, relay and server socket).
        reading = {sock.fileno(): sock for sock in (client, upstream)}
        poller = select.poll()
        for fd in reading:
            poller.register(fd, select.POLLIN)
        ended = False  # one side closed while cut off: the other learns it at heal
        try:
            while not self._closed and self.mode != DEAD:
                if self.mode == OPEN:
                    for target, data in held.items():
                        if data:
                            self._send(target, data, upstream)
                            data.clear()
                    if ended:
                        return
                for fd, _event in poller.poll(POLL_MS):
                    sock = reading[fd]
                    data = sock.recv(65536)
                    if not data:
                        if self.mode != CUT:
                            return
                        ended = True
                        poller.unregister(fd)
                    elif self.mode == OPEN and not held[peers[sock]]:
                        self._send(peers[sock], data, upstream)
                    else:
                        held[peers[sock]] += data
        except (OSError, ValueError):
            return
        finally:
            self._drop(client, upstream)

    def _send(self, target: socket.socket, data: bytes | bytearray,
              upstream: socket.socket) -> None:
        target.sendall(data)
        if target is upstream:
            self.last_contact = time.monotonic()

    def _drop(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            if (client, upstream) in self._pairs:
                self._pairs.remove((client, upstream))
        _abort(client)
        _abort(upstream)

    def _drop_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _abort(client)
            _abort(upstream)

    def crash(self) -> None:
        """The client process is gone: its connections die and nothing new gets through."""
        self.mode = DEAD
        self._drop_all()

    def partition(self) -> None:
        self.mode = CUT

    def heal(self) -> None:
        """The network is back: what was held back is delivered, in order."""
        self.mode = OPEN

    def revive(self) -> None:
        """A restarted process may connect again."""
        self.mode = OPEN

    def close(self) -> None:
        self._closed = True
        self._drop_all()
        try:
            self._listener.close()
        except OSError:
            pass


def _abort(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
