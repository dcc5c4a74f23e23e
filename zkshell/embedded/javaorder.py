"""The order Java's hash sets iterate in, where ZooKeeper lets it reach the client.

ZooKeeper keeps a znode's children in a HashSet (DataNode, initial capacity 8) and returns
getChildren in its iteration order; the ephemerals of a session (getEphemerals, and the order
their NodeDeleted events go out on close) and a connection's auth ids come from hash sets and
maps too.  A java.util.HashMap iterates bin by bin, bin = spread(hashCode) & (capacity - 1),
and within a bin in insertion order (a resize splits bins but keeps that order).  Bins that
grow into trees (9+ colliding names in a table of 64+) are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def string_hash(text: str) -> int:
    """String.hashCode over UTF-16 code units, as an unsigned 32-bit value."""
    value = 0
    units = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(units), 2):
        value = (31 * value + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    return value


def spread(hash_code: int) -> int:
    """HashMap.hash: the high half folded into the low half."""
    return hash_code ^ (hash_code >> 16)


def bin_of(name: str, capacity: int) -> int:
    return spread(string_hash(name)) & (capacity - 1)


def in_hash_order(names: Iterable[str], capacity: int) -> list[str]:
    """`names` (in insertion order) as a HashMap with `capacity` bins iterates them."""
    return sorted(names, key=lambda name: bin_of(name, capacity))


def capacity_for_clone(size: int) -> int:
    """HashSet.clone (HashMap.putMapEntries into an empty map): a table for size / 0.75 + 1
    entries, rounded up to a power of two."""
    wanted = int(size / 0.75 + 1.0)
    capacity = 1
    while capacity < wanted:
        capacity *= 2
    return capacity


def grown_capacity(capacity: int, size: int) -> int:
    """A HashMap's table after it holds `size` entries (it doubles past 0.75 full)."""
    while size > capacity * 3 // 4:
        capacity *= 2
    return capacity


def concurrent_capacity(size: int, capacity: int = 16) -> int:
    """A ConcurrentHashMap's table after `size` puts: it doubles once 3/4 full (sizeCtl),
    one entry earlier than a HashMap."""
    while size >= capacity - (capacity >> 2):
        capacity *= 2
    return capacity


class JavaHashSet:
    """A java.util.HashSet<String> of names, for its iteration order: a DataNode's children.

    Each name's hash is computed once; the table doubles past 0.75 full, or when a bin of a
    table smaller than 64 reaches 9 names (HashMap.treeifyBin resizes instead); it never
    shrinks.  Iteration is in Java's order.
    """

    TREEIFY_THRESHOLD = 8
    MIN_TREEIFY_CAPACITY = 64

    def __init__(self, names: Iterable[str] = (), capacity: int = 8) -> None:
        self.capacity = capacity  # DataNode: new HashSet<>(8) on the first child
        self._hashes: dict[str, int] = {}  # insertion order, which a bin keeps
        self._bin_sizes: dict[int, int] = {}
        for name in names:
            self.add(name)

    def _bin(self, hashed: int) -> int:
        return hashed & (self.capacity - 1)

    def _resize(self) -> None:
        self.capacity *= 2
        self._bin_sizes = {}
        for hashed in self._hashes.values():
            self._bin_sizes[self._bin(hashed)] = self._bin_sizes.get(self._bin(hashed), 0) + 1

    def add(self, name: str) -> None:
        """HashMap.putVal."""
        if name in self._hashes:
            return
        hashed = spread(string_hash(name))
        already_in_bin = self._bin_sizes.get(self._bin(hashed), 0)
        self._hashes[name] = hashed
        self._bin_sizes[self._bin(hashed)] = already_in_bin + 1
        if (already_in_bin >= self.TREEIFY_THRESHOLD
                and self.capacity < self.MIN_TREEIFY_CAPACITY):
            self._resize()
        if len(self._hashes) > self.capacity * 3 // 4:
            self._resize()

    def discard(self, name: str) -> None:
        hashed = self._hashes.pop(name, None)
        if hashed is not None:
            self._bin_sizes[self._bin(hashed)] -= 1

    def __contains__(self, name: object) -> bool:
        return name in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._hashes, key=lambda name: self._bin(self._hashes[name])))

    def copy(self) -> JavaHashSet:
        twin = JavaHashSet(capacity=self.capacity)
        twin._hashes = dict(self._hashes)
        twin._bin_sizes = dict(self._bin_sizes)
        return twin
