"""ACLs: checking them (ZooKeeperServer.checkACL), fixing them up on create and setACL
(PrepRequestProcessor.fixupACL), and the two authentication schemes a client can add:
digest (DigestAuthenticationProvider) and ip (IPAuthenticationProvider, given to every
connection from its address).  "world" is not an authentication provider: `addauth world`
fails with AuthFailed, as on ZooKeeper.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress

from zkshell.embedded.codes import Err, ZooKeeperError
from zkshell.embedded.javaorder import spread, string_hash
from zkshell.embedded.jute import ACL, Id

AUTH_SCHEMES = ("digest", "ip")
WORLD_ANYONE = Id("world", "anyone")
OPEN_ACL_UNSAFE = [ACL(31, WORLD_ANYONE)]
READ_ACL_UNSAFE = [ACL(1, WORLD_ANYONE)]


def _java_split(text: str, sep: str) -> list[str]:
    """String.split with a literal separator: trailing empty strings are dropped."""
    parts = text.split(sep)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return parts


def digest_id(user_password: str) -> str:
    """DigestAuthenticationProvider.generateDigest: "user:" + base64(sha1("user:password"))."""
    user = user_password.split(":", 1)[0]
    sha1 = hashlib.sha1(user_password.encode("utf-8")).digest()
    return f"{user}:{base64.b64encode(sha1).decode()}"


def authenticate(scheme: str, auth: bytes, client_ip: str,
                 super_digest: str | None = None) -> list[Id]:
    """The ids an AuthPacket adds to the connection; none means AuthFailed.  A digest equal
    to the configured super digest also makes the connection "super", which every ACL
    lets through (zookeeper.DigestAuthenticationProvider.superDigest)."""
    if scheme == "digest":
        digest = Id("digest", digest_id(auth.decode("utf-8", errors="replace")))
        return [Id("super", ""), digest] if digest.id == super_digest else [digest]
    if scheme == "ip":
        return [Id("ip", client_ip)]
    return []


def _id_hash(identity: Id) -> int:
    """The jute-generated Id.hashCode: 37 * (37 * 17 + scheme) + id, as a 32-bit int."""
    return (37 * (37 * 17 + string_hash(identity.scheme))
            + string_hash(identity.id)) & 0xFFFFFFFF


def auth_order(ids: list[Id]) -> list[Id]:
    """A connection's ids in the order ZooKeeper lists them (ServerCnxn keeps them in a
    ConcurrentHashMap of 16 bins): by bin, then in the order they were added.  It decides the
    order `auth` ACLs expand to and whoAmI answers in.  (The map grows past 12 ids; a
    connection with that many is not modelled.)"""
    def bin_of(identity: Id) -> int:
        return spread(_id_hash(identity)) & 0x7FFFFFFF & 15
    return sorted(ids, key=bin_of)


def _ip_network(expression: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    address, _, bits = expression.partition("/")
    try:
        ip = ipaddress.ip_address(address)
        if not bits:
            return ipaddress.ip_network(ip)
        return ipaddress.ip_network(f"{ip}/{int(bits)}", strict=False)
    except ValueError:
        return None


def _valid_id(identity: Id) -> bool:
    if identity.scheme == "digest":
        return len(_java_split(identity.id, ":")) == 2
    if identity.scheme == "ip":
        return _ip_network(identity.id) is not None
    return False


def _matches(scheme: str, auth_id: str, acl_id: str) -> bool:
    if scheme == "ip":
        network = _ip_network(acl_id)
        try:
            return network is not None and ipaddress.ip_address(auth_id) in network
        except ValueError:
            return False
    return auth_id == acl_id


def fixup_acl(path: str, acls: list[ACL], auth: list[Id]) -> list[ACL]:
    """Duplicates removed, `auth` ids expanded to the client's authenticated ids (only
    digest counts: ip is not "authenticated"), every id checked; else InvalidACL."""
    unique: list[ACL] = []
    for acl in acls:
        if acl not in unique:
            unique.append(acl)
    if not unique:
        raise ZooKeeperError(Err.INVALID_ACL, path)
    fixed: list[ACL] = []
    for acl in unique:
        if acl.id == WORLD_ANYONE:
            fixed.append(acl)
        elif acl.id.scheme == "auth":
            mine = [ACL(acl.perms, identity) for identity in auth_order(auth)
                    if identity.scheme == "digest"]
            if not mine:
                raise ZooKeeperError(Err.INVALID_ACL, path)
            fixed.extend(mine)
        elif _valid_id(acl.id):
            fixed.append(acl)
        else:
            raise ZooKeeperError(Err.INVALID_ACL, path)
    return fixed


def check_acl(acls: list[ACL], perm: int, auth: list[Id], path: str) -> None:
    """NoAuth unless one entry grants `perm` to world:anyone or to one of `auth`'s ids."""
    if not acls or any(identity.scheme == "super" for identity in auth):
        return
    for acl in acls:
        if not acl.perms & perm:
            continue
        if acl.id == WORLD_ANYONE:
            return
        if acl.id.scheme in AUTH_SCHEMES and any(
                identity.scheme == acl.id.scheme and _matches(acl.id.scheme, identity.id,
                                                              acl.id.id)
                for identity in auth):
            return
    raise ZooKeeperError(Err.NO_AUTH, path)


def redacted(acls: list[ACL]) -> list[ACL]:
    """getACL without ADMIN shows digest ids as "user:x" (FinalRequestProcessor)."""
    return [ACL(acl.perms, Id(acl.id.scheme, acl.id.id.split(":", 1)[0] + ":x"))
            if acl.id.scheme == "digest" and ":" in acl.id.id else acl for acl in acls]
