"""History kept across runs, for Up/Down, Ctrl+R and suggestions while typing.

zkCli's numbered `history` and `redo N` are this session's only (the shell keeps them);
this file stores the same lines: what the shell recorded for each command it ran, so
`redo 3` is kept as the command it ran again, not as a number that means nothing next time.
prompt_toolkit's own appending on Enter is switched off for that.  The file is
prompt_toolkit's FileHistory format, trimmed to the newest `size` entries when it is opened.

The file is readable by its owner only, and some lines never reach it (they stay in this
run's memory): `addauth` lines, which carry credentials, and lines typed with a leading
space, as bash's `ignorespace` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from zkshell.tokenizer import split_line


class ShellHistory(FileHistory):
    def __init__(self, filename: str, size: int) -> None:
        super().__init__(filename)
        self.size = size
        self.broken = False  # the file cannot be written: keep this run's lines in memory
        _trim(filename, size)
        _owner_only(filename)

    def append_string(self, string: str) -> None:
        """prompt_toolkit calls this on Enter; `record` is called after the command ran."""

    def load_history_strings(self) -> Iterator[str]:
        # prompt_toolkit loads in a thread and shows a failure as a traceback with "Press
        # ENTER"; a file that went bad after open_history checked it just gives nothing.
        try:
            yield from super().load_history_strings()
        except (OSError, UnicodeDecodeError):
            self.broken = True

    def record(self, line: str) -> None:
        if _is_new(self, line):
            self._loaded_strings.insert(0, line)
            if not is_private(line):
                self.store_string(line)

    def store_string(self, string: str) -> None:
        if self.broken:
            return
        try:
            directory = os.path.dirname(self.filename) or "."
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.close(os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
            super().store_string(string)
        except OSError:
            self.broken = True


class MemoryHistory(InMemoryHistory):
    """No history file: the same interface, this run only."""

    def append_string(self, string: str) -> None:
        pass

    def record(self, line: str) -> None:
        if _is_new(self, line):
            self._loaded_strings.insert(0, line)


def is_private(line: str) -> bool:
    """Kept out of the file: credentials (`addauth`), and lines typed after a space.

    The words are zkCli's, quotes removed: `"addauth" digest u:p` runs addauth too.
    """
    words = split_line(line)
    return line[:1].isspace() or (bool(words) and words[0] == "addauth")


def _is_new(history: History, line: str) -> bool:
    strings = history.get_strings()
    return bool(line) and (not strings or strings[-1] != line)


def open_history(filename: str, size: int,
                 warn: Callable[[str], None] | None = None) -> ShellHistory | MemoryHistory:
    """The history kept in `filename`, or this run's only when there is none or it cannot
    be read (`warn` is told why, once, before the prompt is up)."""
    if not filename:
        return MemoryHistory()
    problem = _unreadable(filename)
    if problem is not None:
        if warn is not None:
            warn(f"zksh: cannot read the history file {filename}: {problem}; "
                 "history is kept for this run only")
        return MemoryHistory()
    return ShellHistory(filename, size)


def _unreadable(filename: str) -> str | None:
    if not os.path.exists(filename):
        return None  # created at the first command
    if not os.path.isfile(filename):
        return "not a file"
    try:
        with open(filename, "rb"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def _owner_only(filename: str) -> None:
    """A file made by an older zksh or by hand may be readable by others: it holds commands
    with znode data, so it is made owner-only, as a new one is created."""
    try:
        if os.stat(filename).st_mode & 0o077:
            os.chmod(filename, 0o600)
    except OSError:
        pass  # missing (created later, 0600) or not ours: nothing to do


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
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                  "wb") as handle:
            handle.write(text)
        os.replace(temporary, filename)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
