"""The client configuration's rest (issue 14): zkCli.sh's JVM flags (CLIENT_JVMFLAGS,
JVMFLAGS) under the file, and the rarer TLS settings (protocol versions, cipher suites)
against a real ZooKeeper whose TLS port speaks TLSv1.2 only."""

from __future__ import annotations

import ssl

import pytest

from zkshell.client_config import load_client_config
from zkshell.jvm_flags import system_properties

from .conftest import require_zookeeper, run_zksh
from .test_client_config import sasl_properties, tls_properties
from .tls_zookeeper import TlsZooKeeper


# ---- CLIENT_JVMFLAGS and JVMFLAGS -----------------------------------------------------------
def test_flags_are_split_as_zkcli_sh_splits_them_and_jvmflags_wins():
    environ = {"CLIENT_JVMFLAGS": '-Xmx1g -Da=1 -Dq="x y" -Dempty -Dz=client',
               "JVMFLAGS": "-Dz=jvm\t-Dj=2"}
    found = {key: (p.value, p.variable) for key, p in system_properties(environ).items()}
    assert found == {"a": ("1", "CLIENT_JVMFLAGS"), "q": ('"x', "CLIENT_JVMFLAGS"),
                     "empty": ("", "CLIENT_JVMFLAGS"), "z": ("jvm", "JVMFLAGS"),
                     "j": ("2", "JVMFLAGS")}


def test_the_file_overrides_the_flags_as_zkclientconfig_does(tmp_path):
    path = sasl_properties(tmp_path, "secret", extra="zookeeper.sasl.client=false\n")
    flags = {"CLIENT_JVMFLAGS": "-Dzookeeper.sasl.client=true"}
    assert load_client_config(path, flags).kazoo_options() == {}
    plain = tmp_path / "plain.properties"
    plain.write_text("zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNIO\n")
    jaas = tmp_path / "client.jaas"
    assert load_client_config(str(plain), {
        "JVMFLAGS": f"-Djava.security.auth.login.config={jaas}"}).kazoo_options() == {
        "sasl_options": {"mechanism": "DIGEST-MD5", "username": "bob", "password": "secret"}}


def test_a_flag_zksh_cannot_honour_is_named_and_nothing_runs():
    run = run_zksh("-server", "nosuch.invalid:1", "ls", "/",
                   env={"JVMFLAGS": "-Xmx64m -Dzookeeper.ssl.crl=true"})
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "zksh: JVMFLAGS: -Dzookeeper.ssl.crl=true: zksh cannot honour this setting "
               "yet\n")
    run = run_zksh("-server", "nosuch.invalid:1", "ls", "/",
                   env={"CLIENT_JVMFLAGS": "-Djava.security.auth.login.config=/nonexistent"})
    assert run.returncode == 2 and run.stderr.startswith(
        "zksh: CLIENT_JVMFLAGS: -Djava.security.auth.login.config=/nonexistent: cannot read "
        "/nonexistent")


def test_sasl_from_client_jvmflags_alone(tmp_path, sasl_server):
    sasl_properties(tmp_path, "secret")  # writes client.jaas beside it
    jaas = tmp_path / "client.jaas"
    run = run_zksh("-server", sasl_server.address, "whoami", timeout=30,
                   env={"CLIENT_JVMFLAGS": f"-Xmx256m -Djava.security.auth.login.config={jaas}"})
    # What `CLIENT_JVMFLAGS=... zkCli.sh` (java ZooKeeperMain with the flag) prints.
    assert (run.returncode, run.stdout, run.stderr) == (
        0, "Auth scheme: User\nsasl: bob\nip: 127.0.0.1\n", "")


# ---- protocol versions and cipher suites ----------------------------------------------------
def test_cipher_suites_are_given_to_openssl_by_its_names(tmp_path, certificates):
    path = tls_properties(tmp_path, certificates, extra=(
        "zookeeper.ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"))
    context = load_client_config(path).ssl_context
    assert context is not None
    below_13 = {c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3"}
    assert below_13 == {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"}
    assert context.maximum_version == ssl.TLSVersion.TLSv1_2  # no TLS 1.3 suite named


@pytest.fixture(scope="module")
def tls12_server(certificates):
    require_zookeeper()
    with TlsZooKeeper(certificates, extra_config="ssl.protocol=TLSv1.2\n"
                                                 "ssl.enabledProtocols=TLSv1.2\n") as server:
        yield server


def test_protocol_tls13_still_speaks_tls12_as_javas_context_does(tmp_path, certificates,
                                                                  tls12_server):
    path = tls_properties(tmp_path, certificates, extra="zookeeper.ssl.protocol=TLSv1.3\n")
    run = run_zksh("-client-configuration", path, "-server", tls12_server.secure_address,
                   "ls", "/", timeout=30)
    assert (run.returncode, run.stdout, run.stderr) == (0, "[zookeeper]\n", "")


def test_a_client_enabling_tls13_only_fails_against_a_tls12_server(tmp_path, certificates,
                                                                   tls12_server):
    path = tls_properties(tmp_path, certificates,
                          extra="zookeeper.ssl.enabledProtocols=TLSv1.3\n")
    run = run_zksh("-client-configuration", path, "-server", tls12_server.secure_address,
                   "ls", "/", timeout=30)
    # zkCli 3.8's client leaves enabledProtocols to the server and connects; zksh does as
    # the file says (docs/shell.md), and fails as any failed handshake does in zkCli.
    assert (run.returncode, run.stdout, run.stderr) == (
        1, "", "KeeperErrorCode = ConnectionLoss for /\n")


def test_a_servers_jaas_file_in_jvmflags_is_no_sasl_as_in_java(tmp_path):
    server_jaas = tmp_path / "server.jaas"
    server_jaas.write_text('Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule '
                           'required\n  user_bob="secret";\n};\n')
    flags = {"JVMFLAGS": f"-Djava.security.auth.login.config={server_jaas}"}
    from zkshell.client_config import ClientConfigError, config_from_flags

    config = config_from_flags(flags)
    assert config is not None and config.kazoo_options() == {} and config.asks_for == []
    # A section asked for by name must be there, as in Java.
    flags["CLIENT_JVMFLAGS"] = "-Dzookeeper.sasl.clientconfig=Client"
    with pytest.raises(ClientConfigError, match="has no section Client"):
        config_from_flags(flags)
