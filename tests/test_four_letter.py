"""The four-letter words, on real ZooKeeper 3.8 and on the embedded server alike.

One scenario per backend (three raw-wire sessions, ephemerals, data, child and persistent
watches, a fired watch), then every word once, in a fixed order, after `srst` and `crst`
zeroed the counters.  Raw-wire clients never ping, so every count is exact.  The answers
are normalised only where a figure is the machine's and not the server's (session ids and
ports become the session's name, times and latencies become N, dates DATE) and where
ZooKeeper's own order is that of Java object identities (connections, sessions of one
expiry bucket): those blocks are sorted.  Everything else must match real ZooKeeper's text
exactly, for the server pane of issue 12 parses these answers.
"""

from __future__ import annotations

import re
import socket
import struct

import pytest

from tests.conftest import make_server, wait_until
from tests.embedded_wire import WireClient, create_body
from zkshell.embedded.codes import Op
from zkshell.embedded.jute import Writer
from zkshell.embedded.monitor import COUNTERS, GAUGES, PERCENTILE_SUMMARIES, SUMMARIES
from zkshell.server import four_letter_word, granted_session_timeout

WORDS = ("ruok", "isro", "srvr", "stat", "cons", "dump", "wchc", "wchp", "wchs", "conf",
         "dirs", "envi", "mntr", "gtmk", "hash")
TIMEOUT_MS = 30_000


class Scenario:
    def __init__(self, address: str) -> None:
        self.address = address
        self.clients: dict[str, WireClient] = {}

    def connect(self, name: str) -> WireClient:
        client = WireClient(self.address)
        assert client.connect(timeout_ms=TIMEOUT_MS) == TIMEOUT_MS
        self.clients[name] = client
        return client

    def names(self) -> dict[str, str]:
        """What to write instead of each session id and each client's address."""
        names = {}
        for name, client in self.clients.items():
            names[format(client.session_id & (1 << 64) - 1, "x")] = name
            host, port = client.sock.getsockname()[:2]
            names[f"/{host}:{port}"] = f"/{name}"
        return names

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _path_and_watch(path: str, watch: bool = True) -> bytes:
    return Writer().string(path).bool(watch).bytes()


def play(scenario: Scenario) -> None:
    a, b = scenario.connect("A"), scenario.connect("B")
    scenario.connect("C")  # a session that does nothing
    assert a.call(Op.CREATE, create_body("/app")).err == 0
    for name in ("e1", "e2", "e3"):
        assert a.call(Op.CREATE, create_body(f"/app/{name}", b"x" * 3, flags=1)).err == 0
    assert a.call(Op.CREATE, create_body("/app/x", b"hello")).err == 0
    assert b.call(Op.CREATE, create_body("/b", flags=1)).err == 0
    assert b.call(Op.CREATE, create_body("/bb", b"12", flags=1)).err == 0
    assert b.call(Op.GET_DATA, _path_and_watch("/app")).err == 0
    assert b.call(Op.GET_CHILDREN, _path_and_watch("/app")).err == 0  # not shown: a child watch
    assert b.call(Op.EXISTS, _path_and_watch("/nothere")).err != 0
    for i in range(20):  # more paths than a 16-bin HashMap holds: ZooKeeper's order grows
        assert a.call(Op.EXISTS, _path_and_watch(f"/w{i:02d}")).err != 0
    assert a.call(Op.GET_DATA, _path_and_watch("/app/e1")).err == 0
    assert b.call(Op.ADD_WATCH, Writer().string("/app/x").int(0).bytes()).err == 0
    # setData fires B's persistent watch (it stays); the create fires A's exists watch
    assert a.call(Op.SET_DATA, Writer().string("/app/x").buffer(b"hello!").int(-1).bytes()
                  ).err == 0
    assert a.call(Op.CREATE, create_body("/w00")).err == 0
    assert a.call(Op.SYNC, Writer().string("/").bytes()).err == 0


_DATE = re.compile(r"\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \w+ \d{4}")
_TIMED = re.compile(r"\b(est|lresp|llat|minlat|avglat|maxlat)=\d+")


