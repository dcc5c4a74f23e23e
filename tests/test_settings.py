"""Settings (config file, environment, options) and what the non-interactive modes must keep:
no colour, no prompt_toolkit or rich imported, zkCli's bytes."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from zkshell.cli import USAGE, CommandLineError, main, parse_command_line
from zkshell.config import (
    ConfigError,
    Settings,
    config_path,
    default_history_file,
    load_settings,
    parse_flat_toml,
)

from .conftest import run_zksh

SAMPLE = """\
# zksh settings
server = "zk1:2181,zk2:2181/app"   # the ensemble
timeout = 10_000
color = false
toolbar = true
history_file = '~/zk-history'
history_size = 50
"""


@pytest.fixture
def home(tmp_path):
    """An environment with its own config and data directories, and nothing else set."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


def write_config(environ: dict[str, str], text: str) -> str:
    path = config_path(environ)
    assert path is not None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_defaults_without_a_config_file(home):
    settings = load_settings(home)
    assert settings == Settings(history_file=f"{home['XDG_DATA_HOME']}/zksh/history")
    assert settings.server == "localhost:2181" and settings.timeout == 30000
    assert settings.color and settings.toolbar and settings.history_size == 1000


def test_where_files_go_without_xdg_variables():
    assert config_path({"HOME": "/h"}) == "/h/.config/zksh/config.toml"
    assert default_history_file({"HOME": "/h"}) == "/h/.local/share/zksh/history"
    assert config_path({}) is None and default_history_file({}) == ""
    assert config_path({"ZKSH_CONFIG": "/etc/zksh.toml", "HOME": "/h"}) == "/etc/zksh.toml"


def test_the_config_file_then_the_environment_then_the_options(home):
    path = write_config(home, SAMPLE)
    settings = load_settings(home)
    assert (settings.server, settings.timeout, settings.color, settings.history_size) == (
        "zk1:2181,zk2:2181/app", 10000, False, 50)
    assert settings.history_file == f"{home['HOME']}/zk-history"  # ~ expanded
    assert settings.config_file == path
    environ = dict(home, ZKSH_SERVER="env:2181", ZKSH_TIMEOUT="5000", ZKSH_HISTORY="")
    settings = load_settings(environ)
    assert (settings.server, settings.timeout, settings.history_file) == ("env:2181", 5000, "")
    inv = parse_command_line(["-server", "opt:2181", "-timeout", "7000", "ls", "/"], environ)
    assert (inv.server, inv.timeout_ms, inv.command) == ("opt:2181", 7000, ["ls", "/"])


def test_no_color_from_the_environment_or_the_option(home):
    assert load_settings(dict(home, NO_COLOR="1")).color is False
    assert load_settings(dict(home, NO_COLOR="")).color is True  # empty: not set
    assert parse_command_line(["--no-color"], home).settings.color is False
    assert parse_command_line([], home).settings.color is True


@pytest.mark.parametrize("text, message", [
    ("colour = false\n", "unknown setting 'colour'"),
    ("timeout = \"30s\"\n", "timeout must be an integer, not '30s'"),
    ("timeout = true\n", "timeout must be an integer, not True"),
    ("timeout = 0\n", "timeout must be positive"),
    ("color = 1\n", "color must be true or false, not 1"),
    ("server = [1\n", "config.toml"),
])
def test_a_broken_config_file_is_an_error_naming_the_file(home, text, message):
    write_config(home, text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(home)
    with pytest.raises(CommandLineError, match=r"^zksh: .*config\.toml"):
        parse_command_line([], home)


def test_a_zksh_config_that_names_no_file_is_an_error(home, tmp_path):
    with pytest.raises(ConfigError, match=r"nothing\.toml \(\$ZKSH_CONFIG\): does not exist"):
        load_settings(dict(home, ZKSH_CONFIG=str(tmp_path / "nothing.toml")))
    with pytest.raises(ConfigError, match=r"\(\$ZKSH_CONFIG\): is a directory"):
        load_settings(dict(home, ZKSH_CONFIG=str(tmp_path)))
    os.makedirs(config_path(home))  # the usual place, a directory: said, not ignored
    with pytest.raises(ConfigError, match="is a directory, not a settings file"):
        load_settings(home)
    result = run_zksh("-server", "127.0.0.1:1", "ls", "/",
                      env=dict(home, ZKSH_CONFIG=str(tmp_path / "nothing.toml")))
    assert result.returncode == 2 and result.stderr.startswith("zksh: ")


def test_a_bad_timeout_in_the_environment_is_an_error(home):
    with pytest.raises(ConfigError, match="ZKSH_TIMEOUT must be a number of milliseconds: 3s"):
        load_settings(dict(home, ZKSH_TIMEOUT="3s"))


def test_the_small_parser_reads_what_tomllib_reads():
    tomllib = pytest.importorskip("tomllib")
    assert parse_flat_toml(SAMPLE) == tomllib.loads(SAMPLE)
    text = 'a = "tab\\there \\u00e9 # not a comment"\nb = -3\nc = \'C:\\\\raw\'\n'
    assert parse_flat_toml(text) == tomllib.loads(text)


@pytest.mark.parametrize("text, message", [
    ("just words\n", "line 1: expected key = value"),
    ('a = "open\n', "line 1: unterminated string"),
    ("a = 1\na = 2\n", "line 2: 'a' is set twice"),
    ("a = 1.5\n", "line 1: not a string, an integer or a boolean"),
    ('a = "x" y\n', "line 1: unexpected text after the string"),
])
def test_the_small_parser_says_which_line_is_wrong(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_flat_toml(text, "config.toml")


def test_help_lists_the_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out == USAGE
    for option in ("-server", "-timeout", "-r", "-waitforconnection", "--no-color",
                   "--version", "config.toml", "ZKSH_SERVER", "ZKSH_TIMEOUT", "ZKSH_HISTORY",
                   "NO_COLOR"):
        assert option in out, option


# ---- the non-interactive modes do not change ------------------------------------------------
def imported_modules(*args: str, input: str | None, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "zkshell", *args],
                            input=input, capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result.stderr


@pytest.mark.parametrize("mode", ["one-shot", "script"])
def test_one_shot_and_script_modes_import_neither_prompt_toolkit_nor_rich(
        mode, chroot_address, home):
    env = dict(os.environ, **home)
    if mode == "one-shot":
        log = imported_modules("-server", chroot_address, "ls", "/", input=None, env=env)
    else:
        log = imported_modules("-server", chroot_address, input="ls /\n", env=env)
    modules = {line.split("|")[-1].strip() for line in log.splitlines()
               if line.startswith("import time:")}
    assert "zkshell.cli" in modules and "kazoo.client" in modules
    for heavy in ("prompt_toolkit", "rich", "zkshell.repl", "zkshell.colour", "tomllib"):
        assert heavy not in modules, heavy


def test_piped_output_has_no_escape_codes_even_with_a_config_asking_for_colour(
        chroot_address, home):
    write_config(home, "color = true\n")
    script = "create /x data\nget /nope\nstat /x\nget -w /x\nset /x other\nls /\n"
    run = run_zksh("-server", chroot_address, input=script, env=home)
    assert "\x1b" not in run.stdout and "\x1b" not in run.stderr
    assert "Node does not exist: /nope" in run.stderr
    assert "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x" in run.stdout
    assert "numChildren = 0" in run.stdout
