"""The interactive shell in a pseudo-terminal, as a person uses it, against a real server.

The screen is checked as the person sees it (tests/vtscreen.py), so a prompt's trailing
space, a line being typed and the lines printed above it are what the tests compare.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from benchmarks.trees import child_name, clear, folder_name, populate
from zkshell.player.proxy import FaultProxy
from zkshell.server import LocalServer, free_port

from .conftest import EmbeddedBackend, make_server, wait_until
from .vtscreen import Terminal

ESC = "\x1b"
# SGR sequences that set a colour (foreground, background, 256 or true colour).
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]+)*m")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A pinned environment: its own config and data directories, no colour settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ZKSH_") and key not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", TZ="UTC",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    return env


@pytest.fixture
def admin(chroot_admin: KazooClient) -> KazooClient:
    return chroot_admin


@pytest.fixture
def terminals():
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.close()


def start(terminals: list[Terminal], env: dict[str, str], *args: str) -> Terminal:
    terminal = Terminal([sys.executable, "-m", "zkshell", *args], env)
    terminals.append(terminal)
    return terminal


def prompt(address: str, number: int) -> str:
    return f"[zk: {address}(CONNECTED) {number}] "


def test_a_watch_event_prints_above_the_prompt_and_the_typed_line_survives(
        env, admin, chroot_address, terminals):
    admin.create("/x", b"hello")
    admin.create("/work/alpha", makepath=True)
    admin.create("/work/beta")
    zksh = start(terminals, env, "-server", chroot_address)
    zksh.wait_line(prompt(chroot_address, 0))

    zksh.send("get -w /x\r")
    zksh.wait_line(prompt(chroot_address, 1))
    assert "\nhello\n" in zksh.screen.everything() + "\n"

    zksh.send("ls /wor")  # half a command, no Enter
    zksh.wait_line(prompt(chroot_address, 1) + "ls /wor")
    admin.set("/x", b"changed")
    zksh.wait_text("WatchedEvent state:SyncConnected type:NodeDataChanged path:/x")
    zksh.wait_line(prompt(chroot_address, 1) + "ls /wor")  # redrawn below the event
    screen = zksh.screen.everything()
    assert "WATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n" \
        in screen
    assert screen.index("NodeDataChanged") < screen.rindex("ls /wor")

    zksh.send("k\r")
    zksh.wait_line(prompt(chroot_address, 2))
    assert "[alpha, beta]" in zksh.screen.everything()
    zksh.send("history\r")
    zksh.wait_line(prompt(chroot_address, 3))
    assert "0 - get -w /x\n1 - ls /work\n2 - history\n" in zksh.screen.everything()

    # Ctrl+C throws the line away; the next line runs alone.
    zksh.send("create /junk")
    zksh.wait_line(prompt(chroot_address, 3) + "create /junk")
    zksh.send("\x03")
    zksh.wait_line(prompt(chroot_address, 3))
    zksh.send("ls /\r")
    zksh.wait_line(prompt(chroot_address, 4))
    assert "[work, x]" in zksh.screen.everything()
    assert admin.exists("/junk") is None

    zksh.send("\x04")  # Ctrl+D
    assert zksh.finish() == 0
    assert "Traceback" not in zksh.raw


def test_a_pasted_block_runs_line_by_line_as_if_typed(env, admin, chroot_address, terminals):
    zksh = start(terminals, env, "-server", chroot_address)
    zksh.wait_line(prompt(chroot_address, 0))
    # As terminals paste: bracketed, lines ended by CR; the last line is not finished.
    zksh.send("\x1b[200~create /m1 a\rcreate /m2 b\rls /\rget /m\x1b[201~")
    zksh.wait_line(prompt(chroot_address, 3) + "get /m")
    screen = zksh.screen.everything()
    assert (f"{prompt(chroot_address, 0)}create /m1 a\nCreated /m1\n"
            f"{prompt(chroot_address, 1)}create /m2 b\nCreated /m2\n"
            f"{prompt(chroot_address, 2)}ls /\n[m1, m2]\n") in screen
    zksh.send("2\r")  # the unfinished line is finished by hand
    zksh.wait_line(prompt(chroot_address, 4))
    assert "\nb\n" in zksh.screen.everything()
    zksh.send("history\r")
    zksh.wait_line(prompt(chroot_address, 5))
    assert ("0 - create /m1 a\n1 - create /m2 b\n2 - ls /\n3 - get /m2\n4 - history\n"
            in zksh.screen.everything())
    zksh.send("quit\r")
    assert zksh.finish() == 0


def test_quit_exits_with_status_0(env, chroot_address, terminals):
    zksh = start(terminals, env, "-server", chroot_address)
    zksh.wait_line(prompt(chroot_address, 0))
    zksh.send("quit\r")
    assert zksh.finish() == 0
    assert "Traceback" not in zksh.raw


def test_tab_completes_paths_and_ctrl_r_finds_a_command_of_an_earlier_run(
        env, admin, chroot_address, terminals, tmp_path):
    for path in ("/tasks/task-1", "/tasks/task-2/done", "/other"):
        admin.create(path, makepath=True)
    first = start(terminals, env, "-server", chroot_address)
    p0 = prompt(chroot_address, 0)
    first.wait_line(p0)
    first.send("ls /ta\t")
    first.wait_line(p0 + "ls /tasks")  # no trailing slash
    first.send("/\t")
    first.wait_line(p0 + "ls /tasks/task-")  # the children's common part
    first.wait_text("task-1")  # and the menu lists them
    first.wait_text("task-2")
    first.send("2\r")
    first.wait_line(prompt(chroot_address, 1))
    assert "[done]" in first.screen.everything()
    first.send("quit\r")
    assert first.finish() == 0
    history = (tmp_path / "data" / "zksh" / "history").read_text("utf-8")
    assert "\n+ls /tasks/task-2\n" in history and "\n+quit\n" in history

    second = start(terminals, env, "-server", chroot_address)
    second.wait_line(p0)
    second.send("\x12task-2")  # Ctrl+R, then part of the earlier command
    second.wait_text("(reverse-i-search)`task-2': ls /tasks/task-2")
    second.send("\r")  # take what was found
    second.wait_for(lambda: second.screen.line(second.screen.row) == p0 + "ls /tasks/task-2",
                    "the found command on the prompt's line")
    second.send("\r")
    second.wait_line(prompt(chroot_address, 1))
    assert "[done]" in second.screen.everything()
    second.send("\x04")
    assert second.finish() == 0


def test_colour_on_a_terminal(env, admin, chroot_address, terminals):
    admin.create("/x", b"hello")
    zksh = start(terminals, env, "-server", chroot_address)
    zksh.wait_line(prompt(chroot_address, 0))
    zksh.send("get /nope\r")
    zksh.wait_line(prompt(chroot_address, 1))
    zksh.send("stat -w /x\r")
    zksh.wait_line(prompt(chroot_address, 2))
    admin.delete("/x")
    zksh.wait_text("type:NodeDeleted path:/x")
    zksh.send("quit\r")
    assert zksh.finish() == 0
    assert "\x1b[31mNode does not exist: /nope\x1b[0m" in zksh.raw
    assert "\x1b[36mnumChildren\x1b[0m = 0" in zksh.raw
    assert "\x1b[1;33mWATCHER::\x1b[0m" in zksh.raw
    assert "\x1b[33mWatchedEvent state:SyncConnected type:NodeDeleted path:/x\x1b[0m" in zksh.raw


@pytest.mark.parametrize("how", ["NO_COLOR=1", "--no-color"])
def test_no_colour_with_no_color_or_no_color(how, env, admin, chroot_address, terminals):
    admin.create("/x", b"hello")
    args = ["-server", chroot_address]
    if how == "NO_COLOR=1":
        env["NO_COLOR"] = "1"
    else:
        args.insert(0, "--no-color")
    zksh = start(terminals, env, *args)
    zksh.wait_text(f"[zk: {chroot_address}(CONNECTED) 0]")
    zksh.send("get /nope\r")
    zksh.wait_text("Node does not exist: /nope")
    zksh.send("stat -w /x\r")
    zksh.wait_text("numChildren = 0")
    admin.delete("/x")
    zksh.wait_text("type:NodeDeleted path:/x")
    zksh.send("quit\r")
    assert zksh.finish() == 0
    assert not COLOUR_SGR.search(zksh.raw), COLOUR_SGR.search(zksh.raw)
    assert "Node does not exist: /nope\x1b" not in zksh.raw


def start_redirected(terminals: list[Terminal], env: dict[str, str], address: str,
                     redirect: str) -> Terminal:
    """zksh with the keyboard on the terminal and stdout not: `> file`, `| tee log`."""
    command = f"{shlex.quote(sys.executable)} -m zkshell -server {address} {redirect}"
    terminal = Terminal(["/bin/sh", "-c", command], env)
    terminals.append(terminal)
    return terminal


def watcher(state: str, event_type: str, path: str = "null") -> str:
    return f"\nWATCHER::\n\nWatchedEvent state:{state} type:{event_type} path:{path}\n"


def test_stdout_in_a_file_gets_only_what_zkcli_prints_and_the_prompt_stays_on_the_terminal(
        env, admin, chroot_address, terminals, tmp_path):
    admin.create("/x", b"hello")
    out = tmp_path / "out.txt"
    zksh = start_redirected(terminals, env, chroot_address, f"> {shlex.quote(str(out))}")
    start_of_file = (f"Connecting to {chroot_address}\nWelcome to ZooKeeper!\n"
                     + watcher("SyncConnected", "None"))
    zksh.wait_line(prompt(chroot_address, 0))
    zksh.wait_for(lambda: out.read_text("utf-8") == start_of_file, "the banner in the file")

    zksh.send("get -w /x\r")
    zksh.wait_line(prompt(chroot_address, 1))
    zksh.send("get /nope\r")
    zksh.wait_line(prompt(chroot_address, 2))
    zksh.send("ls /")  # half a line, no Enter, when the watch fires
    zksh.wait_line(prompt(chroot_address, 2) + "ls /")
    admin.set("/x", b"changed")
    zksh.wait_for(lambda: "NodeDataChanged" in out.read_text("utf-8"), "the event in the file")
    zksh.send("\r")
    zksh.wait_line(prompt(chroot_address, 3))
    zksh.send("quit\r")
    assert zksh.finish() == 0

    assert out.read_text("utf-8") == (start_of_file + "hello\n"
                                      + watcher("SyncConnected", "NodeDataChanged", "/x")
                                      + "[x]\n" + watcher("Closed", "None"))
    screen = zksh.screen.everything()
    assert (f"{prompt(chroot_address, 0)}get -w /x\n{prompt(chroot_address, 1)}get /nope\n"
            "Node does not exist: /nope\n"  # stderr stays on the terminal
            f"{prompt(chroot_address, 2)}ls /\n{prompt(chroot_address, 3)}quit") in screen
    assert "hello" not in zksh.raw and "WATCHER" not in zksh.raw


def test_through_tee_the_screen_shows_output_and_prompts_in_order(env, admin, chroot_address,
                                                                   terminals, tmp_path):
    admin.create("/x", b"hello")
    log = tmp_path / "log.txt"
    zksh = start_redirected(terminals, env, chroot_address, f"| tee {shlex.quote(str(log))}")
    zksh.wait_line(prompt(chroot_address, 0))
    zksh.send("get -w /x\r")
    zksh.wait_line(prompt(chroot_address, 1))
    zksh.send("ls /")
    zksh.wait_line(prompt(chroot_address, 1) + "ls /")
    admin.set("/x", b"changed")
    zksh.wait_text("type:NodeDataChanged path:/x")
    zksh.wait_line(prompt(chroot_address, 1) + "ls /")  # drawn again below the event
    zksh.send("\r")
    zksh.wait_line(prompt(chroot_address, 2))
    zksh.send("quit\r")
    assert zksh.finish() == 0
    shown = (f"{prompt(chroot_address, 0)}get -w /x\nhello\n"
             f"{watcher('SyncConnected', 'NodeDataChanged', '/x')}"
             f"{prompt(chroot_address, 1)}ls /\n[x]\n{prompt(chroot_address, 2)}quit\n")
    assert shown in zksh.screen.everything() + "\n"
    assert ESC not in log.read_text("utf-8")
    assert log.read_text("utf-8").endswith(
        f"hello\n{watcher('SyncConnected', 'NodeDataChanged', '/x')}[x]\n"
        + watcher("Closed", "None"))


def test_the_bottom_toolbar_on_a_terminal_that_reports_the_cursor(env, chroot_address,
                                                                   terminals):
    """prompt_toolkit draws the toolbar once it knows the terminal's height, which it learns
    by asking where the cursor is: this terminal answers, unlike the others here."""
    del env["PROMPT_TOOLKIT_NO_CPR"]
    zksh = Terminal([sys.executable, "-m", "zkshell", "-server", chroot_address], env,
                    answer_cpr=True)
    terminals.append(zksh)
    zksh.wait_for(lambda: re.search(r"\| CONNECTED \| session 0x[0-9a-f]+ \| watches: 0$",
                                    zksh.screen.line(zksh.screen.rows - 1)) is not None,
                  "the toolbar on the last line")
    assert zksh.screen.line(zksh.screen.rows - 1).startswith(f" {chroot_address} |")
    zksh.send("ls -w /\r")
    zksh.wait_for(lambda: zksh.screen.line(zksh.screen.rows - 1).endswith("| watches: 1"),
                  "one watch in the toolbar")
    zksh.send("quit\r")
    assert zksh.finish() == 0


def test_a_dead_server_never_holds_up_typing_or_tab(env, terminals):
    address = f"127.0.0.1:{free_port()}"  # nobody listens here
    zksh = start(terminals, env, "-server", address)
    connecting = f"[zk: {address}(CONNECTING) 0] "
    zksh.wait_line(connecting)
    zksh.send("ls /ta\t")
    zksh.send("sks")
    zksh.wait_line(connecting + "ls /tasks", timeout=3)
    zksh.send("\x03")
    zksh.wait_line(connecting)
    zksh.send("\x04")
    assert zksh.finish() == 0
    assert "Traceback" not in zksh.raw


def menu(terminal: Terminal) -> list[str]:
    """The completion menu: the words on the lines under the cursor's."""
    screen = terminal.screen
    lines = [screen.line(row).strip() for row in range(screen.row + 1, screen.rows)]
    return lines[:lines.index("")] if "" in lines else lines


