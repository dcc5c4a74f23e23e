"""Walking a subtree in the order zkCli's `ls -R` and `setAcl -R` use (ZKUtil.visitSubTreeDFS)."""

from __future__ import annotations

from collections.abc import Callable

from kazoo.protocol.serialization import GetChildren, GetData

from zkshell import format as fmt
from zkshell.commands.base import Context
from zkshell.errors import NO_NODE, zookeeper_error
from zkshell.paths import join
from zkshell.session import RequestFailed


def walk_subtree(ctx: Context, root: str, watch: bool, visit: Callable[[str], None]) -> None:
    """Visit the root, then each node's sorted children before descending into each child.

    With `watch`, the root gets a data watch and every node a child watch, as in zkCli.
    """
    watcher = ctx.session.watcher if watch else None
    ctx.call(GetData(ctx.server_path(root), watcher), root)
    if watch:
        ctx.session.watches.add("data", root)
    visit(root)
    _visit_children(ctx, root, watcher, visit)


def _visit_children(ctx: Context, root: str, watcher, visit: Callable[[str], None]) -> None:
    # Depth first without recursion: a chain of a thousand levels is a valid tree.
    pending = [iter([root])]
    while pending:
        node = next(pending[-1], None)
        if node is None:
            pending.pop()
            continue
        paths = _children(ctx, node, watcher)
        for path in paths:
            visit(path)
        pending.append(iter(paths))


def _children(ctx: Context, node: str, watcher) -> list[str]:
    try:
        children = ctx.session.call(GetChildren(ctx.session.server_path(node), watcher))
    except RequestFailed as failed:
        if failed.code == NO_NODE:
            return []  # deleted while we walked: zkCli skips it too
        raise zookeeper_error(failed.code, node) from None
    if watcher is not None:
        ctx.session.watches.add("child", node)
    return [join(node, child) for child in sorted(children, key=fmt.java_string_key)]
