"""A loopback TCP relay between one scenario session and the server, that can fail on demand.

- crash: every connection is torn down and new ones are refused, so the client's close
  request never reaches the server; the session lives on there until it expires, exactly as
  when a zkCli process is killed.
- partition: bytes are silently dropped both ways and new connections are cut, so neither
  side hears from the other; heal lets the client reconnect (within the session timeout it
  resumes its session, past it the server says Expired).
"""

from __future__ import annotations

import select
import socket
import threading

OPEN, CUT, DEAD = "open", "cut", "dead"


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self.mode = OPEN
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
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _abort(client)
                continue
            # A relay forwards whatever it read, often a reply in two pieces; with Nagle on,
            # the second piece waits for the peer's delayed ACK: 40 ms added to a request.
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._closed:
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self.mode == OPEN:
                        peers[sock].sendall(data)
                    # CUT: the network drops it.  DEAD: the sockets are already closed.
        except (OSError, ValueError):
            return
        finally:
            self._drop(client, upstream)

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
        """The network is back; connections that lost bytes are dropped, the client redials."""
        self._drop_all()
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
