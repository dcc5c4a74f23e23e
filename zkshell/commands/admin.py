"""Session and server commands: addauth, whoami, close, config, reconfig, version."""

from __future__ import annotations

from kazoo.protocol.serialization import GetData, Reconfig

from zkshell import __version__, zkprotocol
from zkshell import format as fmt
from zkshell.commands.base import Arg, Context, Kind, command
from zkshell.errors import CONNECTION_LOSS, CliError, zookeeper_error
from zkshell.options import Flag, OptionSpec
from zkshell.session import RequestFailed

CONFIG_NODE = "/zookeeper/config"


# `addauth scheme` alone is accepted, and sends no credentials: the server refuses them.
@command("addauth", "scheme auth",
         args=(Arg("scheme", Kind.TEXT), Arg("auth", Kind.TEXT, optional=True)))
def addauth(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    scheme = parsed.args[1]
    credential = parsed.args[2] if len(parsed.args) > 2 else ""
    # zkCli does not wait for the answer either; a refused auth arrives as an AuthFailed event.
    ctx.session.client.add_auth_async(scheme, credential)


@command("whoami", "")
def whoami(ctx: Context, words: list[str]) -> None:
    try:
        infos = ctx.session.call(None, lambda: zkprotocol.who_am_i_async(ctx.session.client))
    except RequestFailed as failed:
        if failed.code == CONNECTION_LOSS:
            # No server answered (a failed TLS handshake, say).  zkCli's whoAmI drops the
            # error and prints `Auth scheme: User`, exit 0, as if the server knew no one;
            # zksh says what every other command says (docs/zkcli-differences.md).
            raise zookeeper_error(failed.code, None) from None
        infos = []  # the Java client's whoAmI ignores the reply's error: an empty list
    ctx.out(fmt.who_am_i(infos or ()))


@command("close", "")
def close(ctx: Context, words: list[str]) -> None:
    ctx.session.close()


@command("version", "", refuse_extra=True)
def version(ctx: Context, words: list[str]) -> None:
    ctx.parse(words)
    ctx.out(f"ZooKeeper CLI version: zksh {__version__} (zkCli 3.8 commands and output)\n")


@command("config", "[-c] [-w] [-s]", OptionSpec((Flag("s"), Flag("w"), Flag("c"))))
def config(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    watch = parsed.has("w")
    # The config node lives outside any chroot.
    data, stat = ctx.call(GetData(CONFIG_NODE, ctx.session.watcher if watch else None),
                          CONFIG_NODE)
    if watch:
        ctx.session.watches.add("data", CONFIG_NODE)
    text = fmt.decode_data(data)
    ctx.out((client_config(text) if parsed.has("c") else text) + "\n")
    if parsed.has("s"):
        ctx.stat(stat)


def client_config(config_text: str) -> str:
    """ConfigUtils.getClientConfigStr: `<version> host:port,host:port` of the servers."""
    version, addresses = "", []
    for line in config_text.splitlines():
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "version":
            version = value
        elif key.startswith("server.") and ";" in value:
            client = value.split(";", 1)[1]
            host, _, port = client.rpartition(":")
            addresses.append(f"{host or '0.0.0.0'}:{port}")
    return f"{version} {','.join(addresses)}"


@command("reconfig", "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;"
         "port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* "
         "[-remove serverId[,...]*]", OptionSpec((
             Flag("s"), Flag("v", takes_value=True, value_name="version"),
             Flag("file", takes_value=True, value_name="path"),
             Flag("members", takes_value=True, value_name="serverID"),
             Flag("add", takes_value=True, value_name="serverId"),
             Flag("remove", takes_value=True, value_name="serverId"))))
def reconfig(ctx: Context, words: list[str]) -> None:
    parsed = ctx.parse(words)
    non_incremental = parsed.has("file") or parsed.has("members")
    incremental = parsed.has("add") or parsed.has("remove")
    if not non_incremental and not incremental:
        raise ctx.usage_error()
    version = -1
    if parsed.has("v"):
        try:
            version = int(parsed.value("v") or "", 16)
        except ValueError:
            raise CliError("-v must be followed by a long (configuration version)") from None
    if non_incremental and incremental:
        raise CliError("Can't use -file or -members together with -add or -remove (mixing "
                       "incremental and non-incremental modes is not allowed)")
    if parsed.has("file") and parsed.has("members"):
        raise CliError("Can't use -file and -members together (conflicting non-incremental "
                       "modes)")
    joining = (parsed.value("add") or "").lower() or None
    leaving = (parsed.value("remove") or "").lower() or None
    members = (parsed.value("members") or "").lower() or None
    if parsed.has("file"):
        members = _members_from_file(parsed.value("file") or "")
    data, stat = ctx.call(Reconfig(joining, leaving, members, version), None)
    ctx.out("Committed new configuration:\n" + fmt.decode_data(data) + "\n")
    if parsed.has("s"):
        ctx.stat(stat)


def _members_from_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as config_file:
            lines = [line.strip() for line in config_file]
    except OSError as exc:
        # zkCli glues the file name to Java's FileNotFoundException message, as here.
        raise CliError(f"Error processing {path}{path} ({exc.strerror})") from None
    return ",".join(line for line in lines if line.startswith("server."))
