"""Bytes that are not UTF-8 are stored as zkCli stores them (issue 14, defect 4).

The lengths were read from real zkCli.sh (ZooKeeper 3.8, OpenJDK 17): `create /uN <bytes>` on
its standard input and in its arguments, then `stat`'s dataLength."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from zkshell.java_utf8 import decode

# (bytes, zkCli's dataLength): each U+FFFD is stored as the 3 bytes EF BF BD.
ZKCLI_LENGTHS = [
    (b"a\xed\xa0\x80b", 5),                  # an encoded surrogate: one sequence (Python: 3)
    (b"a\xed\xa0\x80\xed\xb0\x80b", 8),      # a surrogate pair: two (Python: 6)
    (b"a\xed\xa0Ab", 6),                     # cut short by a letter: one (Python: 2)
    (b"a\xed\xa0", 4),                       # cut short by the end of the line
    (b"a\xe0\x80\x80b", 11),                 # overlong: three, as in Python
    (b"a\xf4\x90\x80\x80b", 14),             # above U+10FFFF: four
    (b"a\xf0\x90\x80b", 5),
    (b"a\xe2\x82b", 5),
    (b"a\xf0\x90\x80", 4),
]


@pytest.mark.parametrize(("data", "length"), ZKCLI_LENGTHS)
def test_decoding_replaces_what_javas_decoder_replaces(data, length):
    assert len(decode(data).encode("utf-8")) == length


def test_valid_utf8_is_left_alone():
    text = "zk \u00e9\u4e2d\U0001f600 \ufffd"
    assert decode(text.encode("utf-8")) == text


def _zksh(args: list[str | bytes], stdin: bytes = b"", **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zkshell", *args], input=stdin,
                          capture_output=True, timeout=60, **kwargs)


def _lengths(address: str, paths: list[str]) -> list[str]:
    script = "".join(f"stat {path}\n" for path in paths).encode()
    out = _zksh(["-server", address], script).stdout.decode()
    return [line for line in out.splitlines() if line.startswith("dataLength")]


def test_script_lines_and_arguments_store_what_zkcli_stores(chroot_address):
    base = f"/u{uuid.uuid4().hex[:8]}"
    _zksh(["-server", chroot_address, "create", base])
    script = b"".join(b"create %s/s%d %s\n" % (base.encode(), n, data)
                      for n, (data, _length) in enumerate(ZKCLI_LENGTHS[:3]))
    _zksh(["-server", chroot_address], script)
    _zksh(["-server", chroot_address, "create", f"{base}/argv", b"a\xed\xa0\x80b"])
    paths = [f"{base}/s{n}" for n in range(3)] + [f"{base}/argv"]
    assert _lengths(chroot_address, paths) == [
        "dataLength = 5", "dataLength = 8", "dataLength = 6", "dataLength = 5"]


def test_a_closed_stdin_is_an_empty_script():
    run = subprocess.run([sys.executable, "-m", "zkshell", "-server", "nosuch.invalid:1"],
                         capture_output=True, timeout=30, preexec_fn=lambda: os.close(0))
    assert b"Traceback" not in run.stderr
    assert run.stdout.startswith(b"Connecting to nosuch.invalid:1\n")
