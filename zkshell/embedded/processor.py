"""Requests in, replies out: ZooKeeper's PrepRequestProcessor and FinalRequestProcessor in one.

`RequestProcessor.process` takes one decoded request header and the rest of the frame, does
what the opcode says to the tree, sessions and watches, and returns the reply bytes.  It is
synchronous and runs on the server's one event loop, so requests from all connections are
applied one at a time, and the watch events a write causes are handed to the connections
before its reply is: a client always sees an event before the reply that follows it.

Rules kept from ZooKeeper:
- bytes that are not the request's record give MarshallingError; a write has taken its
  zxid by then (3.8.0 decodes a write's record after getNextZxid), a read takes none;
- a write takes its zxid before it is checked, so a failed write consumes one;
- the reply header carries the tree's last processed zxid, for reads too;
- a multi that fails reports OK for the ops before the failing one, the error for it and
  RuntimeInconsistency for the ones after, under reply error 0; nothing of it is applied;
- an unknown opcode gets Unimplemented and the connection is closed
  (UnimplementedRequestProcessor).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from zkshell.embedded import acl as acls
from zkshell.embedded.codes import PING_XID, Err, EventType, Op, ZooKeeperError
from zkshell.embedded.jute import Id, MalformedRecord, Reader, Writer, reply_header
from zkshell.embedded.sessions import SessionTracker
from zkshell.embedded.stats import NamespaceStats
from zkshell.embedded.tree import DataTree, Transaction
from zkshell.embedded.watches import WatchManager

_log = logging.getLogger(__name__)


class Client(Protocol):
    """A connection as the processor sees it."""

    session_id: int
    auth: list[Id]

    def notify(self, event_type: EventType, path: str) -> None: ...


class Reply(NamedTuple):
    payload: bytes | None  # None: nothing is sent
    close_connection: bool = False


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


# The writes a multi may hold (MultiOperationRecord); each may also come on its own.
_WRITE_OPS = (Op.CREATE, Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER, Op.DELETE,
              Op.SET_DATA, Op.CHECK)
# Every request that becomes a transaction, and so takes a zxid, whatever happens to it.
_TXN_OPS = (*_WRITE_OPS, Op.SET_ACL, Op.MULTI, Op.RECONFIG, Op.DELETE_CONTAINER)


def _read_create(reader: Reader, opcode: int) -> tuple:
    path, data, acl, flags = reader.path(), reader.buffer(), reader.acl_list(), reader.int()
    ttl = reader.long() if opcode == Op.CREATE_TTL else -1
    return path, data, acl, flags, ttl


def _read_op(reader: Reader, opcode: int) -> tuple:
    """One sub-op's request record."""
    if opcode in (Op.CREATE, Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER):
        return _read_create(reader, opcode)
    if opcode in (Op.DELETE, Op.CHECK):
        return reader.path(), reader.int()
    if opcode == Op.SET_DATA:
        return reader.path(), reader.buffer(), reader.int()
    if opcode in (Op.GET_DATA, Op.GET_CHILDREN):
        path, _watch = reader.path(), reader.bool()  # multiRead sets no watches
        return (path,)
    raise MalformedRecord(f"no multi op of type {opcode}")


def _read_multi(reader: Reader, allowed: tuple[int, ...]) -> list[tuple[int, tuple]]:
    """MultiOperationRecord: (MultiHeader, record)* ended by a header with done set."""
    ops = []
    while True:
        opcode, done, _err = reader.int(), reader.bool(), reader.int()
        if done:
            return ops
        if opcode not in allowed:
            raise MalformedRecord(f"no multi op of type {opcode}")
        args = _read_op(reader, opcode)
        if opcode in (Op.CREATE, Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER):
            opcode = _create_op_in_multi(args[3], opcode)
        ops.append((opcode, args))


