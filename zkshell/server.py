"""A real, local Apache ZooKeeper server: started on a free loopback port, stopped by its PID.

Used by the tests, the benchmark and `zksh play` when no `-server` is given.  It runs the
Debian package's jar with the machine's Java; nothing here emulates ZooKeeper.
"""

from __future__ import annotations

import os
import random
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


class PortTaken(ZooKeeperUnavailable):
    """The server could not bind a port it was configured with: another process holds it."""


# ZooKeeper's exit status (ExitCode) when it cannot bind a quorum or election port.
UNABLE_TO_BIND_QUORUM_PORT = 14


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


# Servers listen below Linux's ephemeral range (32768-60999 by default), where the kernel
# never hands a port out by itself: a port found free in that range could otherwise be taken,
# before the JVM binds it seconds later, by any connection made meanwhile (a kazoo client's,
# a relay's, another test's).  Another program may still pick the same port at the same time:
# LocalServer.start then moves to a fresh one.
QUIET_PORTS = (20000, 32767)
_QUIET_TRIES = 200


def free_port(besides: tuple[int, ...] = ()) -> int:
    """A loopback port nothing is bound to now, other than `besides` (ports chosen but not
    bound yet), from QUIET_PORTS; from the kernel's ephemeral range should no quiet port be
    found free."""
    low, high = QUIET_PORTS
    for _ in range(_QUIET_TRIES):
        port = random.randint(low, high)
        if port not in besides and _bindable(port):
            return port
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in besides:
            return port


def free_ports(count: int) -> tuple[int, ...]:
    """`count` different free ports (free_port's)."""
    ports: tuple[int, ...] = ()
    while len(ports) < count:
        ports += (free_port(besides=ports),)
    return ports


def _bindable(port: int, as_server: bool = False) -> bool:
    """Whether `port` can be bound on loopback now; `as_server`: as ZooKeeper binds its
    listening ports (SO_REUSEADDR: a closed connection's TIME_WAIT is no obstacle)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if as_server:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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

    # How many ports a start tries: each one found free, then taken by another process
    # before the JVM bound it.
    port_attempts = 4

    def __init__(self, tick_time_ms: int = 2000, port: int | None = None,
                 start_timeout: float = 30.0, max_client_cnxns: int = 0) -> None:
        self.tick_time_ms = tick_time_ms
        self.max_client_cnxns = max_client_cnxns
        self.port = port or free_port()
        # A port the caller gave, or one the server has served on (its clients know it),
        # is never moved: losing it is an error.
        self._port_given = port is not None
        self._served = False
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
        """Start the server (its data survives restarts) and wait until it serves.  A port
        free_port chose that another process took before the JVM bound it is replaced by a
        fresh one (`address` and `port` follow), up to `port_attempts` times."""
        for attempt in range(1, self.port_attempts + 1):
            self.launch()
            try:
                self.wait_until_serving()
                return self
            except PortTaken as taken:
                if self._port_given or self._served:
                    raise
                if attempt == self.port_attempts:
                    raise PortTaken(f"ZooKeeper lost its port to another process {attempt} "
                                    f"times in a row; the last time: {taken}") from None
                self.choose_ports()
        raise AssertionError("unreachable")

    def choose_ports(self) -> None:
        """Fresh ports for a server whose ports were taken (a subclass's other ports too)."""
        self.port = free_port()

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
            if self.serving_now():
                return
            time.sleep(0.02)
        self.stop()
        raise ZooKeeperUnavailable(f"ZooKeeper did not start within {self.start_timeout:.0f} s")

    def serving_now(self) -> bool:
        """Whether this launch serves yet; raises PortTaken when a port of its is held by
        another process, ZooKeeperUnavailable when it exited for another reason."""
        self.check_launch()
        try:
            # "imok" comes before sessions are accepted: only a real handshake tells; and a
            # handshake is answered by whichever server holds the port: it must be this one.
            if session_handshake(self.host, self.port) and self._answers_as_itself():
                self._served = True
                return True
        except OSError:
            pass
        return False

    def check_launch(self) -> None:
        """Raise PortTaken when this launch's JVM exited because another process held a port
        of its, ZooKeeperUnavailable when it exited for another reason.  (Debian's jar logs
        nothing: its SLF4J binding is the no-op one; the exit and the port tell.)"""
        process = self._process
        if process is None or process.poll() is None:
            return
        held = [port for port in self.listen_ports() if not _bindable(port, as_server=True)]
        if held or process.returncode == UNABLE_TO_BIND_QUORUM_PORT:
            self._process = None
            raise PortTaken(f"{self._ports_text()} held by another process (ZooKeeper exited "
                            f"with status {process.returncode})")
        raise ZooKeeperUnavailable(
            f"ZooKeeper exited during start-up (status {process.returncode}); "
            f"see {self.log_path}")

    def listen_ports(self) -> tuple[int, ...]:
        """The ports the JVM listens on."""
        return (self.port,)

    def _ports_text(self) -> str:
        """The port (or ports, in a subclass) whose loss PortTaken names, with "is"."""
        if self._port_given:
            return f"port {self.port} (given to the server, so never moved) is"
        if self._served:
            return f"port {self.port} (the server's before this restart, so not moved) is"
        return f"port {self.port} is"

    def _answers_as_itself(self) -> bool:
        """Whether the server answering on its port runs on its data directory."""
        conf = four_letter_word(self.host, self.port, "conf")
        return f"dataDir={self._workdir}" in conf

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