def test_tab_follows_znodes_deleted_and_created_by_another_client(env, admin, chroot_address,
                                                                  terminals):
    admin.create("/newnode")
    admin.create("/news")
    zksh = start(terminals, env, "-server", chroot_address)
    zksh.wait_line(prompt(chroot_address, 0))
    zksh.send("ls /\r")  # the cache has seen /newnode now
    zksh.wait_line(prompt(chroot_address, 1))
    admin.delete("/newnode")
    admin.create("/newer")
    zksh.send("get /ne\t")
    zksh.wait_for(lambda: menu(zksh) == ["newer", "news"], "a menu of what exists now")
    zksh.wait_line(prompt(chroot_address, 1) + "get /new")
    zksh.send("s\r")
    zksh.wait_line(prompt(chroot_address, 2))
    assert "Node does not exist" not in zksh.screen.everything()
    zksh.send("quit\r")
    assert zksh.finish() == 0


# ---- Ctrl+C and signals: ending as zkCli's JVM ends, the session left open --------------------
LEFT_OPEN = re.compile(
    r"zksh: session (0x[0-9a-f]+) left open \((?P<why>[A-Za-z+]+)\); the server expires it "
    r"and deletes its ephemeral znodes about 4 s after its last contact "
    r"\(negotiated session timeout 4000 ms\)\r\n")


