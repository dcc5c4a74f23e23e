"""The server a scenario plays against, and the one line that names it.

By default zksh plays against its embedded server, in this process: no Java, started in
milliseconds.  `--zookeeper` starts a local Apache ZooKeeper instead (the reference zksh's
output is checked against); `-server` plays against one already running.  A scenario that
says `servers: 3` plays on a local ensemble of Apache ZooKeepers (`ensemble.LocalEnsemble`):
the embedded server is a single node.  Every view (the
plain report, the live view's header, the exports drawn from it) says which one played,
with the words made here and nowhere else.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

EMBEDDED = "embedded"
ZOOKEEPER = "zookeeper"
GIVEN = "given"
ENSEMBLE = "ensemble"


class ServerUnavailable(Exception):
    """The server could not be started; the message says why."""


@dataclass(frozen=True)
class PlayServer:
    """Where the sessions connect, and what to call that server."""

    kind: str  # EMBEDDED, ZOOKEEPER, ENSEMBLE or GIVEN (-server)
    address: str  # a connect string: an ensemble's members in order
    version: str = ""  # Apache ZooKeeper's own, from its `srvr` answer
    # The EmbeddedServer itself when it runs in this process: the server pane reads it.
    embedded: object = field(default=None, compare=False, repr=False)
    # The ensemble zksh started (a PlayEnsemble), for the server steps; None otherwise.
    members: object = field(default=None, compare=False, repr=False)
    # How every connection to it is made: -client-configuration's kazoo arguments (TLS,
    # SASL; ClientConfig.kazoo_options), for a given server only.
    client_options: dict | None = field(default=None, compare=False, repr=False)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of the sessions' connections, for the player's own probes."""
        return ssl_context_of(self.client_options)

    @property
    def label(self) -> str:
        if self.kind == EMBEDDED:
            return f"zksh embedded (in-process, ZooKeeper 3.8 protocol) at {self.address}"
        if self.kind == ZOOKEEPER:
            name = f"Apache ZooKeeper {self.version}" if self.version else "Apache ZooKeeper"
            return f"{name} (local, started by zksh) at {self.address}"
        if self.kind == ENSEMBLE:
            name = f"Apache ZooKeeper {self.version}" if self.version else "Apache ZooKeeper"
            size = self.address.count(",") + 1
            return f"{name} ensemble of {size} (local, started by zksh) at {self.address}"
        return f"{self.address} (-server)"

    @property
    def line(self) -> str:
        """What the report's header and the view's title row say."""
        return f"server: {self.label}"


def given(address: str, client_options: dict | None = None) -> PlayServer:
    return PlayServer(GIVEN, address, client_options=client_options)


def ssl_context_of(client_options: dict | None) -> ssl.SSLContext | None:
    """The SSLContext among kazoo's arguments (ClientConfig.kazoo_options), or None."""
    context = (client_options or {}).get("ssl_context")
    return context if isinstance(context, ssl.SSLContext) else None


@contextmanager
def started(kind: str, tick_time_ms: int, size: int = 1) -> Iterator[PlayServer]:
    """Start a server of `kind` for one scenario (ENSEMBLE: `size` members); it is stopped
    when the block ends, by an exception too (Ctrl+C, and SIGTERM/SIGHUP, which play turns
    into one)."""
    if kind == ENSEMBLE:
        with _ensemble(tick_time_ms, size) as server:
            yield server
        return
    if kind == EMBEDDED:
        # Imported here: the scenario checks and -server runs never load the server.
        from zkshell.embedded import EmbeddedServer

        # No connection limit (ZooKeeper's default is 60 from one address): every session
        # of the scenario connects from loopback, through its relay.
        embedded = EmbeddedServer(tick_time_ms=tick_time_ms, max_client_cnxns=0)
        try:
            embedded.start()
        except OSError as exc:
            raise ServerUnavailable(f"cannot start the embedded server: {exc}") from None
        try:
            yield PlayServer(EMBEDDED, embedded.address, embedded=embedded)
        finally:
            embedded.stop()
        return
    from zkshell.server import LocalServer, ZooKeeperUnavailable

    local = LocalServer(tick_time_ms=tick_time_ms)
    try:
        try:
            local.start()
        except ZooKeeperUnavailable as exc:
            raise ServerUnavailable(f"cannot start a local ZooKeeper: {exc}") from None
        yield PlayServer(ZOOKEEPER, local.address, _version(local.host, local.port))
    finally:
        local.cleanup()


@contextmanager
def _ensemble(tick_time_ms: int, size: int) -> Iterator[PlayServer]:
    from zkshell.player.links import PlayEnsemble
    from zkshell.server import ZooKeeperUnavailable

    played = PlayEnsemble(size, tick_time_ms)
    try:
        try:
            played.start()
        except ZooKeeperUnavailable as exc:
            raise ServerUnavailable(f"cannot start a local ZooKeeper ensemble of {size}: "
                                    f"{exc}") from None
        first = played.ensemble.member(1)
        yield PlayServer(ENSEMBLE, played.ensemble.connect_string,
                         _version(first.host, first.port), members=played)
    finally:
        played.cleanup()


PROBE_PAUSE = 0.2  # seconds between two tries of a server that did not answer


def granted_within(host: str, port: int, asked_ms: int, patience: float,
                   ssl_context: ssl.SSLContext | None = None) -> int | None:
    """The session timeout the server at host:port grants, asking until `patience` seconds
    have passed; None if it never answers.

    A server is given as long as a connect would give it: on a busy machine one that has
    just answered `ruok` can take seconds to answer again, or refuse while it restarts."""
    from zkshell.server import granted_session_timeout

    deadline = time.monotonic() + patience
    while True:
        remaining = deadline - time.monotonic()
        try:
            granted = granted_session_timeout(host, port, asked_ms,
                                              timeout=max(0.2, min(3.0, remaining)),
                                              ssl_context=ssl_context)
        except OSError:
            granted = None
        if granted is not None or time.monotonic() + PROBE_PAUSE >= deadline:
            return granted
        time.sleep(PROBE_PAUSE)


_VERSION = re.compile(r"Zookeeper version: (\d+(?:\.\d+)+)")


def _version(host: str, port: int) -> str:
    """"3.8.0" from the `srvr` four-letter word (LocalServer allows them all); "" if none."""
    from zkshell.server import four_letter_word

    try:
        match = _VERSION.search(four_letter_word(host, port, "srvr"))
    except OSError:
        return ""
    return match.group(1) if match else ""
