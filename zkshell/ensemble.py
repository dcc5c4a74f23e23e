"""A local ensemble of real Apache ZooKeeper servers on loopback, each stopped by its PID.

Each member is a `LocalServer` (the same jar, Java command, start-up wait and stop) with a
quorum configuration added: its own data directory and `myid`, the `server.N` lines naming
every member's quorum and election ports, short ticks, and the four-letter words, through
which a member's role is read (`srvr`: "Mode: leader").  Used by the tests of the shell's
failover and by `zksh play` for a scenario that says `servers: 3`.
"""

from __future__ import annotations

import atexit
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zkshell.server import (
    LocalServer,
    PortTaken,
    ZooKeeperUnavailable,
    four_letter_word,
    free_ports,
    parse_cons,
)

LEADER = "leader"
FOLLOWER = "follower"
LOOKING = "looking"  # running, but not serving: electing a leader, or cut off from a quorum
DOWN = "down"  # its process is not running
ROLES = (LEADER, FOLLOWER, LOOKING, DOWN)

# In ticks: how long a follower may take to connect and sync to a new leader (init), and
# how far behind it may fall before the leader drops it (sync).  Generous, because three
# JVMs share two busy cores; a tick is short, so these are still a few seconds.
INIT_LIMIT = 25
SYNC_LIMIT = 10


@dataclass(frozen=True)
class Peer:
    """A member's place in the ensemble: its id (1..n) and its three ports."""

    myid: int
    quorum_port: int
    election_port: int
    client_port: int

    def line(self, host: str) -> str:
        return f"server.{self.myid}={host}:{self.quorum_port}:{self.election_port}"


@dataclass(frozen=True)
class Status:
    """What a member's `srvr` says: its role, its last zxid (0x..., "" when not serving)."""

    role: str
    zxid: str = ""


# How member `myid` reaches a peer: the quorum and election ports it is told (a relay's,
# which can cut the link, or the peer's own).
Route = Callable[[int, Peer], tuple[int, int]]


def direct(myid: int, peer: Peer) -> tuple[int, int]:
    return peer.quorum_port, peer.election_port


class Member(LocalServer):
    """One member: a LocalServer whose configuration names its peers."""

    # An election resends its votes at intervals that double from 200 ms up to this: 60 s
    # by default, so a peer that came up late (or whose link was cut) could be waited for
    # that long; here a second at most.
    jvm_options = ("-Dzookeeper.fastleader.maxNotificationInterval=1000",)

    def __init__(self, peer: Peer, peers: tuple[Peer, ...], tick_time_ms: int,
                 start_timeout: float, route: Route = direct) -> None:
        super().__init__(tick_time_ms=tick_time_ms, port=peer.client_port,
                         start_timeout=start_timeout)
        self.myid = peer.myid
        self.peer = peer
        self.peers = peers
        self.route = route

    def _write_config(self, workdir: Path) -> Path:
        config = super()._write_config(workdir)
        (workdir / "data" / "myid").write_text(f"{self.myid}\n")
        with config.open("a") as out:
            out.write(f"initLimit={INIT_LIMIT}\nsyncLimit={SYNC_LIMIT}\n")
            out.writelines(self._peer_line(peer) + "\n" for peer in self.peers)
        return config

    def _peer_line(self, peer: Peer) -> str:
        """Its own line names the ports it listens on; a peer's, how it reaches that peer
        (each member has a configuration of its own: routes differ)."""
        if peer.myid == self.myid:
            return peer.line(self.host)
        quorum, election = self.route(self.myid, peer)
        return f"server.{peer.myid}={self.host}:{quorum}:{election}"

    def serving_now(self) -> bool:
        """Whether it serves, listening on its election port: a member that could not bind
        that port serves a while through the connections it made to its peers, then gives up
        and exits (status 14) seconds later."""
        return super().serving_now() and _listens(self.pid, self.peer.election_port)

    def listen_ports(self) -> tuple[int, ...]:
        peer = self.peer
        return (peer.client_port, peer.quorum_port, peer.election_port)

    def _ports_text(self) -> str:
        peer = self.peer
        return (f"one of member {self.myid}'s ports (client {peer.client_port}, quorum "
                f"{peer.quorum_port}, election {peer.election_port}) is")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def status(self, timeout: float = 1.0) -> Status:
        """The member's role and zxid, from `srvr`; DOWN when its process is not running."""
        if not self.running:
            return Status(DOWN)
        try:
            answer = four_letter_word(self.host, self.port, "srvr", timeout=timeout)
        except OSError:
            return Status(LOOKING)
        return parse_srvr(answer)


