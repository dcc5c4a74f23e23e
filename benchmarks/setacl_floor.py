"""How fast can any client make ZooKeeper apply `setAcl -R` on 20,000 znodes?

ZooKeeper's multi cannot carry setACL, so each node's setACL is a write transaction of its
own; the server only group-commits them to its log.  This times the cheapest possible client
(one raw socket, packets built beforehand, replies only counted) sending every setACL of the
scale table's tree, one at a time (zkCli's pattern without the JVM) and all pipelined (the
server's floor), beside zksh's `setAcl -R` (command time: wall time minus `ls /`'s).

    python benchmarks/setacl_floor.py [--runs N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import struct
import sys
import time
from pathlib import Path

from kazoo.security import ACL, Id

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: zkshell and benchmarks from this checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.scale import BIG, SMALL, TRIVIAL, piped, programs  # noqa: E402
from benchmarks.trees import BenchServer, connect, populate  # noqa: E402
from zkshell import zkprotocol  # noqa: E402

_length = struct.Struct("!i")
_CONNECT = struct.pack("!iqiq16s", 0, 0, 30_000, 0, bytes(16))  # protocol 0, new session
_REPLY_ERR = struct.Struct("!iqi")  # reply header: xid, zxid, err
WORLD_ALL = [ACL(31, Id("world", "anyone"))]


def _receive(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return bytes(data)


def _reply(sock: socket.socket) -> bytes:
    return _receive(sock, _length.unpack(_receive(sock, 4))[0])


def raw_set_acls(address: str, paths: list[str], window: int) -> float:
    """Seconds from the first setACL sent to the last reply, at most `window` unanswered."""
    packets = []
    for xid, path in enumerate(paths, 1):
        body = struct.pack("!ii", xid, zkprotocol.SET_ACL) \
            + zkprotocol.set_acl_body(path, WORLD_ALL, -1)
        packets.append(_length.pack(len(body)) + body)
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_length.pack(len(_CONNECT)) + _CONNECT)
        _reply(sock)
        started = time.perf_counter()
        sent = answered = 0
        while answered < len(paths):
            if sent - answered < window and sent < len(paths):
                upto = min(len(paths), answered + window)
                sock.sendall(b"".join(packets[sent:upto]))
                sent = upto
            if _REPLY_ERR.unpack_from(_reply(sock))[2] != 0:
                raise SystemExit("a setACL failed")
            answered += 1
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with BenchServer(tick_time_ms=2000) as server:
        client = connect(server.address)
        try:
            populate(client, BIG, SMALL.folders, SMALL.per_folder)
            folders = [f"{BIG}/{name}" for name in client.get_children(BIG)]
            paths = [BIG, *folders,
                     *(f"{folder}/{name}" for folder in folders
                       for name in client.get_children(folder))]
        finally:
            client.stop()
            client.close()
        zksh = programs(server.address)["zksh"]
        start_up = statistics.median(piped(zksh, TRIVIAL)[0] for _ in range(args.runs))
        figures: dict[str, list[float]] = {"one at a time": [], "all pipelined": [],
                                           "zksh setAcl -R": []}
        for _ in range(args.runs):
            figures["one at a time"].append(raw_set_acls(server.address, paths, 1))
            figures["all pipelined"].append(raw_set_acls(server.address, paths, len(paths)))
            elapsed, _stdout = piped(zksh, f"setAcl -R {BIG} world:anyone:cdrwa")
            figures["zksh setAcl -R"].append(elapsed - start_up)
    print(f"\nsetACL floor: {len(paths):,} setACLs, median of {args.runs} runs")
    for name, times in figures.items():
        median = statistics.median(times)
        print(f"  {name:<16}{median:>7.2f} s  ({len(paths) / median:,.0f} setACL/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
