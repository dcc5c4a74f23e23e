"""The server pane: what the server holds after each step, by session name, on both servers.

Unit tests draw hand-made snapshots; the rest play walkthrough.yaml and failover.yaml on
each backend (the embedded server read directly, real ZooKeeper through a reading session
and its four-letter words) and check the pane after each step.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from zkshell.player.loader import load_scenario
from zkshell.player.observers import Fanout
from zkshell.player.panes import Board, Picture
from zkshell.player.runner import PASSED, Player, server_for
from zkshell.player.server_feed import ServerFeed
from zkshell.player.server_pane import server_view
from zkshell.player.server_state import (
    CHILD,
    DATA,
    PERSISTENT,
    RECURSIVE,
    NodeState,
    ServerSnapshot,
    WatchState,
    ZooKeeperSource,
    parse_cons,
    parse_wchp,
    source_for,
    touched_roots,
)
from zkshell.player.view import TeachingView

from .conftest import make_server, wait_until
from .test_view import boxes, pane, squeeze

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
M1, M2, W = 0x100000034F70004, 0x100000034F70005, 0x100000034F70006
LABELS = {M1: "m1", M2: "m2", W: "worker1"}


def snap(*nodes, watches=(), more=0, note="") -> ServerSnapshot:
    return ServerSnapshot(tuple(NodeState(*n) for n in nodes),
                          frozenset(WatchState(*w) for w in watches), more, note)


# ---- the renderer, on hand-made snapshots ------------------------------------------------
def test_the_tree_shows_data_owners_by_name_and_watches_by_kind():
    shown = server_view(snap(("/assign", b""), ("/assign/worker1", b""),
                             ("/assign/worker1/task-0000000000", b""),
                             ("/master", b"m1.example.com", M1),
                             ("/workers", b""), ("/workers/worker1", b"w1", W),
                             ("/workers/worker2", b"", 0x77),
                             watches=[("/master", DATA, M2), ("/workers", CHILD, M2),
                                      ("/workers", CHILD, M1), ("/assign", PERSISTENT, W),
                                      ("/workers", RECURSIVE, W)]),
                        None, LABELS, set())
    assert shown.text().split("\n") == [
        "  /assign <persistent worker1>",
        "  └─ worker1",
        "     └─ task-0000000000",
        '  /master [eph m1] <data m2> "m1.example.com"',
        "  /workers <child m1,m2> <recursive worker1>",
        '  ├─ worker1 [eph worker1] "w1"',
        "  └─ worker2 [eph 0x77]",  # a session the player does not know: by its id
    ]
    sequence = [part for part in shown.lines[2].parts if part[1] == "sequence"]
    assert sequence == [("0000000000", "sequence")]


def test_a_crashed_session_s_ephemeral_is_an_orphan_and_the_change_is_marked():
    before = snap(("/master", b"m1", M1), watches=[("/master", DATA, M2)])
    shown = server_view(before, before, LABELS, {M1}, were_orphans=set())
    assert shown.text() == '~ /master [eph m1: orphan] <data m2> "m1"'
    assert shown.lines[0].change == "~"


def test_what_the_last_step_changed_is_marked_added_changed_or_gone():
    before = snap(("/a", b"1"), ("/a/x", b""), ("/b", b""), watches=[("/b", CHILD, M2)])
    after = snap(("/a", b"2"), ("/b", b""), ("/b/new", b"", W), ("/c", b""))
    assert server_view(after, before, LABELS, set()).text().split("\n") == [
        '~ /a "2"',
        '- └─ x',  # gone: shown once, for the step that removed it
        "~ /b",  # its child watch fired
        "+ └─ new [eph worker1]",
        "+ /c",
    ]
    assert server_view(after, after, LABELS, set()).text().split("\n") == [
        '  /a "2"', "  /b", "  └─ new [eph worker1]", "  /c"]


def test_a_watch_on_a_missing_znode_and_the_znodes_past_the_limit_are_said():
    shown = server_view(snap(("/a", None), watches=[("/master", DATA, M2)], more=3,
                             note="a note"), None, LABELS, set())
    assert shown.text().split("\n") == [
        "  /a", "  /master (no znode) <data m2>", "  … 3 more znodes", "(a note)"]
    assert server_view(snap(), None, {}, set()).text() == \
        "  (none of the scenario's znodes yet)"


def test_data_is_cut_short_and_control_characters_stay_visible():
    shown = server_view(snap(("/a", b"\x1b[31mred" + b"x" * 40)), None, {}, set())
    assert shown.text() == '  /a "^[[31mredxxxxxxxxxxxxxx…"'


def test_four_letter_word_answers_are_read_as_zookeeper_writes_them():
    assert parse_wchp("/master\n\t0x100000034f70005\n\t0xffffffffffffffff\n/b\n\n") == {
        "/master": [M2, -1], "/b": []}
    assert parse_cons(
        " /127.0.0.1:58744[1](queued=0,recved=10,sent=10,sid=0x100000034f70004,lop=GETD,"
        "est=1,to=4000)\n /127.0.0.1:58790[0](queued=0,recved=1,sent=0)\n\n") == {M1}


def test_the_roots_are_what_the_steps_create_and_name(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sessions: {a: A}\nsteps:\n  - a: create /x/y ''\n  - a: stat -w /m\n"
                    "  - a: ls /\n  - a: ls /zookeeper\n  - a: create -e /m ''\n",
                    encoding="utf-8")
    assert touched_roots(load_scenario(str(path))) == ["/x", "/m"]


# ---- beside the session panes ------------------------------------------------------------
def _render(picture: Picture, width: int, height: int, server_pane=None) -> str:
    console = Console(file=io.StringIO(), width=width, height=height, record=True,
                      force_terminal=True, color_system="truecolor")
    console.print(TeachingView(picture, server_pane=server_pane))
    return console.export_text(clear=False)


def _picture(sessions: int) -> Picture:
    view = server_view(snap(("/master", b"m1.example.com", M1),
                            watches=[("/master", DATA, M2)]), None, LABELS, {M1})
    return Picture(title="T", caption="", captions=(), status="s", progress="p",
                   panes=tuple(pane(f"s{n}") for n in range(sessions)), server_view=view)


@pytest.mark.parametrize("size, shape, shown", [
    ((160, 45), (2, 2), True),  # the sessions keep two columns of 60 beside it
    ((120, 40), (1, 4), True),  # a session a row, each as wide as 84 columns
    ((80, 24), (1, 4), False),  # no room: the sessions keep the screen
])
def test_the_server_pane_goes_beside_the_sessions_when_there_is_room(size, shape, shown):
    text = _render(_picture(4), *size)
    rows = boxes(text)
    sessions = [row[:len(row) - (row[-1][0] == "server")] for row in rows]
    assert (len(sessions[0]), len(sessions)) == shape
    servers = [box for row in rows for box in row if box[0] == "server"]
    assert bool(servers) == shown
    if shown:  # a long line wraps in the narrow pane: nothing is cut
        assert squeeze("".join(servers[0][1])) == squeeze(
            '/master [eph m1: orphan] <data m2> "m1.example.com"')
    # --server-pane insists, --no-server-pane leaves it out
    assert ("server" in [b[0] for r in boxes(_render(_picture(4), *size, True)) for b in r])
    assert ("server" not in [b[0] for r in boxes(_render(_picture(4), *size, False))
                             for b in r])


# ---- real runs: the pane after each step -------------------------------------------------
def _play(backend: str, name: str) -> tuple[list, Board, dict[str, str]]:
    """Play scenarios/<name> with the server pane: results, board, pane text by step."""
    scenario = load_scenario(str(SCENARIOS / name))
    board = Board(scenario)
    server = make_server(backend, tick_time_ms=server_for(scenario))
    server.start()
    try:
        embedded = getattr(server, "server", None)
        feed = ServerFeed(source_for(embedded, server.address, scenario), board)
        results = Player(scenario, server.address, Fanout(board, feed)).run()
    finally:
        server.cleanup()
    after = _After((heading.split(": ", 1)[1], "\n".join(line.text for line in view.lines))
                   for heading, view in board.server_history if heading.startswith("after"))
    return results, board, after


class _After(list):
    """The pane after each step, found by the step's summary (`nth` of several alike)."""

    def get(self, summary: str, nth: int = 0) -> str:
        return [text for step, text in self if step == summary][nth]

    __getitem__ = get  # after["m2: ls /"]


