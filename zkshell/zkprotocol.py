"""ZooKeeper 3.5+ operations that kazoo 2.11 does not speak, sent over kazoo's own connection.

Each is the real protocol request (opcode and jute record), so users see the server's own
semantics: persistent and recursive watches, watch removal, ephemerals and child counts, the
identity the server sees, TTL and container nodes, and watch re-registration (SetWatches2)
after a reconnect, which kazoo itself never does.  The event hook sees every notification
the server sends, including those of persistent watches, which kazoo drops.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Iterable

from kazoo.protocol.serialization import (
    Watch,
    int_struct,
    long_struct,
    read_string,
    stat_struct,
    write_buffer,
)
from kazoo.protocol.states import ZnodeStat

log = logging.getLogger(__name__)

EVENT_TYPE_NAMES = {
    -1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
    4: "NodeChildrenChanged", 5: "DataWatchRemoved", 6: "ChildWatchRemoved",
    7: "PersistentWatchRemoved",
}
KEEPER_STATE_NAMES = {
    0: "Disconnected", 3: "SyncConnected", 4: "AuthFailed", 5: "ConnectedReadOnly",
    6: "SaslAuthenticated", -112: "Expired", 7: "Closed",
}
ADD_WATCH_PERSISTENT, ADD_WATCH_PERSISTENT_RECURSIVE = 0, 1
WATCHER_CHILDREN, WATCHER_DATA, WATCHER_ANY = 1, 2, 3


def _string(text: str | None) -> bytes:
    """A jute ustring; unlike kazoo's writer, the empty string stays empty (not null)."""
    if text is None:
        return int_struct.pack(-1)
    data = text.encode("utf-8")
    return int_struct.pack(len(data)) + data


def _strings(items: Iterable[str]) -> bytes:
    items = list(items)
    return int_struct.pack(len(items)) + b"".join(_string(item) for item in items)


def _read_strings(buffer: bytes, offset: int) -> tuple[list[str], int]:
    count = int_struct.unpack_from(buffer, offset)[0]
    offset += int_struct.size
    items = []
    for _ in range(max(count, 0)):
        item, offset = read_string(buffer, offset)
        items.append(item)
    return items, offset


def _acl_bytes(acls) -> bytes:
    return int_struct.pack(len(acls)) + b"".join(
        int_struct.pack(acl.perms) + _string(acl.id.scheme) + _string(acl.id.id)
        for acl in acls)


def _path_and_stat(buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
    path, offset = read_string(buffer, offset)
    return path, ZnodeStat._make(stat_struct.unpack_from(buffer, offset))


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    type = 19

    def serialize(self) -> bytearray:
        return bytearray(_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl)
                         + int_struct.pack(self.flags))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
        return _path_and_stat(buffer, offset)


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self) -> bytearray:
        return bytearray(_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl)
                         + int_struct.pack(self.flags) + long_struct.pack(self.ttl))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> tuple[str, ZnodeStat]:
        return _path_and_stat(buffer, offset)


class AddWatch(namedtuple("AddWatch", "path mode")):
    type = 106

    def serialize(self) -> bytearray:
        return bytearray(_string(self.path) + int_struct.pack(self.mode))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> None:
        return None


class CheckWatches(namedtuple("CheckWatches", "path watcher_type")):
    type = 17

    def serialize(self) -> bytearray:
        return bytearray(_string(self.path) + int_struct.pack(self.watcher_type))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> None:
        return None


class RemoveWatches(CheckWatches):
    type = 18


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self) -> bytearray:
        return bytearray(_string(self.prefix))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> list[str]:
        return _read_strings(buffer, offset)[0]


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self) -> bytearray:
        return bytearray(_string(self.path))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> int:
        return int_struct.unpack_from(buffer, offset)[0]


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self) -> bool:
        return True  # kazoo only answers requests that are truthy, and this one has no fields

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


class SetWatches2(namedtuple("SetWatches2", "relative_zxid data exist child persistent "
                                            "persistent_recursive")):
    type = 105

    def serialize(self) -> bytearray:
        return bytearray(long_struct.pack(self.relative_zxid) + _strings(self.data)
                         + _strings(self.exist) + _strings(self.child)
                         + _strings(self.persistent) + _strings(self.persistent_recursive))

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> None:
        return None


def chrooted(client, path: str) -> str:
    """The server's path for a client path: kazoo's chroot prefixed, as its own calls do."""
    chroot = client.chroot or ""
    if not chroot:
        return path
    return chroot if path == "/" else chroot + path


def unchrooted(client, path: str) -> str:
    chroot = client.chroot or ""
    if chroot and path.startswith(chroot):
        return path[len(chroot):] or "/"
    return path


def _submit(client, request):
    result = client.handler.async_result()
    client._call(request, result)
    return result


def add_watch_async(client, path: str, mode: int):
    return _submit(client, AddWatch(chrooted(client, path), mode))


def check_watches_async(client, path: str, watcher_type: int):
    return _submit(client, CheckWatches(chrooted(client, path), watcher_type))


def remove_watches_async(client, path: str, watcher_type: int):
    return _submit(client, RemoveWatches(chrooted(client, path), watcher_type))


def get_all_children_number_async(client, path: str):
    return _submit(client, GetAllChildrenNumber(chrooted(client, path)))


def get_ephemerals_async(client, prefix: str):
    """Ephemerals of this session whose path starts with `prefix` (a string prefix)."""
    result = client.handler.async_result()
    inner = _submit(client, GetEphemerals(chrooted(client, prefix)))

    def unchroot(answer) -> None:
        try:
            result.set([unchrooted(client, p) for p in answer.get()])
        except Exception as exc:  # hand ZooKeeper's error to the caller unchanged
            result.set_exception(exc)

    inner.rawlink(unchroot)
    return result


def who_am_i_async(client):
    return _submit(client, WhoAmI())


def set_watches_async(client, relative_zxid: int, data: Iterable[str] = (),
                      exist: Iterable[str] = (), child: Iterable[str] = (),
                      persistent: Iterable[str] = (),
                      persistent_recursive: Iterable[str] = ()):
    def chroot_all(paths: Iterable[str]) -> list[str]:
        return [chrooted(client, p) for p in paths]

    return _submit(client, SetWatches2(relative_zxid, chroot_all(data), chroot_all(exist),
                                       chroot_all(child), chroot_all(persistent),
                                       chroot_all(persistent_recursive)))


def install_event_hook(client, on_event: Callable[[int, int, str], None]) -> None:
    """Call `on_event(type, state, path)` for every notification, on the connection thread.

    Called there, before the request that caused the event is answered, so events keep
    their place relative to command output.  kazoo's own handling still runs afterwards.
    kazoo creates its ConnectionHandler once per client, so patching it once is enough.
    """
    connection = client._connection
    original = connection._read_watch_event

    def read_watch_event(buffer, offset):
        try:
            watch, _ = Watch.deserialize(buffer, offset)
            on_event(watch.type, watch.state, unchrooted(client, watch.path))
        except Exception:  # never break kazoo's connection thread
            log.debug("event hook failed", exc_info=True)
        if watch_type_known(buffer, offset):
            return original(buffer, offset)
        return None

    connection._read_watch_event = read_watch_event


def watch_type_known(buffer: bytes, offset: int) -> bool:
    """kazoo warns about event types it does not know (persistent watch removal)."""
    event_type = int_struct.unpack_from(buffer, offset)[0]
    return event_type in (1, 2, 3, 4)
