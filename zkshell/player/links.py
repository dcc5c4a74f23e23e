"""The ensemble a scenario plays on, with the links between its members made cuttable.

Each member reaches each peer through a relay of its own (one for the quorum port, one for
election), written into its configuration, so `isolate-server: 3` cuts member 3 off from
its peers as a network partition would: what it sends is held back, nothing new connects;
`rejoin-server: 3` lets it through again.  Nothing here imitates ZooKeeper: the members
find out as they would on a real network, by their own timeouts.
"""

from __future__ import annotations

from zkshell.ensemble import DOWN, LocalEnsemble, Peer
from zkshell.player.member_row import ISOLATED
from zkshell.player.proxy import OPEN, FaultProxy

# Seconds a member's connection to a peer waits for the peer to listen: a new leader opens
# its quorum port a moment after it is elected, and its followers connect at once.
LINK_PATIENCE = 1.0


class PlayEnsemble:
    """A LocalEnsemble whose peer links are relays; what server steps act on."""

    def __init__(self, size: int, tick_time_ms: int) -> None:
        self._links: dict[tuple[int, int, str], FaultProxy] = {}
        self.ensemble = LocalEnsemble(size, tick_time_ms=tick_time_ms, route=self._route)

    def _route(self, myid: int, peer: Peer) -> tuple[int, int]:
        return (self._link(myid, peer.myid, "quorum", peer.quorum_port).port,
                self._link(myid, peer.myid, "election", peer.election_port).port)

    def _link(self, source: int, target: int, kind: str, port: int) -> FaultProxy:
        key = (source, target, kind)
        link = self._links.get(key)
        if link is None or link.target[1] != port:  # new, or the ensemble moved its ports
            if link is not None:
                link.close()
            link = self._links[key] = FaultProxy(self.ensemble.host, port,
                                                 connect_patience=LINK_PATIENCE)
        return link

    # ---- what the player asks -----------------------------------------------------------
    def stop_member(self, myid: int, kill: bool = True) -> None:
        self.ensemble.stop_member(myid, kill=kill)

    def launch_member(self, myid: int) -> None:
        self.ensemble.launch_member(myid)

    def wait_serving(self, myid: int, timeout: float) -> bool:
        return self.ensemble.wait_serving(myid, timeout)

    def leader(self) -> int | None:
        return self.ensemble.leader()

    def isolate(self, myid: int) -> None:
        """Cut every link from and to member `myid`."""
        for (source, target, _kind), link in self._links.items():
            if myid in (source, target):
                link.partition()

    def rejoin(self, myid: int) -> None:
        """Let member `myid`'s links through again (those to a peer still cut stay cut)."""
        isolated = self.isolated() - {myid}
        for (source, target, _kind), link in self._links.items():
            if myid in (source, target) and not isolated & {source, target}:
                link.heal()

    def known_state(self, myid: int) -> str | None:
        """What zksh did to member `myid`, known without asking it: DOWN (its process is not
        running), "isolated" (its links are cut), or None."""
        if not self.ensemble.member(myid).running:
            return DOWN
        return ISOLATED if myid in self.isolated() else None

    def isolated(self) -> set[int]:
        """The members all of whose links are cut."""
        return {n for n in range(1, self.ensemble.size + 1)
                if all(link.mode != OPEN for (s, t, _k), link in self._links.items()
                       if n in (s, t))}

    def start(self) -> PlayEnsemble:
        self.ensemble.start()
        return self

    def cleanup(self) -> None:
        self.ensemble.cleanup()
        for link in self._links.values():
            link.close()
