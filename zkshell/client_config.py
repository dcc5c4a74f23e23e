"""zkCli's `-client-configuration FILE`: ZooKeeper's client properties, mapped onto kazoo.

zkCli reads the file into a ZKClientConfig.  zksh reads the same keys and gives kazoo what they
ask for: `zookeeper.client.secure` is TLS (`use_ssl`), the key store is the client's
certificate and key (`certfile`, `keyfile`, `keyfile_password`), the trust store the CAs it
trusts (`ca`), `zookeeper.ssl.hostnameVerification` kazoo's `check_hostname`.  Stores are PEM,
PKCS12 or JKS, as ZooKeeper 3.8 accepts them (`zookeeper.ssl.*.type`, or the file name's
extension); the other two are turned into PEM by keystores.py.

SASL: the JAAS file named by `java.security.auth.login.config` (zkCli takes it only as a JVM
`-D` flag; zksh reads it here too), its `Client` section (`zookeeper.sasl.clientconfig`)
with ZooKeeper's DigestLoginModule's username and password, become kazoo's `sasl_options`
for DIGEST-MD5.

The rarer TLS settings (protocol, enabled protocols, cipher suites) narrow the SSLContext
zksh builds for each connection (tls_settings.py); kazoo 2.11 builds its own and cannot, so
Session hands the context to kazoo through kazoo_private.use_ssl_context.

zkCli.sh also hands its JVM `-D` flags from CLIENT_JVMFLAGS and JVMFLAGS (jvm_flags.py):
ZooKeeper's ZKClientConfig starts from the system properties it knows, then the file's
values replace them, and so does zksh.  The JAAS file's path comes only from a flag in Java;
zksh takes it from the file too.

A key zksh does not know, or knows and cannot honour (BCFKS stores, Kerberos, CRL and OCSP
checks), is an error that names it: a secure connection silently made plain, or a
setting silently dropped, is worse than none.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from zkshell import keystores, tls_settings
from zkshell.jvm_flags import SystemProperty, system_properties
from zkshell.properties import Entry, PropertiesError, parse_properties

SECURE = "zookeeper.client.secure"
SOCKET = "zookeeper.clientCnxnSocket"
HOSTNAME_VERIFICATION = "zookeeper.ssl.hostnameVerification"
SASL_CLIENT = "zookeeper.sasl.client"
JAAS_FILE = "java.security.auth.login.config"
SASL_SECTION = "zookeeper.sasl.clientconfig"
SASL_SERVICE = "zookeeper.sasl.client.username"
DIGEST_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
_SASL_KEYS = {SASL_CLIENT, JAAS_FILE, SASL_SECTION, SASL_SERVICE}
_STORE_KEYS = {f"zookeeper.ssl.{store}.{part}" for store in ("keyStore", "trustStore")
               for part in ("location", "password", "type")}
PROTOCOL = "zookeeper.ssl.protocol"
ENABLED_PROTOCOLS = "zookeeper.ssl.enabledProtocols"
CIPHER_SUITES = "zookeeper.ssl.ciphersuites"
_TLS_KEYS = (PROTOCOL, ENABLED_PROTOCOLS, CIPHER_SUITES)
# The system properties ZooKeeper 3.8's client reads that zksh honours (ZKConfig's and
# ZKClientConfig's handleBackwardCompatibility, and JAAS's own login.config).  The TLS
# version and suite settings are not among them: Java reads those from the file only.
_FROM_SYSTEM = {SECURE, SOCKET, HOSTNAME_VERIFICATION, SASL_CLIENT, JAAS_FILE, SASL_SECTION,
                SASL_SERVICE, *_STORE_KEYS}
# Read from system properties too, and not honoured: refused unless off, since a revocation
# check silently skipped would trust a revoked certificate.  The client's other system
# properties (jute.maxbuffer, zookeeper.kinit, ...) are ignored: JVMFLAGS is the server's too.
_REFUSED_FROM_SYSTEM = ("zookeeper.ssl.crl", "zookeeper.ssl.ocsp")
# The Java client's socket classes: kazoo has its own socket, either is fine.
_SOCKETS = {"org.apache.zookeeper.ClientCnxnSocketNetty",
            "org.apache.zookeeper.ClientCnxnSocketNIO"}
# Keys ZooKeeper's client knows that zksh cannot honour (yet): named, never dropped.
_UNSUPPORTED_PREFIXES = ("zookeeper.ssl.", "zookeeper.sasl.", "zookeeper.server.",
                         "zookeeper.kinit",
                         "zookeeper.request.timeout", "zookeeper.disableAutoWatchReset",
                         "jute.maxbuffer", "zookeeper.fips-mode")
# ZooKeeper's X509Util.KeyStoreFileType, from the type or the file name's extension.
_STORE_TYPES = {"pem": "PEM", "pkcs12": "PKCS12", "p12": "PKCS12", "pfx": "PKCS12",
                "jks": "JKS", "bcfks": "BCFKS"}


class ClientConfigError(ValueError):
    """The file cannot be used; the message names the file and what is wrong, on one line."""


@dataclass(frozen=True)
class ClientConfig:
    """What the file asks of the connection, in kazoo's terms."""

    path: str
    use_ssl: bool = False
    ca: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    keyfile_password: str | None = None
    verify_certs: bool = True
    check_hostname: bool = True
    sasl_options: dict[str, str] | None = None  # SASL DIGEST-MD5, from the JAAS file
    tls_limits: tls_settings.TlsLimits | None = None  # versions and suites, when narrowed
    # The context every connection is wrapped with: the stores loaded once, and checked.
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @property
    def asks_for(self) -> list[str]:
        """What a server must offer for this configuration: TLS, SASL, both or nothing."""
        return [name for name, asked in (("TLS", self.use_ssl), ("SASL", self.sasl_options))
                if asked]

    def kazoo_options(self) -> dict[str, object]:
        """KazooClient's keyword arguments, and `ssl_context` (Session hands it to kazoo)."""
        options: dict[str, object] = {}
        if self.sasl_options:
            options["sasl_options"] = dict(self.sasl_options)
        if self.use_ssl:
            options.update(use_ssl=True, ca=self.ca, certfile=self.certfile,
                           keyfile=self.keyfile, keyfile_password=self.keyfile_password,
                           verify_certs=self.verify_certs, check_hostname=self.check_hostname,
                           ssl_context=self.ssl_context)
        return options


