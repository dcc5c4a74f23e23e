"""ZooKeeper 3.5/3.6+ requests kazoo 2.11 does not speak, sent on a KazooClient's own connection.

Each request is a record in kazoo's style (a namedtuple with `type`, `serialize()` and a
`deserialize(buffer, offset)` classmethod), so `kazoo_private.send(client, request, result)`
queues it like any of kazoo's own: it gets the next xid, errors in the reply header become
kazoo's exceptions (NOWATCHER, -121, is `kazoo.exceptions.NoWatcherError`), and the reply is
read on the connection thread.  The `*_async` functions add what kazoo's own methods add: the
chroot on the way out and off again on the way back.

`install_event_hook` is the other half: kazoo only hands a notification to the one-shot
watchers it registered itself, so persistent and recursive watch events never reach a caller.
"""

from __future__ import annotations

import logging
import struct
from collections import namedtuple
from collections.abc import Callable, Iterable

from kazoo.client import KazooClient
from kazoo.interfaces import IAsyncResult
from kazoo.protocol.serialization import Watch, int_struct, read_string, stat_struct, write_buffer
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL

from zkshell import kazoo_private
from zkshell.paths import validate_path

# typing costs a one-shot command milliseconds at start-up; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger(__name__)

# AddWatchMode
PERSISTENT = 0
PERSISTENT_RECURSIVE = 1

# Watcher.WatcherType
WATCHER_CHILDREN = 1
WATCHER_DATA = 2
WATCHER_ANY = 3

EVENT_TYPE_NAMES: dict[int, str] = {
    -1: "None",
    1: "NodeCreated",
    2: "NodeDeleted",
    3: "NodeDataChanged",
    4: "NodeChildrenChanged",
    5: "DataWatchRemoved",
    6: "ChildWatchRemoved",
    7: "PersistentWatchRemoved",
}

KEEPER_STATE_NAMES: dict[int, str] = {
    0: "Disconnected",
    3: "SyncConnected",
    4: "AuthFailed",
    5: "ConnectedReadOnly",
    6: "SaslAuthenticated",
    -112: "Expired",
    7: "Closed",
}

_long_struct = struct.Struct("!q")

EventHook = Callable[[int, int, str], object]


def _write_ustring(text: str) -> bytes:
    # kazoo's write_string sends "" as a null string; a path is never empty, but be exact anyway.
    encoded = text.encode("utf-8")
    return int_struct.pack(len(encoded)) + encoded


def _write_ustrings(texts: Iterable[str]) -> bytearray:
    items = list(texts)
    out = bytearray(int_struct.pack(len(items)))
    for text in items:
        out += _write_ustring(text)
    return out


def _read_ustrings(buffer: bytes, offset: int) -> tuple[list[str], int]:
    count = int_struct.unpack_from(buffer, offset)[0]
    offset += int_struct.size
    items = []
    for _ in range(max(count, 0)):  # jute writes a null vector as -1
        item, offset = read_string(buffer, offset)
        items.append(item)
    return items, offset


class AddWatch(namedtuple("AddWatch", "path mode")):
    type = 106

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path) + int_struct.pack(self.mode))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> bool:
        # The body is an ErrorResponse that is always 0: failures come in the reply header.
        return True


class CheckWatches(namedtuple("CheckWatches", "path watcher_type")):
    # The field must not be called "watcher": kazoo's reader would register it as a callback.
    type = 17

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path) + int_struct.pack(self.watcher_type))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> bool:
        return True


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    type = 18

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path) + int_struct.pack(self.watcher_type))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> bool:
        return True


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.prefix))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> list[str]:
        return _read_ustrings(buffer, offset)[0]


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> int:
        return int_struct.unpack_from(buffer, offset)[0]


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self) -> bool:
        # kazoo reads a reply only `if request and async_object`; a tuple with no fields is
        # falsy, so without this the answer would be dropped and the caller would wait forever.
        return True

    def serialize(self) -> bytearray:
        return bytearray()

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> list[tuple[str, str]]:
        count = int_struct.unpack_from(buffer, offset)[0]
        offset += int_struct.size
        infos = []
        for _ in range(max(count, 0)):
            scheme, offset = read_string(buffer, offset)
            user, offset = read_string(buffer, offset)
            infos.append((scheme, user))
        return infos


