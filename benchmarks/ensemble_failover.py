"""Failover and leader-election times of zksh's session on a local three-member ensemble
(the figures in docs/ensembles.md): `python benchmarks/ensemble_failover.py [ROUNDS]`.

One ensemble (tickTime 200 ms, as tests/test_ensemble_shell.py's); each round, with every
member running and a leader elected:

- failover: the member the shell's session is on is killed (SIGKILL); the time until the
  session's SyncConnected event, on another member;
- election: the leader is killed; the time until a new leader serves with its followers
  (`srvr` asked every 20 ms), and until the session is connected again.

Timed from the kill to the event on this process's clock; measured, never asserted.
"""

from __future__ import annotations

import sys
import threading
import time

from zkshell.ensemble import LEADER, LOOKING, LocalEnsemble
from zkshell.session import Session, SessionEvent
from zkshell.shell import Shell

ROUNDS = 5
WAIT = 30.0


class Connected:
    """When the session's SyncConnected events arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._changed = threading.Condition()

    def __call__(self, event: SessionEvent) -> None:
        if event.state == "SyncConnected" and event.type == "None":
            with self._changed:
                self.times.append(time.monotonic())
                self._changed.notify_all()

    def after(self, since: float) -> float:
        """The first SyncConnected after `since`, waited for."""
        deadline = time.monotonic() + WAIT
        with self._changed:
            while not any(t > since for t in self.times):
                if not self._changed.wait(deadline - time.monotonic()):
                    raise TimeoutError("the session did not connect again")
            return next(t for t in self.times if t > since)


def _new_leader(ensemble: LocalEnsemble, old: int) -> float:
    """When a member other than `old` leads and no running member is still looking."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        statuses = ensemble.statuses()
        if (any(s.role == LEADER for n, s in statuses.items() if n != old)
                and all(s.role != LOOKING for s in statuses.values())):
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError("no new leader")


def main(rounds: int) -> None:
    with LocalEnsemble(3, tick_time_ms=200) as ensemble:
        connected = Connected()
        shell = Shell(Session(ensemble.connect_string, 4000), connected)
        shell.session.connect()
        shell.session.wait_connected(WAIT)
        failovers, elections, reconnects = [], [], []
        try:
            for _ in range(rounds):
                for member in ensemble.members:
                    ensemble.start_member(member.myid)
                ensemble.wait_for_leader()
                time.sleep(1.0)  # the restarted member has synced; sessions settle
                on = ensemble.serving(shell.session.session_id)
                assert on is not None
                killed = time.monotonic()
                ensemble.stop_member(on)
                failovers.append(connected.after(killed) - killed)
                ensemble.start_member(on)
                leader = ensemble.wait_for_leader()
                time.sleep(1.0)
                killed = time.monotonic()
                ensemble.stop_member(leader)
                elections.append(_new_leader(ensemble, leader) - killed)
                reconnects.append(connected.after(killed) - killed)
        finally:
            shell.session.close()
    for name, values in (("failover to another member", failovers),
                         ("new leader serving", elections),
                         ("session connected again after the leader died", reconnects)):
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name}: {min(values):.2f}-{max(values):.2f} s  ({shown})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
