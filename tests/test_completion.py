"""Completion: what goes at the cursor (pure), which matches exist (the command table and a
cache of znode children), and the cache against a real server, dead servers included."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from kazoo.client import KazooClient
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from zkshell.completion import ZkCompleter
from zkshell.config import Settings
from zkshell.history import MemoryHistory
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
    suggest,
    takes_path,
)
from zkshell.znode_cache import ZnodeCache


class FakeCache:
    """Children by parent path; a parent it does not know is 'not fetched yet'."""

    def __init__(self, children: dict[str, tuple[str, ...]]) -> None:
        self._children = children
        self.asked: list[str] = []

    def children(self, path: str):
        self.asked.append(path)
        return self._children.get(path)


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


def test_which_commands_take_a_path_comes_from_their_usage_lines():
    from zkshell.commands import COMMANDS
    with_path = {name for name, command in COMMANDS.items() if takes_path(command)}
    assert {"ls", "get", "stat", "set", "create", "delete", "deleteall", "setAcl", "getAcl",
            "addWatch", "removewatches", "setquota", "delquota", "listquota", "sync",
            "getEphemerals", "getAllChildrenNumber"} == with_path


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


def test_a_path_whose_parent_is_not_fetched_yet_waits_for_the_cache():
    cache = FakeCache({"/": ("tasks",)})
    completer = ZkCompleter(cache)
    found = list(completer.get_completions(Document("get /tasks/"), CompleteEvent(True)))
    assert found == [] and completer.waiting == ("/tasks", "get /tasks/")
    list(completer.get_completions(Document("get /ta"), CompleteEvent(True)))
    assert completer.waiting is None


# ---- the cache against a real server -------------------------------------------------------
@pytest.fixture
def tree(chroot_address):
    admin = KazooClient(hosts=chroot_address)
    admin.start(timeout=10)
    for path in ("/tasks/alpha", "/tasks/beta", "/workers"):
        admin.create(path, makepath=True)
    yield admin
    admin.stop()
    admin.close()


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
                                          colour=False)
            assert asyncio.run(type_and_tab(prompt, pipe)) == "ls /tasks/beta"
    finally:
        cache.stop()