_MODE = re.compile(r"^Mode: (\w+)", re.MULTILINE)
_ZXID = re.compile(r"^Zxid: (0x[0-9a-f]+)", re.MULTILINE)


def parse_srvr(answer: str) -> Status:
    """A `srvr` answer as a Status: a member not serving ("This ZooKeeper instance is not
    currently serving requests") is LOOKING."""
    mode = _MODE.search(answer)
    if mode is None or mode.group(1) not in (LEADER, FOLLOWER):
        return Status(LOOKING)
    zxid = _ZXID.search(answer)
    return Status(mode.group(1), zxid.group(1) if zxid else "")


class LocalEnsemble:
    """`size` members on free loopback ports; member n (1-based) is `member(n)`.

    `tick_time_ms` is every member's tick: it bounds the session timeouts they grant (2 to
    20 ticks) and paces elections.  `route` says how a member reaches each peer: directly
    by default; through relays that can cut it off (`zksh play`'s isolate-server).  Every
    JVM is stopped by its PID in `cleanup`, which also runs at interpreter exit should the
    owner not get there.

    Every member's ports are in every member's configuration, so when another process takes
    one before its member binds it, `start` launches the whole ensemble again on fresh ports
    (up to `port_attempts` times); `peers` and `members` are then new.
    """

    port_attempts = 4

    def __init__(self, size: int = 3, tick_time_ms: int = 200,
                 start_timeout: float = 30.0, route: Route = direct) -> None:
        if size < 1:
            raise ValueError("an ensemble needs at least one member")
        self.host = "127.0.0.1"
        self.tick_time_ms = tick_time_ms
        self.start_timeout = start_timeout
        self.route = route
        self._place_members(size)

    def _place_members(self, size: int) -> None:
        """Members on fresh ports (their data directories come with their first launch)."""
        ports = free_ports(3 * size)
        peers = tuple(Peer(n, *ports[3 * n - 3:3 * n]) for n in range(1, size + 1))
        self.peers = peers
        self.members = [Member(peer, peers, self.tick_time_ms, self.start_timeout, self.route)
                        for peer in peers]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def connect_string(self) -> str:
        """Every member's client address, in member order: what a client is given."""
        return ",".join(member.address for member in self.members)

    def member(self, myid: int) -> Member:
        if not 1 <= myid <= self.size:
            raise ValueError(f"no member {myid}: the ensemble has members 1 to {self.size}")
        return self.members[myid - 1]

    @property
    def first_leader(self) -> int:
        """The member that leads after `start`: the highest of the first quorum started."""
        return self.size // 2 + 1

    def start(self) -> LocalEnsemble:
        """Start a bare quorum of members first (1 to n/2+1), then the others: the first
        quorum elects its highest member, so the same member leads every run (scenarios
        can rely on it), and the others join it as followers."""
        atexit.register(self.cleanup)
        try:
            for attempt in range(1, self.port_attempts + 1):
                try:
                    self._launch_in_batches()
                    return self
                except PortTaken as taken:
                    if attempt == self.port_attempts:
                        raise PortTaken(f"the ensemble lost a port to another process "
                                        f"{attempt} times in a row; the last time: {taken}"
                                        ) from None
                    for member in self.members:
                        member.cleanup()
                    self._place_members(self.size)
        except BaseException:
            self.cleanup()
            raise
        raise AssertionError("unreachable")

    def _launch_in_batches(self) -> None:
        quorum = self.first_leader
        for batch in (self.members[:quorum], self.members[quorum:]):
            for member in batch:
                member.launch()
            # Every launched member is watched, not only those waited on: a member of the
            # first quorum that lost its election port (it exits) keeps the others from
            # serving.
            launched = [member for member in self.members if member.pid is not None]
            waiting = list(batch)
            deadline = time.monotonic() + self.start_timeout
            while True:
                for member in launched:
                    member.check_launch()
                waiting = [member for member in waiting if not member.serving_now()]
                if not waiting:
                    break
                if time.monotonic() >= deadline:
                    raise ZooKeeperUnavailable(f"member {waiting[0].myid} did not start "
                                               f"within {self.start_timeout:.0f} s")
                time.sleep(0.02)

    def stop_member(self, myid: int, kill: bool = True) -> None:
        """Stop member `myid` by its PID (SIGKILL by default: a crash, no goodbye)."""
        self.member(myid).stop(kill=kill)

    def start_member(self, myid: int) -> None:
        """Start member `myid` again with its data, and wait until it serves: it has joined
        the quorum (it cannot serve before a quorum runs)."""
        member = self.member(myid)
        if not member.running:
            member.start()

    def launch_member(self, myid: int) -> None:
        """Start member `myid` again with its data, without waiting: it serves once it has
        joined a quorum, which may not run (wait_serving says)."""
        member = self.member(myid)
        if not member.running:
            member.launch()

    def wait_serving(self, myid: int, timeout: float) -> bool:
        """Whether member `myid` leads or follows (serves) within `timeout` seconds."""
        member = self.member(myid)
        deadline = time.monotonic() + timeout
        while member.status().role not in (LEADER, FOLLOWER):
            if time.monotonic() >= deadline or not member.running:
                return False
            time.sleep(0.05)
        return True

    def statuses(self) -> dict[int, Status]:
        return {member.myid: member.status() for member in self.members}

    def leader(self) -> int | None:
        """The member currently leading, by its `srvr`; None during an election."""
        for member in self.members:
            if member.status().role == LEADER:
                return member.myid
        return None

    def wait_for_leader(self, timeout: float | None = None) -> int:
        """The leader's id once there is one whose followers serve too; a timeout raises
        ZooKeeperUnavailable, naming each member's role."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.start_timeout)
        while True:
            statuses = self.statuses()
            leaders = [myid for myid, status in statuses.items() if status.role == LEADER]
            if leaders and all(status.role != LOOKING for status in statuses.values()):
                return leaders[0]
            if time.monotonic() >= deadline:
                roles = ", ".join(f"{myid}: {status.role}" for myid, status in statuses.items())
                raise ZooKeeperUnavailable(f"no leader elected in time ({roles})")
            time.sleep(0.05)

    def serving(self, session_id: int) -> int | None:
        """The member a session is connected to, from each member's `cons`; None if none."""
        for member in self.members:
            if not member.running:
                continue
            try:
                if session_id in parse_cons(four_letter_word(member.host, member.port, "cons")):
                    return member.myid
            except OSError:
                continue
        return None

    def cleanup(self) -> None:
        """Kill every member by its PID and remove their data directories."""
        atexit.unregister(self.cleanup)
        for member in self.members:
            member.cleanup()

    def __enter__(self) -> LocalEnsemble:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()


_LISTEN = "0A"  # a TCP socket's state in /proc/net/tcp: listening


def _listens(pid: int | None, port: int) -> bool:
    """Whether process `pid` holds a socket listening on `port` (Linux's /proc: which
    process listens matters, since another may hold the port)."""
    if pid is None:
        return False
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    try:
        descriptors = Path(f"/proc/{pid}/fd").iterdir()
        return any(_link(fd) in inodes for fd in descriptors)
    except OSError:
        return False


def _link(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:  # closed meanwhile
        return ""
