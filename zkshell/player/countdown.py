"""How long a silent session has before the server expires it: the teaching view's countdown.

A crashed or partitioned session's client says nothing more to the server, which expires the
session once the granted timeout has passed since it last heard from it, at its first tick
after that (ZooKeeper's ExpiryQueue rounds the deadline up to a tick).  Nobody is told when:
another session learns it from a watch on an ephemeral znode, the session itself only when
it reconnects.  So the pane counts down to the deadline (`crashed · expires in ~3.2s`), and
says `expired` once something confirms it:

- an `expire` step ended the session (the server answered its closeSession);
- the session's client was told Expired;
- another session got a NodeDeleted or NodeChildrenChanged event after the deadline: an
  ephemeral znode going, which is what the audience is waiting for;
- or half a timeout has passed since the deadline.  A granted timeout is at least two of the
  server's ticks, so by then the server has had its tick to expire the session; until then
  the pane says `expiring…`.

Pure: times are time.monotonic() values, passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# The events an ephemeral znode's end fires in a watching session: on the node, on its parent.
REMOVAL_EVENTS = ("NodeDeleted", "NodeChildrenChanged")
EXPIRED, EXPIRING = "expired", "expiring…"


@dataclass(frozen=True)
class Silence:
    """Since when the server has heard nothing from a session, and the timeout it granted."""

    since: float
    timeout: float  # seconds

    @property
    def deadline(self) -> float:
        return self.since + self.timeout

    def confirmed(self, ended: bool, told_expired: bool,
                  removals_elsewhere: Iterable[float]) -> bool:
        """Whether the session is known to be over: `ended` by an expire step, its client
        `told_expired`, or another session saw an ephemeral go after the deadline (the times
        of such events in `removals_elsewhere`)."""
        return ended or told_expired or any(at >= self.deadline for at in removals_elsewhere)

    def describe(self, now: float, confirmed: bool) -> str:
        """`expires in ~3.2s` (whole seconds from 10 on), `expiring…` or `expired`."""
        left = self.deadline - now
        if confirmed or left <= -self.timeout / 2:
            return EXPIRED
        if left <= 0:
            return EXPIRING
        # Rounded up, so "~0.0s" is never shown while there is time left (and first to
        # micro-tenths, so that 104 - 100.8 = 3.2000000000000028 shows as 3.2).
        tenths = math.ceil(round(left * 10, 6))
        if tenths < 100:
            return f"expires in ~{tenths / 10:.1f}s"
        return f"expires in ~{math.ceil(tenths / 10)}s"
