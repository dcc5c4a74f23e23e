"""The interactive shell's bottom toolbar: server, connection state, session id, watches."""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from zkshell.format import java_hex
from zkshell.shell import Shell

STYLE = {
    "bottom-toolbar": "reverse",
    "toolbar.state.connected": "bold",
    "toolbar.state.connecting": "bold ansiyellow",
    "toolbar.state.lost": "bold ansired",
}


def toolbar(shell: Shell) -> StyleAndTextTuples:
    """` 127.0.0.1:2181/app | CONNECTED | session 0x100a2b3c4d0000 | watches: 2 `."""
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
    return [
        ("class:toolbar.server", f" {server} "),
        ("", "|"),
        (state_style, f" {state} "),
        ("", f"| {shown_id} "),
        ("", f"| watches: {session.watches.count()} "),
    ]
