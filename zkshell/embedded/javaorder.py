"""The order Java's hash sets iterate in, where ZooKeeper lets it reach the client.

ZooKeeper keeps a znode's children in a HashSet (DataNode, initial capacity 8) and returns
getChildren in its iteration order; the ephemerals of a session (getEphemerals, and the order
their NodeDeleted events go out on close) and a connection's auth ids come from hash sets and
maps too.  A java.util.HashMap iterates bin by bin, bin = spread(hashCode) & (capacity - 1),
and within a bin in insertion order (a resize splits bins but keeps that order).  Bins that
grow into trees (9+ colliding names in a table of 64+) are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable


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


class ChildTable:
    """How big a DataNode's children HashSet has grown: it never shrinks."""

    TREEIFY_THRESHOLD = 8
    MIN_TREEIFY_CAPACITY = 64

    @staticmethod
    def grown(capacity: int, names: list[str], added: str) -> int:
        """HashMap.putVal: the capacity after `added` joined `names` (already in the set)."""
        if capacity == 0:
            capacity = 8  # new HashSet<>(8) on the first child
        same_bin = sum(1 for name in names if bin_of(name, capacity) == bin_of(added, capacity))
        if same_bin >= ChildTable.TREEIFY_THRESHOLD and capacity < ChildTable.MIN_TREEIFY_CAPACITY:
            capacity *= 2  # treeifyBin resizes a small table instead
        if len(names) + 1 > capacity * 3 // 4:
            capacity *= 2
        return capacity