def start_master(terminals: list[Terminal], env: dict[str, str], address: str) -> Terminal:
    """zksh holding /master, an ephemeral, on a session of 4 s (the fixtures' server grants
    it: its tick is 200 ms), as m1 does in the walkthrough."""
    zksh = start(terminals, env, "-timeout", "4000", "-server", address)
    zksh.wait_line(prompt(address, 0))
    zksh.send('create -e /master "m1"\r')
    zksh.wait_line(prompt(address, 1))
    assert "Created /master" in zksh.screen.everything()
    return zksh


def assert_left_open(zksh: Terminal, admin: KazooClient, why: str) -> None:
    """The exit's one line on stderr names the session that owns /master, which is still
    there, and the server removes it when that session expires."""
    found = LEFT_OPEN.search(zksh.raw)
    assert found is not None, zksh.raw[-600:]
    assert found.group("why") == why
    stat = admin.exists("/master")
    assert stat is not None, "the session was closed"
    assert f"0x{stat.ephemeralOwner:x}" == found.group(1)
    assert LEFT_OPEN.search(zksh.raw[found.end():]) is None  # said once
    assert "Traceback" not in zksh.raw
    assert wait_until(lambda: admin.exists("/master") is None, timeout=30)


def test_ctrl_c_on_an_empty_line_ends_zksh_leaving_the_session_to_expire(
        env, admin, chroot_address, terminals):
    zksh = start_master(terminals, env, chroot_address)
    zksh.send("ls /")
    zksh.wait_line(prompt(chroot_address, 1) + "ls /")
    zksh.send("\x03")  # with text on the line: only the line goes
    zksh.wait_line(prompt(chroot_address, 1))
    zksh.send("\x03")  # on the empty line: zksh ends, as zkCli's JVM does
    assert zksh.finish() == 130
    assert_left_open(zksh, admin, "Ctrl+C")


