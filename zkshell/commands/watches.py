"""addWatch and removewatches: persistent watches and watch removal, as the server does them."""

from __future__ import annotations

from zkshell import zkprotocol
from zkshell.commands.base import ONE_PATH, Context, command
from zkshell.errors import CONNECTION_LOSS, SESSION_EXPIRED, zookeeper_error
from zkshell.options import Flag, OptionSpec
from zkshell.session import RequestFailed

_MODES = {"PERSISTENT": 0, "PERSISTENT_RECURSIVE": 1}
_WATCHER_TYPES = {"c": 1, "d": 2, "a": 3}


@command("addWatch", "[-m mode] path # optional mode is one of [PERSISTENT, "
         "PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
         OptionSpec((Flag("m", takes_value=True, value_name="mode", choices=tuple(_MODES)),)),
         args=ONE_PATH, refuse_extra=True)
def add_watch(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    mode_name = (parsed.value("m") or "PERSISTENT_RECURSIVE").upper()
    if mode_name not in _MODES:
        raise ctx.usage_error()
    path = parsed.args[1]
    ctx.server_path(path)
    ctx.call(None, path, lambda: zkprotocol.add_watch_async(
        ctx.session.client, path, _MODES[mode_name]))
    ctx.session.watches.add("persistent" if mode_name == "PERSISTENT" else "recursive", path)


@command("removewatches", "path [-c|-d|-a] [-l]", OptionSpec((
    Flag("c"), Flag("d"), Flag("a"), Flag("l"))), args=ONE_PATH)
def remove_watches(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    kind = next((flag for flag in "cda" if parsed.has(flag)), "a")
    ctx.server_path(path)
    # The request goes to the server whatever this session holds; the outcome is then
    # decided against the session's own watches, as ZooKeeper's Java client does.
    rc = 0
    try:
        ctx.session.call(None, lambda: zkprotocol.remove_watches_async(
            ctx.session.client, path, _WATCHER_TYPES[kind]))
    except RequestFailed as failed:
        rc = failed.code
    try:
        removed = ctx.session.watches.deregister(path, kind, parsed.has("l"), rc)
    except RequestFailed as failed:
        raise zookeeper_error(failed.code, path) from None
    # Java's ClientCnxn.queueEvent: a removal the server never confirmed is Disconnected.
    state = "Disconnected" if rc in (CONNECTION_LOSS, SESSION_EXPIRED) else "SyncConnected"
    for event_type in removed:
        ctx.session.emit_local_event(state, event_type, path)
