"""Commands on znodes: create, ls, get, stat, set, delete, deleteall, sync, and the counts."""

from __future__ import annotations

from collections import deque

from kazoo.protocol.serialization import (
    Create,
    Delete,
    Exists,
    GetChildren,
    GetChildren2,
    GetData,
    SetData,
    Sync,
)
from kazoo.security import OPEN_ACL_UNSAFE

from zkshell import format as fmt
from zkshell import zkprotocol
from zkshell.commands.acl import parse_acl
from zkshell.commands.base import ONE_PATH, Arg, Context, Kind, command, java_long
from zkshell.commands.tree import subtree_breadth_first, walk_subtree
from zkshell.errors import INVALID_ACL, CliError, ZooKeeperError, keeper_message
from zkshell.options import Flag, OptionSpec
from zkshell.session import Pending, RequestFailed

TTL_MAX = 0xFFFFFFFFFF
_EPHEMERAL, _SEQUENTIAL, _CONTAINER = 1, 2, 4
_PERSISTENT_WITH_TTL, _PERSISTENT_SEQUENTIAL_WITH_TTL = 5, 6

_LS_HELP = ("usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n")


def _deprecated_watch(ctx: Context, words: list[str], parsed, old: str, new: str):
    """zkCli still accepts `ls|get|stat path watch`: the third word becomes `-w`."""
    if len(parsed.args) <= 2:
        return parsed
    words = list(words)
    words[2] = "-w"
    ctx.err(f"'{old}' has been deprecated. Please use '{new}' instead.\n")
    return ctx.parse(words)


@command("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", OptionSpec((
    Flag("e"), Flag("s"), Flag("c"), Flag("t", takes_value=True, value_name="ttl"))),
    args=(Arg("path", Kind.PATH), Arg("data", Kind.DATA, optional=True),
          Arg("acl", Kind.ACL, optional=True)))
