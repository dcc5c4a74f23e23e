"""Bounded fuzzing, kept in `make test` so that what issue 14's 17,200 fuzzed lines found stays
fixed: generated command lines through the shell (in process, against the embedded server)
and through script mode, generated command lines through one-shot mode, generated YAML through
the scenario loader.  Never a traceback, never a hang, only the documented exit statuses.

Derandomized (the same examples every run: a fuzz test must not flake) and small: a few
seconds.  The subprocess runs use a seeded generator, a handful of runs each.
"""

from __future__ import annotations

import random
import string
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkshell.commands import COMMANDS
from zkshell.exit_status import ExitStatus
from zkshell.player.loader import ScenarioError, scenario_from_text
from zkshell.session import Session
from zkshell.shell import Shell
from zkshell.tokenizer import split_line

from .conftest import EmbeddedBackend

STATUSES = {int(status) for status in ExitStatus}
# Commands that end or move the session (or, addauth with an unknown scheme, have the server
# end it): fuzzed through the subprocess runs, not the shared in-process session.
SESSION_ENDING = {"connect", "close", "quit", "addauth"}
COMMAND_NAMES = sorted(set(COMMANDS) - SESSION_ENDING)
FLAGS = ["-s", "-w", "-e", "-c", "-t", "-v", "-R", "-b", "-n", "-N", "-B", "-p", "-C", "-d",
         "-a", "-r", "-m", "-x", "--", "-"]
PATHS = ["/", "/a", "/a/b", "a", "//", "/a/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config",
         "/\u00e9", "/a\x00b", "/.", "/..", "/a/./b", "/" + "x" * 300]
VALUES = ["-1", "0", "1", "99999999999", "0x10", "#7", "010", "abc", "world:anyone:cdrwa",
          "digest:u:p:cdrwa", "ip:1.2.3.4:r", "auth::r", "x509:CN=a:r", "world:anyone:zz",
          "PERSISTENT", "PERSISTENT_RECURSIVE", "\ufffd", "u:p"]

# ---- the scenario loader ------------------------------------------------------------------
KEYS = ["title", "description", "sessions", "steps", "servers", "timeout", "server", "run",
        "session", "expect", "wait", "watch", "quiet", "expire", "partition", "heal", "say",
        "kill", "restart", "name", "delay", "cast", "what", "error", "stdout"]
leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=True),
                 st.sampled_from(["ls /", "create /a x", "2s", "-1s", "1e400", "", "a", "*",
                                  "~", "{", "[", "&a", "*a", "!!binary x"]),
                 st.text(max_size=12))
document = st.recursive(
    leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), leaf), inner,
                                            max_size=5)),
    max_leaves=20)
yaml_text = st.one_of(
    st.builds(lambda value: yaml.safe_dump(value, allow_unicode=True), document),
    st.builds(lambda value, cut: yaml.safe_dump(value)[:cut], document, st.integers(0, 200)),
    st.text(alphabet=st.sampled_from(list(":-[]{}#&*!|>'\"%@` \t\nab12")), max_size=60),
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=yaml_text)
def test_generated_yaml_through_the_loader(text):
    try:
        scenario_from_text("fuzz.yaml", text)
    except ScenarioError as exc:
        assert exc.args or str(exc) is not None


word = st.one_of(st.sampled_from(FLAGS), st.sampled_from(PATHS), st.sampled_from(VALUES),
                 st.text(max_size=8))
quoted = st.builds(lambda quote, text: quote + text + quote,
                   st.sampled_from(["'", '"', ""]), word)
command_line = st.one_of(
    st.builds(lambda name, words, sep: sep.join([name, *words]),
              st.sampled_from(COMMAND_NAMES), st.lists(quoted, max_size=5),
              st.sampled_from([" ", "  ", "\t"])),
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def embedded_address():
    with EmbeddedBackend(tick_time_ms=200) as server:
        yield server.address


@pytest.fixture(scope="module")
def shell(embedded_address):
    shell = Shell(Session(embedded_address + "/fuzz", 4000), lambda event: None)
    setup = Shell(Session(embedded_address, 4000), lambda event: None)
    setup.session.connect()
    assert setup.session.wait_connected(10)
    setup.execute("create /fuzz")
    setup.session.close()
    yield shell
    shell.session.close()


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(command_line, min_size=1, max_size=4))
def test_generated_lines_through_the_shell(shell, lines):
    if not shell.session.alive:
        shell.session.connect()
        assert shell.session.wait_connected(10)
    for line in lines:
        words = split_line(line)
        if words and words[0] in SESSION_ENDING:
            continue
        output = shell.execute(line)
        assert output.exit_code in STATUSES, (line, output.text())


# ---- script and one-shot modes, as processes ------------------------------------------------
def _random_line(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(12))).replace(b"\n", b"")
    if kind < 0.3:
        return "".join(rng.choice(string.printable[:-2]) for _ in range(rng.randrange(20))
                       ).encode()
    name = rng.choice(sorted(set(COMMANDS) - {"quit", "close", "connect"}))
    words = [rng.choice(FLAGS + PATHS + VALUES) for _ in range(rng.randrange(5))]
    if name == "addauth" and rng.random() < 0.5:
        words = ["digest", "u:p"]
    return " ".join([name, *words]).encode("utf-8", "surrogatepass")


def _run(args: list[str | bytes], stdin: bytes = b"", timeout: float = 30
         ) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "zkshell", *args], input=stdin,
                         capture_output=True, timeout=timeout)
    assert b"Traceback" not in run.stderr, run.stderr.decode("utf-8", "replace")
    assert run.returncode in STATUSES, (args, run.returncode)
    return run


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_scripts_through_script_mode(embedded_address, seed):
    rng = random.Random(seed)
    script = b"\n".join(_random_line(rng) for _ in range(150)) + b"\n"
    _run(["-server", embedded_address + "/fuzz", "-timeout", "4000"], script)


SERVERS = ["{address}", "{address}/fuzz", "nosuch.invalid:1", "a..b:2181", "\udcff:1",
           "a" * 64 + ".com:2181", "127.0.0.1:0", "127.0.0.1:99999", "", ",", "h:p",
           "{address}/bad//chroot", "{address},a..b:1"]


def _random_argv(rng: random.Random, server: str, address: str) -> list[str]:
    options = [["-timeout", rng.choice(VALUES)], ["-r"], ["-waitforconnection"],
               ["--no-color"], ["-timeout"], ["-server"],
               ["-client-configuration", rng.choice(["/nonexistent", "/dev/null"])]]
    argv = ["-timeout", "3000"]
    for _ in range(rng.randrange(3)):
        argv += rng.choice(options)
    argv += ["-server", server.format(address=address)]
    if rng.random() < 0.8:
        argv.append(rng.choice(sorted(COMMANDS) + ["nosuch", "-x"]))
        argv += [rng.choice(FLAGS + PATHS + VALUES) for _ in range(rng.randrange(4))]
    return [arg for arg in argv if "\x00" not in arg]  # no argv can carry a NUL


@pytest.mark.parametrize("server", range(len(SERVERS)))
def test_generated_arguments_through_one_shot_mode(embedded_address, server):
    """Each kind of -server once (a bad host name once hung 35 s with a traceback), with
    generated options before it and a generated command after it."""
    rng = random.Random(server)
    argv = _random_argv(rng, SERVERS[server], embedded_address)
    _run(argv, b"ls /\n")  # read only when no command is given: script mode