def normalise(text: str, names: dict[str, str]) -> str:
    text = re.sub(r"/[0-9.]+:\d+", lambda m: names.get(m.group(0), "/ME"), text)
    text = re.sub(r"0x([0-9a-f]{8,})", lambda m: names.get(m.group(1), m.group(0)), text)
    text = _DATE.sub("DATE", text)
    text = _TIMED.sub(lambda m: f"{m.group(1)}=N", text)
    return re.sub(r"Latency min/avg/max: \S+", "Latency min/avg/max: N", text)


def _sorted_block(text: str, start: str) -> str:
    """Sort the lines starting with `start` among themselves, where they stand."""
    lines = text.split("\n")
    where = [i for i, line in enumerate(lines) if line.startswith(start)]
    for i, line in zip(where, sorted(lines[i] for i in where)):
        lines[i] = line
    return "\n".join(lines)


def capture(backend: str) -> dict[str, str]:
    """The scenario on a fresh server of `backend`, then every word's normalised answer
    (and, under "raw-" + word, the answer as it came)."""
    server = make_server(backend, tick_time_ms=2000)
    server.start()
    try:
        if backend == "embedded":
            # LocalServer's start-up check opens and closes a session: the same here
            granted_session_timeout(server.host, server.port, 4000)
        scenario = Scenario(server.address)
        try:
            play(scenario)
            raw = {"cons-before": four_letter_word(server.host, server.port, "cons"),
                   "mntr-before": four_letter_word(server.host, server.port, "mntr"),
                   "srst": four_letter_word(server.host, server.port, "srst"),
                   "crst": four_letter_word(server.host, server.port, "crst")}
            for word in WORDS:
                raw[word] = four_letter_word(server.host, server.port, word)
            # stmk last: it sets the trace mask, a long after the word
            raw["stmk"] = _answer(server.port, b"stmk" + struct.pack("!q", 0x312)).decode()
            raw["gtmk-after"] = four_letter_word(server.host, server.port, "gtmk")
            names = scenario.names()
        finally:
            scenario.close()
    finally:
        server.cleanup()
    return {word: normalise(text, names) for word, text in raw.items()} | {
        "raw-" + word: text for word, text in raw.items()}


@pytest.fixture(scope="module")
def answers(backend: str) -> dict[str, str]:
    return capture(backend)


def test_the_trace_mask_words_and_hash(answers):
    """The trace mask starts as ZooTrace's; stmk sets and says it.  hash lists the digest
    log, empty on a server this young."""
    assert (answers["gtmk"], answers["stmk"], answers["gtmk-after"]) == ("306", "786", "786")
    assert answers["hash"] == ""


def test_ruok_isro_srst_crst_dirs(answers):
    assert answers["ruok"] == "imok"
    assert answers["isro"] == "rw"
    assert answers["srst"] == "Server stats reset.\n"
    assert answers["crst"] == "Connection stats reset.\n"
    assert answers["dirs"].startswith("datadir_size: ")
    assert re.fullmatch(r"datadir_size: \d+\nlogdir_size: \d+\n", answers["dirs"])


_VERSION_LINE = re.compile(r"Zookeeper version: 3\.8\.0-[^\n]*\n")


def test_srvr_counts_what_happened_since_srst(answers):
    """After srst: srst's answer (1 sent), crst, ruok, isro (1 in, 1 out each), srvr (1 in,
    its answer not sent yet); the znodes: 4 of ZooKeeper's, /app and its 4 children, /b,
    /bb, /w00, the root counted twice."""
    assert _VERSION_LINE.match(answers["srvr"])
    assert _VERSION_LINE.sub("", answers["srvr"]) == (
        "Latency min/avg/max: N\n"
        "Received: 4\n"
        "Sent: 4\n"
        "Connections: 4\n"
        "Outstanding: 0\n"
        "Zxid: 0xe\n"
        "Mode: standalone\n"
        "Node count: 13\n")


def test_stat_is_srvr_with_the_clients_and_their_counts_since_crst(answers):
    assert _sorted_block(_VERSION_LINE.sub("", answers["stat"]), " /") == (
        "Clients:\n"
        " /A[1](queued=0,recved=0,sent=0)\n"
        " /B[1](queued=0,recved=0,sent=0)\n"
        " /C[1](queued=0,recved=0,sent=0)\n"
        " /ME[0](queued=0,recved=1,sent=0)\n"
        "\n"
        "Latency min/avg/max: N\n"
        "Received: 5\n"
        "Sent: 5\n"
        "Connections: 4\n"
        "Outstanding: 0\n"
        "Zxid: 0xe\n"
        "Mode: standalone\n"
        "Node count: 13\n")


