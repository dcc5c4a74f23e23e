"""What an earlier run left on a server that is not fresh (`-server`): the scenario's own
top-level znodes, found before playing, and deleted with `--reset`.

A scenario's second run against the same server fails at its first create (`Node already
exists: /workers`) part-way through the demo; naming the leftovers before anything runs,
and offering `--reset`, says it up front.
"""

from __future__ import annotations

import logging

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from zkshell.commands import COMMANDS
from zkshell.kazoo_private import new_client
from zkshell.options import OptionError, parse_options
from zkshell.player.scenario import Scenario
from zkshell.tokenizer import split_line

_quiet = logging.getLogger("zkshell.player.leftovers")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


class ServerTrouble(Exception):
    """The server could not be asked or changed; the message says why."""


def top_znodes(scenario: Scenario) -> list[str]:
    """`/workers` for `create /workers/w1 ...`: the first component of every path the
    scenario's steps create, in order, read with zkCli's tokenizer and create's own flags
    (so `create -t 10 -s /a/b` is /a).  Paths are the sessions' own, under any chroot."""
    spec = COMMANDS["create"].options
    found: list[str] = []
    for step in scenario.steps:
        if step.kind != "type":
            continue
        words = split_line(step.text)
        if not words or words[0] != "create":
            continue
        try:
            args = parse_options(spec, words).args
        except OptionError:
            continue  # the step fails as zkCli would; it creates nothing
        if len(args) < 2 or not args[1].startswith("/"):
            continue
        top = "/" + args[1].split("/")[1]
        if top not in ("/", "/zookeeper") and top not in found:
            found.append(top)
    return found


def _client(address: str, timeout: float, client_options: dict | None) -> KazooClient:
    client = new_client(client_options, hosts=address, timeout=timeout, logger=_quiet)
    try:
        client.start(timeout=timeout)
    except (KazooTimeoutError, KazooException) as exc:
        client.close()
        raise ServerTrouble(f"cannot open a session at {address}: {exc}") from None
    return client


def _stop(client: KazooClient) -> None:
    client.stop()
    client.close()


def existing(address: str, paths: list[str], timeout: float,
             client_options: dict | None = None) -> list[str]:
    """Which of `paths` exist at `address` (a chroot in it applies), asked as the sessions
    connect (`client_options`: -client-configuration's)."""
    if not paths:
        return []
    client = _client(address, timeout, client_options)
    try:
        return [path for path in paths if client.exists(path) is not None]
    except KazooException as exc:
        raise ServerTrouble(f"cannot ask {address} which znodes exist: {exc}") from None
    finally:
        _stop(client)


def delete(address: str, paths: list[str], timeout: float,
           client_options: dict | None = None) -> None:
    """Delete `paths` and everything under them at `address`."""
    client = _client(address, timeout, client_options)
    try:
        for path in paths:
            try:
                client.delete(path, recursive=True)
            except NoNodeError:
                pass  # gone meanwhile (an ephemeral whose session expired)
    except KazooException as exc:
        raise ServerTrouble(f"cannot delete {', '.join(paths)} at {address}: "
                            f"{type(exc).__name__} {exc}") from None
    finally:
        _stop(client)
