"""`zksh play` as a program: servers it starts and stops, -server, signals, piped output."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pexpect
import pytest
from kazoo.client import KazooClient

from zkshell.embedded import EmbeddedServer
from zkshell.server import free_port

from .conftest import CHECKOUT, require_zookeeper, run_zksh, wait_until

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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_and_the_zookeeper_it_started(tmp_path, signum):
    require_zookeeper()
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG, encoding="utf-8")
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               "--zookeeper", str(scenario)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert player.stdout is not None
        assert "== A long wait" in player.stdout.readline()  # the server is up
        servers = _children(player.pid)
        assert servers, "zksh play --zookeeper should run ZooKeeper as a child process"
        player.send_signal(signum)
        out, err = player.communicate(timeout=30)
    finally:
        player.kill()
    assert player.returncode == 128 + signum
    assert "Traceback" not in err
    assert "steps, " in out  # what had run is summed up
    assert wait_until(lambda: not any(_alive(pid) for pid in servers))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_by_default_play_runs_no_java_and_a_signal_ends_it(tmp_path, signum):
    """The embedded server is in the process: no child, and no java on PATH needed."""
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG, encoding="utf-8")
    env = dict(os.environ, PATH=str(tmp_path))  # no java (nor anything else) to be found
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               str(scenario)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert player.stdout is not None
        assert "== A long wait" in player.stdout.readline()  # the server is up
        assert "server: zksh embedded (in-process" in player.stdout.readline()
        assert _children(player.pid) == []
        player.send_signal(signum)
        out, err = player.communicate(timeout=30)
    finally:
        player.kill()
    assert player.returncode == 128 + signum
    assert "Traceback" not in err
    assert "steps, " in out  # what had run is summed up


def test_an_unreachable_server_is_said_at_once(tmp_path):
    scenario = tmp_path / "piped.yaml"
    # The check before the run waits up to the session timeout: 1 s, not the default 4 s.
    scenario.write_text("session_timeout: 1s\n" + PIPED, encoding="utf-8")
    started = time.monotonic()
    result = run_zksh("play", "--check", "-server", f"127.0.0.1:{free_port()}", str(scenario))
    assert result.returncode == 2
    assert "no ZooKeeper answers at 127.0.0.1:" in result.stderr
    assert result.stdout == ""
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("address, message", [
    ("127.0.0.1:abc", 'Invalid server address "127.0.0.1:abc"'),
    # Several servers are an ensemble's members: tests/test_ensemble_scenarios.py.
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


@pytest.mark.parametrize("backend", [[], ["--zookeeper"]], ids=["embedded", "zookeeper"])
def test_the_readme_s_first_example_passes_at_the_live_view_s_pace(backend):
    """`zksh play scenarios/failover.yaml` on a terminal, with its default pacing and typing:
    the checks between the crash and the expiry must hold at a person's pace."""
    if backend:
        require_zookeeper()
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", TZ="UTC")
    child = pexpect.spawn(sys.executable, ["-m", "zkshell", "play", *backend,
                                           str(ROOT / "scenarios" / "failover.yaml")],
                          env=env, dimensions=(40, 160), encoding="utf-8", timeout=90)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before[-3000:]


FAULTS = """\
title: Faults in unusual orders
session_timeout: 6s
sessions: [m1, m2, m3]
steps:
  - m1: create -e /e "y"
  - partition: m1
  - heal: m1
  - m1: get /e                  # healed at once: the same connection carries on
    expect: y
  - m3: create /a ""
  - m3: create /b ""
  - m3: ls -w /a
  - m3: ls -w /b
  - m1: delete /b                # /b goes first, but /a is awaited first
  - m2: delete /a
  - await:
      m3: {exact: "WatchedEvent state:SyncConnected type:NodeDeleted path:/a"}
      within: 5s
  - await: {m3: "type:NodeDeleted path:/b", within: 5s}
  - crash: m2
  - await: {m2: "type:NodeDeleted path:/never", within: 30s}
  - partition: m1               # the run ends with m1 cut off
"""


def test_faults_in_unusual_orders_and_awaits_in_any_order(tmp_path, zk_server):
    scenario = tmp_path / "faults.yaml"
    scenario.write_text(FAULTS, encoding="utf-8")
    started = time.monotonic()
    result = run_zksh("play", "--check", "-server", zk_server.address, str(scenario))
    # One failure, at once: an await on a crashed session cannot be waited out.
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{scenario}:21: failed: await m2: type:NodeDeleted path:/never" in result.stdout
    assert "session m2 is crashed: nothing more can arrive" in result.stdout
    assert "15 steps, 4 checks: 3 passed, 1 failed, 0 timed out" in result.stdout
    # Neither that await nor the clean-up of the partitioned m1 waited on the clock.
    assert time.monotonic() - started < 10