@pytest.mark.parametrize(("signum", "status"), [
    pytest.param(signal.SIGINT, 130, id="SIGINT"), pytest.param(signal.SIGTERM, 143, id="SIGTERM")])
def test_sigint_and_sigterm_from_outside_end_zksh_as_ctrl_c_does(
        signum, status, env, admin, chroot_address, terminals):
    zksh = start_master(terminals, env, chroot_address)
    zksh.send("get /mas")  # text on the line makes no difference to a signal
    zksh.wait_line(prompt(chroot_address, 1) + "get /mas")
    zksh.child.kill(signum)
    assert zksh.finish() == status
    assert_left_open(zksh, admin, signum.name)


@pytest.mark.parametrize("leave", ["quit\r", "\x04"])
def test_quit_and_ctrl_d_close_the_session_and_its_ephemerals_go_at_once(
        leave, env, admin, chroot_address, terminals):
    zksh = start_master(terminals, env, chroot_address)
    zksh.send(leave)
    assert zksh.finish() == 0
    assert admin.exists("/master") is None
    assert "left open" not in zksh.raw


def test_ctrl_c_without_a_session_says_nothing_more(env, terminals):
    address = f"127.0.0.1:{free_port()}"  # nobody listens here: no session is ever made
    zksh = start(terminals, env, "-server", address)
    zksh.wait_line(f"[zk: {address}(CONNECTING) 0] ")
    zksh.send("\x03")
    assert zksh.finish() == 130
    assert "left open" not in zksh.raw and "Traceback" not in zksh.raw


