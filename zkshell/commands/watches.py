"""addWatch and removewatches: persistent watches and watch removal, as the server does them."""

from __future__ import annotations

from zkshell import zkprotocol
from zkshell.commands.base import Context, command
from zkshell.errors import CONNECTION_LOSS, zookeeper_error
from zkshell.options import Flag, OptionSpec
from zkshell.session import RequestFailed

_MODES = {"PERSISTENT": 0, "PERSISTENT_RECURSIVE": 1}
_WATCHER_TYPES = {"c": 1, "d": 2, "a": 3}


@command("addWatch", "[-m mode] path # optional mode is one of [PERSISTENT, "
         "PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
         OptionSpec((Flag("m", takes_value=True),)))
def add_watch(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    if len(parsed.args) != 2:
        raise ctx.usage_error()
    mode_name = (parsed.value("m") or "PERSISTENT_RECURSIVE").upper()
    if mode_name not in _MODES:
        raise ctx.usage_error()
    path = parsed.args[1]
    ctx.server_path(path)
    ctx.call(None, path, lambda: zkprotocol.add_watch_async(
        ctx.session.client, path, _MODES[mode_name]))
    ctx.session.watches.add("persistent" if mode_name == "PERSISTENT" else "recursive", path)


@command("removewatches", "path [-c|-d|-a] [-l]", OptionSpec((
    Flag("c"), Flag("d"), Flag("a"), Flag("l"))))
def remove_watches(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words, min_args=2)
    path = parsed.args[1]
    kind = next((flag for flag in "cda" if parsed.has(flag)), "a")
    local = parsed.has("l")
    ctx.server_path(path)
    try:
        ctx.session.call(None, lambda: zkprotocol.remove_watches_async(
            ctx.session.client, path, _WATCHER_TYPES[kind]))
    except RequestFailed as failed:
        if not (local and failed.code == CONNECTION_LOSS):
            raise zookeeper_error(failed.code, path) from None
    _announce_removed(ctx, path, kind)


def _announce_removed(ctx: Context, path: str, kind: str) -> None:
    """ZooKeeper's client tells the removed watchers, in our case the session's one."""
    book = ctx.session.watches
    snapshot = book.snapshot()
    removed = []
    if kind in "ca" and path in snapshot["child"]:
        removed.append("ChildWatchRemoved")
    if kind in "da" and (path in snapshot["data"] or path in snapshot["exist"]):
        removed.append("DataWatchRemoved")
    if kind == "a" and (path in snapshot["persistent"] or path in snapshot["recursive"]):
        removed.append("PersistentWatchRemoved")
    for event_type in removed:
        book.fired(event_type, path)
        ctx.session.emit_local_event("SyncConnected", event_type, path)