def test_q_stops_the_whole_run_not_only_its_scenario(tmp_path, zk_server):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (first, second):
        path.write_text("sessions: [m1]\nsteps:\n  - m1: ls /\n  - m1: ls /\n", "utf-8")
    result = subprocess.run([sys.executable, "-m", "zkshell", "play", "--step", "-server",
                             zk_server.address, str(first), str(second)], input="\nq\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert str(first) in result.stdout and str(second) not in result.stdout


def test_exports_of_scenarios_and_sessions_with_the_same_names_do_not_overwrite(tmp_path,
                                                                                zk_server):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.yaml").write_text(
            "sessions: ['s/1', 's_1', '..']\nsteps:\n  - s/1: ls /\n", "utf-8")
    result = run_zksh("play", "--check", "-server", zk_server.address,
                      "--transcript", str(tmp_path / "t"), "--svg", str(tmp_path / "v.svg"),
                      str(tmp_path / "a" / "x.yaml"), str(tmp_path / "b" / "x.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.glob("v-*.svg")) == ["v-x-2.svg", "v-x.svg"]
    assert sorted(p.name for p in (tmp_path / "t" / "x").iterdir()) == [
        "s_1-2.txt", "s_1.txt", "server.txt", "session.txt"]
    assert (tmp_path / "t" / "x-2").is_dir()


def test_a_transcript_directory_that_cannot_be_made_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    result = run_zksh("play", "--check", "--transcript", str(blocker / "sub"), str(scenario))
    assert result.returncode == 2 and result.stdout == ""
    assert f"{blocker} is not a directory" in result.stderr


def test_a_server_granting_another_timeout_is_said_before_the_run(tmp_path, zk_server):
    scenario = tmp_path / "long.yaml"
    scenario.write_text("session_timeout: 90s\nsessions: [m1]\nsteps:\n  - m1: ls /\n", "utf-8")
    result = run_zksh("play", "--check", "-server", zk_server.address, str(scenario))
    assert result.returncode == 0
    # The test server's tickTime is 200 ms: sessions get 2 to 20 ticks.
    assert "grants a 4 s session timeout, not the 90 s" in result.stderr


def test_a_report_piped_into_head_ends_quietly_with_the_run_s_status():
    """`zksh play --check ... | head -1`: the pipe closes early; no traceback, the run's
    exit status."""
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               str(CHECKOUT / "scenarios" / "bootstrap.yaml")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert player.stdout.readline().startswith(b"== ")
    player.stdout.close()  # as head does after its line
    _, stderr = player.communicate(timeout=60)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
    assert player.returncode == 0


def test_a_server_that_answers_late_is_waited_for_as_a_connect_would(tmp_path):
    """On a busy machine a server can take a moment to answer (or be starting): the check
    before the run waits as long as a session's connect would, the session timeout."""
    scenario = tmp_path / "piped.yaml"
    scenario.write_text(PIPED, encoding="utf-8")
    # The port is held (bound, not listening: connections are refused) until the late
    # start, so nothing else can take it in that second.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    server = EmbeddedServer(port=port, tick_time_ms=200)

    def start_late() -> None:
        holder.close()
        server.start()

    late = threading.Timer(1.0, start_late)
    late.start()
    try:
        result = run_zksh("play", "--check", "-server", f"127.0.0.1:{port}", str(scenario))
    finally:
        late.join()
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no ZooKeeper answers" not in result.stderr


WALKTHROUGH = ROOT / "scenarios" / "walkthrough.yaml"
_STEP_LINE = ("ok   ", "FAIL ", "TIME ", "     ")  # the plain report's line for a step


def _kill_server_at_step(player: subprocess.Popen, server_pid, step: int) -> float:
    """Read the report until `step` steps have run, SIGKILL the server, return when."""
    assert player.stdout is not None
    done = 0
    while done < step:
        line = player.stdout.readline()
        assert line, "the run ended before the server was killed"
        done += line.startswith(_STEP_LINE) and not line.startswith("     --")
    os.kill(server_pid(), signal.SIGKILL)
    return time.monotonic()


def _check_stopped_at_once(player: subprocess.Popen, killed: float) -> tuple[str, str]:
    try:
        out, err = player.communicate(timeout=60)
    finally:
        player.kill()
    took = time.monotonic() - killed
    assert player.returncode == 1, out + err
    assert "Traceback" not in err
    assert err.count("stopped answering") == 1, err
    # The step that noticed fails (ConnectionLoss), not every step after it.
    assert sum(line.startswith(("FAIL ", "TIME ")) for line in out.splitlines()) == 1, out
    assert "stopped after" in out  # the summary says the run did not finish
    assert took < 15, f"{took:.1f} s after the server died"
    return out, err


def test_a_server_killed_mid_run_is_said_once_and_the_run_stops(tmp_path):
    """-server: a `zksh server` process killed (SIGKILL) at step 5 of the walkthrough."""
    # --port 0: the server binds a port of its own and says which (no port chosen here
    # that another process could take before it binds).
    server = subprocess.Popen([sys.executable, "-m", "zkshell", "server", "--port", "0",
                               "--tick-time", "100"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(" on 127.0.0.1:")[1].split(",")[0])
        assert wait_until(lambda: _answers(port))
        player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                                   "-server", f"127.0.0.1:{port}", str(WALKTHROUGH)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed = _kill_server_at_step(player, lambda: server.pid, 5)
        _out, err = _check_stopped_at_once(player, killed)
    finally:
        server.kill()
        server.wait()
    assert f"zksh play: server 127.0.0.1:{port} stopped answering at step " in err


def test_a_local_zookeeper_killed_mid_run_stops_the_run_and_leaves_nothing_behind():
    """--zookeeper: the ZooKeeper zksh started is killed at step 5 (kill -9 of its JVM)."""
    require_zookeeper()
    player = subprocess.Popen([sys.executable, "-m", "zkshell", "play", "--check",
                               "--zookeeper", str(WALKTHROUGH)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    servers: list[int] = []

    def server_pid() -> int:
        servers.extend(_children(player.pid))
        assert len(servers) == 1, servers
        return servers[0]

    killed = _kill_server_at_step(player, server_pid, 5)
    _out, err = _check_stopped_at_once(player, killed)
    assert "stopped answering at step " in err
    assert not _alive(servers[0])


def _answers(port: int) -> bool:
    from zkshell.server import session_handshake

    try:
        return session_handshake("127.0.0.1", port)
    except OSError:
        return False
