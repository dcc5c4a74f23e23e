"""Play a scenario: several named shells against one server, steps in order, every check kept.

Each scenario session is a real `Shell` over a real `Session` (the code a keystroke runs),
connected through its own `FaultProxy` so crashes and partitions are real network events.
Views (plain report, live panes, exports) watch through the `Observer` interface.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from zkshell import format as fmt
from zkshell import kazoo_private
from zkshell.player.countdown import REMOVAL_EVENTS, Silence
from zkshell.player.expire_now import ExpireFailed, end_session
from zkshell.player.model import (
    DONE,
    FAILED,
    NOT_AWAITED,
    OUTPUT_DIFFERS,
    PASSED,
    SKIPPED,
    TIMED_OUT,
    LogEntry,
    Observer,
    StepResult,
)
from zkshell.player.proxy import OPEN
from zkshell.player.relays import Relays
from zkshell.player.scenario import Expectation, QuietCheck, Scenario, Step, matches_entry
from zkshell.player.stop_request import STOP
from zkshell.session import ConnectFailure, Session, SessionEvent
from zkshell.shell import Shell

CONNECT_WAIT = 10.0
# A scenario's session that failed this many passes over its servers in a row, before the
# first step, is refused: a server over its maxClientCnxns closes each at once, about 0.5 s
# for three (kazoo's retry pauses); one pass could be an ensemble member's passing trouble.
REFUSED_PASSES = 3
ROLE_POLL = 0.05  # seconds between two `srvr` asked of a member whose role is awaited
MEMBER_START_WAIT = 30.0  # a member's JVM starting and joining the quorum, on a busy machine
LOST_PATIENCE = 2.0  # seconds a server is given to answer before it is called gone


class ServerLost(Exception):
    """The server stopped answering part-way: the run stopped; the message says where."""

    server_answers = False  # its sessions are dropped, not closed: nobody would answer
    hint = ""  # what to do about it, said under the message


class SessionRefused(ServerLost):
    """A session of the scenario could not connect at the start: the run stops before its
    first step, instead of playing on with a session missing."""

    server_answers = True

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def refused(name: str, server: str, failure: ConnectFailure | None,
            unreached: OSError | None = None) -> SessionRefused:
    """Why session `name` could not connect to `server`, and what to do about it;
    `unreached`: why its relay could not reach the server, if it could not."""
    said = f"session {name} could not connect to {server}"
    # A server that closes a connection at once can reach the relay as a reset or a broken
    # pipe on its own connect (seen with ZooKeeper over maxClientCnxns, under load).
    closed_at_once = isinstance(unreached, (BrokenPipeError, ConnectionResetError,
                                            ConnectionAbortedError))
    if unreached is not None and not closed_at_once:
        return SessionRefused(f"{said}: {unreached.strerror or unreached}")
    if failure is None and not closed_at_once:
        return SessionRefused(f"{said}: not connected within {CONNECT_WAIT:g}s")
    if failure is not None and failure.kind != "closed" and not closed_at_once:
        return SessionRefused(f"{said}: {failure.words}")
    # ZooKeeper accepts a connection over its per-address limit, then closes it at once.
    return SessionRefused(
        f"{said}: the server closed the connection as soon as it opened; its limit of "
        f"connections from one address (maxClientCnxns, 60 by default) is the likely cause",
        "raise maxClientCnxns in the server's zoo.cfg (0: no limit), or play fewer sessions")


@dataclass(frozen=True)
class Target:
    """The servers the sessions' relays lead to, from a `-server` string: one, or an
    ensemble's members in order (member n is the n-th)."""

    hosts: tuple[tuple[str, int], ...]
    chroot: str  # "" or "/app": each session connects with it, as `-server h:p/app` would
    display: str  # what the prompts show, as given

    @classmethod
    def parse(cls, address: str) -> Target:
        """The servers of a connect string (check_connect_string comes first)."""
        from kazoo.hosts import collect_hosts

        hosts, chroot = collect_hosts(address)
        if not hosts:
            raise ValueError(f"zksh play: no server in {address}")
        return cls(tuple(hosts), chroot or "", address)

    @property
    def host(self) -> str:
        return self.hosts[0][0]

    @property
    def port(self) -> int:
        return self.hosts[0][1]

    def member_address(self, member: int) -> str:
        host, port = self.hosts[member - 1]
        return f"{host}:{port}"

    def for_session(self, member: int | None) -> tuple[list[tuple[str, int]], str]:
        """What a session relays to, and what its prompt shows before it connects: its
        member's address when it is pinned to one, else every server as given."""
        if member is None:
            return list(self.hosts), self.display
        return [self.hosts[member - 1]], self.member_address(member) + self.chroot


