"""The teaching view's row of an ensemble's members: each one's role, last zxid, and the
scenario's sessions connected to it (`2 leader zxid 0x100000004 · m1 w1`, `3 down`).

`member_lines` makes the lines from the readings and is pure.  `read_members` asks each
member `srvr` (role, zxid) and, while it serves, `cons` (its sessions), with a short timeout
each, unless the player already knows: a member it stopped is down without asking, and one
it isolated is shown isolated (with what the member says of itself, which lags: a follower
notices only after syncLimit).  `MemberFeed` is the `Observer` that reads them when the
server pane's feed reads the server: after each step (kept for server.txt), and between
steps when a session gets an event, or every `TICK` seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from zkshell.ensemble import DOWN, FOLLOWER, LEADER, LOOKING, parse_srvr
from zkshell.player.refresher import Refresher
from zkshell.server import four_letter_word, parse_cons

ISOLATED = "isolated"  # cut off from its peers by the player (isolate-server)
# Seconds a member may take to answer one four-letter word: loopback answers in
# milliseconds, so a member that does not is not serving; a refresh never waits long.
READ_TIMEOUT = 0.3
TICK = 1.0  # seconds between two reads while nothing happens

# What the player knows of member n without asking it: DOWN, ISOLATED, or None.
Known = Callable[[int], "str | None"]


@dataclass(frozen=True)
class MemberReading:
    """What one member said (or what the player knows of it)."""

    myid: int
    role: str  # LEADER, FOLLOWER, LOOKING or DOWN
    zxid: str = ""  # its last zxid, 0x...; "" when it does not serve
    sessions: frozenset[int] = frozenset()  # the session ids connected to it
    isolated: bool = False


@dataclass(frozen=True)
class MemberLine:
    """One member as the row shows it: `state` is what colours it (a role, or ISOLATED)."""

    myid: int
    state: str
    role: str  # the member's own word, shown after ISOLATED
    zxid: str
    names: tuple[str, ...]

    @property
    def head(self) -> str:
        """`2 leader`, `3 isolated (follower)`."""
        if self.state == ISOLATED and self.role != DOWN:
            return f"{self.myid} {ISOLATED} ({self.role})"
        return f"{self.myid} {self.state}"

    @property
    def tail(self) -> str:
        """` zxid 0x100000004 · m1 w1`: what follows the head, if anything."""
        zxid = f" zxid {self.zxid}" if self.zxid else ""
        names = f" · {' '.join(self.names)}" if self.names else ""
        return zxid + names

    @property
    def text(self) -> str:
        return self.head + self.tail


def member_lines(readings: Sequence[MemberReading], names: Mapping[int, str],
                 order: Sequence[str] = ()) -> tuple[MemberLine, ...]:
    """A line per member, in member order.  `names`: session id -> the scenario's name for
    it (ids it does not know, such as the server pane's reading session, are not shown);
    `order`: the scenario's session names, the order they are listed in on a line."""
    rank = {name: number for number, name in enumerate(order)}
    lines = []
    for reading in sorted(readings, key=lambda r: r.myid):
        on = sorted({names[sid] for sid in reading.sessions if sid in names},
                    key=lambda name: (rank.get(name, len(rank)), name))
        state = ISOLATED if reading.isolated else reading.role
        lines.append(MemberLine(reading.myid, state, reading.role, reading.zxid, tuple(on)))
    return tuple(lines)


def read_member(myid: int, host: str, port: int, known: str | None = None,
                timeout: float = READ_TIMEOUT) -> MemberReading:
    """Member `myid` at host:port, read as `known` allows: DOWN is not asked at all."""
    if known == DOWN:
        return MemberReading(myid, DOWN, isolated=False)
    isolated = known == ISOLATED
    try:
        status = parse_srvr(four_letter_word(host, port, "srvr", timeout=timeout))
    except ConnectionRefusedError:
        return MemberReading(myid, DOWN, isolated=isolated)
    except OSError:  # it accepted, then said nothing in time: running, not serving
        return MemberReading(myid, LOOKING, isolated=isolated)
    sessions: frozenset[int] = frozenset()
    if status.role in (LEADER, FOLLOWER):  # a member that does not serve has no clients
        try:
            sessions = frozenset(parse_cons(four_letter_word(host, port, "cons",
                                                             timeout=timeout)))
        except OSError:
            pass
    return MemberReading(myid, status.role, status.zxid, sessions, isolated)


def read_members(hosts: Sequence[tuple[str, int]],
                 known: Known | None = None,
                 timeout: float = READ_TIMEOUT) -> list[MemberReading]:
    """Every member (member n is hosts[n-1]), one after another."""
    return [read_member(n, host, port, known(n) if known else None, timeout)
            for n, (host, port) in enumerate(hosts, start=1)]


def session_names(player) -> dict[int, str]:
    """Each scenario session's ids (the one it has now, and the one it had when its process
    crashed) -> its name."""
    names: dict[int, str] = {}
    for name, played in (player.sessions.items() if player is not None else ()):
        if played.credentials is not None:
            names[played.credentials[0]] = name
        session = getattr(getattr(played, "shell", None), "session", None)
        if session is not None and session.client is not None:
            sid = session.session_id
            if sid is not None:
                names[sid] = name
    return names


class MemberFeed(Refresher):
    """Reads the members of an ensemble for `board` (panes.Board.set_members)."""

    def __init__(self, hosts: Sequence[tuple[str, int]], board,
                 known: Known | None = None, tick: float = TICK) -> None:
        super().__init__(tick, "zksh-members")
        self.hosts = list(hosts)
        self.board = board
        self.known = known
        self._order: tuple[str, ...] = ()

    def started(self, player) -> None:
        self._order = tuple(spec.name for spec in player.scenario.sessions)

    def read_and_show(self, heading: str | None) -> None:
        try:
            readings = read_members(self.hosts, self.known)
        except Exception:  # a row must never take the run down: keep the last one
            return
        lines = member_lines(readings, session_names(self.player), self._order)
        self.board.set_members(lines, heading)
