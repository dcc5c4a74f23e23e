"""A real ZooKeeper whose port another process takes between the choice and the JVM's bind.

free_port() finds a port free, then the JVM binds it seconds later; anything on the machine
may take it meanwhile.  A server (or ensemble) whose port was chosen for it starts again on
fresh ports at once; a port the caller gave stays, and losing it is a clear error.  Each test
occupies the very port the server is handed, so the race is certain, not a chance.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kazoo.client import KazooClient

import zkshell.ensemble
import zkshell.server
from zkshell.embedded import EmbeddedServer
from zkshell.ensemble import LocalEnsemble, Peer
from zkshell.player.links import PlayEnsemble
from zkshell.server import LocalServer, ZooKeeperUnavailable

from .conftest import require_zookeeper

# A start that lost its port takes seconds more; its start timeout is far longer, so a start
# that waits the timeout out (instead of moving on at once) cannot pass for a quick one.
START_TIMEOUT = 120.0
QUICK = START_TIMEOUT / 2


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port another process's listener holds for the whole test."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    yield holder.getsockname()[1]
    holder.close()


def _handing_out_first(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """free_port's next answer is `port`; later ones are free_port's own."""
    original = zkshell.server.free_port
    answers = [port]

    def first_the_taken_one(*args, **kwargs) -> int:
        return answers.pop() if answers else original(*args, **kwargs)

    monkeypatch.setattr(zkshell.server, "free_port", first_the_taken_one)


@contextmanager
def _connected(address: str) -> Iterator[KazooClient]:
    client = KazooClient(hosts=address)
    client.start(timeout=30)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def _serves_its_own_tree(address: str, path: str) -> None:
    with _connected(address) as client:
        client.create(path, b"mine")
        assert client.get(path)[0] == b"mine"


def test_a_server_whose_port_was_taken_starts_at_once_on_a_fresh_one(monkeypatch, held_port):
    require_zookeeper()
    _handing_out_first(monkeypatch, held_port)
    began = time.monotonic()
    server = LocalServer(tick_time_ms=200, start_timeout=START_TIMEOUT)
    try:
        server.start()
        took = time.monotonic() - began
        assert server.port != held_port
        assert server.address == f"127.0.0.1:{server.port}"
        _serves_its_own_tree(server.address, "/started")
    finally:
        server.cleanup()
    assert took < QUICK, f"{took:.1f} s: the start waited instead of moving to a fresh port"


def test_a_port_another_zookeeper_answers_on_is_not_mistaken_for_its_own(monkeypatch):
    """The port is held by a server that answers a handshake (the embedded server): the
    started server must be the JVM, on a port of its own, not whoever answered first."""
    require_zookeeper()
    with EmbeddedServer(tick_time_ms=200) as other:
        _handing_out_first(monkeypatch, other.port)
        server = LocalServer(tick_time_ms=200, start_timeout=START_TIMEOUT)
        try:
            server.start()
            assert server.port != other.port
            _serves_its_own_tree(server.address, "/on-the-jvm")
        finally:
            server.cleanup()
        with _connected(other.address) as client:
            assert client.exists("/on-the-jvm") is None


def test_a_given_port_that_is_taken_is_a_clear_error_and_not_moved(held_port):
    require_zookeeper()
    server = LocalServer(tick_time_ms=200, port=held_port, start_timeout=START_TIMEOUT)
    began = time.monotonic()
    try:
        with pytest.raises(ZooKeeperUnavailable) as raised:
            server.start()
    finally:
        server.cleanup()
    message = str(raised.value)
    assert f"port {held_port} (given to the server, so never moved)" in message, message
    assert "held by another process" in message, message
    assert server.port == held_port
    assert time.monotonic() - began < QUICK


def test_an_ensemble_whose_member_lost_its_election_port_starts_on_fresh_ports(
        monkeypatch, held_port):
    """Member 2 (of the first quorum) cannot listen for elections: member 1 cannot serve
    without it, so the ensemble starts again, every member on fresh ports."""
    require_zookeeper()
    real_peer = zkshell.ensemble.Peer
    first = [True]

    def peer(myid: int, quorum: int, election: int, client: int) -> Peer:
        if myid == 2 and first[0]:
            first[0] = False
            election = held_port
        return real_peer(myid, quorum, election, client)

    monkeypatch.setattr(zkshell.ensemble, "Peer", peer)
    began = time.monotonic()
    ensemble = LocalEnsemble(3, tick_time_ms=200, start_timeout=START_TIMEOUT)
    try:
        ensemble.start()
        took = time.monotonic() - began
        assert held_port not in [peer.election_port for peer in ensemble.peers]
        ensemble.wait_for_leader()
        _serves_its_own_tree(ensemble.connect_string, "/ensemble")
    finally:
        ensemble.cleanup()
    assert took < QUICK, f"{took:.1f} s: the start waited instead of moving to fresh ports"


def test_a_scenario_ensemble_relinks_members_that_moved_ports():
    """zksh play's relays lead to a member's ports: new ports, new relays."""
    played = PlayEnsemble(3, tick_time_ms=200)
    try:
        before = played.ensemble.peers[1]
        moved = Peer(2, before.quorum_port + 1, before.election_port + 1, before.client_port)
        old = played._route(1, before)
        new = played._route(1, moved)
        assert new != old
        assert [link.target[1] for link in (played._links[(1, 2, "quorum")],
                                            played._links[(1, 2, "election")])] \
            == [moved.quorum_port, moved.election_port]
    finally:
        played.cleanup()