def _settled(session: Session) -> bool:
    """Connected within CONNECT_WAIT, or False after REFUSED_PASSES failed passes."""
    deadline = time.monotonic() + CONNECT_WAIT
    for _ in range(REFUSED_PASSES):
        remaining = deadline - time.monotonic()
        if remaining > 0 and session.wait_settled(remaining):
            return True
    return False


class Members(Protocol):
    """The ensemble zksh started, for server steps (`LocalEnsemble`)."""

    def stop_member(self, myid: int, kill: bool = True) -> None: ...
    def launch_member(self, myid: int) -> None: ...
    def wait_serving(self, myid: int, timeout: float) -> bool: ...
    def isolate(self, myid: int) -> None: ...
    def rejoin(self, myid: int) -> None: ...
    def leader(self) -> int | None: ...


class PlayedSession:
    """One named session of a scenario: its proxy, its shell, and what its window shows."""

    def __init__(self, name: str, label: str, target: Target, timeout_ms: int,
                 observer: Observer, member: int | None = None,
                 client_options: dict | None = None) -> None:
        self.name = name
        self.client_options = client_options  # -client-configuration's TLS and SASL
        self.label = label
        hosts, self.display_server = target.for_session(member)
        self.chroot = target.chroot
        # Against several servers the prompt names the one the session is on (zkCli's names
        # the connect string): the server behind the relay it connected through last.
        self._names = {(h, p): f"{h}:{p}{target.chroot}" for h, p in hosts} \
            if len(hosts) > 1 else {}
        self._members = list(target.hosts)
        self.timeout_ms = timeout_ms
        self.observer = observer
        self.log: list[LogEntry] = []
        self.state = "starting"
        self._awaited: set[int] = set()
        self._scenario_end: int | None = None
        self._changed = threading.Condition()
        # The session's id and password, kept for `expire` once its client is gone.
        self.credentials: tuple[int, bytes] | None = None
        self.ended = False  # an `expire` step ended the current process's session
        self.removals: list[float] = []  # when this window got a NodeDeleted, say (countdown)
        self.connected = False  # when its first process started, or it was refused
        self.proxy = Relays(hosts)
        try:
            self.shell = self._start_shell(first=True)
        except KeyboardInterrupt:  # a stop while it connects: no player knows it to close it
            self.close()
            raise

    # ---- process lifecycle ------------------------------------------------------------
    def _start_shell(self, first: bool = False) -> Shell:
        # A signal's stop is taken where its commands wait, as the player's own waits take it.
        session = Session(self.proxy.address + self.chroot, self.timeout_ms,
                          client_options=self.client_options, interrupt=STOP)
        shell = Shell(session, self._show_event)
        shell.display_server = self.display_server
        # What a new zksh (or zkCli) window shows first.
        self.add("output", fmt.banner(self.display_server, piped=False))
        self.shell = shell  # before it connects: its connection's event names its server
        session.connect()
        if first:  # a server that refuses it is said before the first step, not after 10 s
            self.connected = _settled(session)
        else:
            session.wait_connected(CONNECT_WAIT)
        self.state = "connected" if session.alive else "connecting"
        self.credentials, self.ended = None, False
        self._remember_session(session)
        return shell

    def _remember_session(self, session: Session) -> None:
        if session.client is not None:
            self.credentials = kazoo_private.session_credentials(session.client) or \
                self.credentials

    def member_on(self) -> int:
        """The ensemble member (1..n) this session is connected to, or was last."""
        return self._members.index(self.proxy.target) + 1

    @property
    def running(self) -> bool:
        return self.state not in ("crashed", "quit")

    def crash(self) -> None:
        self._remember_session(self.shell.session)  # a stopped client forgets it
        self.shell.session.abandon(self.proxy.crash)
        self.set_state("crashed")

    def quit(self) -> None:
        self.type_line("quit")
        self.set_state("quit")

    def restart(self) -> None:
        if self.running:
            self.crash()
        self.proxy.revive()
        self.add("state", "restarted")  # the marker goes above the new process's banner
        self.shell = self._start_shell()
        self.state = "restarted"

    def partition(self) -> None:
        self.proxy.partition()
        self.set_state("partitioned")

    def heal(self) -> None:
        self.proxy.heal()
        self.set_state("healed")

    def lost_connection(self) -> bool:
        """The session is trying to reconnect though the player cut nothing: perhaps the
        server is gone (a partition's lost connection is the player's own doing)."""
        return (self.running and self.state != "partitioned"
                and self.shell.session.state_name == "CONNECTING")

    def drop(self) -> None:
        """The clean-up when the server is gone: no close request that nobody would answer
        (kazoo would wait for it), the connection cut as a crash cuts it."""
        if self.running:
            self.shell.session.abandon(self.proxy.crash)
        self.proxy.close()

    def expire(self) -> str:
        """The server ends this session now, as its expiry would (expire_now says how);
        "" when done, else why not.  Whatever the process is doing goes on: a crashed one
        stays crashed, a cut-off one learns it at heal, a connected one at once."""
        self._remember_session(self.shell.session)
        if self.credentials is None:
            return f"session {self.name} never connected: there is no session to expire"
        # A connected client reconnects the moment the server drops its connection, and
        # could take the session back before it is closed: it is held off until then.
        hold = self.proxy.mode == OPEN
        if hold:
            self.proxy.partition()
        try:
            timeout_ms = self.shell.session.granted_timeout_ms or self.timeout_ms
            end_session(*self.proxy.target, self.credentials, timeout_ms,
                        client_options=self.client_options)
        except ExpireFailed as exc:
            return str(exc)
        finally:
            if hold:
                self.proxy.heal()
        self.ended = True
        return ""

    def silence(self) -> Silence | None:
        """Since when the server has heard nothing from this session, while its process is
        crashed or its network cut; None otherwise, or if it never connected."""
        since, granted = self.proxy.last_contact, self.shell.session.granted_timeout_ms
        if self.state not in ("crashed", "partitioned") or since is None or granted is None:
            return None
        return Silence(since, granted / 1000)

    def close(self) -> None:
        """The player's clean-up at the end, not a step of the scenario."""
        if self.running:
            if self.state == "partitioned":
                # Over a cut link the close request would wait out kazoo's read timeout
                # (2/3 of the session timeout): the server can only expire this session.
                self.proxy.crash()
            self.shell.session.close()
        self.proxy.close()

    # ---- what the window shows ---------------------------------------------------------
    def set_state(self, state: str) -> None:
        self.state = state
        self.add("state", state)

    def _show_event(self, event: SessionEvent) -> None:  # on kazoo's thread
        if self._names and event.state == "SyncConnected" and event.type == "None":
            self.shell.display_server = self._names[self.proxy.target]
        if event.type in REMOVAL_EVENTS:
            self.removals.append(time.monotonic())
        self.add("event", fmt.watcher_block(event.state, event.type, event.path))

    def add(self, kind: str, text: str, stream: str = "out", prompt: str = "") -> None:
        entry = LogEntry(kind, text, stream, prompt)
        with self._changed:
            self.log.append(entry)
            self._changed.notify_all()
        self.observer.entry_added(self, entry)

    def type_line(self, line: str) -> str:
        """Type a line at this session's prompt; return what the command printed."""
        prompt = self.shell.prompt()
        self.add("command", prompt + line, prompt=prompt)
        output = self.shell.execute(line)
        for chunk in output.chunks:
            self.add("output", chunk.text, chunk.stream)
        if self.shell.session.state_name == "CLOSED" and self.running and line.strip():
            self.state = "closed"
        return output.text()

    def session_state(self) -> str:
        """The label a view shows: the player's view of the process, or zkCli's state."""
        if self.state in ("crashed", "quit", "partitioned"):
            return self.state
        if self.shell.session.expired:
            return "expired"
        return self.shell.session.state_name.lower()

    def await_match(self, expect: Expectation, within: float) -> LogEntry | None:
        """Wait for an event or output, not taken by an earlier await, that matches: as a
        whole, or one of its lines (a WATCHER block's `WatchedEvent ...` line, say).

        Each await takes the entry it matched and no other, so two awaits find two events
        whichever order the server sent them in (two sessions expiring, say)."""
        deadline = time.monotonic() + within
        with self._changed:
            while True:
                for index, entry in enumerate(self.log):
                    if (index not in self._awaited and entry.kind in ("event", "output")
                            and matches_entry(expect, entry.text)):
                        self._awaited.add(index)
                        return entry
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.running:  # a dead process prints no more
                    return None
                STOP.wait(self._changed, remaining)  # a signal's stop is raised here

    def forbidden_events(self, check: QuietCheck, until: float) -> list[LogEntry]:
        """The events in this window, arrived by `until` and taken by no await, that a quiet
        step's check forbids.  All of the log counts, not only what came since some mark:
        a notification may land just before or just after the step that triggered it, and a
        quiet step must not pass or fail on that race.  Looking takes nothing: a later await
        can still take what a failed quiet step saw."""
        with self._changed:
            return [entry for index, entry in enumerate(self.log)
                    if entry.kind == "event" and index not in self._awaited
                    and entry.at <= until and check.forbids(entry.text)]

    def scenario_ended(self) -> None:
        """From here on the player closes the session: that is not the scenario's output."""
        with self._changed:
            self._scenario_end = len(self.log)

    def recent(self, count: int = 12) -> str:
        with self._changed:
            log = self.log[:self._scenario_end]
        lines = "".join(e.text if e.text.endswith("\n") else e.text + "\n"
                        for e in log if e.kind != "state")
        return "\n".join(lines.splitlines()[-count:])


