"""Run kazoo's own test suite against the embedded server.  A report, not a test:

    python tests/embedded_kazoo_suite.py [--real] [pytest arguments]

With --real, against real ZooKeeper instead, started by kazoo's own harness from the Debian
package (one node: a three-node quorum on two shared cores would time tests out), for the
figure to set ours beside (`make kazoo-suite` runs both).

kazoo's harness starts a three-node ZooKeeper; here `get_global_cluster` is replaced by one
embedded server whose members stop and start like kazoo's.  What needs more than one node,
TLS, reconfig or read-only mode cannot pass.  kazoo.testing imports pyOpenSSL and pyjks for its
TLS tests only; empty stand-ins are used when they are not installed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
for _missing in ("OpenSSL", "jks"):
    if importlib.util.find_spec(_missing) is None:
        sys.modules[_missing] = types.ModuleType(_missing)

import kazoo  # noqa: E402
import kazoo.testing.harness as harness  # noqa: E402
import pytest  # noqa: E402

from zkshell.embedded import EmbeddedServer  # noqa: E402

DEFAULT_FILES = ["test_client.py", "test_watchers.py", "test_lock.py", "test_queue.py",
                 "test_barrier.py", "test_election.py", "test_counter.py", "test_party.py",
                 "test_lease.py", "test_partitioner.py", "test_connection.py",
                 "test_security.py"]


class Member:
    """One cluster member as kazoo's harness uses it."""

    def __init__(self) -> None:
        self.server = EmbeddedServer().start()
        self.running = True

    @property
    def address(self) -> str:
        return self.server.address

    secure_address = address

    @property
    def client_port(self) -> int:
        return self.server.port

    def run(self) -> None:
        self.server.start()
        self.running = True

    start = run

    def stop(self) -> None:
        self.server.stop()
        self.running = False

    def reset(self) -> None:
        pass

    destroy = stop


class Cluster(list):
    def start(self) -> None:
        for member in self:
            member.run()

    def stop(self) -> None:
        for member in self:
            member.stop()

    terminate = stop

    def reset(self) -> None:
        pass

    def get_logs(self) -> list[str]:
        return []


REAL_ZOOKEEPER = {
    "ZOOKEEPER_CLASSPATH": "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:"
                           "/usr/share/java/*",
    "ZOOKEEPER_VERSION": "3.8.0",
    "ZOOKEEPER_CLUSTER_SIZE": "1",
}


def main(argv: list[str]) -> int:
    real = "--real" in argv
    argv = [arg for arg in argv if arg != "--real"]
    tests = Path(kazoo.__file__).parent / "tests"
    targets = argv or [str(tests / name) for name in DEFAULT_FILES]
    arguments = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", *targets]
    if real:
        for name, value in REAL_ZOOKEEPER.items():
            os.environ.setdefault(name, value)
        try:
            return pytest.main(arguments)
        finally:
            if harness.CLUSTER is not None:
                harness.CLUSTER.terminate()
    cluster = Cluster([Member()])
    harness.get_global_cluster = lambda: cluster
    try:
        return pytest.main(arguments)
    finally:
        cluster.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
