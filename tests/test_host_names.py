"""Host names Python cannot encode fail as names that do not resolve, as in zkCli (issue 14):
`KeeperErrorCode = ConnectionLoss for /` at once, no traceback from kazoo's thread, no hang."""

from __future__ import annotations

import time

import pytest

from zkshell.connect_string import encodable_host

from .conftest import run_zksh

UNENCODABLE = ["a..b", "\udcff", "a" * 64 + ".com", ".a"]


@pytest.mark.parametrize("host", UNENCODABLE)
def test_an_unencodable_host_name_is_connection_loss_at_once_in_one_shot_mode(host):
    started = time.monotonic()
    run = run_zksh("-server", f"{host}:2181", "ls", "/", timeout=20)
    assert (run.returncode, run.stdout, run.stderr) == (
        1, "", "KeeperErrorCode = ConnectionLoss for /\n")
    assert time.monotonic() - started < 10


def test_connect_to_an_unencodable_host_name_leaves_the_shell_working():
    long_label = "a" * 64
    script = f"connect a..b:2181\nls /\nconnect a..b:2181,{long_label}:1\nls /\n"
    run = run_zksh("-server", "nosuch.invalid:1", input=script, timeout=20)
    assert "Traceback" not in run.stderr and "Exception" not in run.stderr
    assert run.stderr.count("KeeperErrorCode = ConnectionLoss for /\n") == 2


def test_which_names_can_be_encoded():
    assert [encodable_host(host) for host in UNENCODABLE] == [False] * 4
    assert all(encodable_host(host) for host in ("localhost", "a.", "é.com", "a" * 63))