def test_cons_lists_every_connection_with_its_session(answers):
    """crst zeroed the counts and the last operation (NA, cxid and zxid -1)."""
    assert _sorted_block(answers["cons"], " /") == (
        " /A[1](queued=0,recved=0,sent=0,sid=A,lop=NA,est=N,to=30000,"
        "lzxid=0xffffffffffffffff,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /B[1](queued=0,recved=0,sent=0,sid=B,lop=NA,est=N,to=30000,"
        "lzxid=0xffffffffffffffff,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /C[1](queued=0,recved=0,sent=0,sid=C,lop=NA,est=N,to=30000,"
        "lzxid=0xffffffffffffffff,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /ME[0](queued=0,recved=1,sent=0)\n"
        "\n")


def _chm_order(session_ids: list[int]) -> list[int]:
    """How ZooKeeper's ConcurrentHashMap<Long, ...> of ephemerals (16 bins) orders them:
    by bin, the bin from Long.hashCode spread."""
    def bin_of(session_id: int) -> int:
        code = (session_id ^ (session_id >> 32)) & 0xFFFFFFFF
        return (code ^ (code >> 16)) & 15
    return sorted(session_ids, key=bin_of)


def _session_ids(answers) -> dict[int, str]:
    cons = answers["raw-cons"]
    normalised = answers["cons"]
    ids = re.findall(r"sid=0x([0-9a-f]+)", cons)
    names = re.findall(r"sid=(\w+),", normalised)
    return dict(zip((int(i, 16) for i in ids), names))


def test_cons_tells_each_connections_counts_and_last_request(answers):
    """A: connect, 29 requests (the last a sync), and its exists watch on /w00 fired; B:
    connect, 6 requests (the last addWatch), and its persistent watch on /app/x fired; C:
    only its connect.  The last zxid is the one the last reply carried."""
    assert _sorted_block(answers["cons-before"], " /") == (
        " /A[1](queued=0,recved=30,sent=31,sid=A,lop=SYNC,est=N,to=30000,lcxid=0x1d,"
        "lzxid=0xe,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /B[1](queued=0,recved=7,sent=8,sid=B,lop=ADDW,est=N,to=30000,lcxid=0x6,"
        "lzxid=0xc,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /C[1](queued=0,recved=1,sent=1,sid=C,lop=SESS,est=N,to=30000,lcxid=0x0,"
        "lzxid=0x5,lresp=N,llat=N,minlat=N,avglat=N,maxlat=N)\n"
        " /ME[0](queued=0,recved=1,sent=0)\n"
        "\n")
    latencies = re.findall(r"llat=(\d+),minlat=(\d+),avglat=(\d+),maxlat=(\d+)",
                           answers["raw-cons-before"])
    assert len(latencies) == 3
    for last, low, avg, high in latencies:
        assert int(low) <= int(avg) <= int(high) and int(low) <= int(last) <= int(high)


def test_dump_lists_sessions_each_sessions_ephemerals_and_connections(answers):
    """Expiry buckets: a bucket a session or connection has left stays listed, empty,
    until its time comes; how many there are depends on the clock."""
    text = answers["dump"]
    sessions = re.fullmatch(r"SessionTracker dump:\nSession Sets \(\d+\)/\(3\):\n"
                            r"((?:\d+ expire at DATE:\n(?:\t\w+\n)*)+)(ephemeral.*)", text,
                            re.DOTALL)
    assert sessions, text
    assert sorted(re.findall(r"\t(\w+)\n", sessions.group(1))) == ["A", "B", "C"]
    ephemerals = {"A": "\t/app/e1\n\t/app/e2\n\t/app/e3\n", "B": "\t/b\n\t/bb\n"}
    ids = _session_ids(answers)
    owners = [ids[i] for i in _chm_order([i for i, name in ids.items() if name in "AB"])]
    assert sessions.group(2).split("Connections dump:")[0] == (
        "ephemeral nodes dump:\n"
        "Sessions with Ephemerals (2):\n"
        + "".join(f"{owner}:\n{ephemerals[owner]}" for owner in owners))
    connections = text.split("Connections dump:\n")[1]
    assert re.fullmatch(r"Connections Sets \(\d+\)/\(4\):\n"
                        r"(?:\d+ expire at DATE:\n(?:\tip: /\w+ sessionId: \w+\n)*)+",
                        connections), connections
    assert sorted(re.findall(r"\tip: (/\w+) sessionId: (\w+)\n", connections)) == [
        ("/A", "A"), ("/B", "B"), ("/C", "C"), ("/ME", "0x0")]
    # the sessions' connections expire a session timeout after their last I/O, later
    # than the sessionless one asking
    assert connections.index("/ME") < connections.index("/A")


