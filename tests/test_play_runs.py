"""`zksh play` as a program: servers it starts and stops, -server, signals, piped output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from kazoo.client import KazooClient

from zkshell.server import free_port

from .conftest import require_zookeeper, run_zksh

ROOT = Path(__file__).resolve().parents[1]

LONG = """\
title: A long wait
sessions: [m1]
steps:
  - m1: create -e /here ""
  - await: {m1: "type:NodeDeleted path:/never", within: 60s}
"""

PIPED = """\
title: Piped
sessions: [m1, m2]
steps:
  - m1: create /job "x"
    expect: Created /job
  - crash: m2
  - restart: m2
  - m2: get /job
    expect: x
"""


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_and_the_server_it_started(tmp_path, signum):
    require_zookeeper()
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG, encoding="utf-8")
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               str(scenario)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert player.stdout is not None
        assert "== A long wait" in player.stdout.readline()  # the server is up
        servers = _children(player.pid)
        assert servers, "zksh play should run its ZooKeeper as a child process"
        player.send_signal(signum)
        out, err = player.communicate(timeout=30)
    finally:
        player.kill()
    assert player.returncode == 128 + signum
    assert "Traceback" not in err
    assert "steps, " in out  # what had run is summed up
    assert _wait_for(lambda: not any(_alive(pid) for pid in servers), 10)


def test_an_unreachable_server_is_said_at_once(tmp_path):
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    started = time.monotonic()
    result = run_zksh("play", "--check", "-server", f"127.0.0.1:{free_port()}", str(scenario))
    assert result.returncode == 2
    assert "no ZooKeeper answers at 127.0.0.1:" in result.stderr
    assert result.stdout == ""
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("address, message", [
    ("127.0.0.1:abc", 'Invalid server address "127.0.0.1:abc"'),
    ("h1:2181,h2:2181", "relays each session to one server, not 2"),
])
def test_a_server_string_play_cannot_use_is_refused_before_anything_runs(tmp_path, address,
                                                                          message):
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    result = run_zksh("play", "--check", "-server", address, str(scenario))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_chroot_in_the_server_string_is_every_session_s(tmp_path, zk_server):
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    admin = KazooClient(hosts=zk_server.address)
    admin.start(timeout=10)
    try:
        admin.ensure_path("/play-chroot")
        result = run_zksh("play", "--check", "-server", zk_server.address + "/play-chroot",
                          str(scenario))
        assert result.returncode == 0, result.stdout + result.stderr
        assert admin.get("/play-chroot/job")[0] == b"x"
    finally:
        admin.delete("/play-chroot", recursive=True)
        admin.stop()
        admin.close()


@pytest.mark.parametrize("option, path, message", [
    ("--svg", "/nonexistent/dir/x.svg", "no directory /nonexistent/dir"),
    ("--cast", "/", "is a directory"),
    ("--transcript", "/etc/hostname", "not a directory"),
])
def test_an_export_that_cannot_be_written_is_refused_before_the_run(tmp_path, option, path,
                                                                     message):
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    result = run_zksh("play", "--check", option, path, str(scenario))
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_piped_a_demo_is_an_interleaved_transcript_of_the_sessions(tmp_path, zk_server):
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    result = run_zksh("play", "-server", zk_server.address, str(scenario))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("== Piped")  # before anything a session printed
    assert "        m1 | Connecting to " + zk_server.address in lines
    assert f'        m1 | [zk: {zk_server.address}(CONNECTED) 0] create /job "x"' in lines
    assert "        m2 | -- crashed --" in lines and "        m2 | -- restarted --" in lines
    assert "        m2 | x" in lines
    # The player closing the sessions at the end is not part of the scenario.
    assert not any("state:Closed" in line for line in lines)
    assert lines[-1].startswith("4 steps, 2 checks: 2 passed")


def test_the_readme_s_first_example_passes_at_the_live_view_s_pace():
    """`zksh play scenarios/failover.yaml` on a terminal, with its default pacing and typing:
    the checks between the crash and the expiry must hold at a person's pace."""
    require_zookeeper()
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", TZ="UTC")
    child = pexpect.spawn(sys.executable, ["-m", "zkshell", "play",
                                           str(ROOT / "scenarios" / "failover.yaml")],
                          env=env, dimensions=(40, 160), encoding="utf-8", timeout=90)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before[-3000:]