def _lines(text: str) -> list[str]:
    """The pane's lines without the change column."""
    return [line[2:] for line in text.split("\n") if not line.startswith("(")]


@pytest.fixture(scope="module")
def failover(backend):
    return _play(backend, "failover.yaml")


def test_failover_the_pane_follows_master_from_m1_to_orphan_to_m2(failover, backend):
    results, board, after = failover
    assert all(r.status in (PASSED, "done") for r in results)
    assert after['m1: create -e /master "m1.example.com"'] == \
        '+ /master [eph m1] "m1.example.com"'
    # m1 again, restarted: a new session, which m2's ephemeral is not.
    assert after.get('m1: create -e /master "m1.example.com"', 1) == \
        '  /master [eph m2] "m2.example.com"'
    assert _lines(after["m2: stat -w /master"]) == [
        '/master [eph m1] <data m2> "m1.example.com"']
    # Crashed, m1's session lives on: its ephemeral is an orphan until the server expires it.
    assert after["crash: m1"] == '~ /master [eph m1: orphan] <data m2> "m1.example.com"'
    assert _lines(after["m2: get /master"]) == [
        '/master [eph m1: orphan] <data m2> "m1.example.com"']
    gone = after["await m2: WatchedEvent state:SyncConnected type:NodeDeleted path:/master"]
    assert gone.startswith("- /master [eph m1: orphan]")
    assert after.get('m2: create -e /master "m2.example.com"', 1) == \
        '+ /master [eph m2] "m2.example.com"'
    # The restarted m1 is a new session: m2's ephemeral is not its.
    assert _lines(after["m1: get /master"]) == ['/master [eph m2] "m2.example.com"']
    assert len(board.server_history) == 1 + len(board.scenario.steps)
    if backend == "zookeeper":
        assert "data watches only" in board.picture().server_view.note
    else:
        assert board.picture().server_view.note == ""


