"""ACL commands, and zkCli's ACL syntax: `scheme:id:perms[,scheme:id:perms...]`."""

from __future__ import annotations

from collections import deque

from kazoo.protocol.serialization import GetACL, SetACL
from kazoo.security import ACL, Id

from zkshell import format as fmt
from zkshell import zkprotocol
from zkshell.commands.base import ONE_PATH, Arg, Context, Kind, command
from zkshell.commands.tree import BATCH, IN_FLIGHT, walk_subtree
from zkshell.errors import CliError, keeper_message
from zkshell.options import Flag, OptionSpec
from zkshell.session import Pending, RequestFailed

_PERM_BITS = {"r": 1, "w": 2, "c": 4, "d": 8, "a": 16}


def parse_acl(ctx: Context, text: str) -> list[ACL]:
    """AclParser.parse: malformed entries and unknown letters are reported and skipped."""
    acls = []
    for entry in text.split(","):
        first, last = entry.find(":"), entry.rfind(":")
        if first == -1 or first == last:
            ctx.err(f"{entry} does not have the form scheme:id:perm\n")
            continue
        perms = 0
        for letter in entry[last + 1:]:
            if letter in _PERM_BITS:
                perms |= _PERM_BITS[letter]
            else:
                ctx.err(f"Unknown perm type: {letter}\n")
        acls.append(ACL(perms, Id(entry[:first], entry[first + 1:last])))
    return acls


@command("getAcl", "[-s] path", OptionSpec((Flag("s"),)), args=ONE_PATH)
def get_acl(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path = parsed.args[1]
    acls, stat = ctx.call(GetACL(ctx.server_path(path)), path)
    ctx.out(fmt.acl_lines(acls))
    if parsed.has("s"):
        ctx.stat(stat)


@command("setAcl", "[-s] [-v version] [-R] path acl", OptionSpec((
    Flag("s"), Flag("v", takes_value=True, value_name="version"), Flag("R"))),
    args=(Arg("path", Kind.PATH), Arg("acl", Kind.ACL)))
def set_acl(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    path, acl_text = parsed.args[1], parsed.args[2]
    acls = parse_acl(ctx, acl_text)
    version = ctx.int_option(parsed, "v", -1)
    target = ctx.server_path(path)
    if not acls:
        raise CliError("Acl is not valid : null")
    if parsed.has("R"):
        _set_acl_recursive(ctx, path, acls, version)
        return
    stat = ctx.call(SetACL(target, acls, version), path)
    if parsed.has("s"):
        ctx.stat(stat)


def _set_acl_recursive(ctx: Context, root: str, acls: list[ACL], version: int) -> None:
    """Each node in `ls -R` order; a node that fails gets its error printed, no newline.

    The setACLs go out many at a time, each batch before the walk's next reads, so the server
    sees every node's setACL before the getChildren of that node, as zkCli's order has it.
    """
    setter = _PipelinedSetAcl(ctx, acls, version)
    try:
        walk_subtree(ctx, root, False, setter.add, writes=setter)
    finally:
        setter.finish()


class _PipelinedSetAcl:
    """The walk's writes (tree.WalkWrites): setACLs in batches, a few batches in flight."""

    def __init__(self, ctx: Context, acls: list[ACL], version: int) -> None:
        self.ctx, self.acls, self.version = ctx, acls, version
        self.waiting: list[str] = []
        self.in_flight: deque[tuple[list[str], Pending]] = deque()
        self.root_code: int | None = None  # the answer to the first setACL, the root's

    def reads_unchanged(self) -> bool:
        """Whether the ACL set lets this session read: once the root's setACL succeeded.

        The walk reads the root's children after the root's setACL, and it has read more
        lists only if that read succeeded; so with the root's setACL done, the new ACL (the
        same on every node) is known to allow reading."""
        if self.root_code is None and self.in_flight \
                and self.ctx.session.answered(self.in_flight[0][1]):
            self._receive_oldest()
        return self.root_code == 0

    def add(self, node: str) -> None:
        self.waiting.append(node)
        if len(self.waiting) >= BATCH:
            self.send()

    def send(self) -> None:
        if not self.waiting:
            return
        nodes, self.waiting = self.waiting, []
        if len(self.in_flight) >= IN_FLIGHT:
            self._receive_oldest()
        session = self.ctx.session
        bodies = zkprotocol.set_acl_bodies(map(session.server_path, nodes), self.acls,
                                           self.version)
        self.in_flight.append((nodes, session.send_bundle(
            [(zkprotocol.SET_ACL, body) for body in bodies])))

    def finish(self) -> None:
        self.send()
        while self.in_flight:
            self._receive_oldest()

    def _receive_oldest(self) -> None:
        nodes, pending = self.in_flight.popleft()
        try:
            codes = [err for err, _buffer, _offset in self.ctx.session.wait(pending)]
        except RequestFailed as failed:
            codes = [failed.code] * len(nodes)
        if self.root_code is None:
            self.root_code = codes[0]
        for node, code in zip(nodes, codes):
            if code:
                self.ctx.out(keeper_message(code, node))
