"""`zksh play -client-configuration FILE` (issue 14): every session of a scenario connects
with zkCli's client properties, through the player's relays (they copy bytes, so TLS runs
end to end between zksh and the server), faults included; a file zksh cannot use, or one
asking for what the server zksh starts cannot offer, stops it before anything runs."""

from __future__ import annotations

import pytest

from .conftest import run_zksh
from .test_client_config import sasl_properties, tls_properties

TLS_SCENARIO = """\
title: Two sessions over TLS
session_timeout: 4s
sessions:
  a: Process A
  b: Process B
steps:
  - a: whoami
    expect: {match: 'x509: CN=zksh-client'}
  - a: create -e /tls-play/lock a
    expect: "Node does not exist: /tls-play/lock"
  - b: create /tls-play x
    expect: Created /tls-play
  - a: create -e /tls-play/lock a
    expect: Created /tls-play/lock
  - b: stat -w /tls-play/lock
    expect: {match: 'ephemeralOwner = 0x'}
  - partition: b
  - heal: b
  - b: get /tls-play
    expect: x
  - crash: a
  - await: {b: "WatchedEvent state:SyncConnected type:NodeDeleted path:/tls-play/lock",
            within: 15s}
  - restart: a
  - a: whoami
    expect: {match: 'x509: CN=zksh-client'}
  - expire: b
  - await: {b: "state:Expired", within: 15s}
"""


TINY = "title: tiny\nsessions:\n  a: A\nsteps:\n  - a: ls /\n"


def play(*args: str, env: dict[str, str] | None = None):
    return run_zksh("play", "--check", *args, timeout=120, env=env)


@pytest.fixture
def scenario_file(tmp_path):
    """Writes a scenario's text into the test's folder; returns the file's path."""
    def write(text: str, name: str = "scenario.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


@pytest.fixture
def tiny(scenario_file) -> str:
    """A one-step scenario: most tests here are about what happens before it plays."""
    return scenario_file(TINY, "tiny.yaml")


def test_every_session_connects_over_tls_through_its_relay_faults_included(
        tmp_path, certificates, tls_server, scenario_file):
    config = tls_properties(tmp_path, certificates)
    run = play("-client-configuration", config, "-server", tls_server.secure_address,
               scenario_file(TLS_SCENARIO))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout and "Traceback" not in run.stderr


def test_sasl_logs_every_session_in(tmp_path, sasl_server, scenario_file):
    scenario = scenario_file("title: SASL\nsessions:\n  a: A\n  b: B\nsteps:\n"
                             "  - a: whoami\n    expect: {match: 'sasl: bob'}\n"
                             "  - b: whoami\n    expect: {match: 'sasl: bob'}\n")
    run = play("--client-configuration", sasl_properties(tmp_path, "secret"),
               "-server", sasl_server.address, scenario)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("where", [[], ["--zookeeper"]])
def test_the_servers_zksh_starts_offer_no_tls_and_nothing_runs(tmp_path, certificates,
                                                                 where, tiny):
    config = tls_properties(tmp_path, certificates)
    run = play("-client-configuration", config, *where, tiny)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        f"zksh play: -client-configuration {config} asks for TLS, which no server zksh "
        f"starts offers (its embedded server, --zookeeper's, an ensemble's)\n"
        f"  play against a ZooKeeper that does: zksh play -server HOST:PORT ...\n")


def test_sasl_from_the_jvm_flags_is_refused_with_the_embedded_server(tmp_path, tiny):
    sasl_properties(tmp_path, "secret")
    run = play(tiny, env={
        "CLIENT_JVMFLAGS": f"-Djava.security.auth.login.config={tmp_path / 'client.jaas'}"})
    assert run.returncode == 2
    assert run.stderr.startswith("zksh play: CLIENT_JVMFLAGS/JVMFLAGS asks for SASL, which "
                                 "no server zksh starts offers")


def test_a_file_zksh_cannot_use_is_one_line_and_nothing_runs(tmp_path, tiny):
    bad = tmp_path / "bad.properties"
    bad.write_text("zookeeper.ssl.protocol=TLSv9\n")
    run = play("-client-configuration", str(bad), tiny)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (f"zksh play: -client-configuration {bad}, line 1: "
                          "zookeeper.ssl.protocol: unknown protocol TLSv9 (zksh knows "
                          "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, and TLS)\n")
    run = play("-client-configuration", "/nonexistent.properties", tiny)
    assert (run.returncode, run.stderr) == (
        2, "zksh play: -client-configuration /nonexistent.properties: No such file or "
           "directory\n")


def test_a_plain_configuration_plays_on_the_embedded_server(tmp_path, tiny):
    plain = tmp_path / "plain.properties"
    plain.write_text("zookeeper.client.secure=false\n")
    run = play("-client-configuration", str(plain), tiny)
    assert run.returncode == 0, run.stdout + run.stderr
