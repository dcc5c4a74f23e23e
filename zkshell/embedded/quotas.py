"""Quota bookkeeping (DataTree's pTrie, updateQuotaStat and updateQuotaForPath).

A path P has a quota while /zookeeper/quota/P/zookeeper_limits exists.  The server keeps
/zookeeper/quota/P/zookeeper_stats up to date as "count=N,bytes=M" (StatsTrack): recounted
when the stats node is created, then moved by every create, delete and setData under P (the
deepest such P).  Those updates change the stats node's data only, not its Stat versions or
zxids, and fire no watches.  Quotas are not enforced (zookeeper.enforceQuota is off by
default): going over one is only logged, as by ZooKeeper.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Protocol

QUOTA_ROOT = "/zookeeper/quota"
LIMITS, STATS = "zookeeper_limits", "zookeeper_stats"


class _Node(Protocol):
    data: bytes | None
    children: Collection[str]


def stats_path(quota_path: str) -> str:
    return f"{QUOTA_ROOT}{quota_path}/{STATS}"


def quota_path_of(path: str, nodes: Mapping[str, _Node]) -> str | None:
    """getMaxPrefixWithQuota: the deepest path at or above `path` with a quota ("/" never)."""
    candidate = path
    while candidate not in ("", "/"):
        if f"{QUOTA_ROOT}{candidate}/{LIMITS}" in nodes:
            return candidate
        candidate = candidate[:candidate.rfind("/")]
    return None


def is_stats_node(path: str) -> str | None:
    """The quota path whose stats node `path` is, if it is one."""
    if path.startswith(QUOTA_ROOT + "/") and path.endswith("/" + STATS):
        return path[len(QUOTA_ROOT):-len(STATS) - 1]
    return None


def parse_stats(data: bytes | None) -> tuple[int, int] | None:
    """StatsTrack(String): count and bytes, -1 when missing; None if it does not parse."""
    values = {}
    for pair in re.split(r"[,;]", (data or b"").decode("utf-8", "replace")):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        try:
            values[key] = int(value.split("=")[0] or -1)
        except ValueError:
            return None
    return values.get("count", -1), values.get("bytes", -1)


def format_stats(count: int, size: int) -> bytes:
    return f"count={count},bytes={size}".encode()


def subtree_counts(path: str, nodes: Mapping[str, _Node]) -> tuple[int, int]:
    """DataTree.getCounts: nodes in the subtree (itself included) and their data bytes."""
    node = nodes.get(path)
    if node is None:
        return 0, 0
    count, size = 1, len(node.data or b"")
    for child in node.children:
        child_count, child_size = subtree_counts(f"{path.rstrip('/')}/{child}", nodes)
        count, size = count + child_count, size + child_size
    return count, size
