"""The history file keeps credentials out and is readable by its owner only (issue 14)."""

from __future__ import annotations

import os
import stat

import pytest

from zkshell.history import ShellHistory, is_private
from zkshell.repl import one_iteration

from .piped_prompt import piped_prompt


@pytest.mark.parametrize("line", [
    "addauth digest u:secret",
    '"addauth" digest u:secret',
    "'addauth' digest u:secret",
    "addauth\tdigest u:secret",
])
def test_an_addauth_line_never_reaches_the_file_however_it_is_quoted(tmp_path, line):
    assert is_private(line)
    path = tmp_path / "history"
    history = ShellHistory(str(path), size=10)
    history.record("ls /")
    history.record(line)
    assert "secret" not in path.read_text("utf-8")
    assert history.get_strings()[-1] == line  # Up still finds it in this run


def test_quotes_around_another_word_keep_the_line(tmp_path):
    assert not is_private('"ls" /')
    assert not is_private('get "/addauth"')


def test_a_redo_of_a_quoted_addauth_stays_out_of_the_file(tmp_path, chroot_address):
    path = tmp_path / "history"
    history = ShellHistory(str(path), size=10)
    with piped_prompt(chroot_address, history) as (shell, printer, pipe, prompt):
        for keys in ('"addauth" digest u:secret\r', "ls /\r", "redo 0\r"):
            pipe.send_text(keys)
            assert one_iteration(prompt, shell, printer, history, None)
    text = path.read_text("utf-8")
    assert "+ls /\n" in text and "secret" not in text


def test_an_existing_history_file_readable_by_others_becomes_owner_only(tmp_path):
    path = tmp_path / "history"
    path.write_text("\n# 2026-01-01\n+ls /\n", "utf-8")
    os.chmod(path, 0o644)
    history = ShellHistory(str(path), size=10)
    history.record("get /a")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_trimmed_history_file_stays_owner_only(tmp_path):
    path = tmp_path / "history"
    path.write_text("".join(f"\n# d\n+ls /{n}\n" for n in range(5)), "utf-8")
    os.chmod(path, 0o600)
    ShellHistory(str(path), size=2)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text("utf-8").count("+ls") == 2
