"""Differential tests: every script in tests/differential/scripts/ must give the same output,
line for line, as the real zkCli.sh gives on real ZooKeeper 3.8.0, from three others:

- zksh on real ZooKeeper (`[NN-topic-zksh-zookeeper]`),
- zksh on the embedded server (`[NN-topic-zksh-embedded]`),
- zkCli.sh on the embedded server (`[NN-topic-zkcli-embedded]`): a strict client nobody here
  wrote, so the embedded server is checked by more than the client it was written with.

Each program runs twice per script (once with stdout and stderr on separate pipes and once
with both on one pipe; see tests/differential/harness.py for why), each run on a fresh, empty
server of its own: four real servers and four embedded ones per script.  The servers start
together and the eight runs go at the same time, once per script; its three tests compare
the same runs.  One script takes about 5 s of wall time on 2 cores.

Compared, after normalisation (zxids, times and session ids; zkCli's banner; WATCHER blocks
taken out of the text and compared as their own ordered list): exit status, stdout, stderr,
and the merged stream.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # zkshell is used from this checkout, installed or not
    sys.path.insert(0, str(ROOT))

from tests.differential.harness import (  # noqa: E402
    Result,
    normalise,
    render,
    run_zkcli,
    run_zksh,
    script_paths,
    script_quits,
    start_embedded_servers,
    start_servers,
    unified_diff,
)
from zkshell.server import ZooKeeperUnavailable, find_installation  # noqa: E402

SCRIPTS = script_paths()


@pytest.fixture(scope="module")
def zookeeper_installed() -> None:
    """Skip when ZooKeeper is not installed, except under CI, where that is a failure."""
    try:
        find_installation()
    except ZooKeeperUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have ZooKeeper installed for the differential tests: {exc}")
        pytest.skip(f"differential tests need the real ZooKeeper and zkCli.sh: {exc}")


def test_scripts_exist() -> None:
    assert len(SCRIPTS) >= 8, f"expected the differential scripts in {SCRIPTS}"


# Who runs each script, besides zkCli.sh on real ZooKeeper: (client, backend).
SIDES = [("zksh", "zookeeper"), ("zksh", "embedded"), ("zkcli", "embedded")]


@dataclass(frozen=True)
class Rendered:
    """One client's normalised output for one script, on one backend."""

    text: str
    stderr: str


_runs: dict[Path, dict[tuple[str, str], Rendered]] = {}


def run_script(script: Path) -> dict[tuple[str, str], Rendered]:
    """All four runs of a script, made at the same time, once: the tests of one script (its
    three sides come one after the other) share them; the previous script's are dropped."""
    if script in _runs:
        return _runs[script]
    _runs.clear()
    text = script.read_text()
    quits = script_quits(text)
    real = start_servers(4)
    ours = start_embedded_servers(4)
    try:
        runs = {("zkcli", "zookeeper"): (run_zkcli, real[0].address, real[1].address),
                ("zksh", "zookeeper"): (run_zksh, real[2].address, real[3].address),
                ("zksh", "embedded"): (run_zksh, ours[0].address, ours[1].address),
                ("zkcli", "embedded"): (run_zkcli, ours[2].address, ours[3].address)}
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            futures = {side: pool.submit(run, address, text, merged)
                       for side, (run, address, merged) in runs.items()}
            results = {side: future.result() for side, future in futures.items()}
    finally:
        for server in real:
            server.cleanup()
        for server in ours:
            server.stop()
    _runs[script] = {
        side: Rendered(render(results[side], zkcli=side[0] == "zkcli", address=runs[side][1],
                              merged_address=runs[side][2], quits=quits),
                       results[side].stderr)
        for side in runs}
    return _runs[script]


@pytest.mark.parametrize(("script", "client", "backend"),
                         [(script, client, backend) for script in SCRIPTS
                          for client, backend in SIDES],
                         ids=[f"{script.stem}-{client}-{backend}" for script in SCRIPTS
                              for client, backend in SIDES])