def load_client_config(path: str, environ: Mapping[str, str] | None = None) -> ClientConfig:
    """Read and check `path` as zkCli's -client-configuration, over the system properties
    `environ`'s JVM flags set; raise ClientConfigError."""
    where = f"-client-configuration {path}"
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ClientConfigError(f"{where}: {exc.strerror or exc}") from None
    try:
        # Properties.load(InputStream) reads ISO 8859-1.
        entries = parse_properties(raw.decode("latin-1"))
    except PropertiesError as exc:
        raise ClientConfigError(f"{where}: {exc}") from None
    flags = _honoured_flags(environ or {})
    values = {key: Entry(0, key, flag.value) for key, flag in flags.items()}
    for entry in entries:  # the file's values replace the system properties' (ZKConfig)
        values[entry.key] = entry
        flags.pop(entry.key, None)
    return _Reader(path, values, flags).config()


def config_from_flags(environ: Mapping[str, str]) -> ClientConfig | None:
    """Without -client-configuration: what CLIENT_JVMFLAGS and JVMFLAGS ask of the
    connection, or None when they set nothing the client reads."""
    flags = _honoured_flags(environ)
    if not flags:
        return None
    values = {key: Entry(0, key, flag.value) for key, flag in flags.items()}
    return _Reader("CLIENT_JVMFLAGS", values, flags).config()


def _honoured_flags(environ: Mapping[str, str]) -> dict[str, SystemProperty]:
    found = system_properties(environ)
    for key in _REFUSED_FROM_SYSTEM:
        flag = found.get(key)
        if flag is not None and flag.value.strip().lower() not in ("", "false"):
            raise ClientConfigError(f"{flag.flag}: zksh cannot honour this setting yet")
    return {key: flag for key, flag in found.items() if key in _FROM_SYSTEM}


