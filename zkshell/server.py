"""A real, local Apache ZooKeeper server: started on a free loopback port, stopped by its PID.

Used by the tests, the benchmark and `zksh play` when no `-server` is given.  It runs the
Debian package's jar with the machine's Java; nothing here emulates ZooKeeper.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
ZOOKEEPER_CONF_DIR = Path("/etc/zookeeper/conf")
ZKCLI = Path("/usr/share/zookeeper/bin/zkCli.sh")
INSTALL_HINT = "install it with: apt-get install -y zookeeper (or run: make zookeeper)"


class ZooKeeperUnavailable(RuntimeError):
    """The local server cannot be started; the message says what to do."""


@dataclass(frozen=True)
class Installation:
    java: str
    jar: Path
    conf_dir: Path

    @property
    def classpath(self) -> str:
        return f"{self.conf_dir}:{self.jar}"


def find_installation() -> Installation:
    """Locate Java and the ZooKeeper jar, or explain what is missing."""
    java = shutil.which("java")
    if not ZOOKEEPER_JAR.exists():
        raise ZooKeeperUnavailable(f"ZooKeeper is not installed ({ZOOKEEPER_JAR} is missing); "
                                   + INSTALL_HINT)
    if java is None:
        raise ZooKeeperUnavailable("no 'java' on PATH; " + INSTALL_HINT)
    return Installation(java=java, jar=ZOOKEEPER_JAR, conf_dir=ZOOKEEPER_CONF_DIR)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connection(host: str, port: int, timeout: float,
                ssl_context: ssl.SSLContext | None) -> socket.socket:
    """A connection to the server; over TLS with `ssl_context` (a secure client port)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    if ssl_context is None:
        return sock
    try:
        return ssl_context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def four_letter_word(host: str, port: int, word: str, timeout: float = 1.0,
                     ssl_context: ssl.SSLContext | None = None) -> str:
    """Send a ZooKeeper four-letter command ("ruok", "mntr", ...) and return the reply."""
    with _connection(host, port, timeout, ssl_context) as sock:
        sock.sendall(word.encode())
        chunks = []
        while True:
            try:
                data = sock.recv(4096)
            except ssl.SSLEOFError:  # the server closed without TLS's goodbye: the end too
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def parse_wchp(answer: str) -> dict[str, list[int]]:
    """`wchp`'s answer: path -> the session ids watching it."""
    found: dict[str, list[int]] = {}
    path = None
    for line in answer.splitlines():
        if line.startswith("\t") and path is not None:
            found[path].append(_session_id(line.strip()))
        elif line.startswith("/"):
            path = line
            found[path] = []
    return found


def parse_cons(answer: str) -> set[int]:
    """`cons`'s answer: the session ids with a connection."""
    found = set()
    for line in answer.splitlines():
        start = line.find(",sid=0x")
        if start >= 0:
            found.add(_session_id(line[start + 5:].split(",")[0].rstrip(")")))
    return found


def _session_id(text: str) -> int:
    value = int(text, 16)
    return value - (1 << 64) if value >= 1 << 63 else value  # a Java long


def session_handshake(host: str, port: int, timeout: float = 1.0) -> bool:
    """Open a ZooKeeper session and close it again; True when the server accepts sessions."""
    return granted_session_timeout(host, port, 4000, timeout) is not None


def granted_session_timeout(host: str, port: int, asked_ms: int, timeout: float = 1.0,
                            ssl_context: ssl.SSLContext | None = None) -> int | None:
    """The session timeout the server grants when `asked_ms` is asked for (it clamps it to
    2..20 ticks), by opening a session and closing it again; None when it grants none.
    With `ssl_context`, over TLS (a secure client port)."""
    password = b"\0" * 16
    connect = (struct.pack("!iqiq", 0, 0, asked_ms, 0) + struct.pack("!i", len(password))
               + password + b"\0")
    close_session = struct.pack("!ii", 1, -11)
    with _connection(host, port, timeout, ssl_context) as sock:
        sock.sendall(struct.pack("!i", len(connect)) + connect)
        answer = sock.recv(4096)
        if len(answer) < 12:
            return None
        granted = struct.unpack_from("!i", answer, 8)[0]  # after the length and version
        sock.sendall(struct.pack("!i", len(close_session)) + close_session)
        sock.recv(4096)
    return granted


