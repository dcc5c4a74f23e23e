"""`-client-configuration FILE` (issue 14): zkCli's client properties read and applied, TLS
against a real ZooKeeper with a secure client port, and one clear line (exit 2) for a file
zksh cannot use, instead of ignoring it."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest

from zkshell.client_config import ClientConfigError, load_client_config
from zkshell.properties import Entry, parse_properties

from .conftest import run_zksh
from .tls_zookeeper import Certificates

SOCKET = "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n"


def tls_properties(folder: Path, certificates: Certificates, *, key: str = "client.pem",
                   trust: str = "ca.crt", extra: str = "") -> str:
    path = folder / "client.properties"
    path.write_text("zookeeper.client.secure=true\n" + SOCKET
                    + f"zookeeper.ssl.keyStore.location={certificates[key]}\n"
                    "zookeeper.ssl.keyStore.type=PEM\n"
                    f"zookeeper.ssl.trustStore.location={certificates[trust]}\n"
                    "zookeeper.ssl.trustStore.type=PEM\n" + extra)
    return str(path)


# ---- the properties format ------------------------------------------------------------------
def test_properties_are_read_as_java_reads_them():
    text = ("# comment\n! also\n  a = b\nk:v\\\n    w\nkey value x\nx\\=y=z\n"
            "u=\\u0041\\t\nempty\n")
    assert parse_properties(text) == [
        Entry(3, "a", "b"), Entry(4, "k", "vw"), Entry(6, "key", "value x"),
        Entry(7, "x=y", "z"), Entry(8, "u", "A\t"), Entry(9, "empty", "")]


# ---- files zksh cannot use: one line, exit 2 ------------------------------------------------
@pytest.mark.parametrize(("content", "said"), [
    ("zookeeper.foo=1\n", "line 1: zookeeper.foo: not a ZooKeeper client setting zksh knows"),
    ("# x\nzookeeper.sasl.client.canonicalize.hostname=false\n",
     "line 2: zookeeper.sasl.client.canonicalize.hostname: zksh cannot honour this setting yet"),
    ("zookeeper.ssl.crl=true\n",
     "line 1: zookeeper.ssl.crl: zksh cannot honour this setting yet"),
    ("zookeeper.ssl.protocol=SSLv3\n",
     "line 1: zookeeper.ssl.protocol: unknown protocol SSLv3 (zksh knows TLSv1, TLSv1.1, "
     "TLSv1.2, TLSv1.3, and TLS)"),
    ("zookeeper.ssl.enabledProtocols=TLSv1.1,TLSv1.3\n",
     "line 1: zookeeper.ssl.enabledProtocols: Python's ssl takes a lowest and a highest "
     "version: TLSv1.2 cannot be left out between them"),
    ("zookeeper.ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_NO_SUCH_SUITE\n",
     "line 1: zookeeper.ssl.ciphersuites: unknown cipher suite TLS_NO_SUCH_SUITE"),
    ("zookeeper.ssl.ciphersuites=TLS_AES_128_GCM_SHA256\n",
     "line 1: zookeeper.ssl.ciphersuites: Python's ssl cannot choose among TLS 1.3's suites"),
    ("zookeeper.ssl.protocol=TLSv1.2\nzookeeper.ssl.enabledProtocols=TLSv1.3\n",
     "line 2: zookeeper.ssl.enabledProtocols: with the other TLS settings, no protocol "
     "version is left"),
    ("zookeeper.client.secure=true\nzookeeper.ssl.trustStore.location=/x.bcfks\n",
     "line 2: zookeeper.ssl.trustStore.location: a BCFKS store: zksh reads PEM, PKCS12 and "
     "JKS stores"),
    ("zookeeper.client.secure=true\nzookeeper.ssl.keyStore.location=/x\n"
     "zookeeper.ssl.keyStore.type=XYZ\n",
     "line 3: zookeeper.ssl.keyStore.type: unknown store type XYZ"),
    ("zookeeper.client.secure=true\nzookeeper.ssl.trustStore.location=/nonexistent.pem\n",
     "line 2: zookeeper.ssl.trustStore.location: cannot read /nonexistent.pem"),
    ("zookeeper.client.secure=true\nzookeeper.ssl.keyStore.location=/tmp\n"
     "zookeeper.ssl.keyStore.type=PEM\n",
     "line 2: zookeeper.ssl.keyStore.location: cannot read /tmp"),
    ("zookeeper.clientCnxnSocket=com.example.Mine\n",
     "line 1: zookeeper.clientCnxnSocket: unknown class com.example.Mine"),
])
def test_a_setting_zksh_cannot_honour_is_named_and_nothing_runs(tmp_path, content, said):
    path = tmp_path / "client.properties"
    path.write_text(content)
    run = run_zksh("-client-configuration", str(path), "-server", "nosuch.invalid:1", "ls", "/")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"zksh: -client-configuration {path}, {said}")
    assert run.stderr.count("\n") == 1


def test_a_missing_file_is_said_and_nothing_runs():
    run = run_zksh("-client-configuration", "/nonexistent/file.properties",
                   "-server", "nosuch.invalid:1", "ls", "/")
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "zksh: -client-configuration /nonexistent/file.properties: "
               "No such file or directory\n")


def test_a_wrong_key_password_is_said_before_connecting(tmp_path, certificates):
    path = tls_properties(tmp_path, certificates, key="client-locked.pem",
                          extra="zookeeper.ssl.keyStore.password=wrong\n")
    with pytest.raises(ClientConfigError, match="zookeeper.ssl.keyStore.location: cannot load "
                                                "the certificate and key"):
        load_client_config(path)


def test_tls_settings_become_kazoos(tmp_path, certificates):
    path = tls_properties(tmp_path, certificates, key="client-locked.pem",
                          extra=f"zookeeper.ssl.keyStore.password={certificates.password}\n"
                                "zookeeper.ssl.hostnameVerification=false\n")
    options = load_client_config(path).kazoo_options()
    context = options.pop("ssl_context")  # Session hands it to kazoo (kazoo_private)
    assert (context.check_hostname, context.verify_mode) == (False, ssl.CERT_REQUIRED)
    assert options == {
        "use_ssl": True, "ca": certificates["ca.crt"],
        "certfile": certificates["client-locked.pem"],
        "keyfile": certificates["client-locked.pem"], "keyfile_password": "s3cret",
        "verify_certs": True, "check_hostname": False}
    plain = tmp_path / "plain.properties"
    plain.write_text("zookeeper.client.secure=false\nzookeeper.sasl.client=false\n")
    assert load_client_config(str(plain)).kazoo_options() == {}


# ---- against a real ZooKeeper's TLS port ----------------------------------------------------
def test_zksh_connects_over_tls_and_whoami_shows_the_certificate(tmp_path, certificates,
                                                                  tls_server):
    path = tls_properties(tmp_path, certificates)
    run = run_zksh("-client-configuration", path, "-server", tls_server.secure_address,
                   "whoami", timeout=30)
    # What Java's ZooKeeperMain with the same file prints after its banner.
    assert (run.returncode, run.stdout, run.stderr) == (
        0, "Auth scheme: User\nx509: CN=zksh-client\nip: 127.0.0.1\n", "")


def test_an_encrypted_key_with_its_password_connects_in_script_mode(tmp_path, certificates,
                                                                    tls_server):
    path = tls_properties(tmp_path, certificates, key="client-locked.pem",
                          extra=f"zookeeper.ssl.keyStore.password={certificates.password}\n")
    run = run_zksh("-client-configuration", path, "-server", tls_server.secure_address,
                   input="create /tls-script x\nget /tls-script\n", timeout=30)
    assert "state:SyncConnected" in run.stdout and run.stdout.endswith("x\n")
    assert run.stderr == "Created /tls-script\n"


def test_a_server_certificate_the_truststore_does_not_trust_is_connection_loss(
        tmp_path, certificates, tls_server):
    path = tls_properties(tmp_path, certificates, trust="other-ca.crt")
    started = time.monotonic()
    run = run_zksh("-client-configuration", path, "-server", tls_server.secure_address,
                   "ls", "/", timeout=30)
    assert (run.returncode, run.stdout, run.stderr) == (
        1, "", "KeeperErrorCode = ConnectionLoss for /\n")
    assert time.monotonic() - started < 10


def test_without_the_configuration_a_tls_port_is_connection_loss(tls_server):
    run = run_zksh("-server", tls_server.secure_address, "-timeout", "4000", "ls", "/",
                   timeout=30)
    assert (run.returncode, run.stderr) == (1, "KeeperErrorCode = ConnectionLoss for /\n")


# ---- PKCS12 and JKS stores ------------------------------------------------------------------
def java_store_properties(folder: Path, certificates: Certificates, kind: str,
                          password: str | None = None) -> str:
    extension = {"PKCS12": "p12", "JKS": "jks"}[kind]
    password = certificates.password if password is None else password
    path = folder / f"{kind}.properties"
    path.write_text("zookeeper.client.secure=true\n" + SOCKET
                    + f"zookeeper.ssl.keyStore.location={certificates[f'client.{extension}']}\n"
                    f"zookeeper.ssl.keyStore.password={password}\n"
                    f"zookeeper.ssl.keyStore.type={kind}\n"
                    f"zookeeper.ssl.trustStore.location={certificates[f'trust.{extension}']}\n"
                    f"zookeeper.ssl.trustStore.password={password}\n")
    return str(path)


@pytest.mark.parametrize("kind", ["PKCS12", "JKS"])
def test_java_key_and_trust_stores_connect_over_tls(tmp_path, certificates, tls_server, kind):
    path = java_store_properties(tmp_path, certificates, kind)
    run = run_zksh("-client-configuration", path, "-server", tls_server.secure_address,
                   "whoami", timeout=30)
    assert run.stderr == ""
    assert (run.returncode, run.stdout) == (
        0, "Auth scheme: User\nx509: CN=zksh-client\nip: 127.0.0.1\n")


@pytest.mark.parametrize("kind", ["PKCS12", "JKS"])
def test_a_wrong_store_password_is_one_line_and_exit_2(tmp_path, certificates, kind):
    path = java_store_properties(tmp_path, certificates, kind, password="wrong")
    run = run_zksh("-client-configuration", path, "-server", "nosuch.invalid:1", "ls", "/")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"zksh: -client-configuration {path}, line 3: "
                                 "zookeeper.ssl.keyStore.location: ")
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


# ---- SASL DIGEST-MD5 ------------------------------------------------------------------------
def sasl_properties(folder: Path, password: str, extra: str = "") -> str:
    jaas = folder / "client.jaas"
    jaas.write_text("/* zkCli's */\nClient {\n  org.apache.zookeeper.server.auth.DigestLoginModule"
                    f' required\n  username="bob"\n  password="{password}";\n}};\n')
    path = folder / "sasl.properties"
    path.write_text(f"java.security.auth.login.config={jaas}\n" + extra)
    return str(path)


def test_sasl_digest_logs_in_and_whoami_shows_it_as_zkcli_does(tmp_path, sasl_server):
    path = sasl_properties(tmp_path, "secret")
    run = run_zksh("-client-configuration", path, "-server", sasl_server.address,
                   input="whoami\nls /\n", timeout=30)
    # What Java's ZooKeeperMain prints with -Djava.security.auth.login.config= the same file.
    assert run.stdout.endswith(
        "WatchedEvent state:SyncConnected type:None path:null\n\nWATCHER::\n\n"
        "WatchedEvent state:SaslAuthenticated type:None path:null\n"
        "Auth scheme: User\nsasl: bob\nip: 127.0.0.1\n[zookeeper]\n")
    assert (run.returncode, run.stderr) == (0, "")


def test_a_wrong_sasl_password_fails_as_zkcli_fails(tmp_path, sasl_server):
    path = sasl_properties(tmp_path, "wrong")
    run = run_zksh("-client-configuration", path, "-server", sasl_server.address,
                   input="whoami\nls /\n", timeout=30)
    assert run.stdout.endswith(
        "WatchedEvent state:AuthFailed type:None path:null\nAuth scheme: User\nNot connected\n")
    assert run.stderr == ""


def test_sasl_off_or_unusable_jaas(tmp_path):
    off = sasl_properties(tmp_path, "secret", extra="zookeeper.sasl.client=false\n")
    assert load_client_config(off).kazoo_options() == {}
    assert load_client_config(sasl_properties(tmp_path, "secret")).kazoo_options() == {
        "sasl_options": {"mechanism": "DIGEST-MD5", "username": "bob", "password": "secret"}}
    kerberos = tmp_path / "krb.jaas"
    kerberos.write_text("Client {\n com.sun.security.auth.module.Krb5LoginModule required\n"
                        " useKeyTab=true;\n};\n")
    path = tmp_path / "krb.properties"
    path.write_text(f"java.security.auth.login.config={kerberos}\n")
    with pytest.raises(ClientConfigError, match="DIGEST-MD5 .* only, not "
                                                "com.sun.security.auth.module.Krb5LoginModule"):
        load_client_config(str(path))
    path.write_text(f"java.security.auth.login.config={kerberos}\n"
                    "zookeeper.sasl.clientconfig=Other\n")
    with pytest.raises(ClientConfigError, match="has no section Other"):
        load_client_config(str(path))
