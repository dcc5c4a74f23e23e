"""A real ZooKeeper with a TLS client port, and the certificates to talk to it (openssl).

ZooKeeper's TLS needs its Netty connection factory; Debian's zookeeper.jar leaves the netty
jars out of its classpath, so they are added from /usr/share/java.  The server requires a
client certificate (ssl.clientAuth=need) and maps it to an `x509` identity.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from zkshell.server import LocalServer, find_installation, free_port, free_ports

NETTY_JARS = ("netty-buffer", "netty-codec", "netty-common", "netty-handler", "netty-resolver",
              "netty-transport", "netty-transport-native-epoll",
              "netty-transport-native-unix-common")
JAVA_SHARE = Path("/usr/share/java")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(name: str, subject: str, ca: str, cwd: Path, extensions: str = "") -> None:
    """`name`.key and `name`.crt, signed by the CA `ca`.key/.crt; `name`.pem holds both."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", subject,
             "-out", f"{name}.csr", cwd=cwd)
    ext_args: list[str] = []
    if extensions:
        (cwd / f"{name}.ext").write_text(extensions)
        ext_args = ["-extfile", f"{name}.ext"]
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *ext_args, cwd=cwd)
    (cwd / f"{name}.pem").write_bytes((cwd / f"{name}.key").read_bytes()
                                      + (cwd / f"{name}.crt").read_bytes())


def _ca(name: str, cwd: Path) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-subj", f"/CN={name}", "-days", "2", "-out", f"{name}.crt", cwd=cwd)


@dataclass(frozen=True)
class Certificates:
    """Files in `folder`: ca.crt (trusted by the server), server.pem, client.pem (key and
    certificate, CN=zksh-client), client-locked.pem (its key encrypted with `password`),
    other-ca.crt (a CA that signed nothing here), and the same client key and CA in PKCS12
    and JKS stores: client.p12, client.jks, trust.p12, trust.jks (password: `password`)."""

    folder: Path
    password: str = "s3cret"

    def __getitem__(self, name: str) -> str:
        return str(self.folder / name)


