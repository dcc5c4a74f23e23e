"""kazoo_private: the installed kazoo still has every private part zksh relies on, and no
other module of zksh reaches into kazoo."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import kazoo.version
from kazoo.client import KazooClient

from zkshell import kazoo_private

ZKSHELL = Path(kazoo_private.__file__).parent
# `client._x` or `connection._x`: how zksh's code names kazoo's objects.
_PRIVATE_TOUCH = re.compile(r"\b(client|connection)\._([a-z]\w*)")


def _missing(owner: object, wanted: dict[str, tuple[str, ...] | None]) -> list[str]:
    missing = []
    for name, parameters in wanted.items():
        if not hasattr(owner, name):
            missing.append(f"{type(owner).__name__}.{name}")
        elif parameters is not None:
            found = tuple(inspect.signature(getattr(owner, name)).parameters)
            if found != parameters:
                missing.append(f"{type(owner).__name__}.{name}{parameters} (it takes {found})")
    return missing


def test_the_installed_kazoo_has_every_private_part_zksh_relies_on() -> None:
    client = KazooClient(hosts="127.0.0.1:1")  # never started: nothing connects
    try:
        owners = {"KazooClient": client, "ConnectionHandler": client._connection,
                  "SequentialThreadingHandler": client.handler}
        missing = [part for owner, wanted in kazoo_private.RELIED_ON.items()
                   for part in _missing(owners[owner], wanted)]
    finally:
        client.close()
    assert not missing, (
        f"kazoo {kazoo.version.__version__} lacks what zkshell/kazoo_private.py relies on: "
        f"{', '.join(missing)}; adapt kazoo_private.py to it, or pin kazoo to the versions "
        "its docstring names")


def test_relied_on_names_every_private_part_kazoo_private_touches() -> None:
    source = (ZKSHELL / "kazoo_private.py").read_text(encoding="utf-8")
    declared = {name for wanted in kazoo_private.RELIED_ON.values() for name in wanted}
    touched = {"_" + match.group(2) for match in _PRIVATE_TOUCH.finditer(source)}
    # zksh's own marks, kept on kazoo's connection
    touched = {name for name in touched if not name.startswith("_zksh_")}
    assert touched - declared == set(), "add these to kazoo_private.RELIED_ON"


def test_no_other_module_touches_kazoo_private_parts() -> None:
    touches = []
    for path in sorted(ZKSHELL.rglob("*.py")):
        if path.name == "kazoo_private.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _PRIVATE_TOUCH.search(line):
                touches.append(f"{path.relative_to(ZKSHELL.parent)}:{number}: {line.strip()}")
    assert not touches, ("kazoo's private parts are used through zkshell/kazoo_private.py "
                         "only:\n" + "\n".join(touches))
