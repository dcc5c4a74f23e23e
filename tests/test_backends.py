"""The two backends of the integration tests (tests/conftest.py): real ZooKeeper and the
embedded server, behind the same fixtures."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from tests.differential.harness import _is_own_server

from .conftest import BACKENDS


def test_each_backend_is_a_case_of_its_own_named_after_it(request, backend):
    assert backend in BACKENDS
    assert request.node.name.endswith(f"[{backend}]")


@pytest.mark.zookeeper_only("checks the marker itself")
def test_a_zookeeper_only_test_runs_on_real_zookeeper_alone(request, backend):
    assert backend == "zookeeper"
    assert request.node.name.endswith("[zookeeper]")


@pytest.mark.zookeeper_only("the harness tells real servers apart by the data directory "
                            "conf shows; the embedded server has none")
def test_the_differential_harness_tells_its_own_real_server_by_its_data_directory(
        fresh_server):
    assert _is_own_server(fresh_server)


@pytest.mark.parametrize("kill", [False, True], ids=["stop", "kill"])
def test_stop_and_start_again_is_a_restart_on_the_same_address_with_the_same_tree(
        fresh_server, kill):
    address = fresh_server.address
    client = KazooClient(hosts=address)
    client.start(timeout=10)
    client.create("/kept", b"data")
    client.stop()
    client.close()
    fresh_server.stop(kill=kill)
    fresh_server.start()
    assert fresh_server.address == address
    client = KazooClient(hosts=address)
    client.start(timeout=10)
    try:
        assert client.get("/kept")[0] == b"data"
    finally:
        client.stop()
        client.close()