class _Reader:
    def __init__(self, path: str, values: dict[str, Entry],
                 flags: dict[str, SystemProperty] | None = None) -> None:
        self.path = path
        self.values = values
        self.flags = flags or {}  # the keys whose value came from a JVM flag

    def fail(self, entry: Entry, why: str) -> ClientConfigError:
        flag = self.flags.get(entry.key)
        if flag is not None:
            return ClientConfigError(f"{flag.flag}: {why}")
        return ClientConfigError(f"-client-configuration {self.path}, line {entry.line}: "
                                 f"{entry.key}: {why}")

    def get(self, key: str) -> str | None:
        entry = self.values.get(key)
        return entry.value.strip() if entry is not None else None

    def config(self) -> ClientConfig:
        self.refuse_what_cannot_be_honoured()
        secure = (self.get(SECURE) or "").lower() == "true"  # Boolean.parseBoolean
        socket_class = self.values.get(SOCKET)
        if socket_class is not None and socket_class.value.strip() not in _SOCKETS:
            raise self.fail(socket_class, f"unknown class {socket_class.value.strip()}")
        verification = (self.get(HOSTNAME_VERIFICATION) or "true").lower() == "true"
        sasl = self.sasl_options()
        limits = self.tls_limits()  # checked with TLS off too: a typo is said either way
        if not secure:
            return ClientConfig(self.path, sasl_options=sasl)
        ca = self.store("trustStore")
        key_store = self.store("keyStore")
        password = self.get("zookeeper.ssl.keyStore.password") or None
        certfile = key_store[0] if key_store is not None else None
        if key_store is not None and key_store[1] != "PEM":
            certfile, password = self.converted(
                "keyStore", lambda: keystores.key_store_pem(key_store[0], password, key_store[1]))
        if ca is not None and ca[1] != "PEM":
            trust_password = self.get("zookeeper.ssl.trustStore.password") or None
            ca = self.converted(
                "trustStore", lambda: (keystores.trust_store_pem(ca[0], trust_password, ca[1]),
                                       "PEM"))
        config = ClientConfig(self.path, use_ssl=True, ca=ca[0] if ca is not None else None,
                              certfile=certfile, keyfile=certfile, keyfile_password=password,
                              check_hostname=verification, sasl_options=sasl,
                              tls_limits=limits)
        return replace(config, ssl_context=self.context(config))

    def refuse_what_cannot_be_honoured(self) -> None:
        for key, entry in self.values.items():
            if key in (SECURE, SOCKET, HOSTNAME_VERIFICATION) or key in _STORE_KEYS:
                continue
            if key in _TLS_KEYS:
                continue
            if key in _SASL_KEYS:
                continue
            if key.startswith(_UNSUPPORTED_PREFIXES):
                raise self.fail(entry, "zksh cannot honour this setting yet")
            raise self.fail(entry, "not a ZooKeeper client setting zksh knows")

    def sasl_options(self) -> dict[str, str] | None:
        """DIGEST-MD5's username and password, from the JAAS file's section, when SASL is on
        (`zookeeper.sasl.client`, true by default) and a JAAS file is named."""
        from zkshell.jaas import DIGEST_MECHANISM, JaasError, parse_jaas

        jaas = self.values.get(JAAS_FILE)
        if jaas is None or (self.get(SASL_CLIENT) or "true").lower() != "true":
            return None
        path = jaas.value.strip()
        try:
            with open(path, encoding="utf-8") as handle:
                sections = parse_jaas(handle.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail(jaas, f"cannot read {path}: "
                                  f"{getattr(exc, 'strerror', None) or exc}") from None
        except JaasError as exc:
            raise self.fail(jaas, f"{path} is not a JAAS configuration: {exc}") from None
        section = self.get(SASL_SECTION) or "Client"
        modules = sections.get(section)
        if not modules and SASL_SECTION not in self.values and JAAS_FILE in self.flags:
            # As Java's client: no `Client` section, and none named, is no SASL.  A JAAS
            # file in JVMFLAGS is often the server's own (its `Server` section).
            return None
        if not modules:
            raise self.fail(jaas, f"{path} has no section {section}")
        module = modules[0]
        if module.name != DIGEST_MODULE:
            raise self.fail(jaas, f"{path}, section {section}: zksh speaks SASL DIGEST-MD5 "
                                  f"({DIGEST_MODULE}) only, not {module.name}")
        missing = [key for key in ("username", "password") if key not in module.options]
        if missing:
            raise self.fail(jaas, f"{path}, section {section}: no {' and no '.join(missing)}")
        try:
            import puresasl  # noqa: F401  kazoo's SASL; without it kazoo fails every connection
        except ImportError:
            raise self.fail(jaas, "SASL needs the pure-sasl package (pip install pure-sasl)"
                            ) from None
        options = {"mechanism": DIGEST_MECHANISM, "username": module.options["username"],
                   "password": module.options["password"]}
        service = self.get(SASL_SERVICE)
        if service:
            options["service"] = service
        return options

    def converted(self, store: str, convert: Callable[[], tuple[str, str]]) -> tuple[str, str]:
        try:
            return convert()
        except keystores.StoreError as exc:
            raise self.fail(self.values[f"zookeeper.ssl.{store}.location"], str(exc)) from None

    def store(self, store: str) -> tuple[str, str] | None:
        """The store's file and its type (PEM, PKCS12, JKS)."""
        location = self.values.get(f"zookeeper.ssl.{store}.location")
        if location is None or not location.value.strip():
            return None
        path = location.value.strip()
        type_entry = self.values.get(f"zookeeper.ssl.{store}.type")
        if type_entry is not None and type_entry.value.strip():
            kind = _STORE_TYPES.get(type_entry.value.strip().lower())
            if kind is None:
                raise self.fail(type_entry, f"unknown store type {type_entry.value.strip()}")
        else:
            extension = os.path.splitext(path)[1][1:].lower()
            kind = _STORE_TYPES.get(extension, "JKS")  # ZooKeeper's default: JKS
        if kind not in ("PEM", "PKCS12", "JKS"):
            raise self.fail(location, f"a {kind} store: zksh reads PEM, PKCS12 and JKS stores")
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise self.fail(location, f"cannot read {path}")
        return path, kind

    def tls_limits(self) -> tls_settings.TlsLimits | None:
        """The versions and suites the TLS settings leave (tls_settings.py), or None."""
        top = len(tls_settings.VERSIONS) - 1
        lowest, highest, ciphers, last = 0, top, None, None
        for key in _TLS_KEYS:
            entry = self.values.get(key)
            if entry is None or not entry.value.strip():
                continue
            last, value = entry, entry.value.strip()
            try:
                if key == PROTOCOL:
                    maximum = tls_settings.protocol_maximum(value)
                    low, high = 0, top if maximum is None else maximum
                elif key == ENABLED_PROTOCOLS:
                    low, high = tls_settings.enabled_range(value)
                else:
                    ciphers, low, high = tls_settings.cipher_limits(value)
            except tls_settings.TlsSettingError as exc:
                raise self.fail(entry, str(exc)) from None
            lowest, highest = max(lowest, low), min(highest, high)
        if last is None:
            return None
        if lowest > highest:
            raise self.fail(last, "with the other TLS settings, no protocol version is left")
        versions = list(tls_settings.VERSIONS.values())
        # Python's own lowest is TLSv1.2: an older one is allowed only when enabled by name.
        named_low = lowest > 0 or ENABLED_PROTOCOLS in self.values
        return tls_settings.TlsLimits(versions[lowest] if named_low else None,
                                      versions[highest] if highest < top else None, ciphers)

    def context(self, config: ClientConfig) -> ssl.SSLContext:
        """The context each connection is wrapped with, as kazoo would build it, narrowed by
        the TLS settings.  The stores are loaded now: a wrong password or a file that is not
        PEM is said before connecting, not as a connection that never comes."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        context.check_hostname = config.check_hostname
        context.verify_mode = ssl.CERT_REQUIRED if config.verify_certs else ssl.CERT_NONE
        if config.tls_limits is not None:
            config.tls_limits.apply(context)
        if config.ca is not None:
            try:
                context.load_verify_locations(config.ca)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                entry = self.values["zookeeper.ssl.trustStore.location"]
                raise self.fail(entry, f"no PEM certificate in {config.ca} ({_reason(exc)})"
                                ) from None
        if config.certfile is not None:
            try:
                context.load_cert_chain(config.certfile, config.keyfile,
                                        password=config.keyfile_password or "")
            except (OSError, ValueError) as exc:
                entry = self.values["zookeeper.ssl.keyStore.location"]
                raise self.fail(entry, f"cannot load the certificate and key in "
                                       f"{config.certfile} (a wrong password, or not PEM: "
                                       f"{_reason(exc)})") from None
        return context


def _reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or str(exc)