class SetWatches2(namedtuple("SetWatches2",
                             "relative_zxid data exist child persistent persistent_recursive")):
    type = 105

    def serialize(self) -> bytearray:
        out = bytearray(_long_struct.pack(self.relative_zxid))
        for paths in (self.data, self.exist, self.child, self.persistent,
                      self.persistent_recursive):
            out += _write_ustrings(paths)
        return out

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> bool:
        return True  # the reply is a bare header


def _write_acls(acls: Iterable[ACL]) -> bytearray:
    items = list(acls)
    out = bytearray(int_struct.pack(len(items)))
    for acl in items:
        out += int_struct.pack(acl.perms) + _write_ustring(acl.id.scheme)
        out += _write_ustring(acl.id.id)
    return out


def _read_path_and_stat(buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
    path, offset = read_string(buffer, offset)
    return path, ZnodeStat(*stat_struct.unpack_from(buffer, offset))


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    """A znode the server deletes once its last child is gone (CreateRequest, opcode 19);
    `flags` is CreateMode.CONTAINER's 4.  The path is sent as given: chroot it first."""
    type = 19

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path) + write_buffer(self.data)
                         + _write_acls(self.acl) + int_struct.pack(self.flags))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
        return _read_path_and_stat(buffer, offset)  # a Create2Response


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """A persistent znode that expires `ttl` ms after it was last changed while childless
    (CreateTTLRequest, opcode 21; flags 5 or 6 for PERSISTENT(_SEQUENTIAL)_WITH_TTL).
    The server refuses it unless zookeeper.extendedTypesEnabled is true."""
    type = 21

    def serialize(self) -> bytearray:
        return bytearray(_write_ustring(self.path) + write_buffer(self.data)
                         + _write_acls(self.acl) + int_struct.pack(self.flags)
                         + _long_struct.pack(self.ttl))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
        return _read_path_and_stat(buffer, offset)


def chrooted(client: KazooClient, path: str) -> str:
    """The server's path for a client path: in ZooKeeper the chroot is the client's illusion,
    so every outgoing path carries it (Java's prependChroot; no validation here, callers such
    as a sequential create may pass a path ending in /)."""
    chroot = client.chroot or ""
    if chroot in ("", "/"):
        return path
    return chroot if path == "/" else chroot + path


def unchrooted(client: KazooClient, path: str) -> str:
    """A server path as the client sees it.  Unlike kazoo's unchroot this only strips whole
    components: with chroot /app, /apple stays /apple instead of becoming "le"."""
    chroot = client.chroot or ""
    if chroot in ("", "/"):
        return path
    if path == chroot:
        return "/"
    if path.startswith(chroot + "/"):
        return path[len(chroot):]
    return path


def _target(client: KazooClient, path: str) -> str:
    validate_path(path)  # as the Java client does, so a bad path fails here, not on the server
    return chrooted(client, path)


def _send(client: KazooClient, request: Any) -> IAsyncResult:
    result = client.handler.async_result()
    kazoo_private.send(client, request, result)
    return result


def _mapped(client: KazooClient, inner: IAsyncResult,
            convert: Callable[[Any], Any]) -> IAsyncResult:
    """A result that holds `convert(value)` of `inner`, or its exception."""
    outer = client.handler.async_result()

    def relay(done: IAsyncResult) -> None:
        try:
            outer.set(convert(done.get_nowait()))
        except Exception as exc:
            outer.set_exception(exc)

    inner.rawlink(relay)
    return outer


