"""Shared fixtures: real ZooKeeper servers started for the tests and stopped by PID."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from zkshell.server import LocalServer, ZooKeeperUnavailable, find_installation

CHECKOUT = Path(__file__).resolve().parents[1]
# `make install` installs a copy of zkshell into .venv; every `python -m zkshell` a test
# starts must run this checkout's code instead, from whatever directory pytest runs in.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH")) if p)


def require_zookeeper() -> None:
    """Skip on a machine without ZooKeeper, but never in CI: there it must be installed."""
    try:
        find_installation()
    except ZooKeeperUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def zk_server() -> Iterator[LocalServer]:
    """One server for the tests that isolate themselves in a chroot of their own."""
    require_zookeeper()
    server = LocalServer(tick_time_ms=200)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def fresh_server() -> Iterator[LocalServer]:
    """A server of the test's own, for tests that stop it or need an empty tree."""
    require_zookeeper()
    server = LocalServer(tick_time_ms=200)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def chroot_address(zk_server: LocalServer) -> Iterator[str]:
    """`host:port/chroot` of an empty znode made for this test alone."""
    root = f"/t-{uuid.uuid4().hex[:12]}"
    admin = KazooClient(hosts=zk_server.address)
    admin.start(timeout=10)
    admin.create(root)
    yield zk_server.address + root
    admin.delete(root, recursive=True)
    admin.stop()
    admin.close()


@pytest.fixture
def chroot_admin(chroot_address: str) -> Iterator[KazooClient]:
    """A kazoo client of the test's own, inside its chroot: another process's view."""
    client = KazooClient(hosts=chroot_address)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


def wait_until(condition, timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False): for what
    the server does on its own clock, where there is no event to wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@dataclass
class Run:
    stdout: str
    stderr: str
    returncode: int


def run_zksh(*args: str, input: str | None = None, timeout: float = 60,
             env: dict[str, str] | None = None) -> Run:
    """Run the real `zksh` program (python -m zkshell) as a user would."""
    full_env = dict(os.environ, TZ="UTC")
    full_env.update(env or {})
    result = subprocess.run([sys.executable, "-m", "zkshell", *args], input=input,
                            capture_output=True, text=True, timeout=timeout, env=full_env)
    return Run(result.stdout, result.stderr, result.returncode)
