"""The interactive shell's bottom toolbar: server, connection state, session id, watches;
while it cannot connect, why, and that it retries."""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from zkshell.format import java_hex
from zkshell.session import ConnectFailure, Session
from zkshell.shell import Shell

STYLE = {
    "bottom-toolbar": "reverse",
    "toolbar.state.connected": "bold",
    "toolbar.state.connecting": "bold ansiyellow",
    "toolbar.state.lost": "bold ansired",
}

def toolbar(shell: Shell) -> StyleAndTextTuples:
    """` 127.0.0.1:2181/app | CONNECTED | session 0x100a2b3c4d0000 | watches: 2 `, and while
    connecting fails, ` 127.0.0.1:2181 (connection refused, retrying every second) | ...`."""
    session = shell.session
    server = shell.display_server or session.server
    state = session.state_name
    if state in ("CONNECTED", "CONNECTEDREADONLY"):
        state_style = "class:toolbar.state.connected"
    elif state == "CONNECTING":
        state_style = "class:toolbar.state.connecting"
    else:
        state_style = "class:toolbar.state.lost"
    session_id = session.session_id
    shown_id = f"session {java_hex(session_id)}" if session_id else "no session"
    trouble = connect_trouble(session)
    return [
        ("class:toolbar.server", f" {server} "),
        *([("class:toolbar.trouble", f"({trouble}) ")] if trouble else []),
        ("", "|"),
        (state_style, f" {state} "),
        ("", f"| {shown_id} "),
        ("", f"| watches: {session.watches.count()} "),
    ]


def connect_trouble(session: Session) -> str | None:
    """Why a session that is CONNECTING is still not connected, and that kazoo keeps
    trying: `connection refused, retrying every second`; None when nothing failed yet."""
    failure = session.connect_failure
    if failure is None or session.state_name != "CONNECTING":
        return None
    # A server that does not answer costs each try a timeout's wait; the others fail at
    # once, and kazoo tries again after a pause that grows to a second.
    retrying = "retrying" if failure.kind == "silent" else "retrying every second"
    several = "," in session.server.split("/", 1)[0]
    return f"{_why(failure, several)}, {retrying}"


def _why(failure: ConnectFailure, several: bool) -> str:
    why = failure.words
    if not several:
        return why  # the one server is named at the toolbar's start
    if failure.kind == "unresolved":
        return "no server name resolves"
    return f"{failure.server}: {why}"
