"""Against `-server`, what an earlier run left is named before playing; `--reset` deletes it."""

from __future__ import annotations

from zkshell.player.leftovers import top_znodes
from zkshell.player.loader import load_scenario

from .conftest import run_zksh

# bootstrap.yaml without its `ls /` checks, which see the test's chroot.
BOOTSTRAP = """\
title: Bootstrap
session_timeout: 1s
sessions: [admin]
steps:
  - admin: create /workers ""
    expect: Created /workers
  - admin: create /tasks ""
    expect: Created /tasks
  - admin: create /assign ""
    expect: Created /assign
"""

CREATES = """\
sessions: [m1]
steps:
  - m1: create -t 10 -s /a/b "x y"
  - m1: create -e '/b' ""
  - m1: create /a/c
  - m1: create -x /bad
  - m1: create
  - m1: create /zookeeper/quota-like
  - m1: get /c
  - note: create /d
"""


def test_the_top_znodes_are_those_the_creates_make_read_as_zkcli_reads_them(tmp_path):
    path = tmp_path / "creates.yaml"
    path.write_text(CREATES, encoding="utf-8")
    assert top_znodes(load_scenario(str(path))) == ["/a", "/b"]


def test_a_second_run_names_the_leftovers_before_playing_and_reset_deletes_them(
        tmp_path, chroot_address, chroot_admin):
    bootstrap = tmp_path / "bootstrap.yaml"
    bootstrap.write_text(BOOTSTRAP, encoding="utf-8")
    first = run_zksh("play", "--check", "-server", chroot_address, str(bootstrap))
    assert first.returncode == 0, first.stdout + first.stderr
    chroot_admin.create("/workers/w1", b"left over")

    second = run_zksh("play", "--check", "-server", chroot_address, str(bootstrap))
    assert second.returncode == 2
    assert second.stdout == ""  # nothing played
    assert (f"/workers, /tasks, /assign already exist at {chroot_address}"
            in second.stderr)
    assert f"zksh play --reset -server {chroot_address}" in second.stderr
    assert chroot_admin.exists("/workers/w1")  # nothing deleted without --reset

    third = run_zksh("play", "--check", "--reset", "-server", chroot_address, str(bootstrap))
    assert third.returncode == 0, third.stdout + third.stderr
    assert "--reset: deleted /workers, /tasks, /assign" in third.stderr
    assert chroot_admin.exists("/workers/w1") is None
    assert "Traceback" not in second.stderr + third.stderr


def test_without_leftovers_reset_deletes_nothing_and_says_nothing(tmp_path, chroot_address,
                                                                 chroot_admin):
    bootstrap = tmp_path / "bootstrap.yaml"
    bootstrap.write_text(BOOTSTRAP, encoding="utf-8")
    chroot_admin.create("/unrelated")
    result = run_zksh("play", "--check", "--reset", "-server", chroot_address,
                      str(bootstrap))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--reset" not in result.stderr
    assert chroot_admin.exists("/unrelated")
