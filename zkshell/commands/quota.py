"""Quota commands: setquota, delquota, listquota, kept under /zookeeper/quota as zkCli does."""

from __future__ import annotations

import re
from collections.abc import Callable

from kazoo.protocol.serialization import Create, Delete, Exists, GetChildren, GetData, SetData
from kazoo.security import OPEN_ACL_UNSAFE

from zkshell.commands.base import ONE_PATH, Context, command, java_int, java_long
from zkshell.commands.tree import walk_subtree
from zkshell.errors import NO_NODE, NODE_EXISTS, CliError, zookeeper_error
from zkshell.options import Flag, OptionSpec
from zkshell.paths import InvalidPath, validate_path
from zkshell.session import RequestFailed

QUOTA_ROOT = "/zookeeper/quota"
LIMIT_NODE = "zookeeper_limits"
STAT_NODE = "zookeeper_stats"

_QUOTA_FLAGS = (("n", "num soft quota"), ("b", "bytes soft quota"),
                ("N", "num hard quota"), ("B", "bytes hard quota"))
# Which StatsTrack key each flag sets.
_FLAG_KEYS = {"n": "count", "b": "bytes", "N": "countHardLimit", "B": "byteHardLimit"}


class StatsTrack:
    """ZooKeeper's quota record: `count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`."""

    def __init__(self, text: str = "") -> None:
        self.values: dict[str, int] = {}
        for pair in re.split(r"[,;]+", text) if text else ():
            parts = [p for p in pair.split("=")]
            while parts and parts[-1] == "":
                parts.pop()  # Java's split drops trailing empty strings
            if parts:
                self.values[parts[0]] = int(parts[1]) if len(parts) > 1 and parts[1] else -1

    def get(self, key: str) -> int:
        return self.values.get(key, -1)

    def __str__(self) -> str:
        text = f"count={self.get('count')},bytes={self.get('bytes')}"
        extra = sorted(k for k in self.values if k not in ("count", "bytes"))
        if extra:
            # The stray '=' keeps old parsers from reading the new keys, as ZooKeeper writes it.
            text += "=" + "".join(f";{k}={self.values[k]}" for k in extra)
        return text


class NestedQuota(CliError):
    """A quota above or below the one asked for: ZooKeeper allows only one on a path."""


def quota_path(path: str) -> str:
    return QUOTA_ROOT + path


def limit_path(path: str) -> str:
    return f"{QUOTA_ROOT}{path}/{LIMIT_NODE}"


def stat_path(path: str) -> str:
    return f"{QUOTA_ROOT}{path}/{STAT_NODE}"


def _call(ctx: Context, make: Callable[[str], object], path: str) -> object:
    """`make(server path)` sent; a failure names `path`, as zkCli's KeeperException does."""
    try:
        return ctx.session.call(make(ctx.session.server_path(path)))
    except RequestFailed as failed:
        failed.path = path
        raise


def _get(ctx: Context, path: str) -> StatsTrack:
    data, _stat = _call(ctx, lambda server_path: GetData(server_path, None), path)
    return StatsTrack((data or b"").decode("utf-8", errors="replace"))


def _exists(ctx: Context, path: str) -> bool:
    return _call(ctx, lambda server_path: Exists(server_path, None), path) is not None


def _create_if_missing(ctx: Context, path: str, data: bytes | None) -> None:
    try:
        ctx.session.call(Create(ctx.session.server_path(path), data, OPEN_ACL_UNSAFE, 0))
    except RequestFailed as failed:
        if failed.code != NODE_EXISTS:
            raise


@command("setquota", "-n|-b|-N|-B val path", OptionSpec(
    tuple(Flag(name, True, text, "val") for name, text in _QUOTA_FLAGS),
    exclusive=True, group_required=True), args=ONE_PATH)
