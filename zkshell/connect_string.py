"""The `host:port[,host:port...][/chroot]` a user gives, checked before kazoo ever sees it.

kazoo raises from deep inside its constructor on a bad string, and the Java client prints a
stack trace; a shell should name the problem and keep the session it has.
"""

from __future__ import annotations

from zkshell.paths import InvalidPath, validate_path


class InvalidConnectString(ValueError):
    """A server address that cannot be used; the message says why."""


def check_connect_string(text: str) -> None:
    """Raise InvalidConnectString unless kazoo can connect with `text`."""
    from kazoo.hosts import collect_hosts  # only kazoo.hosts and urllib.parse: cheap

    try:
        hosts, chroot = collect_hosts(text)
    except ValueError as exc:
        raise InvalidConnectString(f'Invalid server address "{text}": {exc}') from None
    for host, port in hosts:
        if not host:
            raise InvalidConnectString(f'Invalid server address "{text}": no host name')
        if not 0 < port < 65536:
            raise InvalidConnectString(f'Invalid server address "{text}": port {port}')
    if chroot is not None:
        try:
            validate_path(chroot)
        except InvalidPath as exc:
            raise InvalidConnectString(f'Invalid chroot in "{text}": {exc}') from None


def encodable_host(host: str) -> bool:
    """Whether Python can put `host` into a DNS query at all.

    `a..b`, a label over 63 characters, or bytes that are not UTF-8 (`$'\\xff'`) make
    socket.getaddrinfo raise UnicodeError instead of failing to resolve, and kazoo's
    connection thread dies of it.  zkCli treats such a name as one that does not resolve.
    """
    try:
        host.strip().encode("idna")
    except UnicodeError:
        return False
    return True