def _create_op_in_multi(flags: int, opcode: int) -> int:
    """MultiOperationRecord turns every create into Op.create(...), whose opcode comes from
    the flags: createTTL for a TTL mode, createContainer for a container, else create (a
    create2 in a multi answers as a plain create, measured on 3.8.0)."""
    if flags in (5, 6):
        return Op.CREATE_TTL
    if flags == 4:
        return Op.CREATE_CONTAINER
    return Op.CREATE if opcode != Op.CREATE_TTL else opcode


class RequestProcessor:
    def __init__(self, tree: DataTree, sessions: SessionTracker, watches: WatchManager,
                 wall_clock: Callable[[], int] = wall_clock_ms,
                 super_digest: str | None = None,
                 namespaces: NamespaceStats | None = None) -> None:
        self.super_digest = super_digest  # "super:<base64 sha1>", as ZooKeeper is given it
        self.namespaces = namespaces if namespaces is not None else NamespaceStats()
        self.tree = tree
        self.sessions = sessions
        self.watches = watches
        self.wall_clock = wall_clock
        self.handlers: dict[int, Callable[[Client, Reader, int], bytes | None]] = {
            **{opcode: self._single_write for opcode in _WRITE_OPS},
            Op.SET_ACL: self._set_acl, Op.MULTI: self._multi, Op.MULTI_READ: self._multi_read,
            Op.DELETE_CONTAINER: self._delete_container, Op.RECONFIG: self._reconfig,
            Op.EXISTS: self._exists, Op.GET_DATA: self._get_data, Op.GET_ACL: self._get_acl,
            Op.GET_CHILDREN: self._get_children, Op.GET_CHILDREN2: self._get_children,
            Op.SYNC: self._sync, Op.GET_ALL_CHILDREN_NUMBER: self._all_children_number,
            Op.GET_EPHEMERALS: self._get_ephemerals, Op.WHO_AM_I: self._who_am_i,
            Op.SET_WATCHES: self._set_watches, Op.SET_WATCHES2: self._set_watches,
            Op.ADD_WATCH: self._add_watch, Op.CHECK_WATCHES: self._check_watches,
            Op.REMOVE_WATCHES: self._remove_watches,
        }

    # ---------------------------------------------------------------------------------------
    # Sessions

    def open_session(self, timeout_ms: int) -> int:
        """createSession: a new id, and a zxid for it."""
        session = self.sessions.create(timeout_ms)
        self.tree.begin(session.id, self.wall_clock())
        return session.id

    def _commit(self, txn: Transaction) -> None:
        """A transaction went through: its watches fire, and DataTree's write statistics
        count each node created, changed or deleted (with its data as it stands now)."""
        for change in txn.changes:
            if change.event in (EventType.NODE_CREATED, EventType.NODE_DATA_CHANGED):
                node = self.tree.get(change.path)
                self.namespaces.write(change.path, len(node.data or b"") if node else 0)
            elif change.event == EventType.NODE_DELETED:
                self.namespaces.write(change.path, 0)
        self.watches.deliver(txn.changes)

    def close_session(self, session_id: int) -> None:
        """closeSession, asked for or by expiry: a zxid, the ephemerals gone, watches fired."""
        txn = self.tree.begin(session_id, self.wall_clock())
        self.tree.close_session(txn, session_id)
        self.sessions.remove(session_id)
        self._commit(txn)

    def delete_expired_containers(self) -> None:
        """ContainerManager: each empty container or expired TTL node is one deleteContainer
        request of its own, so one zxid each."""
        for path in self.tree.expired_containers(self.wall_clock()):
            txn = self.tree.begin(0, self.wall_clock())
            try:
                self.tree.delete_container(txn, path)
            except ZooKeeperError:
                continue
            self._commit(txn)

    # ---------------------------------------------------------------------------------------
    # Requests

    def process(self, client: Client, xid: int, opcode: int, reader: Reader) -> Reply:
        if opcode == Op.PING:
            return Reply(reply_header(PING_XID, self.tree.last_zxid, 0))
        if opcode == Op.CLOSE_SESSION:
            self.close_session(client.session_id)
            return Reply(reply_header(xid, self.tree.last_zxid, 0), close_connection=True)
        if opcode == Op.AUTH:
            return self._auth(client, xid, reader)
        if opcode == Op.SASL:
            # Without SASL configured, ZooKeeperServer.processSasl answers every token with
            # an empty SetSASLResponse (zxid 0) and carries on.
            return Reply(reply_header(xid, 0, Err.OK) + Writer().buffer(None).bytes())
        handler = self.handlers.get(opcode)
        if handler is None:
            return Reply(reply_header(xid, -1, Err.UNIMPLEMENTED), close_connection=True)
        body = None
        zxid_before = self.tree.last_zxid
        try:
            if not self.sessions.is_live(client.session_id):
                raise ZooKeeperError(Err.SESSION_EXPIRED)
            body = handler(client, reader, opcode)
            err = Err.OK
        except ZooKeeperError as exc:
            err = exc.code
        except (MalformedRecord, UnicodeError, OverflowError):
            err = Err.MARSHALLING_ERROR
            if opcode in _TXN_OPS and self.tree.last_zxid == zxid_before:
                self.tree.begin(client.session_id, self.wall_clock())
        except Exception as exc:  # a bug of ours; FinalRequestProcessor's answer to its own
            _log.warning("request of type %d failed: %r", opcode, exc)
            _log.debug("request of type %d failed", opcode, exc_info=True)
            err = Err.MARSHALLING_ERROR
        if opcode == Op.CHECK and err == Err.OK:
            # FinalRequestProcessor answers a check outside a multi with a null Stat, which
            # fails to serialize: measured on 3.8.0, no reply at all, and the connection and
            # session carry on.  Clients only send check inside a multi.
            return Reply(None)
        payload = reply_header(xid, self.tree.last_zxid, err)
        return Reply(payload + body if body is not None and err == Err.OK else payload)

    def _auth(self, client: Client, xid: int, reader: Reader) -> Reply:
        """ZooKeeperServer.processPacket: the scheme's provider adds an id to the connection;
        an unknown scheme ("world" included) or a bad packet is AuthFailed, and the
        connection closes.  The reply's zxid is 0."""
        try:
            _type, scheme, auth = reader.int(), reader.string(), reader.buffer()
            peer = next((i.id for i in client.auth if i.scheme == "ip"), "")
            identities = acls.authenticate(scheme or "", auth or b"", peer, self.super_digest)
        except MalformedRecord:
            identities = []
        if not identities:
            return Reply(reply_header(xid, 0, Err.AUTH_FAILED), close_connection=True)
        client.auth.extend(i for i in identities if i not in client.auth)
        return Reply(reply_header(xid, 0, Err.OK))

    def _write(self, client: Client, apply: Callable[[Transaction], bytes | None]) -> bytes | None:
        """Run one write in a transaction of its own; its changes reach the watchers only
        when it succeeds.  Not undoable: a single write fails, if at all, before it changes
        anything (a multi is undone op by op, see `_multi`)."""
        txn = self.tree.begin(client.session_id, self.wall_clock(), client.auth,
                              undoable=False)
        try:
            body = apply(txn)
        except Exception:
            self.tree.rollback(txn)
            raise
        self._commit(txn)
        return body

    # Writes ---------------------------------------------------------------------------------

    def _single_write(self, client: Client, reader: Reader, opcode: int) -> bytes | None:
        """create, create2, createContainer, createTTL, delete, setData and check."""
        args = _read_op(reader, opcode)
        return self._write(client, lambda txn: self._apply_one(txn, opcode, args).bytes())

    def _apply_one(self, txn: Transaction, opcode: int, args: tuple) -> Writer:
        """Apply one write op (alone or in a multi) and write its response record."""
        if opcode in (Op.CREATE, Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER):
            path, data, acl, flags, ttl = args
            path, stat = self.tree.create(txn, path, data, acl, flags,
                                          container=opcode == Op.CREATE_CONTAINER, ttl=ttl)
            writer = Writer().string(path)
            return writer if opcode == Op.CREATE else writer.stat(stat)
        if opcode == Op.DELETE:
            self.tree.delete(txn, *args)
            return Writer()
        if opcode == Op.SET_DATA:
            return Writer().stat(self.tree.set_data(txn, *args))
        self.tree.check(txn, *args)
        return Writer()

    def _set_acl(self, client: Client, reader: Reader, opcode: int) -> bytes | None:
        path, acl, version = reader.path(), reader.acl_list(), reader.int()
        return self._write(client, lambda txn: Writer().stat(
            self.tree.set_acl(txn, path, acl, version)).bytes())

    def _delete_container(self, client: Client, reader: Reader, opcode: int) -> bytes | None:
        path = reader.path()
        return self._write(client, lambda txn: self.tree.delete_container(txn, path))

    def _reconfig(self, client: Client, reader: Reader, opcode: int) -> bytes | None:
        """Standalone ZooKeeper 3.8 has reconfig disabled: a zxid, then ReconfigDisabled."""
        reader.string(), reader.string(), reader.string(), reader.long()

        def refuse(txn: Transaction) -> None:
            raise ZooKeeperError(Err.RECONFIG_DISABLED)
        return self._write(client, refuse)

    def _multi(self, client: Client, reader: Reader, opcode: int) -> bytes:
        ops = _read_multi(reader, _WRITE_OPS)
        txn = self.tree.begin(client.session_id, self.wall_clock(), client.auth)
        results: list[bytes] = []
        failure: tuple[int, Err] | None = None
        for index, (opcode, args) in enumerate(ops):
            try:
                body = self._apply_one(txn, opcode, args)
                # MultiResponse: a create answers as create2 unless it was a plain create.
                kind = Op.CREATE if opcode == Op.CREATE else (
                    Op.CREATE2 if opcode in (Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER)
                    else opcode)
                results.append(Writer().int(kind).bool(False).int(0).bytes() + body.bytes())
            except ZooKeeperError as exc:
                failure = (index, exc.code)
                break
            except Exception:
                self.tree.rollback(txn)
                raise
        if failure is not None:
            self.tree.rollback(txn)
            failed_at, code = failure
            results = []
            for index in range(len(ops)):
                err = (Err.OK if index < failed_at else code if index == failed_at
                       else Err.RUNTIME_INCONSISTENCY)
                results.append(Writer().int(Op.ERROR).bool(False).int(err).int(err).bytes())
        else:
            self._commit(txn)
        return b"".join(results) + Writer().int(-1).bool(True).int(-1).bytes()

    # Reads ----------------------------------------------------------------------------------

    def _exists(self, client: Client, reader: Reader, opcode: int) -> bytes:
        path, watch = reader.path(), reader.bool()
        if "\0" in path:
            raise ZooKeeperError(Err.BAD_ARGUMENTS, path)
        node = self.tree.get(path)  # 3.8 checks no ACL for exists ("TODO" in its source)
        if watch:  # DataTree.statNode: the watch is set whether or not the node exists
            self.watches.watch_data(path, client)
        if node is None:
            raise ZooKeeperError(Err.NO_NODE, path)
        self.namespaces.read(path, 0)
        return Writer().stat(node.stat()).bytes()

    def _get_data(self, client: Client, reader: Reader, opcode: int) -> bytes:
        path, watch = reader.path(), reader.bool()
        node = self.tree.readable(path, client.auth)
        if watch:
            self.watches.watch_data(path, client)
        self.namespaces.read(path, len(node.data or b""))
        return Writer().buffer(node.data).stat(node.stat()).bytes()

    def _get_children(self, client: Client, reader: Reader, opcode: int) -> bytes:
        path, watch = reader.path(), reader.bool()
        node = self.tree.readable(path, client.auth)
        if watch:
            self.watches.watch_children(path, client)
        names = node.child_names()
        self.namespaces.read(path, sum(map(len, names)))
        writer = Writer().strings(names)
        return writer.stat(node.stat()).bytes() if opcode == Op.GET_CHILDREN2 else writer.bytes()

    def _get_acl(self, client: Client, reader: Reader, opcode: int) -> bytes:
        acl, stat = self.tree.get_acl(reader.path(), client.auth)
        return Writer().acl_list(acl).stat(stat).bytes()

    def _sync(self, client: Client, reader: Reader, opcode: int) -> bytes:
        return Writer().string(reader.string()).bytes()

    def _all_children_number(self, client: Client, reader: Reader, opcode: int) -> bytes:
        path = reader.path()
        self.tree.readable(path, client.auth)
        return Writer().int(self.tree.all_children_number(path)).bytes()

    def _get_ephemerals(self, client: Client, reader: Reader, opcode: int) -> bytes:
        """FinalRequestProcessor: all of them for an empty prefix or "/", else those whose
        path starts with the prefix (a string prefix, not a subtree)."""
        prefix = (reader.string() or "").strip()
        mine = self.tree.ephemerals(client.session_id)
        if prefix and prefix != "/":
            mine = [path for path in mine if path.startswith(prefix)]
        return Writer().strings(mine).bytes()

    def _who_am_i(self, client: Client, reader: Reader, opcode: int) -> bytes:
        """AuthUtil.getClientInfos: scheme and user of every id of the connection, the ip
        id it got on connecting included; a digest user is the part before the colon."""
        writer = Writer().int(len(client.auth))
        for identity in acls.auth_order(client.auth):
            user = identity.id.split(":")[0] if identity.scheme == "digest" else identity.id
            writer.string(identity.scheme).string(user)
        return writer.bytes()

    def _multi_read(self, client: Client, reader: Reader, opcode: int) -> bytes:
        """multiRead: getChildren and getData, each answered or failed on its own."""
        ops = _read_multi(reader, (Op.GET_CHILDREN, Op.GET_DATA))
        out = Writer()
        for opcode, (path,) in ops:
            try:
                node = self.tree.readable(path, client.auth)
            except ZooKeeperError as exc:
                out.int(Op.ERROR).bool(False).int(exc.code).int(exc.code)
                continue
            out.int(opcode).bool(False).int(0)
            if opcode == Op.GET_CHILDREN:
                names = node.child_names()
                self.namespaces.read(path, sum(map(len, names)))
                out.strings(names)
            else:
                self.namespaces.read(path, len(node.data or b""))
                out.buffer(node.data).stat(node.stat())
        return out.int(-1).bool(True).int(-1).bytes()

    # Watches --------------------------------------------------------------------------------

    def _set_watches(self, client: Client, reader: Reader, opcode: int) -> None:
        relative_zxid = reader.long()
        data, exist, child = reader.strings(), reader.strings(), reader.strings()
        persistent = recursive = []
        if opcode == Op.SET_WATCHES2:
            persistent, recursive = reader.strings(), reader.strings()
        self.watches.set_watches(self.tree, relative_zxid, data, exist, child, client,
                                 persistent, recursive)
        return None

    def _add_watch(self, client: Client, reader: Reader, opcode: int) -> bytes:
        path, mode = reader.path(), reader.int()
        if mode not in (0, 1):
            raise MalformedRecord(f"no watch mode {mode}")
        self.watches.add_watch(path, client, recursive=mode == 1)
        return Writer().int(0).bytes()  # ErrorResponse(0)

    def _watch_tables(self, kind: int) -> list:
        """WatcherType: 1 Children, 2 Data, 3 Any."""
        tables = {1: [self.watches.child], 2: [self.watches.data],
                  3: [self.watches.child, self.watches.data]}
        if kind not in tables:
            raise MalformedRecord(f"no watcher type {kind}")
        return tables[kind]

    def _check_watches(self, client: Client, reader: Reader, opcode: int) -> None:
        path, kind = reader.path(), reader.int()
        if not any(table.any_on(path) for table in self._watch_tables(kind)):
            raise ZooKeeperError(Err.NO_WATCHER, path)
        return None

    def _remove_watches(self, client: Client, reader: Reader, opcode: int) -> None:
        path, kind = reader.path(), reader.int()
        removed = [table.remove(path, client) for table in self._watch_tables(kind)]
        if not any(removed):
            raise ZooKeeperError(Err.NO_WATCHER, path)
        return None
