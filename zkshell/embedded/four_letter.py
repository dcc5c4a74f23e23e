"""The four-letter words, answered in ZooKeeper 3.8.0's exact text from the server's own state.

A word is the first four bytes a connection sends instead of a packet length
(NIOServerCnxn.checkFourLetterWord); the answer is written and the connection closes.  The
server acts as one started with `4lw.commands.whitelist=*`: every word is answered, none is
refused as "not in the whitelist".  A word ZooKeeper does not know is read as a frame length
and, being too long, closes the connection, as on ZooKeeper; so does the telnet close
sequence, which ZooKeeper knows but runs nothing for.
`gtmk` and `stmk` keep a trace mask nothing reads (there is no trace log); `hash` answers
nothing, as there is no digest log.

Where ZooKeeper iterates a Java hash map the order is modelled (ephemerals by session,
watched paths); where it iterates by object identity (connections, the watchers of a path,
the sessions of an expiry bucket) no order is promised and ours is accept order or session
id order.  Figures the embedded server has no machinery for (fsync, snapshots, the commit
processor, quorum, throttling) show what a fresh ZooKeeper shows: 0.
docs/embedded-server.md lists which `mntr` keys carry real values.
"""

from __future__ import annotations

import getpass
import os
import platform
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from zkshell.embedded.javaorder import concurrent_capacity, grown_capacity, in_hash_order
from zkshell.embedded.monitor import mntr
from zkshell.embedded.stats import java_double

if TYPE_CHECKING:
    from zkshell.embedded.connection import Connection
    from zkshell.embedded.server import ServerCore

VERSION = "3.8.0-zksh-embedded"
IN_MEMORY_DIR = "(in memory)"  # conf's dataDir and dataLogDir: there is no directory

_MASK64 = (1 << 64) - 1


def hex64(value: int) -> str:
    """Long.toHexString: a negative long as its two's complement."""
    return format(value & _MASK64, "x")


def java_date(wall_ms: float) -> str:
    """java.util.Date.toString, in the local time zone as the JVM's default."""
    return time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(wall_ms / 1000))


def _address(connection: Connection) -> str:
    """InetSocketAddress.toString of the peer: "/host:port"."""
    host, port = connection.peer[:2]
    return f"/{host}:{port}"


def _chm_order(session_ids: Iterable[int]) -> list[int]:
    """The order a ConcurrentHashMap<Long, ...> (16 bins to start) iterates its keys in."""
    ids = list(session_ids)
    capacity = concurrent_capacity(len(ids))

    def bin_of(session_id: int) -> int:
        value = session_id & _MASK64
        code = (value ^ (value >> 32)) & 0xFFFFFFFF  # Long.hashCode
        return (code ^ (code >> 16)) & 0x7FFFFFFF & (capacity - 1)
    return sorted(ids, key=bin_of)


# ------------------------------------------------------------------------------------------
# The words.  Each takes the server and the connection that asked (it is one of the
# connections the answers list, as in ZooKeeper) and returns the answer's text.

Word = Callable[["ServerCore", "Connection"], str]


def _ruok(core: ServerCore, me: Connection) -> str:
    return "imok"


def _isro(core: ServerCore, me: Connection) -> str:
    return "rw"


def _envi(core: ServerCore, me: Connection) -> str:
    """Environment.list, the entries a Python process has (no java.* ones)."""
    # host.name: the plain host name; a canonical one would ask DNS on the server's loop
    entries = [("zookeeper.version", VERSION), ("host.name", socket.gethostname()),
               ("os.name", platform.system()),
               ("os.arch", _JAVA_ARCH.get(platform.machine(), platform.machine())),
               ("os.version", platform.release()), ("user.name", _user()),
               ("user.home", os.path.expanduser("~")), ("user.dir", _cwd())]
    return "Environment:\n" + "".join(f"{key}={value}\n" for key, value in entries)


# os.arch as the JVM names what platform.machine() calls otherwise
_JAVA_ARCH = {"x86_64": "amd64", "AMD64": "amd64", "i386": "x86", "i686": "x86"}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "<NA>"  # Environment.put's word for a property that is not there


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the directory was removed under us
        return "<NA>"


