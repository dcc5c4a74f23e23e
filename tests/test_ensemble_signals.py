"""`zksh play` of an ensemble scenario ended by SIGTERM or Ctrl+C (SIGINT): every member's
JVM is stopped, by its PID, before zksh exits with 128 + the signal, within a bounded time;
mid-run, and while the members are still starting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import CHECKOUT, require_zookeeper, wait_until
from .test_play_runs import _alive, _children

LONG = """\
title: A long wait on three servers
servers: 3
session_timeout: 4s
sessions: [m1]
steps:
  - m1: create -e /here ""
    expect: Created /here
  - await: {m1: "type:NodeDeleted path:/never", within: 60s}
"""

BOUND = 20.0  # seconds from the signal to zksh's exit: three JVMs killed, sessions closed


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _zookeepers(configs: list[str]) -> list[int]:
    """Every live ZooKeeper process run on one of these configuration files (`ps`)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            line = _cmdline(int(entry))
            if ("org.apache.zookeeper" in line and any(c in line for c in configs)
                    and _alive(int(entry))):
                found.append(int(entry))
    return found


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("signum, when", [
    pytest.param(signal.SIGTERM, "mid-run", id="SIGTERM-mid-run"),
    pytest.param(signal.SIGINT, "mid-run", id="SIGINT-mid-run"),
    pytest.param(signal.SIGTERM, "starting", id="SIGTERM-while-starting"),
])
def test_a_signal_stops_every_member_of_the_ensemble(tmp_path, signum, when):
    require_zookeeper()
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT))
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               str(scenario)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert player.stdout is not None
        if when == "starting":  # the first member's JVM runs; the quorum is not up yet
            assert wait_until(lambda: any("org.apache.zookeeper" in _cmdline(pid)
                                          for pid in _children(player.pid)), timeout=30)
        else:
            assert "== A long wait on three servers" in player.stdout.readline()
            ports = [int(port) for port in
                     player.stdout.readline().rsplit(" at ", 1)[1].strip().split(",")
                     for port in [port.rsplit(":", 1)[1]]]
            assert len(ports) == 3
            # The create has run: the await is under way, the members serving a session.
            assert "create -e /here" in player.stdout.readline()
        members = _children(player.pid)
        configs = [line.rsplit(" ", 1)[1] for line in map(_cmdline, members)
                   if "org.apache.zookeeper" in line]
        assert configs and all(config.endswith("zoo.cfg") for config in configs)
        player.send_signal(signum)
        signalled = time.monotonic()
        out, err = player.communicate(timeout=BOUND + 10)
        took = time.monotonic() - signalled
    finally:
        player.kill()
        player.wait()
    assert player.returncode == 128 + signum, out + err
    assert "Traceback" not in err
    assert took < BOUND
    assert "interrupted" in err
    # By PID, before zksh exited: nothing is left for the test to wait for.
    assert _zookeepers(configs) == [], [_cmdline(pid) for pid in _zookeepers(configs)]
    assert not any(_alive(pid) for pid in members)
    assert not any(os.path.exists(config) for config in configs)  # the data went too
    if when == "mid-run":
        assert "steps, " in out  # what had run is summed up
        assert all(_refuses(port) for port in ports)
