"""zksh's settings: defaults, then the config file, then the environment, then the options.

The config file is `$ZKSH_CONFIG`, else `$XDG_CONFIG_HOME/zksh/config.toml`, else
`~/.config/zksh/config.toml`.  It is flat TOML (`key = value`, `#` comments), read with
`tomllib` on Python 3.11 and later, and with the small parser below on older ones.  A missing
file at the usual place is not an error; a broken one is, with the file and the line, and so
is a `$ZKSH_CONFIG` that names no file.  Only the stdlib is used
here: every mode reads the settings, and one-shot mode must start fast.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

DEFAULT_SERVER = "localhost:2181"
DEFAULT_TIMEOUT_MS = 30000
DEFAULT_HISTORY_SIZE = 1000


class ConfigError(Exception):
    """A setting that cannot be used; the message names where it came from."""


@dataclass
class Settings:
    server: str = DEFAULT_SERVER          # -server; $ZKSH_SERVER
    timeout: int = DEFAULT_TIMEOUT_MS     # -timeout, in ms; $ZKSH_TIMEOUT
    color: bool = True                    # colour on a terminal; $NO_COLOR, --no-color
    history_file: str = ""                # "" = no history kept; $ZKSH_HISTORY
    history_size: int = DEFAULT_HISTORY_SIZE  # entries kept in the history file
    toolbar: bool = True                  # the bottom toolbar of the interactive shell
    config_file: str | None = None        # where the file settings came from, if anywhere


_FILE_KEYS = {f.name: f.type for f in fields(Settings) if f.name != "config_file"}


def config_path(environ: dict[str, str]) -> str | None:
    if environ.get("ZKSH_CONFIG"):
        return environ["ZKSH_CONFIG"]
    base = environ.get("XDG_CONFIG_HOME") or _under_home(environ, ".config")
    return os.path.join(base, "zksh", "config.toml") if base else None


def default_history_file(environ: dict[str, str]) -> str:
    base = environ.get("XDG_DATA_HOME") or _under_home(environ, os.path.join(".local", "share"))
    return os.path.join(base, "zksh", "history") if base else ""


def _under_home(environ: dict[str, str], relative: str) -> str | None:
    home = environ.get("HOME")
    return os.path.join(home, relative) if home else None


def load_settings(environ: dict[str, str]) -> Settings:
    """Defaults, overridden by the config file, overridden by the environment."""
    settings = Settings(history_file=default_history_file(environ))
    path = config_path(environ)
    # The usual place may have no file; a file named in $ZKSH_CONFIG must be there.
    if path and (os.path.exists(path) or environ.get("ZKSH_CONFIG")):
        if not os.path.isfile(path):
            what = "is a directory" if os.path.isdir(path) else "does not exist"
            raise ConfigError(f"{path} ($ZKSH_CONFIG): {what}" if environ.get("ZKSH_CONFIG")
                              else f"{path}: {what}, not a settings file")
        _apply(settings, read_config_file(path), path)
        settings.config_file = path
    _apply_environment(settings, environ)
    return settings


def read_config_file(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        return parse_flat_toml(data.decode("utf-8"), path)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


# The protocol carries the session timeout as a 32-bit int.
MAX_TIMEOUT_MS = 2**31 - 1


def _apply(settings: Settings, values: dict[str, object], source: str) -> None:
    for key, value in values.items():
        kind = _FILE_KEYS.get(key)
        if kind is None:
            known = ", ".join(sorted(_FILE_KEYS))
            raise ConfigError(f"{source}: unknown setting '{key}' (known: {known})")
        expected = {"str": str, "int": int, "bool": bool}[kind]
        # bool is an int in Python; a timeout of `true` is still wrong.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{source}: {key} must be {_TYPE_WORDS[kind]}, not {value!r}")
        if expected is int and value <= 0:
            raise ConfigError(f"{source}: {key} must be positive, not {value}")
        if key == "timeout" and value > MAX_TIMEOUT_MS:
            raise ConfigError(f"{source}: timeout must be at most {MAX_TIMEOUT_MS} ms")
        setattr(settings, key, value)


_TYPE_WORDS = {"str": "a string", "int": "an integer", "bool": "true or false"}


def _apply_environment(settings: Settings, environ: dict[str, str]) -> None:
    if environ.get("ZKSH_SERVER"):
        settings.server = environ["ZKSH_SERVER"]
    if environ.get("ZKSH_TIMEOUT"):
        text = environ["ZKSH_TIMEOUT"]
        if not text.isdigit() or not 0 < int(text) <= MAX_TIMEOUT_MS:
            raise ConfigError(f"ZKSH_TIMEOUT must be a number of milliseconds: {text}")
        settings.timeout = int(text)
    if "ZKSH_HISTORY" in environ:  # set but empty: keep no history
        settings.history_file = environ["ZKSH_HISTORY"]
    if environ.get("NO_COLOR"):  # https://no-color.org: any non-empty value
        settings.color = False
    settings.history_file = _expand_home(settings.history_file, environ)


def _expand_home(path: str, environ: dict[str, str]) -> str:
    if (path == "~" or path.startswith("~/")) and environ.get("HOME"):
        return environ["HOME"] + path[1:]
    return os.path.expanduser(path) if path else path


# ---- flat TOML, for Pythons without tomllib -------------------------------------------------
_LINE = r"^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$"  # compiled when used: startup time
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def parse_flat_toml(text: str, source: str = "config") -> dict[str, object]:
    """`key = value` lines: strings ("..." or '...'), integers, true/false, # comments."""
    values: dict[str, object] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(_LINE, line)
        if match is None:
            raise ConfigError(f"{source}: line {number}: expected key = value")
        key, raw = match.groups()
        if key in values:
            raise ConfigError(f"{source}: line {number}: '{key}' is set twice")
        try:
            values[key] = _flat_value(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: line {number}: {exc}") from None
    return values


def _flat_value(raw: str) -> object:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = _string_end(raw, quote)
        rest = raw[end + 1:].strip()
        if rest and not rest.startswith("#"):
            raise ValueError(f"unexpected text after the string: {rest}")
        body = raw[1:end]
        return _unescape(body) if quote == '"' else body
    value = raw.split("#", 1)[0].strip()
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"[+-]?[0-9](_?[0-9])*", value):
        return int(value.replace("_", ""))
    raise ValueError(f"not a string, an integer or a boolean: {value or raw}")


def _string_end(raw: str, quote: str) -> int:
    i = 1
    while i < len(raw):
        if raw[i] == "\\" and quote == '"':
            i += 2
            continue
        if raw[i] == quote:
            return i
        i += 1
    raise ValueError("unterminated string")


def _unescape(body: str) -> str:
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise ValueError(f"unknown escape \\{code}")

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", replace, body)
