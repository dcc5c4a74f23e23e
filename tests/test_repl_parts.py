"""The interactive shell's parts without a terminal: highlighting, the toolbar, colour, the
history kept across runs, and one turn of the loop with keys sent through a pipe."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import threading
import time
import uuid
from typing import NamedTuple

import pytest
from kazoo.client import KazooClient
from prompt_toolkit.application import create_app_session
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import to_plain_text
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from zkshell.config import Settings
from zkshell.crash import Crash, CrashOnSignals, left_open_message
from zkshell.format import stat_block, watcher_block
from zkshell.history import MemoryHistory, ShellHistory, open_history
from zkshell.lexer import ZkLexer, highlight
from zkshell.output import ERROR, USAGE, Chunk, Output
from zkshell.output import STAT as STAT_KIND
from zkshell.player.proxy import FaultProxy
from zkshell.repl import build_prompt_session, color_wanted, one_iteration, tell_accepted_lines
from zkshell.server import free_port
from zkshell.session import Session, SessionEvent
from zkshell.shell import Shell
from zkshell.sinks import color
from zkshell.sinks.pipe import PipeSink
from zkshell.sinks.terminal import TerminalSink
from zkshell.toolbar import toolbar

from .conftest import wait_until
from .piped_prompt import piped_prompt

ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


# ---- highlighting ---------------------------------------------------------------------------
def styles(line: str) -> list[tuple[str, str]]:
    return [(style.replace("class:zk.", ""), text) for style, text in highlight(line)
            if text.strip()]


def test_each_word_is_highlighted_by_what_it_is():
    assert styles('create -es -t 100 /app "some data" world:anyone:r') == [
        ("command", "create"), ("flag", "-es"), ("flag", "-t"), ("value", "100"),
        ("path", "/app"), ("string", '"some data"'), ("argument", "world:anyone:r")]
    assert styles("set -v -1 /x data") == [
        ("command", "set"), ("flag", "-v"), ("value", "-1"), ("path", "/x"),
        ("argument", "data")]
    assert styles("lss /x -q") == [("unknown-command", "lss"), ("argument", "/x"),
                                   ("argument", "-q")]
    assert styles("ls -q /x") == [("command", "ls"), ("unknown-flag", "-q"), ("path", "/x")]
    assert styles("reconfig -file /tmp/members") == [
        ("command", "reconfig"), ("flag", "-file"), ("value", "/tmp/members")]


@pytest.mark.parametrize("line", ["", "   ", "  ls   /a  ", 'create /x "open quote',
                                  "get\t-s\t/x", "a\"b\"c 'd e'"])
def test_highlighting_never_changes_the_text(line):
    assert "".join(text for _style, text in highlight(line)) == line


def test_the_lexer_highlights_the_buffer_of_a_prompt_fed_through_a_pipe():
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        prompt = build_prompt_session(Shell(Session("127.0.0.1:1")), Settings(),
                                      MemoryHistory(), None, color=False)
        pipe.send_text("get -s /app\r")
        assert prompt.prompt("> ") == "get -s /app"
        get_line = prompt.lexer.lex_document(Document("get -s /app"))
    assert get_line(0) == [("class:zk.command", "get"), ("", " "), ("class:zk.flag", "-s"),
                           ("", " "), ("class:zk.path", "/app")]
    assert ZkLexer().lex_document(Document("ls /"))(5) == []


# ---- the toolbar ------------------------------------------------------------------------------
def test_the_toolbar_shows_server_state_session_and_watches(chroot_address):
    session = Session(chroot_address, 4000)
    shell = Shell(session)
    session.connect()
    try:
        assert session.wait_connected(10)
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            prompt = build_prompt_session(shell, Settings(), MemoryHistory(), None, False)
            shown = to_plain_text(prompt.bottom_toolbar())
        session_id = f"0x{session.session_id:x}"
        assert shown == f" {chroot_address} | CONNECTED | session {session_id} | watches: 0 "
        shell.execute("create /x")
        shell.execute("get -w /x")
        shell.execute("ls -w /")
        assert to_plain_text(toolbar(shell)).endswith("| watches: 2 ")
    finally:
        session.close()
    assert to_plain_text(toolbar(shell)) == f" {chroot_address} | CLOSED | no session | watches: 0 "


def test_the_toolbar_of_a_session_that_cannot_connect():
    session = Session(f"127.0.0.1:{free_port()}", 4000)
    shell = Shell(session)
    session.connect()
    try:
        fragments = toolbar(shell)
        assert "| CONNECTING | no session |" in to_plain_text(fragments)
        assert ("class:toolbar.state.connecting", " CONNECTING ") in fragments
    finally:
        session.close()


def test_the_toolbar_keeps_the_session_id_while_reconnecting(
        fresh_server):
    session = Session(fresh_server.address, 10000)
    shell = Shell(session)
    session.connect()
    try:
        assert session.wait_connected(10)
        shown_id = f"session 0x{session.session_id:x}"
        shell.execute("ls -w /")
        fresh_server.stop()
        assert wait_until(lambda: session.state_name == "CONNECTING")
        assert to_plain_text(toolbar(shell)).endswith(f"| CONNECTING | {shown_id} | watches: 1 ")
    finally:
        session.close()


def test_the_toolbar_counts_no_watches_once_the_session_has_expired(zk_server):
    proxy = FaultProxy(zk_server.host, zk_server.port)
    session = Session(proxy.address, 800)
    shell = Shell(session)
    session.connect()
    try:
        assert session.wait_connected(10)
        marker = f"/toolbar-{uuid.uuid4().hex[:8]}"
        shell.execute(f'create -e {marker} ""')
        shell.execute("ls -w /")
        proxy.partition()
        admin = KazooClient(hosts=zk_server.address)
        admin.start(timeout=10)
        # until the server has expired the cut-off session
        assert wait_until(lambda: admin.exists(marker) is None)
        admin.stop()
        admin.close()
        proxy.heal()
        assert wait_until(lambda: session.expired)
        assert to_plain_text(toolbar(shell)) == (
            f" {proxy.address} | CLOSED | no session | watches: 0 ")
    finally:
        session.close()
        proxy.close()


class Listener:
    """A TCP port that takes connections and never answers (`silent`), or closes each at once:
    what a connection attempt meets at a hung server, or at something that is no ZooKeeper."""

    def __init__(self, silent: bool) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        if not silent:  # else the kernel completes the handshake and nobody ever reads
            threading.Thread(target=self._close_each, daemon=True).start()

    def _close_each(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed
            connection.close()

    def close(self) -> None:
        self.socket.close()


@pytest.mark.parametrize(("kind", "why"), [
    ("refused", "connection refused, retrying every second"),
    ("unknown host", "unknown host, retrying every second"),
    ("silent", "no answer, retrying"),
    ("closing", "connection closed by the server, retrying every second"),
    ("several", "{refusing}: connection refused, retrying every second"),
    ("several unknown", "no server name resolves, retrying every second"),
])
def test_the_toolbar_says_why_it_cannot_connect_and_that_it_retries(kind, why):
    refusing = f"127.0.0.1:{free_port()}"
    listener = Listener(silent=kind == "silent") if kind in ("silent", "closing") else None
    server = {"refused": refusing, "unknown host": "nohost.invalid:2181",
              "several": f"nohost.invalid:2181,{refusing}",
              "several unknown": "nohost.invalid:2181,nohost2.invalid:2181"}.get(
                  kind, listener.address if listener else "")
    session = Session(server, 1000)  # a silent server costs each attempt 1 s
    shell = Shell(session)
    session.connect()
    try:
        assert wait_until(lambda: session.connect_failure is not None)
        assert to_plain_text(toolbar(shell)) == (
            f" {server} ({why.format(refusing=refusing)}) | CONNECTING | no session "
            "| watches: 0 ")
    finally:
        session.close()
        if listener is not None:
            listener.close()
    assert to_plain_text(toolbar(shell)) == f" {server} | CLOSED | no session | watches: 0 "


def test_a_history_file_that_cannot_be_read_is_said_once_and_kept_in_memory(tmp_path):
    said: list[str] = []
    history = open_history(str(tmp_path), 100, warn=said.append)
    assert isinstance(history, MemoryHistory)
    assert said == [f"zksh: cannot read the history file {tmp_path}: not a file; "
                    "history is kept for this run only"]
    history.record("ls /")
    assert history.get_strings() == ["ls /"]


def test_no_toolbar_when_switched_off_or_not_on_a_terminal():
    shell = Shell(Session("127.0.0.1:1"))
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        off = build_prompt_session(shell, Settings(toolbar=False), MemoryHistory(), None, False)
        piped = build_prompt_session(shell, Settings(), MemoryHistory(), None, False,
                                     terminal=False)
    assert off.bottom_toolbar is None and piped.bottom_toolbar is None


# ---- colour -----------------------------------------------------------------------------------
STAT = ("cZxid = 0x2\nctime = Thu Jan 01 00:00:00 UTC 1970\nmZxid = 0x2\n"
        "mtime = Thu Jan 01 00:00:00 UTC 1970\npZxid = 0x2\ncversion = 0\ndataVersion = 0\n"
        "aclVersion = 0\nephemeralOwner = 0x0\ndataLength = 0\nnumChildren = 0\n")


class Stat(NamedTuple):
    czxid: int = 2
    ctime: int = 0
    mzxid: int = 2
    mtime: int = 0
    pzxid: int = 2
    cversion: int = 0
    version: int = 0
    aversion: int = 0
    ephemeralOwner: int = 0
    dataLength: int = 0
    numChildren: int = 0


def test_colour_paints_errors_events_and_stat_names_and_takes_nothing_away():
    error = color.paint_chunk(Chunk("err", "Node does not exist: /x\n", ERROR))
    assert error == "\x1b[31mNode does not exist: /x\x1b[0m\n"
    assert stat_block(Stat()) == STAT
    stat = color.paint_chunk(Chunk("out", STAT, STAT_KIND, Stat()))
    assert "\x1b[36mcZxid\x1b[0m = 0x2\n" in stat and "\x1b[36mnumChildren\x1b[0m = 0" in stat
    assert ESCAPES.sub("", stat) == STAT
    block = watcher_block("SyncConnected", "NodeDeleted", "/x")
    painted = color.paint_event(SessionEvent("SyncConnected", "NodeDeleted", "/x"))
    assert "\x1b[1;33mWATCHER::\x1b[0m" in painted
    assert "\x1b[33mWatchedEvent state:SyncConnected type:NodeDeleted path:/x\x1b[0m" in painted
    assert ESCAPES.sub("", painted) == block
    expired = color.paint_event(SessionEvent("Expired", "None", None))
    assert "\x1b[1;31mWatchedEvent state:Expired" in expired
    usage = "ZooKeeper -server host:port -client-configuration properties-file cmd args\n"
    assert color.paint_chunk(Chunk("err", usage, USAGE)) == usage  # the usage list: no error


def test_colour_goes_by_what_a_chunk_is_not_by_what_its_text_looks_like():
    """Data that reads like a stat block is data: only a real stat block gets field colours."""
    assert color.paint_chunk(Chunk("out", STAT)) == STAT


def test_the_sink_without_colour_writes_zkclis_text_unchanged(capsys):
    output = Output()
    output.out("data\n")
    output.out(STAT, STAT_KIND, Stat())
    output.err("Node does not exist: /x\n")
    sink = TerminalSink(color=False)
    sink.output(output)
    sink.event(SessionEvent("SyncConnected", "NodeCreated", "/x"))
    captured = capsys.readouterr()
    assert captured.out == "data\n" + STAT + watcher_block("SyncConnected", "NodeCreated", "/x")
    assert captured.err == "Node does not exist: /x\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_only_when_not_switched_off():
    assert color_wanted(Settings(), FakeTerminal()) is True
    assert color_wanted(Settings(), io.StringIO()) is False
    assert color_wanted(Settings(color=False), FakeTerminal()) is False


# ---- history kept across runs -----------------------------------------------------------------
def test_history_is_kept_across_runs_trimmed_and_without_repeats(tmp_path):
    path = tmp_path / "data" / "zksh" / "history"
    first = ShellHistory(str(path), size=3)
    for line in ("ls /", "ls /", "get /a", "multi\nline", "stat /b"):
        first.record(line)
    first.append_string("typed, not run")  # what prompt_toolkit calls on Enter: ignored
    assert first.get_strings() == ["ls /", "get /a", "multi\nline", "stat /b"]
    second = ShellHistory(str(path), size=3)  # the next run: the newest 3 entries
    assert list(second.load_history_strings())[::-1] == ["get /a", "multi\nline", "stat /b"]


def test_a_history_file_that_cannot_be_written_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = open_history(str(blocker / "history"), 10)
    history.record("ls /")
    assert history.get_strings() == ["ls /"]
    assert isinstance(open_history("", 10), MemoryHistory)


# ---- one turn of the loop ------------------------------------------------------------------------
def test_redo_is_remembered_as_the_command_it_ran_as_history_shows_it(chroot_address, capsys):
    history = MemoryHistory()
    with piped_prompt(chroot_address, history) as (shell, printer, pipe, prompt):
        pipe.send_text("create /a\r")
        assert one_iteration(prompt, shell, printer, history, None)
        pipe.send_text("ls /\r")
        assert one_iteration(prompt, shell, printer, history, None)
        pipe.send_text("redo 0\r")
        assert one_iteration(prompt, shell, printer, history, None)
        pipe.send_text("history\r")
        assert one_iteration(prompt, shell, printer, history, None)
        pipe.send_text("ls /\x03")  # Ctrl+C with text: nothing runs, the loop goes on
        assert one_iteration(prompt, shell, printer, history, None)
        pipe.send_text("\x04")  # Ctrl+D: the end
        assert not one_iteration(prompt, shell, printer, history, None)
    assert history.get_strings() == ["create /a", "ls /", "create /a", "history"]
    out = capsys.readouterr()
    assert "0 - create /a\n1 - ls /\n2 - create /a\n3 - history\n" in out.out
    assert "Node already exists: /a" in out.err


def test_ctrl_c_on_an_empty_line_ends_the_loop_as_a_crash_and_in_a_search_ends_the_search():
    shell = Shell(Session("127.0.0.1:1"))
    printer = TerminalSink(color=False)
    history = MemoryHistory()
    history.record("ls /")
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        prompt = build_prompt_session(shell, Settings(), history, None, False)
        pipe.send_text("\x12ls")  # Ctrl+R finds `ls /`
        pipe.send_text("\x03\r")  # Ctrl+C ends the search only; Enter runs the empty line
        assert one_iteration(prompt, shell, printer, history, None)
        assert shell.state.history == {}
        pipe.send_text("\x03")
        with pytest.raises(Crash) as crash:
            one_iteration(prompt, shell, printer, history, None)
    assert (crash.value.why, crash.value.exit_status) == ("Ctrl+C", 130)


def test_ctrl_c_just_after_enter_stops_the_command_instead_of_ending_the_shell(
        zk_server, capsys):
    """A SIGINT in the instant between the prompt's return (the terminal already back in the
    mode where Ctrl+C is a signal) and the command's start stops that command, as one a
    moment later does.  It used to end zksh, session left open (seen once in a full run)."""
    proxy = FaultProxy(zk_server.host, zk_server.port)
    try:
        with piped_prompt(proxy.address, MemoryHistory()) as (shell, printer, pipe, prompt), \
                CrashOnSignals(prompt.app, shell.session.interrupt) as signals:
            tell_accepted_lines(prompt, signals)
            read_line = prompt.prompt

            def read_line_then_ctrl_c(*args, **kwargs):
                line = read_line(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGINT)  # its handler runs before the return
                return line

            prompt.prompt = read_line_then_ctrl_c
            proxy.partition()  # `ls /` waits for its answer, as the stop is taken there
            try:
                pipe.send_text("ls /\r")
                assert one_iteration(prompt, shell, printer, MemoryHistory(), None, signals)
                signals.raise_pending()  # nothing pending: the shell goes on
            finally:
                proxy.heal()
    finally:
        proxy.close()
    assert "zksh: command stopped (SIGINT)" in capsys.readouterr().err
    assert shell.exit_code == 130


def test_a_session_left_open_keeps_its_ephemerals_until_the_granted_timeout_has_passed(
        chroot_address, chroot_admin):
    session = Session(chroot_address, 100000)  # more than the 20 ticks a server grants
    shell = Shell(session)
    session.connect()
    try:
        assert session.wait_connected(10)
        assert session.granted_timeout_ms == 4000  # the fixtures' tick is 200 ms
        shell.execute('create -e /master "m1"')
        owner = session.session_id
        session.leave_open()
        assert (session.state_name, session.session_id) == ("CLOSED", None)
        stat = chroot_admin.exists("/master")
        assert stat is not None and stat.ephemeralOwner == owner
        assert wait_until(lambda: chroot_admin.exists("/master") is None, timeout=30)
    finally:
        session.close()


def test_the_line_said_for_a_session_left_open():
    assert left_open_message(0x1000A2B3C4D0005, 30000, "Ctrl+C") == (
        "zksh: session 0x1000a2b3c4d0005 left open (Ctrl+C); the server expires it and "
        "deletes its ephemeral znodes about 30 s after its last contact "
        "(negotiated session timeout 30000 ms)")
    assert left_open_message(5, 400, "SIGTERM").endswith(
        " left open (SIGTERM); the server expires it and deletes its ephemeral znodes about "
        "0.4 s after its last contact (negotiated session timeout 400 ms)")


def test_credentials_and_lines_typed_after_a_space_stay_out_of_the_file(tmp_path):
    import os
    import stat
    path = tmp_path / "zksh" / "history"
    history = ShellHistory(str(path), size=10)
    for line in ("ls /", "addauth digest alice:secret", " get /private", "stat /"):
        history.record(line)
    assert history.get_strings() == ["ls /", "addauth digest alice:secret", " get /private",
                                     "stat /"]  # this run can still recall them
    text = path.read_text("utf-8")
    assert "+ls /\n" in text and "+stat /\n" in text
    assert "secret" not in text and "private" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_with_stdout_not_the_terminal_a_watch_is_written_while_the_prompt_is_up(
        chroot_address, monkeypatch):
    """`PipeSink`: the event reaches stdout from the prompt's loop, before Enter."""
    import threading

    from kazoo.client import KazooClient

    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    session = Session(chroot_address, 4000)
    printer = PipeSink()
    shell = Shell(session, printer.event)
    session.connect()
    admin = KazooClient(hosts=chroot_address)
    admin.start(timeout=10)
    admin.create("/x", b"hello")
    history = MemoryHistory()
    changed = watcher_block("SyncConnected", "NodeDataChanged", "/x")
    seen: list[str] = []

    def fire_the_watch_then_press_enter(prompt, pipe) -> None:
        deadline = time.monotonic() + 10
        while not prompt.app.is_running and time.monotonic() < deadline:
            time.sleep(0.01)
        admin.set("/x", b"changed")
        while changed not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(out.getvalue())  # the prompt is still up: Enter comes only now
        pipe.send_text("\r")

    try:
        assert session.wait_connected(10)
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            prompt = build_prompt_session(shell, Settings(), history, None, False)
            pipe.send_text("get -w /x\r")
            assert one_iteration(prompt, shell, printer, history, None)
            before = out.getvalue()
            typist = threading.Thread(target=fire_the_watch_then_press_enter,
                                      args=(prompt, pipe))
            typist.start()
            assert one_iteration(prompt, shell, printer, history, None)  # the empty line
            typist.join()
            after = out.getvalue()
    finally:
        admin.stop()
        admin.close()
        session.close()
    assert before.endswith("hello\n")
    assert seen == [before + changed] and after == before + changed
