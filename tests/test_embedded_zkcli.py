"""The real zkCli.sh against the embedded server and against real ZooKeeper 3.8: the same
script must print the same, after the differential harness's normalisation (times, zxids
and session ids ranked, WATCHER blocks compared as their own list).

A few of tests/differential/scripts/ run here (each costs two zkCli JVMs and a real server);
all 16 pass against the embedded server (see the report of the commit that added this).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import require_zookeeper
from tests.differential.harness import SCRIPTS_DIR, render, run_zkcli, script_quits
from zkshell.embedded import EmbeddedServer
from zkshell.server import LocalServer, granted_session_timeout


@pytest.fixture
def servers() -> Iterator[tuple[LocalServer, EmbeddedServer]]:
    """A fresh real server and a fresh embedded one with the same start-up history."""
    require_zookeeper()
    with LocalServer(tick_time_ms=2000) as real, EmbeddedServer() as ours:
        granted_session_timeout("127.0.0.1", ours.port, 4000)
        yield real, ours


def same_from_both(servers: tuple[LocalServer, EmbeddedServer], script: str) -> None:
    real, ours = servers
    with ThreadPoolExecutor(max_workers=2) as pool:
        expected_run = pool.submit(run_zkcli, real.address, script)
        actual_run = pool.submit(run_zkcli, ours.address, script)
        expected = render(expected_run.result(), zkcli=True, address=real.address,
                          quits=script_quits(script))
        actual = render(actual_run.result(), zkcli=True, address=ours.address,
                        quits=script_quits(script))
    assert actual == expected


def test_zkcli_create_get_ls_delete(servers) -> None:
    same_from_both(servers, "create /a x\nget -s /a\nls /\ndelete /a\nls /\nget -s /a\n")


@pytest.mark.parametrize("name", ["07-ephemeral-sequential", "10-digest-auth", "12-watches"])
def test_zkcli_differential_script(servers, name: str) -> None:
    same_from_both(servers, (SCRIPTS_DIR / f"{name}.zk").read_text())
