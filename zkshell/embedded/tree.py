"""The data tree: znodes with their full Stat, and ZooKeeper's rules for changing them.

Plain data and functions, no sockets and no clock: the caller passes the time and the
session.  The rules follow PrepRequestProcessor (checks, in its order, and zxids) and
DataTree (how Stat fields move):

- every write takes the next zxid before it is checked, so a failed write consumes one too
  (`Transaction` is created first, then the operation may fail); a multi shares one;
- a create adds one to the parent's stored cversion (a count of child creates) and sets
  its pzxid to the zxid; the sequence suffix is that count before the create, as %010d;
- a delete sets the parent's pzxid (only forward) and leaves the stored cversion alone; the
  cversion a client sees is 2 * creates - children (see `Znode.stat`), so it moves on
  deletes too;
- a write that fails changes nothing (a failed multi is rolled back).

Each write reports what it changed as `Change` records; the watch manager turns them into
events.  Nothing here knows about watches or connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

from zkshell.embedded import acl as acls
from zkshell.embedded import quotas
from zkshell.embedded.codes import Err, EventType, Perm, ZooKeeperError
from zkshell.embedded.javaorder import (
    JavaHashSet,
    capacity_for_clone,
    grown_capacity,
    in_hash_order,
)
from zkshell.embedded.jute import ACL, Id, Stat
from zkshell.embedded.paths import SPECIAL_PATHS, child_name, normal, parent_of, path_problem

CONTAINER_OWNER = -(1 << 63)  # EphemeralType.CONTAINER_EPHEMERAL_OWNER, Long.MIN_VALUE
_EXTENDED_MASK = 0xFF << 56  # EphemeralType: the high byte 0xff marks a TTL owner
TTL_MAX = (1 << 40) - 1  # EphemeralType.TTL.maxValue()


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def ttl_owner(ttl: int) -> int:
    """EphemeralType.TTL.toEphemeralOwner: 0xff in the high byte, the ttl below."""
    return _signed64(_EXTENDED_MASK | ttl)


def owner_kind(owner: int) -> str:
    """EphemeralType.get: "void" (persistent), "container", "ttl" or "session"."""
    if owner == 0:
        return "void"
    if owner == CONTAINER_OWNER:
        return "container"
    if owner & _EXTENDED_MASK == _EXTENDED_MASK:
        return "ttl"
    return "session"


class CreateMode(NamedTuple):
    """CreateMode.fromFlag."""

    ephemeral: bool
    sequential: bool
    container: bool
    ttl: bool

    @classmethod
    def from_flags(cls, flags: int, path: str) -> CreateMode:
        modes = {0: (False, False, False, False), 1: (True, False, False, False),
                 2: (False, True, False, False), 3: (True, True, False, False),
                 4: (False, False, True, False), 5: (False, False, False, True),
                 6: (False, True, False, True)}
        if flags not in modes:
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        return cls(*modes[flags])


@dataclass
class Znode:
    data: bytes | None
    acl: list[ACL]
    czxid: int = 0
    mzxid: int = 0
    pzxid: int = 0
    ctime: int = 0
    mtime: int = 0
    version: int = 0
    cversion: int = 0  # as StatPersisted stores it: the number of child creates
    aversion: int = 0
    ephemeral_owner: int = 0  # stored as is: a session id, CONTAINER_OWNER or a TTL owner
    # Child names as DataNode's HashSet holds them, iterated in Java's order.
    children: JavaHashSet = field(default_factory=JavaHashSet)

    def child_names(self) -> list[str]:
        return list(self.children)

    def stat(self) -> Stat:
        """The Stat a client sees (DataNode.copyStat): the stored cversion counts child
        creates, the client's counts changes, 2 * creates - children still there; a
        container's or TTL node's owner shows as 0."""
        owner = self.ephemeral_owner if owner_kind(self.ephemeral_owner) == "session" else 0
        return Stat(self.czxid, self.mzxid, self.ctime, self.mtime, self.version,
                    2 * self.cversion - len(self.children), self.aversion, owner,
                    len(self.data) if self.data else 0, len(self.children), self.pzxid)

    def copy(self) -> Znode:
        return replace(self, acl=list(self.acl), children=self.children.copy())


class Change(NamedTuple):
    """What a write did to one path, in DataTree's watch-trigger terms: NodeCreated and
    NodeDataChanged go to data watches, NodeDeleted to data and child watches of the path,
    NodeChildrenChanged to child watches of the parent (given as `path`)."""

    event: EventType
    path: str


@dataclass
class Transaction:
    """One zxid's worth of writes: who, when, and what to undo if it fails."""

    zxid: int
    time_ms: int
    session_id: int
    auth: list[Id]
    changes: list[Change] = field(default_factory=list)
    undo: dict[str, Znode | None] = field(default_factory=dict)
    # A single write checks everything before it changes anything, so only a multi needs
    # the undo records; skipping them saves copying a parent's child set at every create.
    undoable: bool = True


