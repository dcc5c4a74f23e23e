"""A TLS handshake that cannot complete, and `whoami`: zkCli.sh 3.8 against zksh.

Three ways to fail, each against a real ZooKeeper's TLS or plain port: a trust store that does
not trust the server's certificate (from -client-configuration, or from zkCli.sh's -D flags
in CLIENT_JVMFLAGS), a TLS client against the plain port, a plain client against the TLS
port.  zkCli is run as zkCli.sh runs it, with the netty jars Debian's script leaves out
(tls_zookeeper.zkcli_tls_command).

What zkCli prints there (measured; asserted below so that a change shows): every command that
asks the server fails with `KeeperErrorCode = ConnectionLoss for /`, exit 1, except
`whoami`, which prints `Auth scheme: User` and exits 0, as if the server knew no one:
ZooKeeper.whoAmI drops the reply's error code.  zksh reports that failure as its other
commands do, `KeeperErrorCode = ConnectionLoss`, exit 1 (docs/zkcli-differences.md).
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import Run, run_zksh
from .test_client_config import tls_properties
from .tls_zookeeper import Certificates, zkcli_tls_command

NO_ANSWER = "KeeperErrorCode = ConnectionLoss\n"  # what zksh's `ls /` says, without the path


def untrusting_flags(certificates: Certificates) -> str:
    """zkCli.sh's -D flags for TLS with a trust store that does not trust the server."""
    return ("-Dzookeeper.client.secure=true "
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty "
            f"-Dzookeeper.ssl.keyStore.location={certificates['client.pem']} "
            "-Dzookeeper.ssl.keyStore.type=PEM "
            f"-Dzookeeper.ssl.trustStore.location={certificates['other-ca.crt']} "
            "-Dzookeeper.ssl.trustStore.type=PEM")


@pytest.fixture(scope="module")
def failures(tmp_path_factory, certificates, tls_server) -> dict[str, tuple[list[str], str]]:
    """Each way to fail: zkCli's options before the command, and its CLIENT_JVMFLAGS."""
    untrusting = tls_properties(tmp_path_factory.mktemp("untrusting"), certificates,
                                trust="other-ca.crt")
    trusting = tls_properties(tmp_path_factory.mktemp("trusting"), certificates)
    return {
        "untrusted server": (["-server", tls_server.secure_address,
                              "-client-configuration", untrusting], ""),
        "untrusted server, -D flags": (["-server", tls_server.secure_address],
                                       untrusting_flags(certificates)),
        "TLS to the plain port": (["-server", tls_server.address,
                                   "-client-configuration", trusting], ""),
        "plain to the TLS port": (["-server", tls_server.secure_address], ""),
    }


@pytest.fixture(scope="module")
def zkcli_whoami(failures) -> dict[str, Run]:
    """zkCli's one-shot `whoami` in each case (SLF4J's notes about its missing binding left
    out of stderr), run two at a time: each is a JVM of its own."""
    def run(case: tuple[list[str], str]) -> Run:
        options, flags = case
        result = subprocess.run(zkcli_tls_command(*options, "whoami",
                                                  jvm_flags=tuple(flags.split())),
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, TZ="UTC"))
        stderr = "".join(line for line in result.stderr.splitlines(keepends=True)
                         if not line.startswith("SLF4J: "))
        return Run(result.stdout, stderr, result.returncode)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(failures, pool.map(run, failures.values())))


@pytest.mark.parametrize("case", ["untrusted server", "untrusted server, -D flags",
                                  "TLS to the plain port", "plain to the TLS port"])
def test_one_shot_whoami_says_no_server_answered_where_zkcli_hides_it(
        case, failures, zkcli_whoami):
    options, flags = failures[case]
    zkcli = zkcli_whoami[case]
    server = options[1]
    assert (zkcli.returncode, zkcli.stdout, zkcli.stderr) == (
        0, f"Connecting to {server}\nAuth scheme: User\n", "")
    run = run_zksh(*options, "whoami", timeout=30, env={"CLIENT_JVMFLAGS": flags})
    assert (run.returncode, run.stdout, run.stderr) == (1, "", NO_ANSWER)


def test_whoami_over_tls_to_a_plain_port_fails_in_a_script_too(tmp_path, certificates,
                                                                zk_server):
    """On both servers.  zkCli (measured on ZooKeeper) prints the banner and `Auth scheme:
    User` on stdout, then `KeeperErrorCode = ConnectionLoss for /`, exit 1."""
    path = tls_properties(tmp_path, certificates)
    run = run_zksh("-server", zk_server.address, "-client-configuration", path,
                   input="whoami\nls /\n", timeout=30)
    assert run.stdout == (f"Connecting to {zk_server.address}\nWelcome to ZooKeeper!\n"
                          "JLine support is disabled\n")
    assert (run.returncode, run.stderr) == (1, NO_ANSWER + "KeeperErrorCode = ConnectionLoss "
                                               "for /\n")