# The data watches left: B's getData on /app, exists on /nothere and persistent watch on
# /app/x; A's getData on /app/e1 and exists on /w01.. /w19 (/w00's fired).  Paths in
# ZooKeeper's HashMap order (32 bins by now); B's child watch on /app is not listed.
_PATHS = ["/app/e1", "/app", "/app/x", "/w09", "/w08", "/w19", "/w10", "/nothere", "/w07",
          "/w18", "/w06", "/w17", "/w05", "/w16", "/w04", "/w15", "/w03", "/w14", "/w02",
          "/w13", "/w01", "/w12", "/w11"]
_B_PATHS = {"/app", "/nothere", "/app/x"}


def test_wchp_lists_each_watched_path_with_its_sessions(answers):
    assert answers["wchp"] == "".join(
        f"{path}\n\t{'B' if path in _B_PATHS else 'A'}\n" for path in _PATHS) + "\n"


def test_wchc_lists_each_sessions_watched_paths(answers):
    assert answers["wchc"].endswith("\n\n")
    by_session: dict[str, list[str]] = {}
    for line in answers["wchc"].rstrip("\n").split("\n"):
        if line.startswith("\t"):
            by_session[list(by_session)[-1]].append(line[1:])
        else:
            by_session[line] = []
    assert sorted(by_session) == ["A", "B"]
    assert by_session["B"] == ["/app", "/app/x", "/nothere"]  # a HashSet's order
    assert sorted(by_session["A"]) == sorted(set(_PATHS) - _B_PATHS)


def test_wchs_counts_the_data_watches(answers):
    assert answers["wchs"] == "2 connections watching 23 paths\nTotal watches:23\n"


def test_conf_says_the_servers_settings(answers, backend):
    conf = dict(line.split("=", 1) for line in answers["conf"].splitlines())
    assert list(conf) == ["clientPort", "secureClientPort", "dataDir", "dataDirSize",
                          "dataLogDir", "dataLogSize", "tickTime", "maxClientCnxns",
                          "minSessionTimeout", "maxSessionTimeout",
                          "clientPortListenBacklog", "serverId"]
    assert (conf["tickTime"], conf["minSessionTimeout"], conf["maxSessionTimeout"]) == (
        "2000", "4000", "40000")
    assert (conf["secureClientPort"], conf["maxClientCnxns"], conf["serverId"]) == (
        "-1", "0", "0")


def test_envi_is_an_environment_list_with_the_version_first(answers):
    lines = answers["envi"].splitlines()
    assert lines[0] == "Environment:"
    assert lines[1].startswith("zookeeper.version=3.8.0-")
    assert all(re.fullmatch(r"[a-z.]+=.*", line) for line in lines[1:])
    keys = [line.split("=")[0] for line in lines[1:]]
    for key in ("host.name", "os.name", "os.arch", "os.version", "user.name", "user.home",
                "user.dir"):
        assert key in keys


def _mntr(answers, word: str = "mntr") -> dict[str, str]:
    lines = [line.split("\t") for line in answers[word].splitlines()]
    assert all(len(line) == 2 and line[0].startswith("zk_") for line in lines)
    return {key[3:]: value for key, value in lines}


# Read: getData /app (4 bytes of path, 0 of data, 68 of Stat), getChildren /app (4, the
# names e1e2e3x, 68), getData /app/e1 (7, 3, 68); exists of a missing node reads nothing.
# Written: /app 4, /app/e1.. 7+3 each, /app/x 6+5, then 6+6; /b 2; /bb 3+2; /w00 4.
# Namespaces in ZooKeeper's ConcurrentHashMap order: bb before b.
_NAMESPACES = {"app_read": ("76.3333", "72", "79", "3", "229"),
               "app_write": ("9.5", "4", "12", "6", "57"),
               "bb_write": ("5.0", "5", "5", "1", "5"),
               "b_write": ("2.0", "2", "2", "1", "2"),
               "w00_write": ("4.0", "4", "4", "1", "4")}
