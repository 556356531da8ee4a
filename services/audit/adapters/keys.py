"""The anchors' Ed25519 key in files: PEM, PKCS #8 for the private key (mode 0600) and
SubjectPublicKeyInfo for the public one, so OpenSSL reads them too (docs/services.md)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(Exception):
    """A key file that is missing, unreadable or not an Ed25519 key; says which and why."""


class Ed25519Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id(key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def checker(self) -> Ed25519Checker:
        return Ed25519Checker(self._key.public_key())


class Ed25519Checker:
    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self.key_id = key_id(key)

    def valid(self, data: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the sha256 of the raw public key: names a key in anchors."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def generate(private: Path) -> str:
    """Write a new key to `private` (0600) and its public half to `private`.pub; never
    overwrites either. Returns the key id."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        with public_path(private).open("xb") as out:
            out.write(public)
    except OSError as error:
        raise KeyFileError(f"{error.filename}: {error.strerror}") from None
    return key_id(key.public_key())


def load_signer(path: Path) -> Ed25519Signer:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFileError(f"{path}: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return Ed25519Signer(key)


def load_checker(path: Path) -> Ed25519Checker:
    """The public key in `path`: a public key file, or the private key's (its public half)."""
    data = _read(path)
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            key: object = private.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFileError(f"{path}: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return Ed25519Checker(key)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: {error.strerror}") from None
