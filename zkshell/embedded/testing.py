"""A pytest plugin for other projects' tests: a real ZooKeeper wire server, in the test process.

Opt in from a conftest.py (it is not an auto-loaded `pytest11` plugin: a project that does not
ask for it pays nothing, and gets no fixture name it did not choose)::

    pytest_plugins = ["zkshell.embedded.testing"]

    def test_something(embedded_zookeeper):
        client = KazooClient(embedded_zookeeper.address)

Each test gets a fresh server (an empty tree on a free port; it starts in milliseconds, so
isolation costs nothing), stopped when the test ends.  To start it otherwise, override
`embedded_zookeeper_options` with the keyword arguments of `EmbeddedServer`, in a conftest.py
or a test module::

    @pytest.fixture
    def embedded_zookeeper_options():
        return {"tick_time_ms": 100}

Only this module imports pytest: `zkshell.embedded` itself runs without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zkshell.embedded.server import EmbeddedServer


@pytest.fixture
def embedded_zookeeper_options() -> dict[str, Any]:
    """Keyword arguments for `EmbeddedServer` (default: none; tickTime 2000 ms, as ZooKeeper)."""
    return {}


@pytest.fixture
def embedded_zookeeper(embedded_zookeeper_options: dict[str, Any]) -> Iterator[EmbeddedServer]:
    """A started embedded ZooKeeper server; `.address` is "127.0.0.1:PORT"."""
    with EmbeddedServer(**embedded_zookeeper_options) as server:
        yield server