@pytest.fixture(scope="module")
def walkthrough(backend):
    return _play(backend, "walkthrough.yaml")


def test_walkthrough_the_pane_shows_each_step_s_znodes_owners_and_watches(walkthrough):
    results, board, after = walkthrough
    assert all(r.status in (PASSED, "done") for r in results)
    assert _lines(after['m1: create /assign ""']) == ["/assign", "/tasks", "/workers"]
    assert _lines(after["m2: stat -w /master"]) == [
        "/assign", '/master [eph m1] <data m2> "m1.example.com"', "/tasks", "/workers"]
    assert '/master [eph m1: orphan] <data m2> "m1.example.com"' in \
        _lines(after["crash: m1"])
    # The restarted process is m1 again, with a new session: it watches m2's /master.
    assert '/master [eph m2] <data m1> "m2.example.com"' in _lines(
        after["m1: stat -w /master"])
    assert _lines(after.get("m2: ls -w /tasks")) == [
        "/assign", '/master [eph m2] <data m1> "m2.example.com"', "/tasks <child m2>",
        "/workers <child m2>"]
    assert _lines(after["worker1: ls -w /assign/worker1"])[:2] == [
        "/assign", "└─ worker1 <child worker1>"]
    # The worker's ephemeral fires m2's child watch, which is gone until m2 sets it again.
    checked_in = after['worker1: create -e /workers/worker1 "w1.example.com"'].split("\n")
    assert checked_in[-2:] == ["~ /workers", '+ └─ worker1 [eph worker1] "w1.example.com"']
    assert "/workers <child m2>" in _lines(after.get("m2: ls -w /workers", 1))
    task = after['client: create -s /tasks/task- "command-to-execute-task"'].split("\n")
    assert '+ └─ task-0000000000 "command-to-execute-task"' in task
    final = _lines(after["client: get /tasks/task-0000000000/status"])
    assert final == [
        "/assign", "└─ worker1 <child worker1>", "   └─ task-0000000000",
        '/master [eph m2] <data m1> "m2.example.com"', "/tasks <child m2>",
        '└─ task-0000000000 "command-to-execute-task"', '   └─ status "computed-result"',
        "/workers <child m2>", '└─ worker1 [eph worker1] "w1.example.com"']


