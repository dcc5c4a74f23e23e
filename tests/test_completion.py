"""Completion: what goes at the cursor (pure), which matches exist (the command table and a
cache of znode children), and the cache against a real server, dead servers included."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from zkshell.commands import COMMANDS, Command
from zkshell.commands.base import Arg, Kind
from zkshell.completion import ZkCompleter
from zkshell.config import Settings
from zkshell.history import MemoryHistory
from zkshell.options import Flag, OptionSpec
from zkshell.repl import build_prompt_session
from zkshell.server import free_port
from zkshell.session import Session
from zkshell.shell import Shell
from zkshell.suggest import (
    Choice,
    CommandName,
    FlagName,
    FlagValue,
    HistoryNumber,
    ZnodePath,
    classify,
    suggest,
    takes_path,
)
from zkshell.znode_cache import Cached, ZnodeCache


class FakeCache:
    """Children by parent path; a parent it does not know is 'not fetched yet', and those
    in `stale` are what was seen a while ago (the real cache, against a server, is below)."""

    def __init__(self, children: dict[str, tuple[str, ...]], stale: tuple[str, ...] = ()) -> None:
        self.children = children
        self.stale = set(stale)

    def lookup(self, path: str) -> Cached:
        found = self.children.get(path)
        return Cached(found, found is not None and path not in self.stale)


def complete(text: str, cache=None, history=dict) -> list[str]:
    completer = ZkCompleter(cache, history)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(True))]


# ---- what kind of thing goes here --------------------------------------------------------
def kinds(text: str) -> list[str]:
    return [type(s).__name__ for s in suggest(text)]


@pytest.mark.parametrize("text, expected", [
    ("", ["CommandName"]),
    ("ge", ["CommandName"]),
    ("ls ", ["ZnodePath"]),
    ("ls /ta", ["ZnodePath"]),
    ("ls -w /ta", ["ZnodePath"]),
    ("ls -", ["FlagName"]),
    ("ls / -", ["FlagName"]),
    ("set -v ", []),                       # a version: nothing to offer
    ("addWatch -m ", ["FlagValue"]),
    ("printwatches ", ["Choice"]),
    ("redo ", ["HistoryNumber"]),
    ("config ", ["FlagName"]),             # no argument: its flags
    ("create /x ", []),                    # data: nothing to offer
    ('create /x "da', []),                 # inside quotes: nothing
    ("nosuchcommand ", []),
    ("reconfig -file ", []),               # a local file, not a znode
    ("ls -- -", ["ZnodePath"]),            # after --, words are arguments
])
def test_suggest_says_what_kind_of_thing_goes_at_the_cursor(text, expected):
    assert kinds(text) == expected


def test_suggestions_carry_the_prefix_and_what_was_given():
    assert suggest("ls /ta") == (ZnodePath("/ta"),)
    assert suggest("ge") == (CommandName("ge"),)
    assert suggest("addWatch -m P") == (FlagValue(("PERSISTENT", "PERSISTENT_RECURSIVE"), "P"),)
    assert suggest("printwatches o") == (Choice(("on", "off"), "o"),)
    assert suggest("redo 1") == (HistoryNumber("1"),)
    (flags,) = suggest("create -e -")
    assert isinstance(flags, FlagName) and flags.given == {"e"}


def test_which_commands_take_a_path_comes_from_their_declarations():
    with_path = {name for name, command in COMMANDS.items() if takes_path(command)}
    assert {"ls", "get", "stat", "set", "create", "delete", "deleteall", "setAcl", "getAcl",
            "addWatch", "removewatches", "setquota", "delquota", "listquota", "sync",
            "getEphemerals", "getAllChildrenNumber"} == with_path


def test_what_goes_at_each_position_is_the_declared_arguments_kind(monkeypatch):
    """Not only the first: a command whose second argument is a path completes one there."""
    monkeypatch.setitem(COMMANDS, "copy", Command(
        "copy", "[-m mode] name target mode", OptionSpec((Flag("m", True, value_name="mode"),)),
        args=(Arg("name"), Arg("target", Kind.PATH), Arg("mode", Kind.CHOICE,
                                                           choices=("fast", "safe")))))
    assert kinds("copy ") == ["FlagName"]  # a name: nothing to offer but the flags
    assert suggest("copy x /t") == (ZnodePath("/t"),)
    assert suggest("copy -m 1 x /t") == (ZnodePath("/t"),)
    assert suggest("copy x /t f") == (Choice(("fast", "safe"), "f"),)
    assert [kind for _word, kind in classify("copy -m /a x /t")] == [
        "command", "flag", "value", "argument", "path"]


# ---- which matches exist -------------------------------------------------------------------
def test_command_names_complete_from_the_table_ignoring_case():
    assert complete("getA") == ["getAcl", "getAllChildrenNumber"]
    assert complete("geta") == ["getAcl", "getAllChildrenNumber"]
    assert complete("rem") == ["removewatches"]
    assert "printwatches" in complete("")


def test_flags_complete_from_the_option_spec_without_the_given_ones():
    assert complete("ls -") == ["-?", "-s", "-w", "-R"]
    assert complete("ls -w -") == ["-?", "-s", "-R"]
    assert complete("create -") == ["-e", "-s", "-c", "-t"]
    assert complete("setquota -") == ["-n", "-b", "-N", "-B"]
    completer = ZkCompleter()
    (v,) = [c for c in completer.get_completions(Document("set -"), CompleteEvent(True))
            if c.text == "-v"]
    assert v.display_meta_text == "version"


def test_flag_values_and_choices():
    assert complete("addWatch -m PERSISTENT_") == ["PERSISTENT_RECURSIVE"]
    assert complete("printwatches o") == ["on", "off"]


def test_redo_offers_this_sessions_numbered_commands_newest_first():
    history = {0: "ls /", 1: "create /a", 2: "redo 1"}
    assert complete("redo ", history=lambda: history) == ["2", "1", "0"]


def test_a_path_completes_to_the_full_path_without_a_trailing_slash():
    cache = FakeCache({"/": ("tasks", "tmp", "zookeeper"), "/tasks": ("t-2", "t-1")})
    assert complete("ls /ta", cache) == ["/tasks"]
    assert complete("ls /t", cache) == ["/tasks", "/tmp"]
    assert complete("ls /tasks/", cache) == ["/tasks/t-1", "/tasks/t-2"]
    assert complete("ls -s /tasks/t-1", cache) == ["/tasks/t-1"]
    assert complete("ls ", cache) == ["/", "/tasks", "/tmp", "/zookeeper"]
    assert complete("ls tasks", cache) == []  # ZooKeeper paths are absolute


def test_a_path_whose_parent_is_not_fetched_yet_is_followed_until_it_is():
    cache = FakeCache({"/": ("tasks",)})
    completer = ZkCompleter(cache)
    found = list(completer.get_completions(Document("get /tasks/"), CompleteEvent(True)))
    assert found == [] and completer.offered.parent == "/tasks"
    list(completer.get_completions(Document("get /ta"), CompleteEvent(True)))
    assert completer.offered is None  # fresh: nothing to check later
    list(completer.get_completions(Document("get /tasks/"), CompleteEvent(True)))
    cache.children["/tasks"] = ("t-1",)
    assert completer.redo("/tasks", Document("get /tasks/"), False) == Document("get /tasks/")


def offer(completer: ZkCompleter, text: str, cursor: int | None = None) -> list[str]:
    document = Document(text, len(text) if cursor is None else cursor)
    return [c.text for c in completer.get_completions(document, CompleteEvent(True))]


def test_what_a_stale_answer_offered_is_redone_when_the_fetched_one_differs():
    cache = FakeCache({"/": ("newnode", "news", "other")}, stale=("/",))
    completer = ZkCompleter(cache)
    assert offer(completer, "get /ne") == ["/newnode", "/news"]  # shown at once
    cache.children["/"] = ("news", "other")  # the refresh: /newnode is gone
    cache.stale.clear()
    # The line as Tab left it (the common part, the menu open): completed again.
    assert completer.redo("/", Document("get /new"), menu_open=True) == Document("get /ne")
    assert completer.redo("/", Document("get /new"), menu_open=True) is None  # done once

    cache.stale.add("/")
    offer(completer, "get /ne")
    cache.stale.clear()
    assert completer.redo("/tasks", Document("get /new"), True) is None  # another parent
    assert completer.redo("/", Document("get /newx"), False) is None  # typed on since
    offer(completer, "get /ne")
    assert completer.redo("/", Document("get /ne"), False) is None  # fresh: nothing to redo


def test_a_stale_answer_the_refresh_confirms_is_left_alone():
    cache = FakeCache({"/": ("newnode", "old")}, stale=("/",))
    completer = ZkCompleter(cache)
    assert offer(completer, "get /ne") == ["/newnode"]
    cache.children["/"] = ("newnode", "brand-new")  # changed, but not what /ne offers
    cache.stale.clear()
    assert completer.redo("/", Document("get /newnode"), False) is None


@pytest.mark.parametrize("now, menu_open, untouched", [
    ("get /ne x", True, True),         # nothing inserted yet
    ("get /new x", True, True),        # the common part, menu open
    ("get /news x", True, True),       # a match picked in the menu
    ("get /new x", False, False),      # menu closed: typed, not completed
    ("get /newsy x", True, False),     # beyond every match
    ("get /new y", True, False),       # the rest of the line changed
    ("ls /new x", True, False),        # the command changed
])
def test_the_line_counts_as_the_tab_left_it_only_if_just_the_path_was_completed(
        now, menu_open, untouched):
    cache = FakeCache({"/": ("newnode", "news")}, stale=("/",))
    completer = ZkCompleter(cache)
    offer(completer, "get /ne x", cursor=7)
    cursor = now.index(" x") if " x" in now else now.index(" y")
    assert completer.offered.untouched(Document(now, cursor), menu_open) is untouched


# ---- the cache against a real server -------------------------------------------------------
@pytest.fixture
def tree(chroot_admin):
    for path in ("/tasks/alpha", "/tasks/beta", "/workers"):
        chroot_admin.create(path, makepath=True)
    return chroot_admin


@pytest.fixture
def session(chroot_address):
    session = Session(chroot_address, 4000)
    session.connect()
    assert session.wait_connected(10)
    yield session
    session.close()


def wait_for_children(cache: ZnodeCache, path: str, timeout: float = 10.0):
    arrived = threading.Event()
    cache.on_update = lambda updated: arrived.set() if updated == path else None
    deadline = time.monotonic() + timeout
    while (found := cache.children(path)) is None:
        assert time.monotonic() < deadline, f"the children of {path} never arrived"
        arrived.wait(0.2)
        arrived.clear()
    return found


def test_the_cache_reads_children_in_the_background_within_the_chroot(tree, session):
    cache = ZnodeCache(session)
    cache.start()
    try:
        assert cache.children("/") is None  # not fetched yet: answered at once, fetch queued
        assert sorted(wait_for_children(cache, "/")) == ["tasks", "workers"]
        assert sorted(wait_for_children(cache, "/tasks")) == ["alpha", "beta"]
        assert wait_for_children(cache, "/nothing") == ()
        tree.create("/tasks/gamma")
        cache.invalidate()  # a command ran: stale answers are kept, and fetched again
        assert sorted(cache.children("/tasks")) == ["alpha", "beta"]
        deadline = time.monotonic() + 10
        while "gamma" not in cache.children("/tasks") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "gamma" in cache.children("/tasks")
    finally:
        cache.stop()


def test_a_dead_server_never_makes_the_cache_wait():
    session = Session(f"127.0.0.1:{free_port()}", 4000)
    session.connect()
    cache = ZnodeCache(session)
    cache.start()
    try:
        started = time.monotonic()
        assert cache.children("/") is None
        assert cache.fetch("/") is None  # not connected: nothing is even sent
        assert time.monotonic() - started < 0.1
    finally:
        cache.stop()
        session.close()


def test_a_new_session_starts_the_cache_afresh(tree, session, chroot_address):
    cache = ZnodeCache(session)
    cache.start()
    try:
        assert wait_for_children(cache, "/")
        session.connect(chroot_address + "/tasks")  # `connect` to another chroot
        assert session.wait_connected(10)
        assert sorted(wait_for_children(cache, "/")) == ["alpha", "beta"]
    finally:
        cache.stop()


# ---- the whole prompt, keys in through a pipe -------------------------------------------
def test_tab_in_the_prompt_completes_paths_read_from_the_server(tree, session):
    shell = Shell(session)
    cache = ZnodeCache(session)
    cache.start()

    async def type_and_tab(prompt, pipe) -> str:
        buffer = prompt.default_buffer

        async def until(text: str) -> None:
            deadline = time.monotonic() + 10
            while buffer.text != text:
                assert time.monotonic() < deadline, f"{buffer.text!r} never became {text!r}"
                await asyncio.sleep(0.02)

        task = asyncio.ensure_future(prompt.prompt_async("> "))
        pipe.send_text("ls /ta\t")      # the cache is empty: completed when children arrive
        await until("ls /tasks")
        pipe.send_text("/b\t")
        await until("ls /tasks/beta")
        pipe.send_text("\r")
        return await task

    try:
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            prompt = build_prompt_session(shell, Settings(), MemoryHistory(), cache,
                                          color=False)
            assert asyncio.run(type_and_tab(prompt, pipe)) == "ls /tasks/beta"
    finally:
        cache.stop()


class SlowCache(ZnodeCache):
    """The real cache, with a server that answers only when the test lets it: the Tab then
    surely comes before the refresh, as it can with a slow server or a fast typist."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.gate = threading.Event()
        self.gate.set()
        self.updated = threading.Event()

    def fetch(self, path: str):
        self.gate.wait(10)
        return super().fetch(path)


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


