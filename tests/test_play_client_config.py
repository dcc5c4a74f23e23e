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


def play(*args: str, env: dict[str, str] | None = None):
    return run_zksh("play", "--check", *args, timeout=120, env=env)


def test_every_session_connects_over_tls_through_its_relay_faults_included(
        tmp_path, certificates, tls_server):
    scenario = tmp_path / "tls.yaml"
    scenario.write_text(TLS_SCENARIO)
    config = tls_properties(tmp_path, certificates)
    run = play("-client-configuration", config, "-server", tls_server.secure_address,
               str(scenario))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout and "Traceback" not in run.stderr


def test_sasl_logs_every_session_in(tmp_path, sasl_server):
    scenario = tmp_path / "sasl.yaml"
    scenario.write_text("title: SASL\nsessions:\n  a: A\n  b: B\nsteps:\n"
                        "  - a: whoami\n    expect: {match: 'sasl: bob'}\n"
                        "  - b: whoami\n    expect: {match: 'sasl: bob'}\n")
    run = play("--client-configuration", sasl_properties(tmp_path, "secret"),
               "-server", sasl_server.address, str(scenario))
    assert run.returncode == 0, run.stdout + run.stderr


TINY = "title: tiny\nsessions:\n  a: A\nsteps:\n  - a: ls /\n"


@pytest.mark.parametrize("where", [[], ["--zookeeper"]])
def test_the_servers_zksh_starts_offer_no_tls_and_nothing_runs(tmp_path, certificates,
                                                                 where):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    config = tls_properties(tmp_path, certificates)
    run = play("-client-configuration", config, *where, str(scenario))
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        f"zksh play: -client-configuration {config} asks for TLS, which no server zksh "
        f"starts offers (its embedded server, --zookeeper's, an ensemble's)\n"
        f"  play against a ZooKeeper that does: zksh play -server HOST:PORT ...\n")


def test_sasl_from_the_jvm_flags_is_refused_with_the_embedded_server(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    sasl_properties(tmp_path, "secret")
    run = play(str(scenario), env={
        "CLIENT_JVMFLAGS": f"-Djava.security.auth.login.config={tmp_path / 'client.jaas'}"})
    assert run.returncode == 2
    assert run.stderr.startswith("zksh play: CLIENT_JVMFLAGS/JVMFLAGS asks for SASL, which "
                                 "no server zksh starts offers")


def test_a_file_zksh_cannot_use_is_one_line_and_nothing_runs(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    bad = tmp_path / "bad.properties"
    bad.write_text("zookeeper.ssl.protocol=TLSv9\n")
    run = play("-client-configuration", str(bad), str(scenario))
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (f"zksh play: -client-configuration {bad}, line 1: "
                          "zookeeper.ssl.protocol: unknown protocol TLSv9 (zksh knows "
                          "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, and TLS)\n")
    run = play("-client-configuration", "/nonexistent.properties", str(scenario))
    assert (run.returncode, run.stderr) == (
        2, "zksh play: -client-configuration /nonexistent.properties: No such file or "
           "directory\n")


def test_a_plain_configuration_plays_on_the_embedded_server(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    plain = tmp_path / "plain.properties"
    plain.write_text("zookeeper.client.secure=false\n")
    run = play("-client-configuration", str(plain), str(scenario))
    assert run.returncode == 0, run.stdout + run.stderr