# ---- real ZooKeeper's sources of truth ---------------------------------------------------
def test_a_server_that_refuses_four_letter_words_still_gives_the_tree(zk_server):
    from kazoo.client import KazooClient

    client = KazooClient(zk_server.address)
    client.start()
    try:
        client.create("/refusing/e", b"x", ephemeral=True, makepath=True)
        client.get("/refusing/e", watch=lambda event: None)
        sid = client.client_id[0]

        def refuse(word: str) -> str:
            return f"{word} is not executed because it is not in the whitelist.\n"
        source = ZooKeeperSource(zk_server.address, ["/refusing"], ask=refuse)
        try:
            shown = source.read(dict)
        finally:
            source.close()
        assert [(n.path, n.owner) for n in shown.nodes] == [("/refusing", 0),
                                                            ("/refusing/e", sid)]
        assert shown.watches == frozenset()
        assert "refuses the four-letter word wchp" in shown.note
        # Asked, the same server names the data watch and its session.
        source = ZooKeeperSource(zk_server.address, ["/refusing"])
        try:
            assert WatchState("/refusing/e", DATA, sid) in source.read(dict).watches
        finally:
            source.close()
    finally:
        client.delete("/refusing", recursive=True)
        client.stop()
        client.close()


def test_server_txt_is_the_tree_after_each_step(walkthrough, tmp_path):
    from zkshell.player.export import write_transcripts

    results, board, after = walkthrough
    paths = write_transcripts(board, str(tmp_path))
    assert [Path(p).name for p in paths] == ["m1.txt", "m2.txt", "worker1.txt", "client.txt",
                                             "server.txt"]
    text = (tmp_path / "server.txt").read_text(encoding="utf-8")
    assert text.startswith("== before the first step\n  (none of the scenario's znodes yet)")
    assert re.search(r"== after step 15/50: crash: m1\n(.*\n)*?~ /master \[eph m1: orphan\]",
                     text)
    assert text.count("== after step") == 50


def test_the_picture_export_has_the_server_pane(walkthrough):
    from zkshell.player.export import render_picture

    results, board, after = walkthrough
    svg = render_picture(board, 160, 45, "svg")
    assert "&#160;server&#160;" in svg  # the pane's title
    assert "&lt;child&#160;worker1&gt;" in svg and "[eph&#160;worker1]" in svg
    assert "&#160;server&#160;" not in render_picture(board, 160, 45, "svg",
                                                      server_pane=False)


LIVE = """\
session_timeout: 1s
sessions: [m1, m2]
steps:
  - m1: create -e /live "x"
  - crash: m1
  - note: "m1's session expires meanwhile"
  - m2: ls /
"""


