"""`zksh server` as a user runs it: one line, then serving until Ctrl+C or SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
from kazoo.client import KazooClient

from tests.conftest import run_zksh
from zkshell.embedded import EmbeddedServer
from zkshell.server import granted_session_timeout

LINE = re.compile(r"^zksh server: ZooKeeper 3\.8 protocol on (127\.0\.0\.1:\d+), in memory, "
                  r"for demos and tests \(single node; for quorum, TLS or SASL use real "
                  r"ZooKeeper\)\n$")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_a_signal_then_exits_cleanly(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen([sys.executable, "-m", "zkshell", "server", "--port", "0",
                                "--tick-time", "100"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = LINE.match(line)
        assert match, line
        client = KazooClient(hosts=match.group(1))
        client.start(timeout=5)
        assert client.create("/hello", b"x") == "/hello"
        host, port = match.group(1).split(":")
        assert granted_session_timeout(host, int(port), 10**6) == 2000  # 20 ticks of 100 ms
        client.stop()
        client.close()
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert (process.returncode, out, err) == (0, "", "")


def test_a_taken_port_is_one_line_and_status_1() -> None:
    with EmbeddedServer() as taken:
        result = run_zksh("server", "--port", str(taken.port), timeout=20)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"zksh server: cannot listen on 127.0.0.1:{taken.port}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_help_says_the_scope() -> None:
    result = run_zksh("server", "--help", timeout=20)
    assert result.returncode == 0
    assert "single node" in result.stdout and "in memory" in result.stdout
    assert "--tick-time" in result.stdout and "--max-session-timeout" in result.stdout


def test_bad_options_are_a_usage_error() -> None:
    result = run_zksh("server", "--tick-time", "0", timeout=20)
    assert result.returncode == 2 and "must be more than 0" in result.stderr
    assert "Traceback" not in result.stderr
