"""The skeleton of a view's feed that re-reads something while a scenario plays.

After each step, on the player's thread, it reads once and the view marks what that step
changed.  Between steps a small thread of its own reads again every `tick` seconds and when
a session gets an event or changes state (an expiry, a crash), so the view follows what the
server does without the step loop waiting for it.  One read at a time, so a slow one never
overwrites a newer picture.  The server pane (`server_feed.ServerFeed`) and the ensemble's
member row (`member_row.MemberFeed`) are two.
"""

from __future__ import annotations

import threading

from zkshell.player.model import Observer


class Refresher(Observer):
    """Subclasses say what a read is (`read_and_show`); this says when it happens."""

    def __init__(self, tick: float, thread_name: str) -> None:
        self.tick = tick
        self.player = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=thread_name)

    # ---- what a subclass gives -----------------------------------------------------------
    def read_and_show(self, heading: str | None) -> None:
        """Read and show; `heading` names a step's end (None: a read between steps).
        Called with the lock held, never after `stop`."""
        raise NotImplementedError

    def started(self, player) -> None:
        """The scenario starts: before the first read."""

    def stopped(self) -> None:
        """After the last read (the lock held): release what reading needs."""

    # ---- Observer ----------------------------------------------------------------------
    def scenario_started(self, player) -> None:
        self.player = player
        self.started(player)
        self._refresh("before the first step")
        self._thread.start()

    def step_finished(self, player, index: int, result) -> None:
        self._refresh(f"after step {index + 1}/{len(player.scenario.steps)}: "
                      f"{result.step.summary()}")

    def entry_added(self, session, entry) -> None:
        if entry.kind in ("event", "state"):  # an expiry, a crash: the server changed
            self._wake.set()

    def closing(self, player) -> None:
        """The player closes the sessions from here on: not the scenario's doing."""
        self.stop()

    def scenario_finished(self, player, results) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._lock:
            self.stopped()

    # ---- reading -----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.tick)
            self._wake.clear()
            self._refresh(None)

    def _refresh(self, heading: str | None) -> None:
        with self._lock:
            if not self._stopped.is_set():
                self.read_and_show(heading)
