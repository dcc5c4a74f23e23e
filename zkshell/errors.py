"""Every user-facing error text, in zkCli's words, and the exit status that goes with each.

Commands raise these; front ends print `str(error)` on stderr.  ZooKeeper errors arrive as
kazoo exceptions and are translated here, once, by their server error code.
"""

from __future__ import annotations

from zkshell.exit_status import ExitStatus


class CliError(Exception):
    """A command failed; the message is exactly what zkCli prints on stderr."""

    exit_code = ExitStatus.ERROR


class UsageError(CliError):
    """Wrong arguments: the message is the command's usage line."""


class ZooKeeperError(CliError):
    """The server (or the connection) refused a request: `code` is ZooKeeper's error code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class CommandNotFound(CliError):
    exit_code = ExitStatus.COMMAND_NOT_FOUND

    def __init__(self, word: str) -> None:
        super().__init__(f"Command not found: Command not found {word}")


class RequestFailed(Exception):
    """The server (or the connection) answered a request with a ZooKeeper error code.

    `path`, when a command sets it, is the failed request's own path: zkCli's message names
    that one (KeeperException.getPath), which is not always the path the user typed."""

    def __init__(self, code: int, path: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.path = path


class NotConnected(Exception):
    """The session is closed (or failed auth): zkCli prints `Not connected` on stdout."""

    text = "Not connected"


# KeeperException.getCodeMessage, by server error code.
CODE_NAMES = {
    -1: "SystemError", -2: "RuntimeInconsistency", -3: "DataInconsistency",
    -4: "ConnectionLoss", -5: "MarshallingError", -6: "Unimplemented",
    -7: "OperationTimeout", -8: "BadArguments", -13: "NewConfigNoQuorum",
    -14: "ReconfigInProgress", -100: "APIError", -101: "NoNode", -102: "NoAuth",
    -103: "BadVersion", -108: "NoChildrenForEphemerals", -110: "NodeExists",
    -111: "Directory not empty", -112: "Session expired", -113: "Invalid callback",
    -114: "InvalidACL", -115: "AuthFailed", -118: "Session moved",
    -119: "Not a read-only call", -120: "Ephemeral node on local session",
    -121: "No such watcher", -123: "Reconfig is disabled",
    -124: "Session closed because client failed to authenticate",
    -125: "Quota has exceeded", -127: "Op throttled due to high load",
}

# zkCli's CliWrapperException rewrites these codes into friendlier sentences.
_FRIENDLY = {
    -101: "Node does not exist: {path}",
    -108: "Ephemerals cannot have children: {path}",
    -110: "Node already exists: {path}",
    -111: "Node not empty: {path}",
    -119: "Not a read-only call: {path}",
    -114: "Acl is not valid : {path}",
    -102: "Insufficient permission : {path}",
    -8: "Arguments are not valid : {path}",
    -103: "version No is not valid : {path}",
    -14: "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)",
    -13: ("No quorum of new config is connected and up-to-date with the leader of last "
          "commmitted config - try invoking reconfiguration after new servers are connected "
          "and synced"),
    -125: "Quota has exceeded : {path}",
}

CONNECTION_LOSS = -4
UNIMPLEMENTED = -6
SESSION_EXPIRED = -112
AUTH_FAILED = -115
NO_NODE = -101
NO_AUTH = -102
NODE_EXISTS = -110
INVALID_ACL = -114
NO_WATCHER = -121


def error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def keeper_message(code: int, path: str | None) -> str:
    """Java's KeeperException.getMessage(): `KeeperErrorCode = <name> for <path>`."""
    name = CODE_NAMES.get(code, f"Unknown error {code}")
    if not path:
        return f"KeeperErrorCode = {name}"
    return f"KeeperErrorCode = {name} for {path}"


def zookeeper_error(code: int, path: str | None) -> ZooKeeperError:
    """The error zkCli reports for a ZooKeeper error code on `path`."""
    friendly = _FRIENDLY.get(code)
    if friendly is not None:
        return ZooKeeperError(friendly.format(path=path), code)
    return ZooKeeperError(keeper_message(code, path), code)