def create(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    has_e, has_s, has_c, has_t = (parsed.has(f) for f in "esct")
    if has_c and (has_e or has_s):
        raise CliError("-c cannot be combined with -s or -e. "
                       "Containers cannot be ephemeral or sequential.")
    ttl = 0
    if has_t:
        try:
            ttl = java_long(parsed.value("t") or "")
        except ValueError:
            raise CliError("-t argument must be a long value") from None
    if has_t and has_e:
        raise CliError("TTLs cannot be used with Ephemeral znodes")
    if has_t and has_c:
        raise CliError("TTLs cannot be used with Container znodes")
    if has_t and not 0 < ttl <= TTL_MAX:
        raise CliError(f"ttl must be positive and cannot be larger than: {TTL_MAX}")
    flags = _create_flags(has_e, has_s, has_c, has_t)
    args = parsed.args
    path = args[1]
    data = args[2].encode() if len(args) > 2 else None
    acl = parse_acl(ctx, args[3]) if len(args) > 3 else OPEN_ACL_UNSAFE
    target = ctx.server_path(path, sequential=has_s)
    if not acl:
        ctx.err(keeper_message(INVALID_ACL, None) + "\n")
        raise CliError("Acl is not valid : null")
    if has_t:
        request = zkprotocol.CreateTTL(target, data, acl, flags, ttl)
    elif has_c:
        request = zkprotocol.CreateContainer(target, data, acl, flags)
    else:
        request = Create(target, data, acl, flags)
    try:
        created = ctx.call(request, path)
    except ZooKeeperError as exc:
        if exc.code == INVALID_ACL:
            ctx.err(keeper_message(INVALID_ACL, path) + "\n")
        raise
    if isinstance(created, tuple):
        created = created[0]
    ctx.err(f"Created {ctx.session.client_path(created)}\n")


def _create_flags(has_e: bool, has_s: bool, has_c: bool, has_t: bool) -> int:
    if has_e:
        return _EPHEMERAL | (_SEQUENTIAL if has_s else 0)
    if has_s:
        return _PERSISTENT_SEQUENTIAL_WITH_TTL if has_t else _SEQUENTIAL
    if has_c:
        return _CONTAINER
    return _PERSISTENT_WITH_TTL if has_t else 0


@command("ls", "[-s] [-w] [-R] path", OptionSpec((
    Flag("?", description="help"), Flag("s", description="stat"),
    Flag("w", description="watch"), Flag("R", description="recurse"))),
    args=ONE_PATH)
def ls(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words, count=False)  # zkCli prints `-?`'s help before it counts
    if parsed.has("?"):
        ctx.out(_LS_HELP)
    parsed = _deprecated_watch(ctx, words, parsed, "ls path [watch]", "ls [-w] path")
    ctx.command.check_count(parsed.args)
    path = parsed.args[1]
    watch = parsed.has("w")
    if parsed.has("R"):
        _ls_recursive(ctx, path, watch)
        return
    target = ctx.server_path(path)
    watcher = ctx.session.watcher if watch else None
    if parsed.has("s"):
        children, stat = ctx.call(GetChildren2(target, watcher), path)
    else:
        children, stat = ctx.call(GetChildren(target, watcher), path), None
    if watch:
        ctx.session.watches.add("child", path)
    ctx.out(fmt.child_list(children))
    if stat is not None:
        ctx.stat(stat)


def _ls_recursive(ctx: Context, root: str, watch: bool) -> None:
    walk_subtree(ctx, root, watch, lambda path: ctx.out(path + "\n"))


@command("get", "[-s] [-w] path", OptionSpec((Flag("s"), Flag("w"))), args=ONE_PATH)
def get(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    parsed = _deprecated_watch(ctx, words, parsed, "get path [watch]", "get [-s] [-w] path")
    path = parsed.args[1]
    watch = parsed.has("w")
    target = ctx.server_path(path)
    data, stat = ctx.call(GetData(target, ctx.session.watcher if watch else None), path)
    if watch:
        ctx.session.watches.add("data", path)
    ctx.out(fmt.decode_data(data) + "\n")
    if parsed.has("s"):
        ctx.stat(stat)


@command("stat", "[-w] path", OptionSpec((Flag("w"),)), args=ONE_PATH)
def stat(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    parsed = _deprecated_watch(ctx, words, parsed, "stat path [watch]", "stat [-w] path")
    path = parsed.args[1]
    watch = parsed.has("w")
    target = ctx.server_path(path)
    result = ctx.call(Exists(target, ctx.session.watcher if watch else None), path)
    if watch:
        ctx.session.watches.add("data" if result is not None else "exist", path)
    if result is None:
        raise CliError(f"Node does not exist: {path}")
    ctx.stat(result)


@command("set", "[-s] [-v version] path data", OptionSpec((
    Flag("s"), Flag("v", takes_value=True, value_name="version"))),
    args=(Arg("path", Kind.PATH), Arg("data", Kind.DATA)))
def set_(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path, data = parsed.args[1], parsed.args[2].encode()
    version = ctx.int_option(parsed, "v", -1)
    result = ctx.call(SetData(ctx.server_path(path), data, version), path)
    if parsed.has("s"):
        ctx.stat(result)


@command("delete", "[-v version] path", OptionSpec((
    Flag("v", takes_value=True, value_name="version"),)), args=ONE_PATH)
def delete(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    if len(parsed.args) > 2:
        # zkCli warns about `delete path version` and then ignores the version.
        ctx.err("'delete path [version]' has been deprecated. "
                "Please use 'delete [-v version] path' instead.\n")
    path = parsed.args[1]
    version = ctx.int_option(parsed, "v", -1)
    target = ctx.server_path(path)
    # The Java client sends "/" itself, not the chroot, so that deleting the root fails
    # the same way (BadArguments) with a chroot as without one.
    ctx.call(Delete("/" if path == "/" else target, version), path)


@command("deleteall", "path [-b batch size]", OptionSpec((
    Flag("b", takes_value=True, value_name="batch size"),)),
    args=ONE_PATH)
def deleteall(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    batch = ctx.int_option(parsed, "b", 1000)
    path = parsed.args[1]
    ctx.server_path(path)
    tree = subtree_breadth_first(ctx, path)
    if not _delete_in_batches(ctx, tree, max(batch, 1)):
        ctx.err("Failed to delete some node(s) in the subtree!\n")


# ZKUtil.deleteInBatch's rateLimit: multis sent and not yet answered.
_DELETES_IN_FLIGHT = 10


def _delete_in_batches(ctx: Context, tree: list[str], batch: int) -> bool:
    """ZKUtil.deleteInBatch: leaves first, `batch` deletes per multi, up to ten multis in
    flight; once a failed one has come back no more are sent, but those already sent still
    apply."""
    session = ctx.session
    in_flight: deque[Pending] = deque()
    success = True

    def settle(pending: Pending) -> None:
        nonlocal success
        try:
            err, buffer, offset = session.wait(pending)[0]
            failed = zkprotocol.multi_failed(err, buffer, offset)
        except RequestFailed:
            failed = True
        if failed:
            success = False

    paths: list[str] = []
    for i in range(len(tree) - 1, -1, -1):
        paths.append(session.server_path(tree[i]))
        if len(paths) == batch or i == 0:
            while in_flight and session.answered(in_flight[0]):  # answers already in
                settle(in_flight.popleft())
            if not success:
                break  # fail fast
            if len(in_flight) == _DELETES_IN_FLIGHT:
                settle(in_flight.popleft())
            try:
                in_flight.append(session.send_bundle(
                    [(zkprotocol.MULTI, zkprotocol.delete_multi_body(paths))]))
            except RequestFailed:
                success = False
                break
            paths = []
    while in_flight:
        settle(in_flight.popleft())
    return success


@command("sync", "path", args=ONE_PATH)
def sync(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    target = ctx.server_path(path)
    try:
        ctx.session.call(Sync(target))
    except RequestFailed as failed:
        # zkCli's sync reports its callback's result code, on stdout, and carries on.
        ctx.out(f"Sync has failed. rc={failed.code}\n")
        return
    ctx.out("Sync is OK\n")


@command("getAllChildrenNumber", "path", args=ONE_PATH)
def get_all_children_number(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    ctx.server_path(path)
    count = ctx.call(None, path, lambda: zkprotocol.get_all_children_number_async(
        ctx.session.client, path))
    ctx.out(f"{count}\n")


# zkCli lists every ephemeral without a path, though its usage line says nothing of that.
@command("getEphemerals", "path", args=(Arg("path", Kind.PATH, optional=True),))
def get_ephemerals(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    prefix = parsed.args[1] if len(parsed.args) > 1 else "/"
    ctx.server_path(prefix)
    # The Java client's getEphemerals raises its errors without a path.
    paths = ctx.call(None, None, lambda: zkprotocol.get_ephemerals_async(
        ctx.session.client, prefix))
    ctx.out(fmt.java_list(paths))