def _server_stats(core: ServerCore) -> str:
    """ServerStats.toString, then the node count (StatCommand)."""
    stats = core.stats
    return (f"Latency min/avg/max: {stats.latency.min}/{java_double(stats.latency.avg)}/"
            f"{stats.latency.high}\n"
            f"Received: {stats.packets_received}\n"
            f"Sent: {stats.packets_sent}\n"
            f"Connections: {len(core.accepted)}\n"
            f"Outstanding: 0\n"
            f"Zxid: 0x{hex64(core.tree.last_zxid)}\n"
            f"Mode: standalone\n"
            f"Node count: {node_count(core)}\n")


def node_count(core: ServerCore) -> int:
    """DataTree.getNodeCount: its map holds the root twice, as "" and as "/"."""
    return len(core.tree.nodes) + 1


def _srvr(core: ServerCore, me: Connection) -> str:
    return f"Zookeeper version: {VERSION}\n" + _server_stats(core)


def _stat(core: ServerCore, me: Connection) -> str:
    clients = "".join(connection_info(c, me, brief=True) + "\n" for c in core.accepted)
    return f"Zookeeper version: {VERSION}\nClients:\n{clients}\n" + _server_stats(core)


def connection_info(connection: Connection, me: Connection, brief: bool) -> str:
    """ServerCnxn.dumpConnectionInfo.  The interest ops are OP_READ (1) for a connection
    being served; the one answering a four-letter word reads no more (0)."""
    stats = connection.stats
    text = (f" {_address(connection)}[{0 if connection is me else 1}](queued=0,"
            f"recved={stats.packets_received},sent={stats.packets_sent}")
    if not brief and connection.session_id != 0:
        text += (f",sid=0x{hex64(connection.session_id)},lop={stats.last_op}"
                 f",est={stats.established_ms},to={connection.session_timeout_ms}")
        if stats.last_cxid >= 0:
            text += f",lcxid=0x{hex64(stats.last_cxid)}"
        text += (f",lzxid=0x{hex64(stats.last_zxid)},lresp={stats.last_response_ms}"
                 f",llat={stats.last_latency},minlat={stats.latency.min}"
                 f",avglat={stats.avg_latency},maxlat={stats.latency.high}")
    return text + ")"


def _cons(core: ServerCore, me: Connection) -> str:
    return "".join(connection_info(c, me, brief=False) + "\n" for c in core.accepted) + "\n"


def _expiry_sets(times: list[int], members: list[tuple[int, str]], core: ServerCore) -> str:
    """ExpiryQueue.dump: the buckets in time order (emptied ones too), each with its
    members; `members` are (bucket time, text)."""
    now = core.sessions.clock()
    offset = time.time() * 1000 - now  # Time.elapsedTimeToDate
    buckets: dict[int, list[str]] = {at: [] for at in times}
    for at, text in members:
        if at in buckets:
            buckets[at].append(text)
    count = sum(len(texts) for texts in buckets.values())
    text = f"Sets ({len(buckets)})/({count}):\n"
    for at, texts in buckets.items():
        text += f"{len(texts)} expire at {java_date(at + offset)}:\n"
        text += "".join(f"\t{member}\n" for member in texts)
    return text


def _dump(core: ServerCore, me: Connection) -> str:
    now = core.sessions.clock()
    sessions = [(s.expires_at_ms, f"0x{hex64(s.id)}")
                for s in sorted(core.sessions.sessions.values(), key=lambda s: s.id)]
    tree = core.tree
    owners = _chm_order(tree.ephemeral_paths)
    ephemerals = f"Sessions with Ephemerals ({len(owners)}):\n" + "".join(
        f"0x{hex64(owner)}:\n" + "".join(f"\t{path}\n" for path in tree.ephemerals(owner))
        for owner in owners)
    connections = [(c.expires_at_ms,
                    f"ip: {_address(c)} sessionId: 0x{hex64(c.session_id)}")
                   for c in core.accepted]
    return ("SessionTracker dump:\nSession "
            + _expiry_sets(core.sessions.buckets.pending(now), sessions, core)
            + "ephemeral nodes dump:\n" + ephemerals
            + "Connections dump:\nConnections "
            + _expiry_sets(core.connection_buckets.pending(now), connections, core))


def _data_watches(core: ServerCore) -> dict[str, list[int]]:
    """DataTree.dumpWatches shows the data watches only (getData, exists, addWatch), not
    the child ones: path -> watching session ids, paths in HashMap order."""
    by_path = core.watches.data.by_path
    paths = in_hash_order(by_path, grown_capacity(16, len(by_path)))
    return {path: sorted(w.session_id for w in by_path[path]) for path in paths}


