"""History kept across runs, for Up/Down, Ctrl+R and suggestions while typing.

zkCli's numbered `history` and `redo N` are this session's only (the shell keeps them);
this file stores the same lines: what the shell recorded for each command it ran, so
`redo 3` is kept as the command it ran again, not as a number that means nothing next time.
prompt_toolkit's own appending on Enter is switched off for that.  The file is
prompt_toolkit's FileHistory format, trimmed to the newest `size` entries when it is opened.
"""

from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory, History, InMemoryHistory


class ShellHistory(FileHistory):
    def __init__(self, filename: str, size: int) -> None:
        super().__init__(filename)
        self.size = size
        self.broken = False  # the file cannot be written: keep this run's lines in memory
        _trim(filename, size)

    def append_string(self, string: str) -> None:
        """prompt_toolkit calls this on Enter; `record` is called after the command ran."""

    def record(self, line: str) -> None:
        strings = self.get_strings()
        if line and (not strings or strings[-1] != line):
            History.append_string(self, line)

    def store_string(self, string: str) -> None:
        if self.broken:
            return
        try:
            os.makedirs(os.path.dirname(self.filename) or ".", exist_ok=True)
            super().store_string(string)
        except OSError:
            self.broken = True


class MemoryHistory(InMemoryHistory):
    """No history file: the same interface, this run only."""

    def append_string(self, string: str) -> None:
        pass

    def record(self, line: str) -> None:
        strings = self.get_strings()
        if line and (not strings or strings[-1] != line):
            History.append_string(self, line)


def open_history(filename: str, size: int) -> ShellHistory | MemoryHistory:
    return ShellHistory(filename, size) if filename else MemoryHistory()


def _trim(filename: str, size: int) -> None:
    """Keep the newest `size` entries of a FileHistory file (an entry: `# date`, `+line`s)."""
    try:
        with open(filename, "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError:
        return
    entries: list[list[bytes]] = []
    for line in lines:
        if line.startswith(b"#") or not entries:
            entries.append([])
        entries[-1].append(line)
    kept = [entry for entry in entries if any(line.startswith(b"+") for line in entry)]
    if len(kept) <= size:
        return
    text = b"".join(b"\n" + b"\n".join(line for line in entry if line) + b"\n"
                    for entry in kept[-size:])
    temporary = f"{filename}.tmp{os.getpid()}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(text)
        os.replace(temporary, filename)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
