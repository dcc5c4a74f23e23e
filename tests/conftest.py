"""Shared fixtures: the servers the integration tests run against, each test once per backend.

`backend` is "zookeeper" (real Apache ZooKeeper 3.8, `LocalServer`, stopped by its PID) or
"embedded" (`zkshell.embedded.EmbeddedServer`, in this process).  Every test that uses a
server fixture (`zk_server`, `fresh_server`, `chroot_address`, `chroot_admin`, or `backend`
itself) runs on both, with the backend in its id (`test_x[embedded]`).  A test that needs
what the embedded server does not implement (docs/embedded-server.md, "Not implemented") is
marked `@pytest.mark.zookeeper_only("why")` and runs on real ZooKeeper only; so do the
embedded server's own tests (tests/test_embedded_*.py), whose `fresh_server` is the real
server they compare it with.
"""

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
from kazoo.exceptions import NoNodeError

from zkshell.embedded import EmbeddedServer
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


BACKENDS = ("zookeeper", "embedded")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "zookeeper_only(reason): run on real ZooKeeper only; the reason says what "
        "the embedded server lacks")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One case per backend for every test that (through its fixtures) uses `backend`."""
    if "backend" not in metafunc.fixturenames or _parametrizes_backend(metafunc):
        return
    only = metafunc.definition.get_closest_marker("zookeeper_only")
    if only is not None and not (only.args and only.args[0]):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: zookeeper_only needs a reason")
    # The embedded server's own tests (tests/test_embedded_*.py) compare it with the real
    # server that `fresh_server` gives them: that one stays real.
    own_tests = metafunc.module.__name__.rpartition(".")[2].startswith("test_embedded_")
    backends = ["zookeeper"] if only is not None or own_tests else list(BACKENDS)
    metafunc.parametrize("backend", backends, indirect=True, scope="session")


def _parametrizes_backend(metafunc: pytest.Metafunc) -> bool:
    """Whether the test gives `backend` values of its own (@pytest.mark.parametrize)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "backend" in names:
            return True
    return False


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The server the test runs against: "zookeeper" or "embedded"."""
    return request.param


class EmbeddedBackend:
    """The embedded server with what the tests use of `LocalServer`: start, stop (the tree
    and unexpired sessions stay: a restart), restart, cleanup, address, host, port."""

    def __init__(self, tick_time_ms: int = 2000, **options) -> None:
        self.tick_time_ms = tick_time_ms
        # No connection limit, as LocalServer's zoo.cfg says (maxClientCnxns=0).
        options.setdefault("max_client_cnxns", 0)
        self.server = EmbeddedServer(tick_time_ms=tick_time_ms, **options)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def min_session_timeout_ms(self) -> int:
        return self.server.min_session_timeout_ms

    @property
    def max_session_timeout_ms(self) -> int:
        return self.server.max_session_timeout_ms

    def start(self) -> EmbeddedBackend:
        self.server.start()
        return self

    def stop(self, kill: bool = False) -> None:
        """Close the port and every connection; with or without `kill`, as a SIGKILL of a
        real server whose transaction log keeps the tree and sessions."""
        self.server.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.server.stop()

    def __enter__(self) -> EmbeddedBackend:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()


def make_server(backend: str, tick_time_ms: int = 2000, *,
                container_check_interval_ms: int | None = None) -> LocalServer | EmbeddedBackend:
    """A server of `backend`, not yet started.  `container_check_interval_ms`: how often
    empty containers and expired TTL nodes go (znode.container.checkIntervalMs), for the
    embedded server; real ZooKeeper takes it from JAVA_TOOL_OPTIONS when it starts."""
    if backend == "embedded":
        options = {}
        if container_check_interval_ms is not None:
            options["container_check_interval_ms"] = container_check_interval_ms
        return EmbeddedBackend(tick_time_ms, **options)
    require_zookeeper()
    return LocalServer(tick_time_ms=tick_time_ms)


@pytest.fixture(scope="session")
def zk_server(backend: str) -> Iterator[LocalServer | EmbeddedBackend]:
    """One server for the tests that isolate themselves in a chroot of their own."""
    server = make_server(backend, tick_time_ms=200)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def fresh_server(backend: str) -> Iterator[LocalServer | EmbeddedBackend]:
    """A server of the test's own, for tests that stop it or need an empty tree."""
    server = make_server(backend, tick_time_ms=200)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def chroot_address(zk_server: LocalServer | EmbeddedBackend) -> Iterator[str]:
    """`host:port/chroot` of an empty znode made for this test alone."""
    root = f"/t-{uuid.uuid4().hex[:12]}"
    admin = KazooClient(hosts=zk_server.address)
    admin.start(timeout=10)
    admin.create(root)
    yield zk_server.address + root
    delete_tree(admin, root)
    admin.stop()
    admin.close()


def delete_tree(client: KazooClient, root: str) -> None:
    """Delete `root` and everything under it, deepest level first, in transactions of many
    deletes: kazoo's `delete(recursive=True)` waits on each znode in turn, and 3000 children
    took seconds of a test's teardown."""
    levels = [[root]]
    while levels[-1]:
        asks = [(path, client.get_children_async(path)) for path in levels[-1]]
        below = []
        for path, ask in asks:
            try:
                below += [f"{path.rstrip('/')}/{child}" for child in ask.get(timeout=10)]
            except NoNodeError:  # an ephemeral whose session ended meanwhile
                pass
        levels.append(below)
    for level in reversed(levels):
        for start in range(0, len(level), 1000):
            transaction = client.transaction()
            for path in level[start:start + 1000]:
                transaction.delete(path)
            if all(result is True for result in transaction.commit()):
                continue
            # One of them went meanwhile (an ephemeral): the others one by one.
            for path in level[start:start + 1000]:
                try:
                    client.delete(path)
                except NoNodeError:
                    pass
    # Whatever came meanwhile (a znode made under the tree while it went) goes too.
    if client.exists(root):
        client.delete(root, recursive=True)


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


# ---- secure ZooKeepers (issue 14), shared by the client configuration's test files ------------
@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """The CA, server and client certificates and stores tests/tls_zookeeper.py makes."""
    from .tls_zookeeper import make_certificates

    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def tls_server(certificates):
    """A real ZooKeeper with a TLS-only client port beside its plain one."""
    from .tls_zookeeper import TlsZooKeeper

    require_zookeeper()
    with TlsZooKeeper(certificates) as server:
        yield server


@pytest.fixture(scope="session")
def sasl_server():
    """A real ZooKeeper taking SASL DIGEST-MD5 logins: bob / secret."""
    from .tls_zookeeper import SaslZooKeeper

    require_zookeeper()
    with SaslZooKeeper() as server:
        yield server