def _wchp(core: ServerCore, me: Connection) -> str:
    return "".join(path + "\n" + "".join(f"\t0x{hex64(sid)}\n" for sid in sids)
                   for path, sids in _data_watches(core).items()) + "\n"


def _by_session(core: ServerCore) -> dict[int, list[str]]:
    """watch2Paths: session id -> its watched paths, each session's in HashSet order."""
    paths: dict[int, list[str]] = {}
    for path, watchers in core.watches.data.by_path.items():
        for watcher in watchers:
            paths.setdefault(watcher.session_id, []).append(path)
    return {sid: in_hash_order(paths[sid], grown_capacity(16, len(paths[sid])))
            for sid in sorted(paths)}


def _wchc(core: ServerCore, me: Connection) -> str:
    return "".join(f"0x{hex64(sid)}\n" + "".join(f"\t{path}\n" for path in paths)
                   for sid, paths in _by_session(core).items()) + "\n"


def _wchs(core: ServerCore, me: Connection) -> str:
    """WatchManager.toString: watchers, watched paths, watches; data watches only."""
    by_path = core.watches.data.by_path
    watchers = {w for ws in by_path.values() for w in ws}
    total = sum(len(ws) for ws in by_path.values())
    return f"{len(watchers)} connections watching {len(by_path)} paths\nTotal watches:{total}\n"


def _conf(core: ServerCore, me: Connection) -> str:
    """ZooKeeperServer.dumpConf with the embedded server's settings: no directories (it
    keeps nothing on disk), its connection limit (maxClientCnxns, 0 means none), the
    default listen backlog (-1), no server id (0, standalone)."""
    sessions = core.sessions
    port = me.writer.get_extra_info("sockname")[1]
    return (f"clientPort={port}\nsecureClientPort=-1\n"
            f"dataDir={IN_MEMORY_DIR}\ndataDirSize=0\n"
            f"dataLogDir={IN_MEMORY_DIR}\ndataLogSize=0\n"
            f"tickTime={sessions.tick_time_ms}\nmaxClientCnxns={core.max_client_cnxns}\n"
            f"minSessionTimeout={sessions.min_timeout_ms}\n"
            f"maxSessionTimeout={sessions.max_timeout_ms}\n"
            f"clientPortListenBacklog=-1\nserverId=0\n")


def _srst(core: ServerCore, me: Connection) -> str:
    core.stats.reset()
    return "Server stats reset.\n"


def _dirs(core: ServerCore, me: Connection) -> str:
    return "datadir_size: 0\nlogdir_size: 0\n"  # nothing on disk


def _gtmk(core: ServerCore, me: Connection) -> str:
    return str(core.trace_mask)


def _hash(core: ServerCore, me: Connection) -> str:
    """DigestCommand lists the digest log; the embedded server keeps none (nor does a
    ZooKeeper before its first digest is logged)."""
    return ""


def _crst(core: ServerCore, me: Connection) -> str:
    for connection in core.accepted:
        connection.stats.reset()
    return "Connection stats reset.\n"


WORDS: dict[bytes, Word] = {
    b"ruok": _ruok, b"isro": _isro, b"envi": _envi, b"srvr": _srvr, b"stat": _stat,
    b"cons": _cons, b"dump": _dump, b"wchp": _wchp, b"wchc": _wchc, b"wchs": _wchs,
    b"conf": _conf, b"srst": _srst, b"crst": _crst, b"dirs": _dirs, b"gtmk": _gtmk,
    b"hash": _hash,
}
# stmk is followed by the new trace mask, a long, before it is answered.
SET_TRACE_MASK = b"stmk"
DEFAULT_TRACE_MASK = 306  # ZooTrace's: client requests, server packets, sessions, warnings


# FourLetterCommands.cmd2String: the words ZooKeeper looks for in a first frame.
KNOWN = frozenset({*WORDS, b"mntr", SET_TRACE_MASK, b"\xff\xf4\xff\xfd"})


def answer(word: bytes, core: ServerCore, me: Connection,
           argument: bytes = b"") -> bytes | None:
    """The answer to `word` (`argument`: the 8 bytes after stmk), or None when ZooKeeper
    runs nothing for it."""
    if word == b"mntr":
        return mntr(core, VERSION, node_count(core)).encode()
    if word == SET_TRACE_MASK:  # SetTraceMaskCommand: it keeps the mask and says it
        core.trace_mask = int.from_bytes(argument, "big", signed=True)
        return str(core.trace_mask).encode()
    run = WORDS.get(word)
    return None if run is None else run(core, me).encode()