def setquota(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    if path.startswith(QUOTA_ROOT):
        ctx.err(f"cannot set a quota under the path: {QUOTA_ROOT}\n")
        return
    quota = StatsTrack()
    for key in _FLAG_KEYS.values():
        quota.values[key] = -1
    for flag, key in _FLAG_KEYS.items():
        if not parsed.has(flag):
            continue
        raw = parsed.value(flag) or ""
        try:
            value = java_int(raw) if flag in "nN" else java_long(raw)
        except ValueError:
            ctx.err("NumberFormatException happens when parsing the option value\n")
            return
        if flag in "nN" and value <= 0:
            ctx.err("the num quota must be greater than zero\n")
            return
        if flag in "bB" and value < 0:
            ctx.err("the bytes quota must be greater than or equal to zero\n")
            return
        quota.values[key] = value
    try:
        _create_quota(ctx, path, quota)
    except RequestFailed as failed:
        raise zookeeper_error(failed.code, path) from None


def _create_quota(ctx: Context, path: str, quota: StatsTrack) -> None:
    try:
        validate_path(path)
    except InvalidPath as exc:
        raise CliError(str(exc)) from None
    if not _exists(ctx, path):
        raise CliError(f"{path} does not exist.")
    _refuse_nested_quota(ctx, path)
    if not _exists(ctx, QUOTA_ROOT):
        _create_if_missing(ctx, "/zookeeper", None)
        _create_if_missing(ctx, QUOTA_ROOT, None)
    node = QUOTA_ROOT
    for part in path.split("/")[1:]:
        node = f"{node}/{part}"
        if not _exists(ctx, node):
            _create_if_missing(ctx, node, None)
    limit, stats = f"{node}/{LIMIT_NODE}", f"{node}/{STAT_NODE}"
    if not _exists(ctx, limit):
        ctx.session.call(Create(ctx.session.server_path(limit), str(quota).encode(),
                                OPEN_ACL_UNSAFE, 0))
        ctx.session.call(Create(ctx.session.server_path(stats), b"count=0,bytes=0",
                                OPEN_ACL_UNSAFE, 0))
        _warn_if_exceeded(ctx, _get(ctx, limit), _get(ctx, stats))
        return
    current = _get(ctx, limit)
    for key in _FLAG_KEYS.values():
        if quota.get(key) > -1:
            current.values[key] = quota.get(key)
    _warn_if_exceeded(ctx, current, _get(ctx, stats))
    ctx.session.call(SetData(ctx.session.server_path(limit), str(current).encode(), -1))


def _refuse_nested_quota(ctx: Context, path: str) -> None:
    """ZooKeeper allows no quota above or below another one."""
    own = quota_path(path)
    try:
        validate_path(own)  # the root's is "/zookeeper/quota/", which Java refuses here
    except InvalidPath as exc:
        raise CliError(str(exc)) from None

    def check_children(quota_node: str) -> None:
        try:
            children = ctx.session.call(GetChildren(ctx.session.server_path(quota_node), None))
        except RequestFailed as failed:
            if failed.code == NO_NODE:
                return
            raise
        if quota_node != own and LIMIT_NODE in children:
            raise NestedQuota(f"{path} has a child {quota_node[len(QUOTA_ROOT):]} "
                              "which has a quota")

    try:
        walk_subtree(ctx, own, False, check_children)
    except NestedQuota:
        raise
    except CliError:
        pass  # only a nested quota stops setquota here; the walk's own failures do not
    parts = path.split("/")
    node = QUOTA_ROOT
    for part in parts[1:-1]:
        node = f"{node}/{part}"
        try:
            children = ctx.session.call(GetChildren(ctx.session.server_path(node), None))
        except RequestFailed as failed:
            if failed.code == NO_NODE:
                return
            raise
        if not children:
            return
        if node != own and LIMIT_NODE in children:
            raise NestedQuota(f"{path} has a parent {node[len(QUOTA_ROOT):]} which has a quota")


def _warn_if_exceeded(ctx: Context, quota: StatsTrack, stats: StatsTrack) -> None:
    count, count_hard = quota.get("count"), quota.get("countHardLimit")
    if (-1 < count < stats.get("count")) or (-1 < count_hard < stats.get("count")):
        ctx.out("[Warning]: the count quota you create is less than the existing count:"
                f"{stats.get('count')}\n")
    size, size_hard = quota.get("bytes"), quota.get("byteHardLimit")
    if (-1 < size < stats.get("bytes")) or (-1 < size_hard < stats.get("bytes")):
        ctx.out("[Warning]: the bytes quota you create is less than the existing bytes:"
                f"{stats.get('bytes')}\n")


@command("delquota", "[-n|-b|-N|-B] path", OptionSpec(
    tuple(Flag(name, False, text) for name, text in _QUOTA_FLAGS), exclusive=True),
    args=ONE_PATH)
def delquota(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    chosen = [key for flag, key in _FLAG_KEYS.items() if parsed.has(flag)]
    try:
        _delete_quota(ctx, path, chosen)
    except RequestFailed as failed:
        if failed.code == NO_NODE:
            ctx.err(f"quota for {path} does not exist.\n")
            return
        raise zookeeper_error(failed.code, failed.path or path) from None


def _delete_quota(ctx: Context, path: str, keys: list[str]) -> None:
    parent, limit = quota_path(path), limit_path(path)
    ctx.server_path(limit)
    if not _exists(ctx, limit):
        ctx.out(f"Quota does not exist for {path}\n")
        return
    track = _get(ctx, limit)
    if keys:
        for key in keys:
            track.values[key] = -1
        data = str(track).encode()
        _call(ctx, lambda server_path: SetData(server_path, data, -1), limit)
        return
    for child in _call(ctx, lambda server_path: GetChildren(server_path, None), parent):
        _call(ctx, lambda server_path: Delete(server_path, -1), f"{parent}/{child}")
    _trim_empty_quota_nodes(ctx, parent)


def _trim_empty_quota_nodes(ctx: Context, node: str) -> None:
    while node != QUOTA_ROOT:
        if _call(ctx, lambda server_path: GetChildren(server_path, None), node):
            return
        _call(ctx, lambda server_path: Delete(server_path, -1), node)
        node = node[:node.rfind("/")]


@command("listquota", "path", args=ONE_PATH)
def listquota(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    ctx.err(f"absolute path is {limit_path(path)}\n")
    ctx.server_path(limit_path(path))
    try:
        quota, stats = _get(ctx, limit_path(path)), _get(ctx, stat_path(path))
    except RequestFailed as failed:
        if failed.code == NO_NODE:
            ctx.err(f"quota for {path} does not exist.\n")
            return
        raise zookeeper_error(failed.code, failed.path or path) from None
    ctx.out(f"Output quota for {path} {quota}\n")
    ctx.out(f"Output stat for {path} {stats}\n")
