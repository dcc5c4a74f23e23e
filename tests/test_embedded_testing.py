"""The `embedded_zookeeper` pytest fixture, as another project's tests use it."""

from __future__ import annotations

import socket
import subprocess
import sys

pytest_plugins = ["pytester"]

CONFTEST = 'pytest_plugins = ["zkshell.embedded.testing"]\n'

TESTS = '''
import pytest
from kazoo.client import KazooClient


def _client(server):
    client = KazooClient(server.address)
    client.start(timeout=5)
    return client


def test_a_started_server(embedded_zookeeper):
    client = _client(embedded_zookeeper)
    try:
        client.create("/made", b"x")
        assert client.get("/made")[0] == b"x"
    finally:
        client.stop()
        client.close()
    with open("ADDRESSES", "a") as addresses:
        addresses.write(embedded_zookeeper.address + "\\n")


def test_each_test_gets_a_fresh_tree(embedded_zookeeper):
    client = _client(embedded_zookeeper)
    try:
        assert client.exists("/made") is None
    finally:
        client.stop()
        client.close()
    with open("ADDRESSES", "a") as addresses:
        addresses.write(embedded_zookeeper.address + "\\n")


class TestOptions:
    @pytest.fixture
    def embedded_zookeeper_options(self):
        return {"tick_time_ms": 100}

    def test_options_say_how_it_starts(self, embedded_zookeeper):
        assert embedded_zookeeper.tick_time_ms == 100
'''


def test_the_fixture_starts_a_fresh_server_per_test_and_stops_it(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_uses_fixture=TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    addresses = (pytester.path / "ADDRESSES").read_text().split()
    assert len(set(addresses)) == 2
    for address in addresses:  # each stopped when its test ended
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            continue
        raise AssertionError(f"{address} still listens")


def test_the_embedded_server_itself_needs_no_pytest():
    code = ("import sys, zkshell.embedded, zkshell.embedded.server; "
            "assert 'pytest' not in sys.modules, 'pytest imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
