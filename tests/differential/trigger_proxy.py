"""A loopback relay in front of a ZooKeeper server that acts once when a client's request
names a given path: so that "a node deleted during the walk" or "the connection lost in the
middle of a walk" happens at the same point of the walk for zkCli.sh and for zksh.

The trigger is the path as jute writes it in a request (a 4-byte big-endian length, then the
bytes), looked for in what the client sends.  The action runs before those bytes go on:
- `on_request(path, action)`: run `action()` (e.g. delete a node with another client), then
  forward the request;
- `cut_at(path)`: reset this connection instead of forwarding (the request never reaches the
  server); later connections are relayed again, so the client reconnects to its session.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable


def _abort(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class TriggerProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._trigger: bytes | None = None
        self._action: Callable[[], None] | None = None
        self._cut = False
        self.fired = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def on_request(self, path: str, action: Callable[[], None]) -> None:
        self._trigger, self._action = _jute(path), action

    def cut_at(self, path: str) -> None:
        self._trigger, self._cut = _jute(path), True

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            _abort(sock)

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                if from_client and self._trigger and not self.fired.is_set():
                    if self._trigger in tail + data:
                        self.fired.set()
                        if self._cut:
                            _abort(source)
                            _abort(sink)
                            return
                        if self._action is not None:
                            self._action()
                    tail = (tail + data)[-len(self._trigger):]
                sink.sendall(data)
        except OSError:
            pass
        _abort(sink)


def _jute(path: str) -> bytes:
    raw = path.encode()
    return struct.pack(">i", len(raw)) + raw