def test_script_matches_zkcli_on_zookeeper(script: Path, client: str, backend: str,
                                           zookeeper_installed: None) -> None:
    runs = run_script(script)
    expected, actual = runs["zkcli", "zookeeper"], runs[client, backend]
    if actual.text != expected.text:
        name = f"{client} on {backend}"
        pytest.fail(
            f"{name} differs from zkCli on ZooKeeper on {script.name} (normalised; '-' zkCli "
            f"on ZooKeeper, '+' {name}):\n"
            + unified_diff(expected.text, actual.text, "zkCli on ZooKeeper", name)
            + f"\n--- {name} raw stderr (separate run) ---\n" + actual.stderr[-3000:],
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# The normaliser itself (no server needed)

_STAT = """cZxid = 0x1a
ctime = Tue Nov 24 00:38:00 UTC 2026
mZxid = 0x1c
mtime = Tue Nov 24 00:38:05 UTC 2026
pZxid = 0x1a
cversion = 0
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x100003d1ee80005
dataLength = 14
numChildren = 0
"""


def test_normalise_keeps_the_banner_and_finds_the_connect_event_wherever_it_lands() -> None:
    racy = ("Connecting to 127.0.0.1:2181\nWelcome to ZooKeeper!\n\nWATCHER::\n"
            "JLine support is disabled\n\nWatchedEvent state:SyncConnected type:None "
            "path:null\n[zookeeper]\n")
    ordered = ("Connecting to 127.0.0.1:2181\nWelcome to ZooKeeper!\nJLine support is "
               "disabled\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None "
               "path:null\n[zookeeper]\n")
    assert normalise(racy, zkcli=True) == normalise(ordered, zkcli=False)
    result = normalise(ordered, zkcli=False, address="127.0.0.1:2181")
    assert result.lines == ["Connecting to <server>", "Welcome to ZooKeeper!",
                            "JLine support is disabled", "[zookeeper]"]
    assert result.events == ["WatchedEvent state:SyncConnected type:None path:null"]
    # A missing banner is a difference.
    assert normalise("[zookeeper]\n", zkcli=False) != normalise(ordered, zkcli=True)


def test_normalise_pulls_out_interleaved_watcher_blocks() -> None:
    text = ("\nWATCHER::\nCreated /w/c\n\nWatchedEvent state:SyncConnected "
            "type:NodeChildrenChanged path:/w\n\n[c]\n")
    result = normalise(text, zkcli=False)
    assert result.lines == ["Created /w/c", "", "[c]"]
    assert result.events == ["WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/w"]


def test_normalise_ranks_zxids_and_sessions_and_hides_dates() -> None:
    lines = normalise(_STAT, zkcli=False).lines
    assert lines[:5] == ["cZxid = 0x<zxid-1>", "ctime = <date>", "mZxid = 0x<zxid-2>",
                         "mtime = <date>", "pZxid = 0x<zxid-1>"]
    assert lines[8] == "ephemeralOwner = 0x<session-1>"
    padded = normalise("cZxid = 0x001a\nctime = Tue Nov 24 00:38:00 GMT 2026\n", zkcli=False)
    assert padded.lines == ["cZxid = 0x001a", "ctime = Tue Nov 24 00:38:00 GMT 2026"]
    epoch = "ctime = Thu Jan 01 00:00:00 UTC 1970\nephemeralOwner = 0x0\n"
    assert normalise(epoch, zkcli=False).lines == epoch.splitlines()


def test_normalise_strips_commons_cli_class_names_from_zkcli_only() -> None:
    text = "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -z\n"
    assert normalise(text, zkcli=True).lines == ["Unrecognized option: -z"]
    assert normalise(text, zkcli=False).lines == [text.strip()]


def test_normalise_drops_only_zksh_usage_lines_right_after_an_option_error() -> None:
    zksh = ("Unrecognized option: -x\nget [-s] [-w] path\n"
            "Node does not exist: /x\nget [-s] [-w] path\n"
            "Missing argument for option: v\nnot a usage line\n"
            "Missing argument for option: m\nget [-s] [-w] path\nget [-s] [-w] path\n")
    assert normalise(zksh, zkcli=False).lines == [
        "Unrecognized option: -x", "Node does not exist: /x", "get [-s] [-w] path",
        "Missing argument for option: v", "not a usage line",
        "Missing argument for option: m", "get [-s] [-w] path"]
    # zkCli's own usage lines are never removed.
    zkcli = "Missing argument for option: m\naddWatch [-m mode] path # optional mode"
    assert normalise(zkcli, zkcli=True).lines[1].startswith("addWatch")


def test_normalise_hides_only_the_version_string() -> None:
    zkcli = "ZooKeeper CLI version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
    zksh = "ZooKeeper CLI version: zksh 0.1.0\n"
    assert normalise(zkcli, zkcli=True) == normalise(zksh, zkcli=False)
    assert normalise("zksh 0.1.0\n", zkcli=False).lines == ["zksh 0.1.0"]


def test_normalise_marks_a_missing_final_newline() -> None:
    assert normalise("KeeperErrorCode = NoAuth for /t", zkcli=False).lines == [
        "KeeperErrorCode = NoAuth for /t", "<no newline at end of output>"]


def test_normalise_canonical_event_order_where_zkcli_has_none() -> None:
    def block(event: str) -> str:
        return f"\nWATCHER::\n\nWatchedEvent state:{event}\n"

    connect = block("SyncConnected type:None path:null")
    racy = (connect + block("SyncConnected type:ChildWatchRemoved path:/p")
            + block("SyncConnected type:DataWatchRemoved path:/p")
            + connect + block("Closed type:None path:null"))
    ordered = (connect + block("SyncConnected type:DataWatchRemoved path:/p")
               + block("SyncConnected type:ChildWatchRemoved path:/p")
               + block("Closed type:None path:null") + connect)
    assert normalise(racy, zkcli=True).events == normalise(ordered, zkcli=False).events


def test_normalise_restores_closed_event_lost_to_quit() -> None:
    closed = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n"
    connect = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"
    assert normalise(connect + "x\n", zkcli=True, quits=True) == normalise(
        connect + "x\n" + closed, zkcli=False)
    assert normalise(connect + "x\n" + closed, zkcli=True, quits=True) == normalise(
        connect + "x\n" + closed, zkcli=False)
    # zksh gets no such help.
    assert normalise(connect + "x\n", zkcli=False, quits=True).events == [
        "WatchedEvent state:SyncConnected type:None path:null"]


def test_render_shows_every_view() -> None:
    text = render(Result("out\n", "err\n", "out\nerr\n", 1, 1), zkcli=False)
    assert text.splitlines() == [
        "== exit status: 1", "== exit status (merged run): 1",
        "== stdout, WATCHER blocks removed (1 lines)", "out",
        "== stdout, watch events in order (0)",
        "== stderr, WATCHER blocks removed (1 lines)", "err",
        "== stderr, watch events in order (0)",
        "== merged stdout+stderr, WATCHER blocks removed (2 lines)", "out", "err",
        "== merged stdout+stderr, watch events in order (0)"]