class Player:
    def __init__(self, scenario: Scenario, server_address: str,
                 observer: Observer | None = None, server_line: str | None = None,
                 members: Members | None = None, client_options: dict | None = None,
                 skip_awaits_after_failure: bool = False) -> None:
        self.scenario = scenario
        # --check: once a check failed the verdict is known; later awaits look, not wait.
        self.skip_awaits_after_failure = skip_awaits_after_failure
        self.failed = False  # a step failed or timed out
        self.client_options = client_options  # every session's: -client-configuration
        self.server_address = server_address
        self.members = members  # the ensemble zksh started, for server steps
        # Which server plays, as the views say it (servers.PlayServer.line makes it).
        self.server_line = server_line or f"server: {server_address}"
        self.observer = observer or Observer()
        self.sessions: dict[str, PlayedSession] = {}
        self.results: list[StepResult] = []
        self.stopped = False
        # Set when the server stopped answering or refused a session: the run stops there.
        self.lost: ServerLost | None = None

    @property
    def server_lost(self) -> str | None:
        """What to say, once, of why the run stopped early; None if it did not."""
        return None if self.lost is None else str(self.lost)

    def start_sessions(self) -> bool:
        """Connect every session; False (and `lost` says which) when one cannot."""
        target = Target.parse(self.server_address)
        timeout_ms = int(self.scenario.session_timeout * 1000)
        for spec in self.scenario.sessions:
            played = PlayedSession(spec.name, spec.label, target, timeout_ms, self.observer,
                                   spec.server, self.client_options)
            self.sessions[spec.name] = played
            if not played.connected:
                failure = played.shell.session.connect_failure
                self.lost = refused(spec.name, played.display_server, failure,
                                    played.proxy.upstream_error)
                return False
        return True

    def run(self, pause_before_step=None) -> list[StepResult]:
        """Play every step; `pause_before_step(index, step)` lets a view pace the demo."""
        try:
            # Inside the try: an interrupt while connecting still closes what was opened.
            playing = self.start_sessions()
            self.observer.scenario_started(self)
            for index, step in enumerate(self.scenario.steps):
                STOP.check()  # a signal during the step before, or while connecting
                if self.stopped or not playing:
                    break
                if pause_before_step is not None:
                    pause_before_step(index, step)
                    if self.stopped:  # the pause is where a person asks to stop
                        break
                self.observer.step_started(self, index, step)
                result = self.run_step(step)
                self.failed |= result.status in (FAILED, TIMED_OUT)
                self.results.append(result)
                self.observer.step_finished(self, index, result)
                if self._server_gone(index, step):
                    break
            STOP.check()
            for played in self.sessions.values():
                played.scenario_ended()
            self.observer.closing(self)
        finally:
            self.close()
        self.observer.scenario_finished(self, self.results)
        return self.results

    def close(self) -> None:
        for played in self.sessions.values():
            if self.lost is not None and not self.lost.server_answers:
                played.drop()
            else:
                played.close()

    def _server_gone(self, index: int, step: Step) -> bool:
        """After a step whose session lost its connection (the player cut nothing): does
        the server itself still answer?  Asked directly, not through the session's proxy,
        as patiently as a connect would be; if it does not, the run stops here."""
        played = self.sessions.get(step.session or "")
        if played is None or step.kind not in ("type", "await", "quiet", "restart"):
            return False
        if not played.lost_connection():
            return False
        if self.scenario.servers > 1:
            # An ensemble's member stopping is what its scenario is about; the session's
            # client fails over, or the scenario shows that it cannot.
            return False
        from zkshell.player.servers import granted_within, ssl_context_of

        target = Target.parse(self.server_address)
        timeout_ms = int(self.scenario.session_timeout * 1000)
        patience = max(LOST_PATIENCE, self.scenario.session_timeout)
        if granted_within(target.host, target.port, timeout_ms, patience,
                          ssl_context_of(self.client_options)) is not None:
            return False
        self.lost = ServerLost(f"server {target.host}:{target.port} stopped answering at "
                               f"step {index + 1} of {len(self.scenario.steps)} "
                               f"({step.summary()}, line {step.line_no})")
        return True

    def run_step(self, step: Step) -> StepResult:
        started = time.monotonic()
        where = None  # the step's own session
        try:
            if step.kind == "quiet":
                status, actual, message, where = self._quiet(step)
            else:
                status, actual, message = self._perform(step)
        except Exception as exc:  # a step must never take the whole demo down
            status, actual, message = FAILED, "", f"{type(exc).__name__}: {exc}"
        return StepResult(step, status, time.monotonic() - started, actual, message, where)

    def _perform(self, step: Step) -> tuple[str, str, str]:
        if step.kind == "note":
            return DONE, "", ""
        if step.session is None:
            return self._server_step(step)
        played = self.sessions[step.session or ""]
        if step.kind == "type":
            if not played.running:
                return FAILED, "", (f"session {played.name} is not running ({played.state}); "
                                    "restart it first")
            actual = played.type_line(step.text)
            if step.expect is None or step.expect.matches(actual):
                return (PASSED if step.expect else DONE), actual, ""
            return FAILED, actual, OUTPUT_DIFFERS
        if step.kind == "await":
            assert step.expect is not None and step.within is not None
            if self.failed and self.skip_awaits_after_failure:
                entry = played.await_match(step.expect, 0.0)  # what has arrived still counts
                return (PASSED, entry.text, "") if entry else (SKIPPED, "", NOT_AWAITED)
            entry = played.await_match(step.expect, step.within)
            if entry is None and not played.running:
                return FAILED, played.recent(), (f"session {played.name} is {played.state}: "
                                                 "nothing more can arrive")
            if entry is None:
                return TIMED_OUT, played.recent(), f"nothing matched within {step.within:g}s"
            return PASSED, entry.text, ""
        if step.kind == "expire":
            problem = played.expire()
            return (FAILED if problem else DONE), "", problem
        getattr(played, step.kind)()
        return DONE, "", ""

    def _quiet(self, step: Step) -> tuple[str, str, str, str | None]:
        """Passes if no check's session got what it forbids, before or during the window;
        a failure belongs to the first session that got something (its pane shows it).
        The window is waited once for all the sessions: the server sends every notification
        of one change together, so one window after the trigger covers them all."""
        assert step.within is not None
        for check in step.quiet:
            played = self.sessions[check.session]
            if not played.running:  # a dead process hears nothing: its silence proves nothing
                return FAILED, "", (f"session {played.name} is not running ({played.state}); "
                                    "a quiet window there proves nothing"), played.name
        window_end = time.monotonic() + step.within
        # What came before the window fails the step at once; then the window is waited out.
        got = self._forbidden(step, window_end)
        if not got:
            STOP.sleep(max(0.0, window_end - time.monotonic()))
            got = self._forbidden(step, window_end)
        if not got:
            return PASSED, "", "", None
        message = "; ".join(f"{name} got: {_one_line(entry.text)}" for name, entry in got)
        return FAILED, "".join(entry.text for _name, entry in got), message, got[0][0]

    def _forbidden(self, step: Step, until: float) -> list[tuple[str, LogEntry]]:
        return [(check.session, entry) for check in step.quiet
                for entry in self.sessions[check.session].forbidden_events(check, until)]


    def _server_step(self, step: Step) -> tuple[str, str, str]:
        """stop-server, start-server, kill-leader: on the ensemble zksh started; and awaits
        on a member's role."""
        if step.kind == "await":
            return self._await_role(step)
        members = self.members
        if members is None:
            return FAILED, "", f"{step.kind} needs an ensemble zksh started (no -server)"
        if step.kind == "kill-leader":
            leader = members.leader()
            if leader is None:
                return FAILED, "", "no member leads now (an election, or no quorum)"
            members.stop_member(leader, kill=True)
            return DONE, f"member {leader} was leading; killed", ""
        if step.kind == "stop-server" and step.member is None:  # the member a session is on
            played = self.sessions[step.text]
            member = played.member_on()
            members.stop_member(member, kill=False)
            return DONE, f"{played.name} was on member {member}; stopped", ""
        assert step.member is not None
        if step.kind in ("isolate-server", "rejoin-server"):
            self._cut_member(members, step.member, step.kind == "isolate-server")
            return DONE, "", ""
        if step.kind == "stop-server":
            members.stop_member(step.member, kill=False)
            return DONE, "", ""
        members.launch_member(step.member)
        if not members.wait_serving(step.member, MEMBER_START_WAIT):
            return FAILED, "", (f"member {step.member} runs but has not served within "
                                f"{MEMBER_START_WAIT:g}s: too few members run for a quorum?")
        return DONE, "", ""

    def _cut_member(self, members: Members, member: int, cut: bool) -> None:
        """Isolate a member (cut) or let it rejoin: its links to its peers, and the relays
        to it of the sessions not pinned to it (those pinned to it are on its side)."""
        if cut:
            members.isolate(member)
        else:
            members.rejoin(member)
        address = Target.parse(self.server_address).hosts[member - 1]
        for spec in self.scenario.sessions:
            relay = self.sessions[spec.name].proxy.proxy_to(address)
            if spec.server is None and relay is not None:
                relay.partition() if cut else relay.heal()

    def _await_role(self, step: Step) -> tuple[str, str, str]:
        """Wait until the member's `srvr` tells the role awaited (refused: "down")."""
        assert step.member is not None and step.within is not None
        host, port = Target.parse(self.server_address).hosts[step.member - 1]
        deadline = time.monotonic() + step.within
        while True:
            role = member_role(host, port)
            if role == step.text:
                return PASSED, f"server {step.member}: {role}", ""
            if time.monotonic() >= deadline:
                return TIMED_OUT, f"server {step.member}: {role}", \
                    f"server {step.member} was not {step.text} within {step.within:g}s"
            STOP.sleep(ROLE_POLL)


def _one_line(text: str) -> str:
    """A WATCHER block on one line, for a verdict: `WATCHER:: WatchedEvent ...`."""
    return " ".join(line for line in text.split("\n") if line)


def member_role(host: str, port: int) -> str:
    """A member's role from its `srvr`: leader, follower, looking; down when it refuses."""
    from zkshell.ensemble import DOWN, LOOKING, parse_srvr
    from zkshell.server import four_letter_word

    try:
        return parse_srvr(four_letter_word(host, port, "srvr")).role
    except ConnectionRefusedError:
        return DOWN
    except OSError:  # it accepted, then said nothing in time: running, not serving
        return LOOKING


def server_for(scenario: Scenario) -> int:
    """A tickTime that lets the scenario's session timeout be granted (2 to 20 ticks) and
    keeps expiry prompt: the server expires sessions on tick boundaries."""
    timeout_ms = int(scenario.session_timeout * 1000)
    return max(50, timeout_ms // 10)
