"""What `zksh play` says when it cannot use a -server, said once (issue 14, defect 6)."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_zksh

SCENARIO = str(Path(__file__).resolve().parent.parent / "scenarios" / "barrier.yaml")


def test_the_refusal_of_a_server_list_says_zksh_play_once():
    run = run_zksh("play", "-server", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", SCENARIO,
                   timeout=30)
    assert "zksh play: zksh play" not in run.stderr
    assert "Traceback" not in run.stderr


def test_a_bad_server_address_is_said_with_the_prefix():
    run = run_zksh("play", "-server", "127.0.0.1:99999", SCENARIO, timeout=30)
    assert run.returncode == 2
    assert run.stderr.startswith("zksh play: Invalid server address")
