"""Run one command script through the real zkCli.sh and through zksh, and normalise the output.

A script is plain text, one zkCli command per line, fed to the program's stdin exactly as
`printf '...' | zkCli.sh -server H:P` would feed it.  Both programs get the same environment
(TZ=UTC) and the same 60 s limit.

Streams.  We want three views of each program's output: stdout alone, stderr alone, and the
two merged in the order they were written (what a person sees with `2>&1`).  One run cannot
give all three: with two pipes the relative order of stdout and stderr writes is lost, and
with one pipe (stderr=STDOUT) we no longer know which line went to which stream.  So each
script runs twice, once with separate pipes and once merged, and each run needs its own
fresh server (a script changes the tree: sequence numbers, versions and `Node already
exists` would differ on a reused server).  The two runs are independent, so `run_zkcli` and
`run_zksh` start them at the same time.

Normalisation (see `normalise`) removes what legitimately differs between two runs or two
servers (zxids, times, session ids, the server's address, zkCli's SLF4J noise) and pulls the
asynchronous WATCHER blocks out of the text so they can be compared on their own.
"""

from __future__ import annotations

import difflib
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from zkshell.embedded import EmbeddedServer
from zkshell.server import (
    LocalServer,
    ZooKeeperUnavailable,
    find_installation,
    four_letter_word,
    free_port,
    session_handshake,
    zkcli_command,
    zkcli_env,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Result:
    """One program's output for one script.

    `stdout`, `stderr` and `returncode` come from the run with separate pipes; `merged` (stdout
    and stderr on one pipe, in write order) and `merged_returncode` from the second run.
    """

    stdout: str
    stderr: str
    merged: str | None
    returncode: int
    merged_returncode: int | None = None


def script_paths() -> list[Path]:
    return sorted(SCRIPTS_DIR.glob("*.zk"))


# --------------------------------------------------------------------------------------------
# Fresh servers

_ports_lock = threading.Lock()
_ports_handed_out: set[int] = set()


def _unused_port() -> int:
    """A free port not yet given to any server of this process.

    `free_port()` binds port 0 and closes the socket, so two servers started at the same time
    can be handed the same port: the second JVM fails to bind, but its `ruok` check is answered
    by the first server and both runs end up on one server.  Never handing a port out twice in
    this process (and checking who answers, below) rules that out.
    """
    with _ports_lock:
        while True:
            port = free_port()
            if port not in _ports_handed_out:
                _ports_handed_out.add(port)
                return port


def _is_own_server(server: LocalServer) -> bool:
    """Whether the server answering on server.port is the one we started (its data dir)."""
    workdir = getattr(server, "_workdir", None)
    if workdir is None:
        return True
    try:
        conf = four_letter_word(server.host, server.port, "conf")
    except OSError:
        return False
    return f"dataDir={workdir}" in conf


def start_server(tick_time_ms: int = 2000, attempts: int = 3) -> LocalServer:
    """Start one fresh, empty server on a port of its own."""
    find_installation()  # ZooKeeperUnavailable right away when it is not installed
    problem = "no attempt made"
    for _ in range(attempts):
        server = LocalServer(tick_time_ms=tick_time_ms, port=_unused_port())
        try:
            server.start()
        except ZooKeeperUnavailable as exc:
            problem = str(exc)
            server.cleanup()
            continue
        if _is_own_server(server):
            return server
        problem = f"port {server.port} is answered by another server"
        server.cleanup()
    raise ZooKeeperUnavailable(f"could not start a fresh ZooKeeper server: {problem}")


def start_servers(count: int, tick_time_ms: int = 2000) -> list[LocalServer]:
    """Start `count` fresh servers at the same time; on failure stop the ones that started."""
    results: list = [None] * count

    def start(index: int) -> None:
        try:
            results[index] = start_server(tick_time_ms)
        except BaseException as exc:  # re-raised below
            results[index] = exc

    threads = [threading.Thread(target=start, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        for server in results:
            if isinstance(server, LocalServer):
                server.cleanup()
        raise failures[0]
    return results


def start_embedded_servers(count: int, tick_time_ms: int = 2000) -> list[EmbeddedServer]:
    """`count` fresh embedded servers with the history a fresh real one has: `LocalServer`
    opens and closes a session to know it serves, which takes two zxids, so zxids line up."""
    servers = [EmbeddedServer(tick_time_ms=tick_time_ms).start() for _ in range(count)]
    for server in servers:
        session_handshake(server.host, server.port)
    return servers


def _environment() -> dict[str, str]:
    env = zkcli_env()
    env["TZ"] = "UTC"  # ctime/mtime are printed in the client's zone
    return env


def _run_piped(command: list[str], script_text: str, *, merged: bool,
               cwd: Path | None = None) -> tuple[str, str, int]:
    """Run `command` with the script on stdin; return (stdout, stderr, exit status).

    With merged=True stderr goes into the stdout pipe and the returned stderr is "".
    The child gets a process group of its own: zkCli.sh is a bash script that starts java as a
    child, so on a timeout the whole group must be killed, not just bash.
    """
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        env=_environment(), cwd=cwd, start_new_session=True,
    )
    try:
        out, err = process.communicate(script_text.encode(), timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise AssertionError(
            f"{command[0]} did not finish within {TIMEOUT_S:.0f} s; output so far:\n"
            + out.decode(errors="replace") + (err or b"").decode(errors="replace")) from None
    return (out.decode(errors="replace"), (err or b"").decode(errors="replace"),
            process.returncode)


def _run_both(command_for, script_text: str, address: str, merged_address: str | None,
              cwd: Path | None = None) -> Result:
    """The separate-pipes run against `address` and, at the same time, the merged run against
    `merged_address` (skipped when it is None)."""
    merged_box: list = []

    def merged_run() -> None:
        try:
            merged_box.append(_run_piped(command_for(merged_address), script_text,
                                         merged=True, cwd=cwd))
        except BaseException as exc:  # re-raised in the calling thread
            merged_box.append(exc)

    thread = None
    if merged_address is not None:
        thread = threading.Thread(target=merged_run, daemon=True)
        thread.start()
    try:
        stdout, stderr, returncode = _run_piped(command_for(address), script_text,
                                                merged=False, cwd=cwd)
    finally:
        if thread is not None:
            thread.join()
    merged = merged_returncode = None
    if thread is not None:
        if isinstance(merged_box[0], BaseException):
            raise merged_box[0]
        merged, _, merged_returncode = merged_box[0]
    return Result(stdout, stderr, merged, returncode, merged_returncode)


def run_zkcli(address: str, script_text: str, merged_address: str | None = None) -> Result:
    """The real zkCli.sh, piped (no JLine, no prompt)."""
    return _run_both(lambda addr: zkcli_command(addr), script_text, address, merged_address)


def zksh_command(address: str) -> list[str]:
    return [sys.executable, "-m", "zkshell", "-server", address]


def run_zksh(address: str, script_text: str, merged_address: str | None = None) -> Result:
    """zksh in script mode (stdin not a tty), which prints what zkCli prints, banner included.

    It runs from the repository root so that `-m zkshell` finds this checkout.  Nothing forces
    Python's stdout to be unbuffered: the merged view checks that zksh itself keeps stdout and
    stderr in zkCli's order when both go to one pipe.
    """
    return _run_both(zksh_command, script_text, address, merged_address, cwd=REPO_ROOT)


# --------------------------------------------------------------------------------------------
# Normalisation

_SLF4J = re.compile(r"SLF4J: ")
_CONNECT_EVENT = "WatchedEvent state:SyncConnected type:None path:null"
# Long.toHexString: lower case, no zero padding.  A padded or upper-case value does not match
# and so stays visible as a difference.
_ZXID = re.compile(r"^(cZxid|mZxid|pZxid) = 0x(0|[1-9a-f][0-9a-f]*)$")
_OWNER = re.compile(r"^ephemeralOwner = 0x(0|[1-9a-f][0-9a-f]*)$")
# zkCli prints commons-cli parse errors with their class name (`CliParseException(cause)` takes
# the cause's toString()): "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized
# option: -z".  zksh prints the message only, so the prefix is removed from zkCli's output.
_JAVA_EXCEPTION_PREFIX = re.compile(r"^org\.apache\.commons\.cli\.[A-Za-z]+Exception: ")
# Java's Date.toString() in UTC: "Tue Nov 24 00:38:00 UTC 2026".  Only this exact shape is
# replaced, so a time printed in another format or zone still shows up as a difference.
_DATE = re.compile(r"^(ctime|mtime) = ([A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4})$")
# `version` names the client: zkCli's build string, zksh's own.  Only what follows the label
# differs; the label itself is compared.
_VERSION = re.compile(r"^ZooKeeper CLI version: \S.*$")
# zksh's one deliberate addition (zkcli-notes.md): after an option error, the line a person
# needs next, the command's usage.  Only a real usage line from the command table, right after
# such an error, is taken out of zksh's output; anything else stays a difference.
_OPTION_ERROR = re.compile(r"^(Unrecognized option: |Missing argument for option: "
                           r"|Missing required option: |The option '.*' was specified but)")
_EPOCH = "Thu Jan 01 00:00:00 UTC 1970"  # the root and /zookeeper: real, fixed, kept
_EVENT = re.compile(r"WatchedEvent ")
_REMOVED_EVENT = re.compile(r"WatchedEvent state:\S+ type:(\w+WatchRemoved) path:(.*)$")
NO_NEWLINE = "<no newline at end of output>"


@dataclass(frozen=True)
class Normalised:
    """`lines`: the output without WATCHER blocks, in order.  `events`: the `WatchedEvent ...`
    lines in the order they were printed."""

    lines: list[str]
    events: list[str]


def _rank_map(values: list[str], label: str) -> dict[str, str]:
    """Map hex values to `0x<label-N>` by numeric rank (0x0 stays 0x0).

    Absolute zxids and session ids depend on how many transactions a client made and when;
    their equality and order (cZxid == mZxid, the second session's id > the first's) carry
    the meaning, and a rank keeps exactly that.
    """
    distinct = sorted({int(v, 16) for v in values if int(v, 16) != 0})
    ranks = {value: f"0x<{label}-{n}>" for n, value in enumerate(distinct, start=1)}
    return {v: ("0x0" if int(v, 16) == 0 else ranks[int(v, 16)]) for v in values}


_SESSION_EVENT = re.compile(r"WatchedEvent state:\S+ type:None path:null$")


def _sort_session_runs(events: list[str]) -> list[str]:
    """Sort each run of adjacent session events (`type:None`: SyncConnected, Closed, ...).

    Every ZooKeeper handle has an event thread of its own.  After `close` + `connect` (or a
    `connect` that replaces a live session) the old handle's Closed and the new handle's
    SyncConnected are printed by two threads, and under load the SyncConnected sometimes comes
    first.  Within such a run only the events themselves, not their order, are meaningful.
    """
    result: list[str] = []
    run: list[str] = []
    for event in events:
        if _SESSION_EVENT.match(event):
            run.append(event)
            continue
        result.extend(sorted(run))
        run = []
        result.append(event)
    result.extend(sorted(run))
    return result


def _sort_removal_groups(events: list[str]) -> list[str]:
    """Sort each run of adjacent `...WatchRemoved` events for one path with distinct types.

    `removewatches /p` (type Any) with both a data and a child watch on /p fires
    DataWatchRemoved and ChildWatchRemoved in the iteration order of a Java HashMap keyed by
    the EventType enum, i.e. by identity hash codes: the order changes from run to run (seen
    in 2 of 10 runs).  Only the set of events in such a run is meaningful.
    """
    result: list[str] = []
    i = 0
    while i < len(events):
        first = _REMOVED_EVENT.match(events[i])
        if first is None:
            result.append(events[i])
            i += 1
            continue
        group, types = [events[i]], {first.group(1)}
        j = i + 1
        while j < len(events):
            match = _REMOVED_EVENT.match(events[j])
            if match is None or match.group(2) != first.group(2) or match.group(1) in types:
                break
            group.append(events[j])
            types.add(match.group(1))
            j += 1
        result.extend(sorted(group))
        i = j
    return result


_CLOSED_EVENT = "WatchedEvent state:Closed type:None path:null"


def script_quits(script_text: str) -> bool:
    """Whether the script runs `quit` (zkCli reads no further line after it)."""
    return any(line.split()[:1] == ["quit"] for line in script_text.splitlines())


def normalise(text: str, *, zkcli: bool = True, address: str | None = None,
              quits: bool = False) -> Normalised:
    """Normalise one captured stream (stdout, stderr or merged).

    zkcli=True is for zkCli's output: it removes the SLF4J lines (Debian's zkCli has no
    logging binding and says so on stderr) and the `org.apache.commons.cli.XxxException: `
    prefix of option errors.  For zksh's output pass zkcli=False, so that a log line or a
    class name shows up as a difference.  The start-up banner and the first SyncConnected are
    compared like everything else.

    quits=True (the script runs `quit`, see `script_quits`) with zkcli=True restores the final
    Closed event when zkCli lost it: `quit` closes the session, which queues that event for the
    event thread, and then calls System.exit at once, so under load the JVM sometimes exits
    before the event is printed (1 run in 10 with 3 scripts at a time on 2 cores).  zksh must
    always print it.

    The event list is then put in a canonical order where zkCli's own order is not fixed: see
    `_sort_removal_groups` and `_sort_session_runs`.

    WATCHER blocks: zkCli prints each event from its event thread as two writes,
    "\\nWATCHER::\\n" and "\\nWatchedEvent ...\\n", while the main thread goes on with the next
    command.  An event caused by command N therefore lands before, inside or after the output
    of command N+1 (and on stdout, while `Created /x` goes to stderr), and the exact place
    differs from run to run.  So the blocks are pulled out: each "WATCHER::" line and each
    "WatchedEvent" line is removed together with the blank line written just before it, the
    event lines are kept in a list of their own (the event thread prints them in the order
    the server sent them, which is deterministic), and the remaining lines are compared in
    order.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.append(NO_NEWLINE)

    kept: list[str] = []
    events: list[str] = []
    markers = 0
    for line in lines:
        if zkcli and _SLF4J.match(line):
            continue
        if zkcli:
            line = _JAVA_EXCEPTION_PREFIX.sub("", line)
        if line == "WATCHER::" or _EVENT.match(line):
            if kept and kept[-1] == "":
                kept.pop()  # the "\n" this block wrote just before its line
            if line == "WATCHER::":
                markers += 1
            else:
                events.append(line)
            continue
        kept.append(line)

    if zkcli and quits and text.strip():
        # Each session zkCli opened prints one SyncConnected and, when closed while alive
        # (close, connect, quit), one Closed.  A script that quits has closed them all, so
        # one missing Closed is the one lost to the exit race.
        sessions = events.count(_CONNECT_EVENT)
        if events.count(_CLOSED_EVENT) == sessions - 1:
            events.append(_CLOSED_EVENT)
            markers += 1
    events = _sort_session_runs(_sort_removal_groups(events))
    if markers != len(events):
        kept.append(f"<{markers} WATCHER:: lines but {len(events)} WatchedEvent lines>")

    if not zkcli:
        kept = _without_usage_after_option_errors(kept)

    owners = [m.group(1) for line in kept if (m := _OWNER.match(line))]
    zxids = [m.group(2) for line in kept if (m := _ZXID.match(line))]
    owner_map = _rank_map(owners, "session")
    zxid_map = _rank_map(zxids, "zxid")

    result = []
    for line in kept:
        if m := _ZXID.match(line):
            line = f"{m.group(1)} = {zxid_map[m.group(2)]}"
        elif m := _OWNER.match(line):
            line = f"ephemeralOwner = {owner_map[m.group(1)]}"
        elif (m := _DATE.match(line)) and m.group(2) != _EPOCH:
            line = f"{m.group(1)} = <date>"
        elif _VERSION.match(line):
            line = "ZooKeeper CLI version: <version>"
        if address:
            line = line.replace(address, "<server>")
        result.append(line)
    return Normalised(result, events)


def _usage_lines() -> set[str]:
    from zkshell.commands import COMMANDS
    return {entry.usage for entry in COMMANDS.values()}


def _without_usage_after_option_errors(lines: list[str]) -> list[str]:
    usages = _usage_lines()
    result: list[str] = []
    after_error = False
    for line in lines:
        if after_error and line in usages:
            after_error = False
            continue
        after_error = bool(_OPTION_ERROR.match(line))
        result.append(line)
    return result


def render(result: Result, *, zkcli: bool, address: str | None = None,
           merged_address: str | None = None, quits: bool = False) -> str:
    """One text holding every normalised view of a result, for comparing and for reading."""
    parts = [f"== exit status: {result.returncode}"]
    views = [("stdout", result.stdout, address, quits), ("stderr", result.stderr, address, False)]
    if result.merged is not None:
        parts.append(f"== exit status (merged run): {result.merged_returncode}")
        views.append(("merged stdout+stderr", result.merged, merged_address, quits))
    for name, text, addr, view_quits in views:
        norm = normalise(text, zkcli=zkcli, address=addr, quits=view_quits)
        parts.append(f"== {name}, WATCHER blocks removed ({len(norm.lines)} lines)")
        parts.extend(norm.lines)
        parts.append(f"== {name}, watch events in order ({len(norm.events)})")
        parts.extend(norm.events)
    return "\n".join(parts) + "\n"


def unified_diff(expected: str, actual: str, expected_name: str = "zkCli",
                 actual_name: str = "zksh") -> str:
    return "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=expected_name, tofile=actual_name, n=3))