@pytest.fixture
def slow_server(backend: str) -> Iterator[LocalServer | EmbeddedBackend]:
    """A server with ZooKeeper's usual 2 s tick: a client takes 10 s and more to notice that
    its answers stopped, so a command can be caught while it waits."""
    server = make_server(backend, tick_time_ms=2000)
    server.start()
    yield server
    server.cleanup()


def ctrl_c_is_a_signal(terminal: Terminal) -> bool:
    """The terminal turns Ctrl+C into SIGINT (ISIG): the prompt has let go of it."""
    return bool(termios.tcgetattr(terminal.child.child_fd)[3] & termios.ISIG)


def test_ctrl_c_while_a_command_waits_stops_it_and_the_session_goes_on(
        env, admin, slow_server, terminals):
    """The terminal sends SIGINT for a Ctrl+C typed while a command runs.  zkCli's JVM dies
    of it; zksh stops the command that waits for an answer, and when the answer comes late
    it goes to nobody: the next command gets its own."""
    proxy = FaultProxy(slow_server.host, slow_server.port)
    try:
        zksh = start(terminals, env, "-server", proxy.address)
        zksh.wait_line(prompt(proxy.address, 0))
        proxy.partition()  # the server's answers are held back: `ls /` waits
        zksh.send("ls /\r")
        zksh.wait_for(lambda: zksh.screen.cursor_line() == "" and ctrl_c_is_a_signal(zksh),
                      "ls / waiting, the terminal out of the prompt's raw mode")
        zksh.send("\x03")
        zksh.wait_line(prompt(proxy.address, 1))
        assert STOPPED in zksh.screen.everything()
        proxy.heal()  # the stopped command's answer comes now, before the next one's
        zksh.send("get /zookeeper/quota\r")
        zksh.wait_line(prompt(proxy.address, 2))
        assert f"{prompt(proxy.address, 1)}get /zookeeper/quota\n\n" \
            in zksh.screen.everything()
        zksh.send("quit\r")
        assert zksh.finish() == 0
        assert "left open" not in zksh.raw and "Traceback" not in zksh.raw
    finally:
        proxy.close()


