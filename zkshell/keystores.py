"""PKCS12 and JKS key and trust stores, turned into the PEM files Python's ssl module loads.

kazoo hands its `certfile`, `keyfile` and `ca` to ssl.SSLContext, which reads PEM only.
PKCS12 is read with `cryptography`; a JKS store is first converted to PKCS12 by Java's own
`keytool` (whoever has a JKS store has a JDK; no Python JKS reader is kept up).  The PEM files
live in a private temporary folder (0700) removed when zksh exits, and the private key in it
stays encrypted, under a random password handed to kazoo.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import subprocess
import tempfile


class StoreError(ValueError):
    """The store cannot be read; the message says why, in a few words."""


_folder: str | None = None


def _private_folder() -> str:
    global _folder
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="zksh-tls-")
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def _write(name: str, data: bytes) -> str:
    path = os.path.join(_private_folder(), name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    return path


def _pkcs12_bytes(path: str, password: str | None, kind: str) -> bytes:
    if kind == "JKS":
        return _jks_to_pkcs12(path, password)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None


def _jks_to_pkcs12(path: str, password: str | None) -> bytes:
    keytool = shutil.which("keytool")
    if keytool is None:
        raise StoreError("a JKS store needs Java's keytool on PATH to be read")
    if not password:
        raise StoreError("a JKS store needs its password")
    target = os.path.join(_private_folder(), f"converted-{secrets.token_hex(4)}.p12")
    command = [keytool, "-importkeystore", "-noprompt", "-srckeystore", path,
               "-srcstoretype", "JKS", "-srcstorepass", password, "-destkeystore", target,
               "-deststoretype", "PKCS12", "-deststorepass", password]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreError(f"keytool failed: {exc}") from None
    if result.returncode != 0:
        why = (result.stdout + result.stderr).strip().splitlines()
        raise StoreError(f"keytool cannot read it: {why[-1] if why else 'no reason given'}")
    with open(target, "rb") as handle:
        data = handle.read()
    os.unlink(target)
    return data


def _load(path: str, password: str | None, kind: str):  # -> (key, cert, extra certs)
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = _pkcs12_bytes(path, password, kind)
    try:
        return pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError:
        raise StoreError(f"cannot open {path} as {kind} (a wrong password?)") from None


def key_store_pem(path: str, password: str | None, kind: str) -> tuple[str, str]:
    """The PEM file with the store's key and certificate chain, and its key's password."""
    from cryptography.hazmat.primitives import serialization

    key, certificate, chain = _load(path, password, kind)
    if key is None or certificate is None:
        raise StoreError(f"{path} holds no private key with its certificate")
    pem_password = secrets.token_urlsafe(24)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(pem_password.encode()))
    for cert in (certificate, *chain):
        pem += cert.public_bytes(serialization.Encoding.PEM)
    return _write(f"key-{secrets.token_hex(4)}.pem", pem), pem_password


def trust_store_pem(path: str, password: str | None, kind: str) -> str:
    """The PEM file with the store's certificates."""
    from cryptography.hazmat.primitives import serialization

    _key, certificate, chain = _load(path, password, kind)
    certificates = ([certificate] if certificate is not None else []) + list(chain)
    if not certificates:
        raise StoreError(f"{path} holds no certificate")
    pem = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certificates)
    return _write(f"trust-{secrets.token_hex(4)}.pem", pem)
