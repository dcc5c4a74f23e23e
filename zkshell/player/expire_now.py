"""End a session on the server now, as its expiry would: `zksh play`'s `expire` step.

No server has a request for that, so this does what kazoo's own test harness did: a second
connection presents the session's id and password, which takes the session over (the server
closes the connection the session had, if any), and then closes it.  The server deletes
the session's ephemeral znodes and fires their watches, as at an expiry; the session's own
client, if it still runs, learns it when it reconnects: Disconnected, then Expired.  Real
ZooKeeper and the embedded server behave alike here; neither needs anything special.
"""

from __future__ import annotations

from kazoo.retry import KazooRetry

from zkshell import kazoo_private

CONNECT_WAIT = 10.0


class ExpireFailed(Exception):
    """The server could not be reached to end the session; the message says why."""


def end_session(host: str, port: int, credentials: tuple[int, bytes], timeout_ms: int,
                wait: float = CONNECT_WAIT, client_options: dict | None = None) -> bool:
    """Take the session over from a connection of our own and close it.

    Returns False when the server had already ended it (it expired, or was closed): the
    server then answers the connection with a new session, which is closed in its turn.
    Raises ExpireFailed when no connection is made within `wait` seconds.
    """
    session_id, password = credentials
    client = kazoo_private.new_client(
        client_options,  # TLS and SASL, as the session itself connects
        hosts=f"{host}:{port}",  # no chroot: a session is the server's, whatever the paths
        client_id=(session_id, password),
        timeout=timeout_ms / 1000.0,
        connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0),
    )
    try:
        client.start_async().wait(wait)
        taken = client.client_id
        if taken is None:
            raise ExpireFailed(f"no connection to {host}:{port} within {wait:g}s to end "
                               f"session 0x{session_id:x}")
        return taken[0] == session_id
    finally:
        # stop() sends closeSession and waits for its answer: once it returns, the
        # ephemerals are gone.  Bounded, so that a server going away cannot hang the step.
        kazoo_private.stop_client(client)