def add_watch_async(client: KazooClient, path: str, mode: int) -> IAsyncResult:
    """addWatch: a watch that stays after it fires (PERSISTENT) or also covers descendants
    (PERSISTENT_RECURSIVE).  Its events only reach callers through `install_event_hook`."""
    if mode not in (PERSISTENT, PERSISTENT_RECURSIVE):
        raise ValueError(f"unknown addWatch mode {mode!r}")
    return _send(client, AddWatch(_target(client, path), mode))


def _check_watcher_type(watcher_type: int) -> None:
    if watcher_type not in (WATCHER_CHILDREN, WATCHER_DATA, WATCHER_ANY):
        raise ValueError(f"unknown watcher type {watcher_type!r}")


def check_watches_async(client: KazooClient, path: str, watcher_type: int) -> IAsyncResult:
    """checkWatches: True when the server holds such a watch for this session, else the result
    raises NoWatcherError."""
    _check_watcher_type(watcher_type)
    return _send(client, CheckWatches(_target(client, path), watcher_type))


def remove_watches_async(client: KazooClient, path: str, watcher_type: int) -> IAsyncResult:
    """removeWatches: drop this session's watches of that type on `path` (Any also drops
    persistent ones); the result raises NoWatcherError when there was none."""
    _check_watcher_type(watcher_type)
    target = _target(client, path)
    # Forget kazoo's own callbacks before the request goes out: once the reply is read it is
    # too late to do it without racing the caller's next command.
    kazoo_private.forget_watchers(client, target,
                                  data=watcher_type in (WATCHER_DATA, WATCHER_ANY),
                                  child=watcher_type in (WATCHER_CHILDREN, WATCHER_ANY))
    return _send(client, RemoveWatches(target, watcher_type))


def get_ephemerals_async(client: KazooClient, prefix: str = "/") -> IAsyncResult:
    """getEphemerals: this session's ephemeral znodes whose path starts with `prefix` (a plain
    string prefix: /app/e matches /app/eph), as chroot-relative paths."""
    request = GetEphemerals(_target(client, prefix))
    return _mapped(client, _send(client, request),
                   lambda paths: [unchrooted(client, p) for p in paths])


def get_all_children_number_async(client: KazooClient, path: str) -> IAsyncResult:
    """getAllChildrenNumber: how many descendants `path` has, at every depth."""
    return _send(client, GetAllChildrenNumber(_target(client, path)))


def who_am_i_async(client: KazooClient) -> IAsyncResult:
    """whoAmI: the (scheme, user) identities the server has for this connection."""
    return _send(client, WhoAmI())


def set_watches_async(client: KazooClient, relative_zxid: int, data: Iterable[str] = (),
                      exist: Iterable[str] = (), child: Iterable[str] = (),
                      persistent: Iterable[str] = (),
                      persistent_recursive: Iterable[str] = ()) -> IAsyncResult:
    """setWatches2: register watches on a new connection of the same session, as the Java
    client does after a reconnect (kazoo does not).  A data or child watch whose znode changed
    after `relative_zxid` fires at once instead.  The Java client splits huge lists into
    several requests to stay under the server's packet limit; this sends one."""
    def on_server(paths: Iterable[str]) -> list[str]:
        # No validation: these are paths the server accepted a watch on before.
        return [chrooted(client, p) for p in paths]

    return _send(client, SetWatches2(relative_zxid, on_server(data), on_server(exist),
                                     on_server(child), on_server(persistent),
                                     on_server(persistent_recursive)))


