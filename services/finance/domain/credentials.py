"""Passwords (scrypt), session tokens, API tokens and CSRF tokens; only hashes are stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

# scrypt with n=2**14, r=8 (16 MiB, ~50 ms): OWASP's floor for interactive sign-in
N, R, P = 2**14, 8, 1
_STORED = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8
_ID_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


class WeakPassword(ValueError):
    """A password too short to keep."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash`, base64 parts."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    match = _STORED.match(stored)
    if match is None:
        return False
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    salt, want = base64.b64decode(match.group(4)), base64.b64decode(match.group(5))
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), want)


def new_token() -> str:
    """A session token: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def new_api_token() -> tuple[str, str]:
    """(token id, token text) of a new API token: `tok_<10 of a-z0-9>.<32 random bytes>`.

    The id names the token in listings and the audit trail; the text is shown once."""
    token_id = "tok_" + "".join(secrets.choice(_ID_LETTERS) for _ in range(10))
    return token_id, f"{token_id}.{secrets.token_urlsafe(32)}"


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret token, so only someone who holds
    the session (the page, which reads it from /api/me) can send it back."""
    digest = hashlib.sha256(b"puhui-csrf\x00" + session_token.encode("utf-8", "surrogatepass"))
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def token_digest(token: str) -> bytes:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                          maxmem=64 * 1024 * 1024, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
