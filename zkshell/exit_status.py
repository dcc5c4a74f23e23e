"""The exit statuses of `zksh` and `zksh play`, named once (as httpie's `ExitStatus`)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1              # a command failed; in play, an expectation did not hold
    UNUSABLE = 2           # bad options, settings, scenario file or server: nothing ran
    COMMAND_NOT_FOUND = 127
    INTERRUPTED = 130      # 128 + SIGINT, as a shell reports Ctrl+C

    @staticmethod
    def killed_by(signum: int) -> int:
        """What a shell reports for a process ended by signal `signum`."""
        return 128 + signum