def install_event_hook(client: KazooClient, on_event: EventHook) -> Callable[[], None]:
    """Call `on_event(event_type, keeper_state, path)` for every watch notification this
    client's connection receives, before kazoo handles it; returns a function that stops it.

    It runs on kazoo's connection thread, in the order the server sent things, so it sees an
    event before the reply of the request that caused it.  For the same reason it must not
    block, nor wait for a kazoo reply (that reply could only be read after it returns).
    """
    def relay(buffer: bytes, offset: int) -> None:
        try:
            watch, _ = Watch.deserialize(buffer, offset)
            path = unchrooted(client, watch.path) if watch.path else watch.path
        except Exception:
            log.debug("undecodable watch event", exc_info=True)
            return
        try:
            on_event(watch.type, watch.state, path)
        except Exception:  # said here, where the log names the hook, and kazoo carries on
            log.debug("watch event hook %r failed", on_event, exc_info=True)

    return kazoo_private.read_watch_events(client, relay)


# ---- bulk requests: bodies encoded here, sent with kazoo_private.send_bundle ----------------
GET_CHILDREN = 8
SET_ACL = 7
MULTI_READ = 22
_ERROR_TYPE = -1
_multi_header = struct.Struct("!i?i")  # MultiHeader: type, done, err
_MULTI_END = _multi_header.pack(-1, True, -1)
_bool_false, _bool_true = b"\x00", b"\x01"


def get_children_body(server_path: str, watch: bool) -> bytes:
    """A GetChildrenRequest's body; the path is sent as given (chroot it first)."""
    return _write_ustring(server_path) + (_bool_true if watch else _bool_false)


def multi_read_children_body(server_paths: Iterable[str]) -> bytes:
    """A multiRead (ZooKeeper 3.6+) of one getChildren per path, without watches (multiRead
    cannot set any)."""
    return _multi_body(GET_CHILDREN, server_paths, _bool_false)


def _multi_body(op_type: int, server_paths: Iterable[str], tail: bytes) -> bytes:
    """A multi (or multiRead) of one `op_type` op per path, each path followed by `tail`."""
    out = bytearray()
    op_header = _multi_header.pack(op_type, False, -1)
    for path in server_paths:
        out += op_header + _write_ustring(path) + tail
    out += _MULTI_END
    return bytes(out)


def set_acl_body(server_path: str, acls: Iterable[ACL], version: int) -> bytes:
    """A SetACLRequest's body."""
    return set_acl_bodies([server_path], acls, version)[0]


def set_acl_bodies(server_paths: Iterable[str], acls: Iterable[ACL],
                   version: int) -> list[bytes]:
    """SetACLRequest bodies setting one ACL on each path (setAcl -R), the ACL encoded once."""
    tail = bytes(_write_acls(acls) + int_struct.pack(version))
    return [_write_ustring(path) + tail for path in server_paths]


def read_children(buffer: bytes, offset: int) -> list[str]:
    """A GetChildrenResponse: the child names, in the server's order."""
    return _read_ustrings(buffer, offset)[0]


def read_multi_read(buffer: bytes, offset: int) -> list[list[str] | int]:
    """A multiRead's answer to getChildren ops: per op its child names, or its error code."""
    results: list[list[str] | int] = []
    while True:
        op_type, done, err = _multi_header.unpack_from(buffer, offset)
        offset += _multi_header.size
        if done:
            return results
        if op_type == _ERROR_TYPE:
            results.append(int_struct.unpack_from(buffer, offset)[0])
            offset += int_struct.size
        else:
            names, offset = _read_ustrings(buffer, offset)
            results.append(names)


MULTI = 14
_DELETE = 2
_ANY_VERSION = int_struct.pack(-1)


def delete_multi_body(server_paths: Iterable[str]) -> bytes:
    """A multi of one delete (any version) per path, in the order given."""
    return _multi_body(_DELETE, server_paths, _ANY_VERSION)


def multi_failed(err: int, buffer: bytes, offset: int) -> bool:
    """Whether a multi's reply says it failed: a failed multi applies nothing and answers
    every op with an error result."""
    if err:
        return True
    op_type = _multi_header.unpack_from(buffer, offset)[0]
    return op_type == _ERROR_TYPE