def _initial_nodes() -> dict[str, Znode]:
    """/, /zookeeper, /zookeeper/quota and /zookeeper/config as DataTree's constructor makes
    them: all Stat fields 0, except that /zookeeper/config gets setACL(READ, version -1)."""
    return {
        "/": Znode(b"", list(acls.OPEN_ACL_UNSAFE), children=JavaHashSet(["zookeeper"])),
        "/zookeeper": Znode(b"", list(acls.OPEN_ACL_UNSAFE),
                            children=JavaHashSet(["quota", "config"])),
        "/zookeeper/quota": Znode(b"", list(acls.OPEN_ACL_UNSAFE)),
        "/zookeeper/config": Znode(b"", list(acls.READ_ACL_UNSAFE), aversion=-1),
    }


def _check_version(current: int, expected: int, path: str) -> int:
    """PrepRequestProcessor.checkAndIncVersion: -1 matches any version."""
    if expected != -1 and expected != current:
        raise ZooKeeperError(Err.BAD_VERSION, path)
    return current + 1


class DataTree:
    """All znodes by path, and the last zxid the tree has processed."""

    def __init__(self) -> None:
        self.nodes: dict[str, Znode] = _initial_nodes()
        self.last_zxid = 0
        # Each session's ephemeral paths in creation order, and how far ZooKeeper's HashSet
        # of them has grown (it never shrinks).
        self.ephemeral_paths: dict[int, dict[str, None]] = {}
        self.ephemeral_capacity: dict[int, int] = {}

    def _put(self, path: str, node: Znode | None) -> None:
        """Set or remove the node at `path`, keeping the ephemerals index in step."""
        old = self.nodes.pop(path, None)
        if old is not None and owner_kind(old.ephemeral_owner) == "session":
            self.ephemeral_paths.get(old.ephemeral_owner, {}).pop(path, None)
        if node is None:
            return
        self.nodes[path] = node
        owner = node.ephemeral_owner
        if owner_kind(owner) == "session":
            mine = self.ephemeral_paths.setdefault(owner, {})
            mine[path] = None
            self.ephemeral_capacity[owner] = grown_capacity(
                self.ephemeral_capacity.get(owner, 16), len(mine))

    # ---------------------------------------------------------------------------------------
    # Transactions

    def begin(self, session_id: int, time_ms: int, auth: list[Id] | None = None,
              *, undoable: bool = True) -> Transaction:
        """Take the next zxid: every write, session create and close included, takes one
        before anything is checked (PrepRequestProcessor calls getNextZxid first)."""
        self.last_zxid += 1
        return Transaction(self.last_zxid, time_ms, session_id, list(auth or []),
                           undoable=undoable)

    def rollback(self, txn: Transaction) -> None:
        """Undo what `txn` did (a multi whose later op failed); the zxid stays consumed."""
        for path, saved in txn.undo.items():
            self._put(path, saved)
        txn.undo.clear()
        txn.changes.clear()

    def _touch(self, txn: Transaction, path: str) -> Znode | None:
        """The node at `path`, remembered as it was before `txn` first changed it."""
        node = self.nodes.get(path)
        if txn.undoable and path not in txn.undo:
            txn.undo[path] = node.copy() if node is not None else None
        return node

    # ---------------------------------------------------------------------------------------
    # Reads

    def get(self, path: str) -> Znode | None:
        return self.nodes.get(path)

    def existing(self, path: str) -> Znode:
        node = self.nodes.get(path)
        if node is None:
            raise ZooKeeperError(Err.NO_NODE, path)
        return node

    def readable(self, path: str, auth: list[Id], perm: int = Perm.READ) -> Znode:
        node = self.existing(path)
        acls.check_acl(node.acl, perm, auth, path)
        return node

    def children(self, path: str) -> list[str]:
        return self.existing(path).child_names()

    def all_children_number(self, path: str) -> int:
        """DataTree.getAllChildrenNumber: every node below `path`, /zookeeper's included."""
        if path == "/":
            return len(self.nodes) - 1
        prefix = path + "/"
        return sum(1 for key in self.nodes if key.startswith(prefix))

    def ephemerals(self, session_id: int) -> list[str]:
        """In ZooKeeper's order: DataTree keeps a session's ephemerals in a HashSet (16
        bins, more once it has held more than 12) and hands out a clone of it, which is
        what getEphemerals lists and closeSession deletes in order."""
        mine = list(self.ephemeral_paths.get(session_id, {})) if session_id else []
        kept = in_hash_order(mine, self.ephemeral_capacity.get(session_id, 16))
        return in_hash_order(kept, capacity_for_clone(len(kept)))

    def get_acl(self, path: str, auth: list[Id]) -> tuple[list[ACL], Stat]:
        """getACL needs READ or ADMIN; without ADMIN digest ids come back as "user:x"."""
        node = self.readable(path, auth, Perm.READ | Perm.ADMIN)
        try:
            acls.check_acl(node.acl, Perm.ADMIN, auth, path)
            return list(node.acl), node.stat()
        except ZooKeeperError:
            return acls.redacted(node.acl), node.stat()

    # ---------------------------------------------------------------------------------------
    # Writes (each inside a Transaction)

    def create(self, txn: Transaction, path: str, data: bytes | None, acl: list[ACL],
               flags: int, *, container: bool = False, ttl: int = -1) -> tuple[str, Stat]:
        """create/create2/createContainer/createTTL; returns the actual path and its Stat.

        `container` is the createContainer opcode and `ttl` createTTL's ttl: the opcode, not
        the flags, decides a container's or TTL node's owner, as in DataTree.processTxn.
        """
        mode = CreateMode.from_flags(flags, path)
        if mode.ttl != (ttl != -1) or (mode.ttl and not 0 < ttl <= TTL_MAX):
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)  # EphemeralType.validateTTL
        if "/" not in path or "\0" in path:
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)  # validatePathForCreate
        parent_path = normal(parent_of(path))
        fixed_acl = acls.fixup_acl(path, acl, txn.auth)
        parent = self.existing(parent_path)
        acls.check_acl(parent.acl, Perm.CREATE, txn.auth, path)
        if mode.sequential:
            path += f"{parent.cversion:010d}"
        if path_problem(path):
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        if path in self.nodes:
            raise ZooKeeperError(Err.NODE_EXISTS, path)
        if owner_kind(parent.ephemeral_owner) == "session":
            raise ZooKeeperError(Err.NO_CHILDREN_FOR_EPHEMERALS, path)

        if container:
            owner = CONTAINER_OWNER
        elif ttl != -1:
            owner = ttl_owner(ttl)
        else:
            owner = txn.session_id if mode.ephemeral else 0
        parent = self._touch(txn, parent_path)
        self._touch(txn, path)
        parent.cversion += 1
        parent.pzxid = txn.zxid
        parent.children.add(child_name(path))
        node = Znode(data, fixed_acl, czxid=txn.zxid, mzxid=txn.zxid, pzxid=txn.zxid,
                     ctime=txn.time_ms, mtime=txn.time_ms, ephemeral_owner=owner)
        self._put(path, node)
        stat = node.stat()  # DataTree.createNode copies it before the quota bookkeeping
        counted = quotas.is_stats_node(path)
        if counted is not None:
            node.data = quotas.format_stats(*quotas.subtree_counts(counted, self.nodes))
        self._count_for_quota(txn, path, len(data or b""), 1)
        txn.changes += [Change(EventType.NODE_CREATED, path),
                        Change(EventType.NODE_CHILDREN_CHANGED, parent_path)]
        return path, stat

    def _count_for_quota(self, txn: Transaction, path: str, size: int, count: int) -> None:
        """DataTree.updateQuotaStat: move the stats of the quota `path` falls under."""
        quota = quotas.quota_path_of(path, self.nodes)
        stats = self.nodes.get(quotas.stats_path(quota)) if quota else None
        current = quotas.parse_stats(stats.data) if stats else None
        if current is None:
            return
        stats = self._touch(txn, quotas.stats_path(quota))
        stats.data = quotas.format_stats(current[0] + count, current[1] + size)

    def delete(self, txn: Transaction, path: str, version: int,
               *, check_acl: bool = True) -> None:
        if "/" not in path or "\0" in path or path in SPECIAL_PATHS:
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)  # getParentPathAndValidate
        parent_path = normal(parent_of(path))
        parent = self.existing(parent_path)
        if check_acl:
            acls.check_acl(parent.acl, Perm.DELETE, txn.auth, path)
        node = self.existing(path)
        _check_version(node.version, version, path)
        if node.children:
            raise ZooKeeperError(Err.NOT_EMPTY, path)
        self._remove(txn, path)

    def _remove(self, txn: Transaction, path: str) -> None:
        parent_path = normal(parent_of(path))
        parent = self._touch(txn, parent_path)
        gone = self._touch(txn, path)
        self._count_for_quota(txn, path, -len(gone.data or b""), -1)
        self._put(path, None)
        parent.children.discard(child_name(path))
        parent.pzxid = max(parent.pzxid, txn.zxid)  # DataTree.deleteNode: only forward
        txn.changes += [Change(EventType.NODE_DELETED, path),
                        Change(EventType.NODE_CHILDREN_CHANGED, parent_path)]

    def set_data(self, txn: Transaction, path: str, data: bytes | None, version: int) -> Stat:
        if path_problem(path):
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        node = self.existing(path)
        acls.check_acl(node.acl, Perm.WRITE, txn.auth, path)
        new_version = _check_version(node.version, version, path)
        node = self._touch(txn, path)
        self._count_for_quota(txn, path, len(data or b"") - len(node.data or b""), 0)
        node.data, node.version = data, new_version
        node.mzxid, node.mtime = txn.zxid, txn.time_ms
        txn.changes.append(Change(EventType.NODE_DATA_CHANGED, path))
        return node.stat()

    def set_acl(self, txn: Transaction, path: str, acl: list[ACL], version: int) -> Stat:
        if path_problem(path):
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        fixed_acl = acls.fixup_acl(path, acl, txn.auth)
        node = self.existing(path)
        acls.check_acl(node.acl, Perm.ADMIN, txn.auth, path)
        new_version = _check_version(node.aversion, version, path)
        node = self._touch(txn, path)
        node.acl, node.aversion = fixed_acl, new_version
        return node.stat()

    def check(self, txn: Transaction, path: str, version: int) -> None:
        if path_problem(path):
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        node = self.existing(path)
        acls.check_acl(node.acl, Perm.READ, txn.auth, path)
        _check_version(node.version, version, path)

    def close_session(self, txn: Transaction, session_id: int) -> list[str]:
        """closeSession (asked for or by expiry): the session's ephemerals go, all with the
        close's zxid (DataTree.killSession); returns their paths."""
        gone = self.ephemerals(session_id)
        for path in gone:
            self._remove(txn, path)
        self.ephemeral_capacity.pop(session_id, None)
        self.ephemeral_paths.pop(session_id, None)
        return gone

    # ---------------------------------------------------------------------------------------
    # Containers and TTL nodes (ContainerManager)

    def expired_containers(self, now_ms: int) -> list[str]:
        """Containers that once had children and have none now, and TTL nodes without
        children not changed for longer than their ttl: what ContainerManager deletes."""
        found = []
        for path, node in self.nodes.items():
            if node.children:
                continue
            kind = owner_kind(node.ephemeral_owner)
            if kind == "container" and node.cversion > 0:
                found.append(path)
            elif kind == "ttl" and now_ms - node.mtime > node.ephemeral_owner & TTL_MAX:
                found.append(path)
        return found

    def delete_container(self, txn: Transaction, path: str) -> None:
        """deleteContainer: NotEmpty with children, BadVersion for a plain node."""
        node = self.existing(path)
        if node.children:
            raise ZooKeeperError(Err.NOT_EMPTY, path)
        if owner_kind(node.ephemeral_owner) not in ("container", "ttl"):
            raise ZooKeeperError(Err.BAD_VERSION, path)
        self._remove(txn, path)