_SUMMARY = ("avg", "min", "max", "cnt", "sum")


def test_mntr_has_zookeeper_3_8_0s_keys_in_its_order(answers):
    summaries = [f"{kind}_{name}" for name in SUMMARIES for kind in _SUMMARY]
    percentiles = [f"{kind}_{name}" for name in PERCENTILE_SUMMARIES
                   for kind in (*_SUMMARY, "p50", "p95", "p99", "p999")]
    namespaces = [f"{kind}_{name}_per_namespace" for name in _NAMESPACES
                  for kind in _SUMMARY]
    assert list(_mntr(answers)) == GAUGES + COUNTERS + summaries + percentiles + namespaces


def test_mntr_counts_bytes_read_and_written_per_top_level_znode_until_srst(answers):
    before, after = _mntr(answers, "mntr-before"), _mntr(answers)
    for name, values in _NAMESPACES.items():
        for kind, value in zip(_SUMMARY, values):
            key = f"{kind}_{name}_per_namespace"
            assert (before[key], after[key]) == (value, "0.0" if kind == "avg" else "0")


def test_mntr_values_from_the_servers_state(answers):
    """Counters count from srst: its answer went out; the 13 words after it came in and
    went out; mntr itself came in.  No request since srst: no latencies."""
    values = _mntr(answers)
    assert {key: values[key] for key in (
        "server_state", "ephemerals_count", "num_alive_connections", "outstanding_requests",
        "znode_count", "global_sessions", "packets_sent", "packets_received",
        "watch_count", "approximate_data_size", "local_sessions", "bytes_received_count",
        "connection_request_count", "cnt_updatelatency", "cnt_readlatency",
        "connection_drop_probability")} == {
        "server_state": "standalone", "ephemerals_count": "5",
        "num_alive_connections": "4", "outstanding_requests": "0",
        "znode_count": "13", "global_sessions": "3",
        "packets_sent": "14", "packets_received": "14",
        # 23 data watches, B's child watch on /app and persistent one on /app/x
        "watch_count": "25",
        # path lengths and data lengths, the root twice ("" and "/")
        "approximate_data_size": str(sum(map(len, (
            "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "/app", "/app/e1xxx",
            "/app/e2xxx", "/app/e3xxx", "/app/xhello!", "/b", "/bb12", "/w00")))),
        "local_sessions": "0", "bytes_received_count": str(14 * 4),
        "connection_request_count": "0", "cnt_updatelatency": "0", "cnt_readlatency": "0",
        "connection_drop_probability": "0.0"}
    for key in ("avg_latency", "avg_readlatency"):
        assert re.fullmatch(r"\d+\.\d+(E-?\d+)?", values[key])


def test_mntr_counts_responses_and_watchers_told(answers):
    """Before srst: 899 bytes of replies to requests (connect responses and events not
    counted); A's exists watch on /w00 told of NodeCreated, B's persistent watch on
    /app/x of NodeDataChanged; 14 transactions (the start-up check's session and its
    close, 3 sessions, 9 writes) and 26 reads (sync and addWatch among them)."""
    values = _mntr(answers, "mntr-before")
    assert {key: values[key] for key in (
        "response_bytes", "cnt_node_created_watch_count", "sum_node_created_watch_count",
        "cnt_node_changed_watch_count", "cnt_node_deleted_watch_count",
        "cnt_node_children_watch_count", "cnt_updatelatency", "cnt_readlatency")} == {
        "response_bytes": "899", "cnt_node_created_watch_count": "1",
        "sum_node_created_watch_count": "1", "cnt_node_changed_watch_count": "1",
        "cnt_node_deleted_watch_count": "0", "cnt_node_children_watch_count": "0",
        "cnt_updatelatency": "14", "cnt_readlatency": "26"}


