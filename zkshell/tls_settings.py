"""ZooKeeper's rarer TLS settings, in Python's `ssl` terms: protocol versions, cipher suites.

    zookeeper.ssl.protocol=TLSv1.2             the SSLContext's protocol: the highest version
    zookeeper.ssl.enabledProtocols=TLSv1.3     the versions offered (lowest..highest)
    zookeeper.ssl.ciphersuites=TLS_ECDHE_...   the suites offered, by their IANA names

Java names a context by its highest version (`SSLContext.getInstance("TLSv1.2")` never speaks
TLSv1.3); Python's `ssl` takes a minimum and a maximum version, so a list of versions must be
one run without gaps.  Java names suites by their IANA names, OpenSSL by its own: `openssl
ciphers -stdname` pairs them.  Python's `ssl` cannot choose among TLS 1.3's suites, only
allow or forbid TLS 1.3 as a whole: a list that names some of them and not the others is
refused, never silently widened.
"""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass

# Java's protocol names, in order.
VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_ORDER = list(VERSIONS)
# What OpenSSL calls TLS 1.3's suites is their IANA name; Python offers no way to pick some.
_TLS13_SUITES = frozenset({"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                           "TLS_AES_128_GCM_SHA256"})


class TlsSettingError(ValueError):
    """A value zksh cannot honour; the message says which part and why."""


@dataclass(frozen=True)
class TlsLimits:
    """What the settings narrow on the context: versions, and the suites below TLS 1.3."""

    minimum: ssl.TLSVersion | None = None
    maximum: ssl.TLSVersion | None = None
    ciphers: str | None = None  # OpenSSL's cipher list, for TLS 1.2 and below

    def apply(self, context: ssl.SSLContext) -> None:
        if self.minimum is not None:
            context.minimum_version = self.minimum
        if self.maximum is not None:
            context.maximum_version = self.maximum
        if self.ciphers is not None:
            context.set_ciphers(self.ciphers)


def _version(name: str) -> int:
    if name not in VERSIONS:
        raise TlsSettingError(f"unknown protocol {name} (zksh knows {', '.join(_ORDER)}, "
                              f"and TLS)")
    return _ORDER.index(name)


def protocol_maximum(value: str) -> int | None:
    """`zookeeper.ssl.protocol`: the highest version (an index into VERSIONS); `TLS` is the
    default, the highest both sides speak (None)."""
    return None if value == "TLS" else _version(value)


def enabled_range(value: str) -> tuple[int, int]:
    """`zookeeper.ssl.enabledProtocols`, comma-separated: (lowest, highest) indices."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise TlsSettingError("no protocol named")
    indices = sorted({_version(name) for name in names})
    if indices != list(range(indices[0], indices[-1] + 1)):
        missing = [_ORDER[i] for i in range(indices[0], indices[-1]) if i not in indices]
        raise TlsSettingError(f"Python's ssl takes a lowest and a highest version: "
                              f"{', '.join(missing)} cannot be left out between them")
    return indices[0], indices[-1]


def cipher_limits(value: str, names: dict[str, str] | None = None) -> tuple[str | None, int, int]:
    """`zookeeper.ssl.ciphersuites`, IANA names: (OpenSSL's list for TLS 1.2 and below or
    None, lowest and highest version indices the suites leave possible)."""
    suites = [suite.strip() for suite in value.split(",") if suite.strip()]
    if not suites:
        raise TlsSettingError("no cipher suite named")
    tls13 = [suite for suite in suites if suite in _TLS13_SUITES]
    older = [suite for suite in suites if suite not in _TLS13_SUITES]
    if tls13 and set(tls13) != _TLS13_SUITES:
        left_out = sorted(_TLS13_SUITES - set(tls13))
        raise TlsSettingError(f"Python's ssl cannot choose among TLS 1.3's suites: name all "
                              f"of them or none ({', '.join(left_out)} left out)")
    lowest = _ORDER.index("TLSv1.3") if not older else 0
    highest = _ORDER.index("TLSv1.3") if tls13 else _ORDER.index("TLSv1.2")
    if not older:
        return None, lowest, highest
    names = names if names is not None else openssl_names()
    offered = {cipher["name"] for cipher in
               ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).get_ciphers()}
    unknown = [suite for suite in older if names.get(suite) not in offered]
    if unknown:
        raise TlsSettingError(f"unknown cipher suite {', '.join(unknown)} (or one this "
                              f"OpenSSL does not offer)")
    return ":".join(names[suite] for suite in older), lowest, highest


def openssl_names() -> dict[str, str]:
    """IANA name -> OpenSSL name, from `openssl ciphers -stdname` (only when suites are set)."""
    try:
        listing = subprocess.run(["openssl", "ciphers", "-stdname", "ALL:COMPLEMENTOFALL"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise TlsSettingError(f"cipher suites' IANA names are read from `openssl ciphers "
                              f"-stdname`, which failed: {exc}") from None
    names = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "-":
            names[parts[0]] = parts[2]
    return names