def stale_prompt_run(session: Session, script) -> str:
    """Run a prompt with a SlowCache that has seen the chroot's root, but not lately (a
    command ran since); `script(prompt, pipe, cache)` types; the line the prompt returns."""
    cache = SlowCache(session)
    cache.start()

    async def run(prompt, pipe) -> str:
        arrived = cache.on_update  # the REPL's: redo what the Tab offered

        def on_update(path: str) -> None:
            arrived(path)
            cache.updated.set()  # after the REPL's callback was queued on the loop

        cache.on_update = on_update
        task = asyncio.ensure_future(prompt.prompt_async("> "))
        await script(prompt, pipe, cache)
        return await task

    try:
        wait_for_children(cache, "/")
        cache.invalidate()
        cache.gate.clear()
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            prompt = build_prompt_session(Shell(session), Settings(), MemoryHistory(), cache,
                                          color=False)
            return asyncio.run(run(prompt, pipe))
    finally:
        cache.gate.set()
        cache.stop()


async def refresh(cache: SlowCache) -> None:
    """Let the held fetch through and wait until the prompt has dealt with its answer."""
    cache.updated.clear()
    cache.gate.set()
    await until(cache.updated.is_set, "the refresh arrived")
    await asyncio.sleep(0)  # the REPL's callback, queued before, runs now


