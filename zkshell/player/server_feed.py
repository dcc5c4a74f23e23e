"""When the server pane is read, and whose sessions its ids are: an `Observer` of the run.

When it is read is `refresher.Refresher`'s: after each step (each read bounded by
server_state.READ_TIMEOUT), and between steps on an event and every `TICK` seconds, so an
orphan is seen going when its session expires.  The picture after a step is kept for
`server.txt`, and is what the next changes are marked against.

The names come from the player: each scenario session's session id, as its process knew it
(`PlayedSession.credentials`, kept after a crash), so the ephemerals of a crashed process's
session are still `m1`'s, and marked orphans: no running process holds that session.
"""

from __future__ import annotations

from dataclasses import replace

from zkshell.player.refresher import Refresher
from zkshell.player.server_pane import ServerView, server_view
from zkshell.player.server_state import ServerSnapshot, Source, books_of

TICK = 1.0  # seconds between two reads while nothing happens


class ServerFeed(Refresher):
    """Reads `source` for `board` (panes.Board.set_server) while the scenario plays."""

    def __init__(self, source: Source, board) -> None:
        super().__init__(TICK, "zksh-server")
        self.source = source
        self.board = board
        self.labels: dict[int, str] = {}
        self._baseline: ServerSnapshot | None = None  # what the last step left
        self._orphans: set[int] = set()  # and whose sessions were orphans then

    def stopped(self) -> None:
        self.source.close()

    def read_and_show(self, heading: str | None) -> None:
        """Read the server and show it, changes marked against what the last step left;
        `heading` names a step's end: the picture is kept and becomes the new baseline."""
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