def test_mntr_counts_an_expired_session_and_the_watchers_its_end_told(fresh_server):
    """A session that stops talking expires; its ephemeral goes: one data watcher told of
    NodeDeleted, one child watcher of NodeChildrenChanged on /."""
    watcher = WireClient(fresh_server.address)
    watcher.connect(timeout_ms=fresh_server.max_session_timeout_ms)
    doomed = WireClient(fresh_server.address)
    doomed.connect(timeout_ms=fresh_server.min_session_timeout_ms)
    assert doomed.call(Op.CREATE, create_body("/doomed", flags=1)).err == 0
    assert watcher.call(Op.EXISTS, _path_and_watch("/doomed")).err == 0
    assert watcher.call(Op.GET_CHILDREN, _path_and_watch("/")).err == 0

    def mntr() -> dict[str, str]:
        text = four_letter_word(fresh_server.host, fresh_server.port, "mntr")
        return dict(line.split("\t") for line in text.splitlines())
    assert wait_until(lambda: mntr()["zk_stale_sessions_expired"] == "1")
    values = mntr()
    watcher.close()
    doomed.close()
    assert {key: values[f"zk_{key}"] for key in (
        "cnt_node_deleted_watch_count", "sum_node_deleted_watch_count",
        "cnt_node_children_watch_count", "sum_node_children_watch_count",
        "ephemerals_count", "global_sessions")} == {
        "cnt_node_deleted_watch_count": "1", "sum_node_deleted_watch_count": "1",
        "cnt_node_children_watch_count": "1", "sum_node_children_watch_count": "1",
        "ephemerals_count": "0", "global_sessions": "1"}


def test_mntr_sums_quota_limits_and_usage_by_top_level_name(fresh_server):
    """The limits and stats nodes setquota makes, written by hand: a hard limit wins over
    the soft one; the server counts /app's two znodes (5 bytes) and /b's one (2 bytes)."""
    client = WireClient(fresh_server.address)
    client.connect()
    for path, data in (("/app", b""), ("/app/a", b"12345"), ("/b", b"xy"),
                       ("/zookeeper/quota/app", b""),
                       ("/zookeeper/quota/app/zookeeper_limits",
                        b"count=5,bytes=-1,countHardLimit=9"),
                       ("/zookeeper/quota/app/zookeeper_stats", b"count=0,bytes=0"),
                       ("/zookeeper/quota/b", b""),
                       ("/zookeeper/quota/b/zookeeper_limits", b"count=-1;bytes=100"),
                       ("/zookeeper/quota/b/zookeeper_stats", b"count=0,bytes=0")):
        assert client.call(Op.CREATE, create_body(path, data)).err == 0
    lines = four_letter_word(fresh_server.host, fresh_server.port, "mntr").splitlines()
    client.close()
    start = lines.index("zk_non_mtls_local_conn_count\t0") + 1
    assert lines[start:start + 9] == [
        "zk_app_quota_bytes_limit_per_namespace\t-1",
        "zk_b_quota_bytes_limit_per_namespace\t100",
        "zk_app_quota_count_usage_per_namespace\t2",
        "zk_b_quota_count_usage_per_namespace\t1",
        "zk_app_quota_count_limit_per_namespace\t9",
        "zk_b_quota_count_limit_per_namespace\t-1",
        "zk_app_quota_bytes_usage_per_namespace\t5",
        "zk_b_quota_bytes_usage_per_namespace\t2",
        "zk_proposal_count\t0"]


def _answer(port: int, data: bytes) -> bytes:
    """What the server writes to a connection that sends `data`, until it closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # a frame cut short: no more bytes come
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def test_an_unknown_word_or_garbage_closes_that_connection_only(fresh_server):
    """An unknown word, the telnet close sequence ZooKeeper knows but runs nothing for, a
    frame cut short, a negative length: each connection is closed without a word, and
    is gone from `cons`; the bystander's is served on."""
    bystander = WireClient(fresh_server.address)
    bystander.connect()
    for data in (b"xyzw", b"\xff\xf4\xff\xfd", b"ruo", struct.pack("!i", -5)):
        assert _answer(fresh_server.port, data) == b""
    assert bystander.call(Op.EXISTS, _path_and_watch("/", False)).err == 0
    cons = four_letter_word(fresh_server.host, fresh_server.port, "cons")
    host, port = bystander.sock.getsockname()[:2]
    assert len(cons.splitlines()) == 3, cons  # the bystander, the asker, the blank line
    assert cons.startswith(f" /{host}:{port}[1]") or f"\n /{host}:{port}[1]" in cons
    bystander.close()
