"""Big trees for the scale benchmark and the big-tree differential tests, built fast.

Each folder's children go in one multi (a kazoo transaction), and several multis are kept in
flight at once: 20,000 znodes take a few seconds, where one create at a time takes minutes.
"""

from __future__ import annotations

from collections import deque

from kazoo.client import KazooClient

from zkshell.server import LocalServer

IN_FLIGHT = 16
# A multi's request must stay under jute.maxbuffer (1 MiB); 1000 small creates are ~50 KiB.
MULTI_SIZE = 1000


class BenchServer(LocalServer):
    """ZooKeeper as its package's zkServer.sh runs it, with the JVM's defaults: the tests'
    start-up tuning keeps the JIT at its first tier, which made the server itself about a
    quarter slower on 20,000 pipelined setACLs and hid how fast a client could go."""

    jvm_tuning = ()


class BigServer(BenchServer):
    """A ZooKeeper for 200,000 to 1,000,000 znodes: 2 GiB of heap, whatever the JVM's
    default (a quarter of the machine's memory) would be."""

    jvm_options = ("-Xmx2g",)


def folder_name(index: int) -> str:
    return f"f{index:04d}"


def child_name(index: int) -> str:
    return f"n{index:05d}"


def _commit_all(client: KazooClient, batches, in_flight: int) -> None:
    """Commit each batch (a list of (path, data)) as one multi, `in_flight` at a time."""
    pending: deque = deque()
    for batch in batches:
        transaction = client.transaction()
        for path, data in batch:
            transaction.create(path, data)
        pending.append(transaction.commit_async())
        if len(pending) >= in_flight:
            _check(pending.popleft().get(timeout=120))
    while pending:
        _check(pending.popleft().get(timeout=120))


def _check(results: list) -> None:
    for result in results:
        if isinstance(result, Exception):
            raise result


def _batches(paths: list[str], data: bytes):
    for start in range(0, len(paths), MULTI_SIZE):
        yield [(path, data) for path in paths[start:start + MULTI_SIZE]]


def populate(client: KazooClient, root: str, folders: int, per_folder: int,
             data: bytes = b"x", in_flight: int = IN_FLIGHT) -> int:
    """Create `root`, `folders` folders under it and `per_folder` children in each.

    Returns the number of znodes created (root included).
    """
    client.ensure_path(root)
    base = root.rstrip("/")
    folder_paths = [f"{base}/{folder_name(f)}" for f in range(folders)]
    _commit_all(client, _batches(folder_paths, b""), in_flight)
    children = ([f"{folder}/{child_name(c)}" for c in range(per_folder)]
                for folder in folder_paths)
    _commit_all(client, (batch for paths in children for batch in _batches(paths, data)),
                in_flight)
    return 1 + folders + folders * per_folder


def connect(address: str) -> KazooClient:
    client = KazooClient(address, timeout=30)
    client.start(timeout=30)
    return client


def clear(client: KazooClient, root: str, in_flight: int = IN_FLIGHT) -> None:
    """Delete `root` and everything under it, leaves first, in multis (no-op when absent)."""
    if client.exists(root) is None:
        return
    levels: list[list[str]] = [[root]]
    while levels[-1]:
        # One level's listings pipelined: one request at a time would take minutes at 200k.
        listings = [(path, client.get_children_async(path)) for path in levels[-1]]
        levels.append([f"{path.rstrip('/')}/{child}" for path, listing in listings
                       for child in listing.get(timeout=120)])
    for level in reversed(levels):
        for start in range(0, len(level), in_flight * MULTI_SIZE):
            pending = []
            for first in range(start, min(len(level), start + in_flight * MULTI_SIZE),
                               MULTI_SIZE):
                transaction = client.transaction()
                for path in level[first:first + MULTI_SIZE]:
                    transaction.delete(path)
                pending.append(transaction.commit_async())
            for result in pending:
                _check(result.get(timeout=120))
