"""`mntr`: ZooKeeper 3.8.0's monitoring keys, in the order a standalone 3.8.0 prints them.

The order is that of ZooKeeperServer.dumpMonitorValues and then DefaultMetricsProvider's
gauges, counters, summaries and summaries with percentiles (Java hash maps, so fixed for a
fixed set of names), recorded from a real 3.8.0 server, and last the keys for each
top-level znode read or written (`zk_avg_<name>_read_per_namespace`, ...) in the order of
ZooKeeper's ConcurrentHashMap of names.  A key the embedded server has the facts for
carries them (`_gauges`, the counters and summaries `mntr` fills in); every other one is
what a fresh ZooKeeper shows for machinery the embedded server does not have: 0.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from zkshell.embedded.codes import EventType
from zkshell.embedded.javaorder import concurrent_capacity, in_hash_order
from zkshell.embedded.quotas import LIMITS, QUOTA_ROOT, STATS
from zkshell.embedded.stats import Latency, PercentileLatency, java_double, top_namespace

if TYPE_CHECKING:
    from zkshell.embedded.server import ServerCore
    from zkshell.embedded.tree import DataTree

GAUGES = """\
version server_state ephemerals_count num_alive_connections avg_latency outstanding_requests
znode_count global_sessions non_mtls_remote_conn_count last_client_response_size packets_sent
packets_received max_client_response_size connection_drop_probability watch_count
auth_failed_count min_latency max_file_descriptor_count approximate_data_size
open_file_descriptor_count local_sessions uptime max_latency outstanding_tls_handshake
min_client_response_size non_mtls_local_conn_count proposal_count watch_bytes
""".split()
COUNTERS = """\
outstanding_changes_removed throttled_ops stale_requests_dropped large_requests_rejected
insecure_admin_count connection_rejected cnxn_closed_without_zk_server_running
sessionless_connections_expired looking_count dead_watchers_queued stale_requests
connection_drop_count learner_proposal_received_count digest_mismatches_count
dead_watchers_cleared response_packet_cache_hits bytes_received_count
add_dead_watcher_stall_time request_throttle_wait_count
requests_not_forwarded_to_commit_processor response_packet_cache_misses ensemble_auth_success
prep_processor_request_queued learner_commit_received_count stale_replies
connection_request_count response_bytes ensemble_auth_fail diff_count
response_packet_get_children_cache_misses connection_revalidate_count
quit_leading_due_to_disloyal_voter snap_count unrecoverable_error_count unsuccessful_handshake
commit_count stale_sessions_expired response_packet_get_children_cache_hits
sync_processor_request_queued outstanding_changes_queued request_commit_queued
ensemble_auth_skip skip_learner_request_to_next_processor_count tls_handshake_exceeded
revalidate_count
""".split()
SUMMARIES = """\
socket_closing_time proposal_process_time leader_unavailable_time node_created_watch_count
session_queues_drained write_commit_proc_req_queued connection_token_deficit
read_commit_proc_req_queued node_deleted_watch_count startup_txns_load_time
sync_processor_queue_size follower_sync_time prep_processor_queue_size fsynctime
inflight_snap_count reads_issued_from_session_queue learner_request_processor_queue_size
snapshottime unavailable_time startup_txns_loaded reads_after_write_in_session_queue
requests_in_session_queue write_commit_proc_issued prep_process_time pending_session_queue_size
time_waiting_empty_pool_in_commit_processor_read_ms commit_process_time dbinittime
inflight_diff_count netty_queued_buffer_capacity election_time commit_commit_proc_req_queued
sync_processor_batch_size node_children_watch_count write_batch_time_in_commit_processor
read_commit_proc_issued concurrent_request_processing_in_commit_processor observer_sync_time
node_changed_watch_count sync_process_time startup_snap_load_time
""".split()
PERCENTILE_SUMMARIES = """\
prep_processor_queue_time_ms jvm_pause_time_ms close_session_prep_time read_commitproc_time_ms
updatelatency local_write_committed_time_ms request_throttle_queue_time_ms readlatency
quorum_ack_latency om_commit_process_time_ms read_final_proc_time_ms commit_propagation_latency
dead_watchers_cleaner_latency write_final_proc_time_ms proposal_ack_creation_latency
proposal_latency om_proposal_process_time_ms sync_processor_queue_and_flush_time_ms
propagation_latency server_write_committed_time_ms sync_processor_queue_time_ms
sync_processor_queue_flush_time_ms write_commitproc_time_ms
""".split()

_NOTHING = PercentileLatency()

# The gauge sets ZooKeeperServer registers for quotas, in the order 3.8.0 prints them
# (between non_mtls_local_conn_count and proposal_count): kind, the node it reads, the
# hard limit's key (None for a usage) and the figure's.
_QUOTA_SETS = (("quota_bytes_limit", LIMITS, "byteHardLimit", "bytes"),
               ("quota_count_usage", STATS, None, "count"),
               ("quota_count_limit", LIMITS, "countHardLimit", "count"),
               ("quota_bytes_usage", STATS, None, "bytes"))
_QUOTA_SETS_AFTER = "non_mtls_local_conn_count"


def _stats_track(data: bytes | None) -> dict[str, int] | None:
    """StatsTrack(String): key=value pairs split at runs of , and ;, an empty value -1."""
    values = {}
    for pair in re.split(r"[,;]+", (data or b"").decode("utf-8", "replace")):
        if not pair:
            continue
        parts = pair.split("=")
        try:
            values[parts[0]] = int(parts[1]) if parts[1] else -1
        except (IndexError, ValueError):
            return None
    return values


def _quota_gauges(tree: DataTree) -> list[tuple[str, object]]:
    """QuotaMetricsUtils: for every leaf under /zookeeper/quota that is a limits or stats
    node, its figure summed by the top-level name of the path it is the quota of; the
    hard limit when one is set, else the soft one."""
    leaves = [path for path in tree.nodes
              if path.startswith(QUOTA_ROOT + "/") and not tree.nodes[path].children]
    lines = []
    for kind, node_name, hard_key, key in _QUOTA_SETS:
        totals: dict[str, int] = {}
        for path in leaves:
            if not path.endswith("/" + node_name):
                continue
            namespace = top_namespace(path[len(QUOTA_ROOT):])
            track = _stats_track(tree.nodes[path].data)
            if namespace is None or track is None:
                continue
            hard = track.get(hard_key, -1) if hard_key else -1
            value = hard if hard > -1 else track.get(key, -1)  # getQuotaLimit
            totals[namespace] = totals.get(namespace, 0) + value
        lines += [(f"{name}_{kind}_per_namespace", totals[name])
                  for name in in_hash_order(totals, concurrent_capacity(len(totals)))]
    return lines


def _open_files() -> tuple[int, int]:
    """UnixOperatingSystemMXBean's open and maximum descriptor counts for this process
    (the JVM raises its soft limit to the hard one); 0 where the system does not say."""
    try:
        import resource
        maximum = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        maximum = 0 if maximum == resource.RLIM_INFINITY else maximum
    except (ImportError, OSError, ValueError):
        maximum = 0
    try:
        opened = len(os.listdir("/proc/self/fd"))
    except OSError:
        opened = 0
    return opened, maximum


def _gauges(core: ServerCore, version: str, znodes: int) -> dict[str, object]:
    stats, tree, table = core.stats, core.tree, core.watches
    opened, maximum = _open_files()
    watches = sum(len(ws) for t in (table.data, table.child) for ws in t.by_path.values())
    return {
        "version": version, "server_state": "standalone",
        "ephemerals_count": sum(len(paths) for paths in tree.ephemeral_paths.values()),
        "num_alive_connections": len(core.accepted),
        "avg_latency": stats.latency.avg, "min_latency": stats.latency.min,
        "max_latency": stats.latency.high,
        "znode_count": znodes,
        "global_sessions": len(core.sessions.sessions),
        "last_client_response_size": stats.last_response_size,
        "min_client_response_size": stats.min_response_size,
        "max_client_response_size": stats.max_response_size,
        "packets_sent": stats.packets_sent, "packets_received": stats.packets_received,
        "connection_drop_probability": 0.0,
        "watch_count": watches,
        # DataTree.approximateDataSize: every path's length and data's length
        "approximate_data_size": sum(len(path) + len(node.data or b"")
                                     for path, node in tree.nodes.items()),
        "open_file_descriptor_count": opened, "max_file_descriptor_count": maximum,
        "uptime": int(time.time() * 1000) - stats.started_ms,
    }


def _value(value: object) -> str:
    """MonitorCommand.print: integers as they are, other numbers as doubles."""
    if isinstance(value, float):
        return java_double(value)
    return str(value)


def _summary(name: str, counter: Latency, percentiles: bool) -> list[tuple[str, object]]:
    lines = [(f"avg_{name}", counter.avg), (f"min_{name}", counter.min),
             (f"max_{name}", counter.high), (f"cnt_{name}", counter.count),
             (f"sum_{name}", counter.total)]
    if percentiles:
        lines += [(f"{label}_{name}", counter.percentile(q))
                  for label, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99),
                                   ("p999", 0.999))]
    return lines


def mntr(core: ServerCore, version: str, znodes: int) -> str:
    """The answer; `version` and `znodes` as srvr says them."""
    stats = core.stats
    gauges = _gauges(core, version, znodes)
    counters = {"bytes_received_count": stats.bytes_received,
                "connection_request_count": stats.connection_requests,
                "response_bytes": stats.response_bytes,
                "stale_sessions_expired": stats.sessions_expired}
    tracked = {"updatelatency": stats.update_latency, "readlatency": stats.read_latency}
    told = stats.watchers_told
    watch_summaries = {"node_created_watch_count": told.get(EventType.NODE_CREATED),
                       "node_deleted_watch_count": told.get(EventType.NODE_DELETED),
                       "node_changed_watch_count": told.get(EventType.NODE_DATA_CHANGED),
                       "node_children_watch_count": told.get(EventType.NODE_CHILDREN_CHANGED)}
    lines = []
    for name in GAUGES:
        lines.append((name, gauges.get(name, 0)))
        if name == _QUOTA_SETS_AFTER:
            lines += _quota_gauges(core.tree)
    lines += [(name, counters.get(name, 0)) for name in COUNTERS]
    for name in SUMMARIES:
        lines += _summary(name, watch_summaries.get(name) or _NOTHING, percentiles=False)
    for name in PERCENTILE_SUMMARIES:
        lines += _summary(name, tracked.get(name, _NOTHING), percentiles=True)
    for kind, counters_by_name in (("read_per_namespace", stats.namespaces.reads),
                                   ("write_per_namespace", stats.namespaces.writes)):
        names = in_hash_order(counters_by_name, concurrent_capacity(len(counters_by_name)))
        for name in names:
            lines += _summary(f"{name}_{kind}", counters_by_name[name], percentiles=False)
    return "".join(f"zk_{key}\t{_value(value)}\n" for key, value in lines)