def make_certificates(folder: Path) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    _ca("ca", folder)
    _ca("other-ca", folder)
    _signed("server", "/CN=localhost", "ca", folder,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _signed("client", "/CN=zksh-client", "ca", folder)
    certificates = Certificates(folder)
    _openssl("pkcs8", "-topk8", "-in", "client.key", "-out", "client-locked.key",
             "-v2", "aes-256-cbc", "-passout", f"pass:{certificates.password}", cwd=folder)
    (folder / "client-locked.pem").write_bytes((folder / "client-locked.key").read_bytes()
                                               + (folder / "client.crt").read_bytes())
    _java_stores(certificates)
    return certificates


def _java_stores(certificates: Certificates) -> None:
    """client.p12 and client.jks (key and certificate), trust.p12 and trust.jks (the CA), all
    under `password`: what ZooKeeper users have, made as they make them (keytool)."""
    folder, password = certificates.folder, certificates.password
    _openssl("pkcs12", "-export", "-in", "client.crt", "-inkey", "client.key", "-name", "client",
             "-out", "client.p12", "-passout", f"pass:{password}", cwd=folder)
    keytool = [str(Path(find_installation().java).resolve().parent / "keytool"), "-noprompt"]
    for command in (
            ["-importkeystore", "-srckeystore", "client.p12", "-srcstoretype", "PKCS12",
             "-srcstorepass", password, "-destkeystore", "client.jks", "-deststoretype", "JKS",
             "-deststorepass", password],
            ["-importcert", "-alias", "ca", "-file", "ca.crt", "-keystore", "trust.p12",
             "-storetype", "PKCS12", "-storepass", password],
            ["-importcert", "-alias", "ca", "-file", "ca.crt", "-keystore", "trust.jks",
             "-storetype", "JKS", "-storepass", password]):
        subprocess.run(keytool + command, cwd=folder, check=True, capture_output=True,
                       timeout=60)


def netty_classpath() -> str:
    """The netty jars ZooKeeper's TLS needs, which Debian's classpath leaves out."""
    return ":".join(str(JAVA_SHARE / f"{jar}.jar") for jar in NETTY_JARS)


def zkcli_tls_command(*args: str, jvm_flags: tuple[str, ...] = ()) -> list[str]:
    """What zkCli.sh runs (`java -cp ... $CLIENT_JVMFLAGS $JVMFLAGS ZooKeeperMain "$@"`), with
    the netty jars Debian's zkCli.sh leaves off its classpath: without them it cannot speak
    TLS at all.  The reference for zksh's TLS behaviour."""
    install = find_installation()
    return [install.java, "-cp", f"{install.classpath}:{netty_classpath()}", *jvm_flags,
            "org.apache.zookeeper.ZooKeeperMain", *args]


class TlsZooKeeper(LocalServer):
    """LocalServer with a second, TLS-only client port: `secure_address`."""

    def __init__(self, certificates: Certificates, tick_time_ms: int = 2000,
                 extra_config: str = "") -> None:
        super().__init__(tick_time_ms=tick_time_ms)
        self.certificates = certificates
        self.secure_port = free_port(besides=(self.port,))
        self.extra_config = extra_config  # zoo.cfg lines: ssl.protocol=TLSv1.2, say

    @property
    def secure_address(self) -> str:
        return f"{self.host}:{self.secure_port}"

    def choose_ports(self) -> None:
        self.port, self.secure_port = free_ports(2)

    def listen_ports(self) -> tuple[int, ...]:
        return (self.port, self.secure_port)

    def _ports_text(self) -> str:
        return f"port {self.port} or secure port {self.secure_port} is"

    def _write_config(self, workdir: Path) -> Path:
        config = super()._write_config(workdir)
        certificates = self.certificates
        with config.open("a") as handle:
            handle.write(
                f"secureClientPort={self.secure_port}\n"
                "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
                "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
                f"ssl.keyStore.location={certificates['server.pem']}\n"
                "ssl.keyStore.type=PEM\n"
                f"ssl.trustStore.location={certificates['ca.crt']}\n"
                "ssl.trustStore.type=PEM\n"
                "ssl.clientAuth=need\n" + self.extra_config)
        return config

    def start(self) -> TlsZooKeeper:
        # LocalServer.start with the netty jars on the classpath: find_installation's
        # classpath is read through this module's patch of it.
        import zkshell.server as server_module

        original = server_module.find_installation

        def with_netty():  # type: ignore[no-untyped-def]
            return _WithJars(original(), netty_classpath())

        server_module.find_installation = with_netty
        try:
            super().start()
        finally:
            server_module.find_installation = original
        return self


class _WithJars:
    def __init__(self, install: object, jars: str) -> None:
        self.java = install.java  # type: ignore[attr-defined]
        self.classpath = f"{install.classpath}:{jars}"  # type: ignore[attr-defined]


__all__ = ["Certificates", "TlsZooKeeper", "find_installation", "make_certificates",
           "netty_classpath", "zkcli_tls_command"]


SERVER_JAAS = """Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_bob="secret";
};
"""


class SaslZooKeeper(LocalServer):
    """LocalServer that takes SASL DIGEST-MD5 logins: user `bob`, password `secret`.

    The server reads its JAAS file from a JVM flag, given through JAVA_TOOL_OPTIONS, which
    the JVM reads at start-up."""

    def _write_config(self, workdir: Path) -> Path:
        config = super()._write_config(workdir)
        (workdir / "server.jaas").write_text(SERVER_JAAS)
        with config.open("a") as handle:
            handle.write("authProvider.sasl="
                         "org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n")
        return config

    def start(self) -> SaslZooKeeper:
        import os
        import tempfile

        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="zksh-zk-sasl-"))
        before = os.environ.get("JAVA_TOOL_OPTIONS")
        os.environ["JAVA_TOOL_OPTIONS"] = (
            f"-Djava.security.auth.login.config={self._workdir / 'server.jaas'}")
        try:
            super().start()
        finally:
            if before is None:
                del os.environ["JAVA_TOOL_OPTIONS"]
            else:
                os.environ["JAVA_TOOL_OPTIONS"] = before
        return self
