"""A session's relays: one fault proxy per server it may connect to.

Against one server a session has one relay.  Against an ensemble it has one per member it
may use (every member, or the one it is pinned to), and connects to their addresses as to a
connect string: the client picks a member and fails over to another as it would with the
members' own addresses.  A session's faults (crash, partition, heal) are its process's or its
network's, so they apply to all its relays at once.
"""

from __future__ import annotations

from zkshell.player.proxy import FaultProxy


class Relays:
    """Fault proxies to `targets` ((host, port) each), used together as one."""

    def __init__(self, targets: list[tuple[str, int]]) -> None:
        self.proxies = [FaultProxy(host, port) for host, port in targets]

    @property
    def address(self) -> str:
        """The connect string of the relays, in the targets' order."""
        return ",".join(proxy.address for proxy in self.proxies)

    @property
    def mode(self) -> str:
        return self.proxies[0].mode

    @property
    def last_contact(self) -> float | None:
        """When bytes of the client's last reached any server."""
        times = [p.last_contact for p in self.proxies if p.last_contact is not None]
        return max(times) if times else None

    @property
    def current(self) -> FaultProxy:
        """The relay the session connected through last (the first before it connects)."""
        return max(self.proxies, key=lambda p: p.last_connected or 0.0)

    @property
    def target(self) -> tuple[str, int]:
        """The server the session is on, or was on last."""
        return self.current.target

    @property
    def upstream_error(self) -> OSError | None:
        """Why the latest connection could not reach its server, if it could not."""
        return self.current.upstream_error

    def proxy_to(self, target: tuple[str, int]) -> FaultProxy | None:
        """The relay to `target`, if the session has one."""
        for proxy in self.proxies:
            if proxy.target == target:
                return proxy
        return None

    def crash(self) -> None:
        for proxy in self.proxies:
            proxy.crash()

    def partition(self) -> None:
        for proxy in self.proxies:
            proxy.partition()

    def heal(self) -> None:
        for proxy in self.proxies:
            proxy.heal()

    def revive(self) -> None:
        for proxy in self.proxies:
            proxy.revive()

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.close()
