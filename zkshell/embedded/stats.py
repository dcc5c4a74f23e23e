"""The counters the four-letter words report: per connection (ServerCnxn) and per server
(ServerStats and the few ServerMetrics the embedded server has the facts for).

Kept as ZooKeeper keeps them, so the figures mean the same:
- a packet is a frame in or out: the connect request, every request and ping, a four-letter
  word (4 bytes in); every reply, watch event and four-letter answer out;
- a latency is whole milliseconds from reading a request to having its reply, per request
  (pings and createSession included, as FinalRequestProcessor counts them);
- a response size is a reply's or event's frame without its 4-byte length; the connect
  response is not counted (ZooKeeper does not send it through sendResponse).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from zkshell.embedded.codes import Op

# Requests that carry a transaction header (a write, failed or not; createSession and
# closeSession): ServerStats.updateLatency counts them as updatelatency, the rest readlatency.
UPDATE_OPS = frozenset({
    Op.CREATE, Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER, Op.DELETE, Op.SET_DATA,
    Op.CHECK, Op.SET_ACL, Op.MULTI, Op.RECONFIG, Op.DELETE_CONTAINER, Op.CREATE_SESSION,
    Op.CLOSE_SESSION})
# How many latencies a percentile is taken over (ZooKeeper samples a reservoir of them).
RESERVOIR = 4096

# FinalRequestProcessor's lastOp for each opcode; "NA" for anything else.
LAST_OP = {
    Op.PING: "PING", Op.CREATE_SESSION: "SESS", Op.MULTI: "MULT", Op.MULTI_READ: "MLTR",
    Op.CREATE: "CREA", Op.CREATE2: "CREA", Op.CREATE_TTL: "CREA", Op.CREATE_CONTAINER: "CREA",
    Op.DELETE: "DELE", Op.DELETE_CONTAINER: "DELE", Op.SET_DATA: "SETD", Op.RECONFIG: "RECO",
    Op.SET_ACL: "SETA", Op.CLOSE_SESSION: "CLOS", Op.SYNC: "SYNC", Op.CHECK: "CHEC",
    Op.EXISTS: "EXIS", Op.GET_DATA: "GETD", Op.SET_WATCHES: "SETW", Op.SET_WATCHES2: "STW2",
    Op.ADD_WATCH: "ADDW", Op.GET_ACL: "GETA", Op.GET_CHILDREN: "GETC",
    Op.GET_CHILDREN2: "GETC", Op.GET_ALL_CHILDREN_NUMBER: "GETACN",
    Op.CHECK_WATCHES: "CHKW", Op.REMOVE_WATCHES: "REMW", Op.WHO_AM_I: "HOMI",
    Op.GET_EPHEMERALS: "GETE",
}


def java_double(value: float) -> str:
    """Double.toString for the values shown here (4 decimals at most, below 10^7)."""
    if value != 0 and abs(value) < 1e-3:
        mantissa, exponent = f"{value:.15E}".split("E")
        return f"{float(mantissa)!r}E{int(exponent)}"
    return repr(float(value))


@dataclass
class Latency:
    """AvgMinMaxCounter: min is 0 until something is counted; avg rounded half-up to 4."""

    count: int = 0
    total: int = 0
    low: int | None = None
    high: int = 0

    def reset(self) -> None:
        self.count, self.total, self.low, self.high = 0, 0, None, 0

    def add(self, value: int) -> None:
        self.count += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = max(self.high, value)

    @property
    def min(self) -> int:
        return 0 if self.low is None else self.low

    @property
    def avg(self) -> float:
        if self.count == 0:
            return 0.0
        exact = Decimal(self.total) / Decimal(self.count)
        return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


@dataclass
class PercentileLatency(Latency):
    """AvgMinMaxPercentileCounter: also p50, p95, p99, p999 (Dropwizard's snapshot
    quantile, truncated to a long), here over the latest RESERVOIR values."""

    recent: deque = field(default_factory=lambda: deque(maxlen=RESERVOIR))

    def add(self, value: int) -> None:
        super().add(value)
        self.recent.append(value)

    def percentile(self, quantile: float) -> int:
        values = sorted(self.recent)
        if not values:
            return 0
        position = quantile * (len(values) + 1)
        if position < 1:
            return values[0]
        if position >= len(values):
            return values[-1]
        lower, upper = values[int(position) - 1], values[int(position)]
        return int(lower + (position - math.floor(position)) * (upper - lower))


# DataTree.STAT_OVERHEAD_BYTES: what a Stat adds to a read's size
STAT_OVERHEAD_BYTES = 6 * 8 + 5 * 4


def top_namespace(path: str) -> str | None:
    """PathUtils.getTopNamespace: the first name of the path; none for "/"."""
    return path.split("/")[1] or None


class NamespaceStats:
    """ServerMetrics.READ_PER_NAMESPACE and WRITE_PER_NAMESPACE (DataTree.updateReadStat
    and updateWriteStat): bytes per request, by top-level znode, kept for every name ever
    seen; a reset zeroes them and keeps the names."""

    def __init__(self) -> None:
        self.reads: dict[str, Latency] = {}
        self.writes: dict[str, Latency] = {}

    def read(self, path: str, size: int) -> None:
        """A read of `size` bytes (data, or the children's names): the path and a Stat too."""
        name = top_namespace(path)
        if name is not None:
            self.reads.setdefault(name, Latency()).add(len(path) + size + STAT_OVERHEAD_BYTES)

    def write(self, path: str, size: int) -> None:
        name = top_namespace(path)
        if name is not None:
            self.writes.setdefault(name, Latency()).add(len(path) + size)

    def reset(self) -> None:
        for counter in (*self.reads.values(), *self.writes.values()):
            counter.reset()


@dataclass
class ConnectionStats:
    """ServerCnxn's counters; `established_ms` is wall time, `last_response_ms` the
    server's own clock (ZooKeeper's Time.currentElapsedTime), as `cons` shows them."""

    established_ms: int
    packets_received: int = 0
    packets_sent: int = 0
    last_op: str = "NA"
    last_cxid: int = -1
    last_zxid: int = -1
    last_response_ms: int = 0
    last_latency: int = 0
    latency: Latency = field(default_factory=Latency)

    def responded(self, opcode: int, cxid: int, zxid: int, start_ms: int, end_ms: int) -> None:
        """ServerCnxn.updateStatsForResponse: a special xid (ping, auth) keeps the last cxid."""
        if cxid >= 0:
            self.last_cxid = cxid
        self.last_zxid = zxid
        self.last_op = LAST_OP.get(opcode, "NA")
        self.last_response_ms = end_ms
        self.last_latency = end_ms - start_ms
        self.latency.add(self.last_latency)

    def reset(self) -> None:
        """ServerCnxn.resetStats (crst); the established time stays."""
        self.__init__(self.established_ms)

    @property
    def avg_latency(self) -> int:
        """ServerCnxn.getAvgLatency: whole milliseconds, 0 before any request."""
        return self.latency.total // self.latency.count if self.latency.count else 0


@dataclass
class ServerStats:
    started_ms: int
    packets_received: int = 0
    packets_sent: int = 0
    bytes_received: int = 0
    connection_requests: int = 0
    latency: Latency = field(default_factory=Latency)
    # BufferStats: -1 until the first response
    last_response_size: int = -1
    min_response_size: int = -1
    max_response_size: int = -1
    response_bytes: int = 0  # the replies to requests (ServerMetrics.RESPONSE_BYTES)
    sessions_expired: int = 0  # STALE_SESSIONS_EXPIRED
    update_latency: PercentileLatency = field(default_factory=PercentileLatency)
    read_latency: PercentileLatency = field(default_factory=PercentileLatency)
    namespaces: NamespaceStats = field(default_factory=NamespaceStats)
    # WatchManager.triggerWatch: how many watchers one event on one path told, by event
    # type (NODE_CREATED_WATCHER, ...), shared with the WatchManager
    watchers_told: dict[int, Latency] = field(default_factory=dict)

    def reset(self, started_ms: int | None = None) -> None:
        """ServerStats.reset (srst): latencies, packet counts, response sizes and every
        metric; the start time stays (unless a restart gives a new one), and so do the
        namespaces, zeroed."""
        namespaces, told = self.namespaces, self.watchers_told
        namespaces.reset()
        told.clear()
        self.__init__(self.started_ms if started_ms is None else started_ms,
                      namespaces=namespaces, watchers_told=told)

    def responded(self, opcode: int, latency: int) -> None:
        """ServerStats.updateLatency."""
        self.latency.add(latency)
        (self.update_latency if opcode in UPDATE_OPS else self.read_latency).add(latency)

    def received(self, connection: ConnectionStats, size: int) -> None:
        """ServerCnxn.packetReceived: `size` counts the 4-byte length too."""
        connection.packets_received += 1
        self.packets_received += 1
        self.bytes_received += size

    def sent(self, connection: ConnectionStats, response_size: int | None = None) -> None:
        connection.packets_sent += 1
        self.packets_sent += 1
        if response_size is not None:
            self.last_response_size = response_size
            self.min_response_size = (response_size if self.min_response_size < 0
                                      else min(self.min_response_size, response_size))
            self.max_response_size = max(self.max_response_size, response_size)