def test_between_steps_the_pane_follows_the_server_live(tmp_path, backend):
    """A crashed session's ephemeral is an orphan, then goes when the server expires it,
    seen in the pane while the player waits before the next step."""
    path = tmp_path / "live.yaml"
    path.write_text(LIVE, encoding="utf-8")
    scenario = load_scenario(str(path))
    board = Board(scenario)
    server = make_server(backend, tick_time_ms=server_for(scenario))
    server.start()
    seen = []

    def shown() -> str:
        view = board.picture().server_view
        return "\n".join(line.text for line in view.lines) if view else ""

    def pause(index, step):
        if step.kind == "note":
            seen.append(shown())
            seen.append(wait_until(lambda: shown().startswith("- /live"), timeout=10)
                        and shown())
    try:
        feed = ServerFeed(source_for(getattr(server, "server", None), server.address,
                                     scenario), board)
        Player(scenario, server.address, Fanout(board, feed)).run(pause_before_step=pause)
    finally:
        server.cleanup()
    assert seen[0] == '~ /live [eph m1: orphan] "x"'
    assert seen[1] == '- /live [eph m1: orphan] "x"'  # no step ran: the expiry did it
    assert board.server_history[-1][1].lines[0].text == "  (none of the scenario's znodes yet)"


def test_on_zookeeper_child_watches_are_the_connected_sessions_own(zk_server):
    """wchp gives data watches (addWatch's too, their mode from the session's own book);
    child watches come from the books of the sessions `cons` lists as connected."""
    from kazoo.client import KazooClient

    client = KazooClient(zk_server.address)
    client.start()
    client.create("/books", b"")
    answers = {"wchp": "/books\n\t0x100000034f70004\n\t0x100000034f70005\n\n",
               "cons": " /127.0.0.1:1[1](queued=0,recved=1,sent=1,sid=0x100000034f70004,"
                       "lop=GETD)\n\n"}
    books = {M1: {"child": ("/books",), "persistent": ()},
             M2: {"child": ("/books",), "persistent": ("/books",)}}  # M2: not connected
    source = ZooKeeperSource(zk_server.address, ["/books"], ask=answers.__getitem__)
    try:
        shown = source.read(lambda: books)
    finally:
        source.close()
        client.delete("/books")
        client.stop()
        client.close()
    assert shown.watches == frozenset({WatchState("/books", DATA, M1),
                                       WatchState("/books", PERSISTENT, M2),
                                       WatchState("/books", CHILD, M1)})
    assert "data watches only" in shown.note


def test_both_sources_know_every_kind_of_watch_and_its_session(fresh_server):
    """Watches set by zksh's own commands, as the player's sessions set them: the embedded
    server's tables and what a real ZooKeeper's words and the sessions' books say agree."""
    from zkshell.session import Session
    from zkshell.shell import Shell

    shell = Shell(Session(fresh_server.address), lambda event: None)
    shell.session.connect()
    assert shell.session.wait_connected(10)
    try:
        for line in ("create /k ''", "create /k/p ''", "create /k/r ''", "get -w /k",
                     "ls -w /k", "addWatch -m PERSISTENT /k/p", "addWatch /k/r",  # zkCli: recursive
                     "stat -w /k/none"):
            shell.execute(line)
        sid = shell.session.session_id
        expected = frozenset({
            WatchState("/k", DATA, sid), WatchState("/k", CHILD, sid),
            WatchState("/k/p", PERSISTENT, sid), WatchState("/k/r", RECURSIVE, sid),
            WatchState("/k/none", DATA, sid)})
        sources = [ZooKeeperSource(fresh_server.address, ["/k"])]
        embedded = getattr(fresh_server, "server", None)
        if embedded is not None:
            from zkshell.player.server_state import EmbeddedSource
            sources.append(EmbeddedSource(embedded, ["/k"]))
        for source in sources:
            try:
                shown = source.read(lambda: {sid: shell.session.watches.snapshot()})
            finally:
                source.close()
            assert shown.watches == expected, type(source).__name__
            assert [n.path for n in shown.nodes] == ["/k", "/k/p", "/k/r"]
    finally:
        shell.session.close()
