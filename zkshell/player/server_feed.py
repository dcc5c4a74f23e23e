"""When the server pane is read, and whose sessions its ids are: an `Observer` of the run.

After each step, on the player's thread, the server is read once (bounded by
server_state.READ_TIMEOUT) and the pane marks what that step changed; that picture is also
kept for `server.txt`.  Between steps a small thread of its own re-reads it when a session
gets an event and every `TICK` seconds, so an orphan is seen going when its session expires,
without the step loop waiting for it.

The names come from the player: each scenario session's session id, as its process knew it
(`PlayedSession.credentials`, kept after a crash), so the ephemerals of a crashed process's
session are still `m1`'s, and marked orphans: no running process holds that session.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from zkshell.player.model import Observer
from zkshell.player.server_pane import ServerView, server_view
from zkshell.player.server_state import ServerSnapshot, Source, books_of

TICK = 1.0  # seconds between two reads while nothing happens


class ServerFeed(Observer):
    """Reads `source` for `board` (panes.Board.set_server) while the scenario plays."""

    def __init__(self, source: Source, board) -> None:
        self.source = source
        self.board = board
        self.player = None
        self.labels: dict[int, str] = {}
        self._baseline: ServerSnapshot | None = None  # what the last step left
        self._orphans: set[int] = set()  # and whose sessions were orphans then
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="zksh-server")

    # ---- Observer ----------------------------------------------------------------------
    def scenario_started(self, player) -> None:
        self.player = player
        self._refresh("before the first step")
        self._thread.start()

    def step_finished(self, player, index: int, result) -> None:
        steps = len(player.scenario.steps)
        self._refresh(f"after step {index + 1}/{steps}: {result.step.summary()}")

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
            self.source.close()

    # ---- reading -----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            self._refresh(None)

    def _refresh(self, heading: str | None) -> None:
        """Read the server and show it, changes marked against what the last step left;
        `heading` names a step's end: the picture is kept and becomes the new baseline.
        One refresh at a time, so a slow one never overwrites a newer picture."""
        with self._lock:
            if self._stopped.is_set():
                return
            sessions = list(self.player.sessions.values()) if self.player is not None else []
            try:
                snapshot = self.source.read(lambda: books_of(sessions))
            except Exception as exc:  # a pane must never take the run down: keep the last
                snapshot = replace(self._baseline or ServerSnapshot(),
                                   note=f"cannot read the server: {type(exc).__name__} {exc}")
            orphans = self._who()
            view: ServerView = server_view(snapshot, self._baseline, dict(self.labels),
                                           orphans, self._orphans)
            self.board.set_server(view, heading)
            if heading is not None:
                self._baseline, self._orphans = snapshot, orphans

    def _who(self) -> set[int]:
        """Learn each session's current id; the ids no running process holds (orphans)."""
        live = set()
        for name, played in (self.player.sessions.items() if self.player else ()):
            ids = []
            if played.credentials is not None:
                ids.append(played.credentials[0])
            session = getattr(getattr(played, "shell", None), "session", None)
            if session is not None and session.client is not None:
                current = session.session_id
                if current is not None:
                    ids.append(current)
            for sid in ids:
                self.labels.setdefault(sid, name)
            if played.running and ids:
                live.add(ids[-1])
        return {sid for sid in self.labels if sid not in live}
