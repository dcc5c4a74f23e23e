"""`zksh server`: the embedded ZooKeeper server in the foreground, until Ctrl+C or SIGTERM.

One line says what runs and where; a port that is taken is one line on stderr and status 1.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable

from zkshell.embedded.server import MAX_CLIENT_CNXNS, EmbeddedServer

DESCRIPTION = """\
Run a ZooKeeper 3.8 compatible server in this process, for demos and tests:
a single node, in memory (the data is gone when it stops).
kazoo, zksh and zkCli.sh connect to it as to ZooKeeper.  For a quorum, TLS, SASL or data
that must survive, use real ZooKeeper.  It listens on loopback unless --host says otherwise;
Ctrl+C or SIGTERM stop it."""


def _at_least(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number, 0 or more, or 1 or more."""
    limit = "must be more than 0" if least else "cannot be negative"

    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{limit}: {text}")
        return value
    return number


_positive, _count = _at_least(1), _at_least(0)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zksh server", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=_port, default=2181,
                        help="client port (default 2181; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, loopback only)")
    parser.add_argument("--tick-time", type=_positive, default=2000, metavar="MS",
                        help="tickTime in milliseconds (default 2000)")
    parser.add_argument("--min-session-timeout", type=_positive, metavar="MS",
                        help="shortest session timeout granted (default 2 ticks)")
    parser.add_argument("--max-session-timeout", type=_positive, metavar="MS",
                        help="longest session timeout granted (default 20 ticks)")
    parser.add_argument("--max-client-cnxns", type=_count, default=MAX_CLIENT_CNXNS,
                        metavar="N",
                        help="connections one client address may hold open, as ZooKeeper's "
                             f"maxClientCnxns (default {MAX_CLIENT_CNXNS}; 0: no limit)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    server = EmbeddedServer(host=args.host, port=args.port, tick_time_ms=args.tick_time,
                            min_session_timeout_ms=args.min_session_timeout,
                            max_session_timeout_ms=args.max_session_timeout,
                            max_client_cnxns=args.max_client_cnxns)
    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"zksh server: cannot listen on {args.host}:{args.port}: {reason}",
              file=sys.stderr)
        return 1
    print(f"zksh server: ZooKeeper 3.8 protocol on {server.address}, in memory, for demos "
          "and tests (single node; for quorum, TLS or SASL use real ZooKeeper)", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0