class LocalServer:
    """One standalone ZooKeeper server with its own temporary data directory.

    `tick_time_ms` bounds the session timeouts the server will grant (2 to 20 ticks), so a
    short tick lets crash and expiry scenarios finish in about a second.  `max_client_cnxns`
    is zoo.cfg's maxClientCnxns: connections one address may hold open (0: no limit, so a
    scenario may play as many sessions as it names).
    """

    # Tests start many short-lived servers that each answer a few requests: a small heap,
    # the serial collector and the JIT's first tier only start the JVM sooner, at the cost
    # of the server's throughput.  Benchmarks set () for the JVM's defaults, as the
    # package's zkServer.sh runs ZooKeeper.
    jvm_tuning: tuple[str, ...] = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
    jvm_options: tuple[str, ...] = ()  # more -D settings (an ensemble member's)

    def __init__(self, tick_time_ms: int = 2000, port: int | None = None,
                 start_timeout: float = 30.0, max_client_cnxns: int = 0) -> None:
        self.tick_time_ms = tick_time_ms
        self.max_client_cnxns = max_client_cnxns
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.start_timeout = start_timeout
        self._workdir: Path | None = None
        self._process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path | None:
        return self._workdir / "server.log" if self._workdir else None

    @property
    def min_session_timeout_ms(self) -> int:
        return 2 * self.tick_time_ms

    @property
    def max_session_timeout_ms(self) -> int:
        return 20 * self.tick_time_ms

    def _write_config(self, workdir: Path) -> Path:
        data_dir = workdir / "data"
        data_dir.mkdir(exist_ok=True)
        config = workdir / "zoo.cfg"
        config.write_text(
            f"tickTime={self.tick_time_ms}\n"
            f"dataDir={data_dir}\n"
            f"clientPort={self.port}\n"
            f"clientPortAddress={self.host}\n"
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=*\n"
            "extendedTypesEnabled=true\n"
            f"maxClientCnxns={self.max_client_cnxns}\n"
        )
        return config

    def start(self) -> LocalServer:
        """Start the server (its data survives restarts) and wait until it serves."""
        self.launch()
        self.wait_until_serving()
        return self

    def launch(self) -> LocalServer:
        """Start the server's process without waiting for it: an ensemble's members serve
        only once a quorum of them runs, so they are all launched before any is waited on."""
        install = find_installation()
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="zksh-zk-"))
        config = self._write_config(self._workdir)
        log = open(self._workdir / "server.log", "ab")
        command = [
            install.java, *self.jvm_tuning,
            "-Dzookeeper.extendedTypesEnabled=true",
            *self.jvm_options,
            f"-Dzookeeper.log.dir={self._workdir}",
            "-Dzookeeper.root.logger=INFO,CONSOLE",
            "-cp", install.classpath,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(config),
        ]
        # A session of its own: Ctrl+C in the terminal must not reach the server's JVM first.
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return self

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ZooKeeperUnavailable(
                    f"ZooKeeper exited during start-up (status {self._process.returncode}); "
                    f"see {self.log_path}")
            try:
                # "imok" comes before sessions are accepted: only a real handshake tells.
                if session_handshake(self.host, self.port):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise ZooKeeperUnavailable(f"ZooKeeper did not start within {self.start_timeout:.0f} s")

    def stop(self, kill: bool = False) -> None:
        """Stop the server process by its PID (the data directory stays for a restart)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its data directory (nothing to shut down gently)."""
        self.stop(kill=True)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()


def zkcli_command(address: str, *args: str) -> list[str]:
    """The command line of the real zkCli.sh, for differential tests and the benchmark."""
    return [str(ZKCLI), "-server", address, *args]


def zkcli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TZ", "UTC")
    return env