# ---- Ctrl+C while a command runs: that command stops, the shell and its session go on ------
BIG_FOLDERS, BIG_PER_FOLDER = 60, 200  # 12,061 lines of `ls -R`: far more than a pty holds
STOPPED = "\nzksh: command stopped (SIGINT)\n"


@pytest.fixture
def big_tree(admin: KazooClient) -> Iterator[str]:
    """/big, and the last line `ls -R /big` prints."""
    populate(admin, "/big", BIG_FOLDERS, BIG_PER_FOLDER)
    yield f"/big/{folder_name(BIG_FOLDERS - 1)}/{child_name(BIG_PER_FOLDER - 1)}"
    clear(admin, "/big")  # pipelined: faster than the chroot's own teardown


def stop_a_walk(zksh: Terminal, address: str, number: int, last_line: str, stop) -> None:
    """Start `ls -R /big` as command `number`, `stop` it once its lines flow, and see the
    prompt come back before the walk could have printed its last line."""
    start_at = len(zksh.raw)
    zksh.send("ls -R /big\r")
    zksh.wait_for(lambda: "/big/f0000/n00001" in zksh.raw[start_at:], "the walk's lines")
    stop()
    zksh.wait_line(prompt(address, number + 1))
    assert zksh.screen.everything().count(STOPPED) == number - 1, repr(zksh.raw[-400:])
    assert last_line not in zksh.raw[start_at:], "the walk went on to its end"


def test_a_sigint_while_a_walk_runs_stops_it_and_the_session_goes_on(
        env, admin, chroot_address, terminals, big_tree):
    zksh = start_master(terminals, env, chroot_address)
    owner = admin.exists("/master").ephemeralOwner
    zksh.send("get -w /master\r")
    zksh.wait_line(prompt(chroot_address, 2))

    # Typed (the prompt is not up: the terminal sends SIGINT), then sent from outside.
    stop_a_walk(zksh, chroot_address, 2, big_tree, lambda: zksh.send("\x03"))
    stop_a_walk(zksh, chroot_address, 3, big_tree, lambda: zksh.child.kill(signal.SIGINT))

    # The same session goes on, its watch still set, and late replies confuse nothing.
    admin.set("/master", b"m2")
    zksh.wait_text("WatchedEvent state:SyncConnected type:NodeDataChanged path:/master")
    zksh.send("ls /\r")
    zksh.wait_line(prompt(chroot_address, 5))
    assert f"{prompt(chroot_address, 4)}ls /\n[big, master]\n" in zksh.screen.everything()
    assert admin.exists("/master").ephemeralOwner == owner
    zksh.send("history\r")
    zksh.wait_line(prompt(chroot_address, 6))
    assert "2 - ls -R /big\n3 - ls -R /big\n4 - ls /\n5 - history\n" \
        in zksh.screen.everything()
    assert "Traceback" not in zksh.raw

    zksh.send("\x03")  # at the empty prompt Ctrl+C still ends zksh, as zkCli's
    assert zksh.finish() == 130
    found = LEFT_OPEN.search(zksh.raw)
    assert found is not None and found.group("why") == "Ctrl+C", zksh.raw[-600:]