def test_tab_takes_back_a_znode_the_refresh_shows_gone(chroot_admin, session):
    admin = chroot_admin
    admin.create("/newnode")

    async def script(prompt, pipe, cache) -> None:
        admin.delete("/newnode")  # by another client, after the cache saw it
        pipe.send_text("get /ne\t")
        await until(lambda: prompt.default_buffer.text == "get /newnode", "the stale match")
        await refresh(cache)
        assert prompt.default_buffer.text == "get /ne"  # taken back: nothing matches
        pipe.send_text("\r")

    assert stale_prompt_run(session, script) == "get /ne"


def test_the_open_menu_follows_the_refresh(chroot_admin, session):
    admin = chroot_admin
    admin.create("/newnode")
    admin.create("/news")

    async def script(prompt, pipe, cache) -> None:
        admin.delete("/newnode")
        admin.create("/newer")
        buffer = prompt.default_buffer
        pipe.send_text("get /ne\t")
        await until(lambda: buffer.complete_state is not None
                    and len(buffer.complete_state.completions) == 2, "the stale menu")
        assert buffer.text == "get /new"
        await refresh(cache)
        shown = [c.display_text for c in buffer.complete_state.completions]
        assert shown == ["newer", "news"] and buffer.text == "get /new"
        pipe.send_text("s\r")

    assert stale_prompt_run(session, script) == "get /news"


def test_a_znode_created_elsewhere_completes_when_the_refresh_brings_it(chroot_admin,
                                                                        session):
    admin = chroot_admin

    async def script(prompt, pipe, cache) -> None:
        admin.create("/newer")
        pipe.send_text("get /ne\t")
        await until(lambda: prompt.completer.offered is not None, "the Tab, offering nothing")
        await refresh(cache)
        await until(lambda: prompt.default_buffer.text == "get /newer", "the new znode")
        pipe.send_text("\r")

    assert stale_prompt_run(session, script) == "get /newer"


def test_what_was_typed_after_the_tab_is_never_taken_back(chroot_admin, session):
    admin = chroot_admin
    admin.create("/newnode")
    admin.create("/news")

    async def script(prompt, pipe, cache) -> None:
        admin.delete("/news")
        buffer = prompt.default_buffer
        pipe.send_text("get /ne\t")
        await until(lambda: buffer.text == "get /new", "the stale common part")
        pipe.send_text("x")
        await until(lambda: buffer.text == "get /newx", "the typed x")
        await refresh(cache)
        assert buffer.text == "get /newx"
        pipe.send_text("\r")

    assert stale_prompt_run(session, script) == "get /newx"
