"""Deterministic ids: the same source event always yields the same payout and audit ids."""

from __future__ import annotations

import hashlib
import uuid

PUHUI_NAMESPACE = uuid.UUID("6f1d2c3e-8a47-5b1e-9c0d-2e7f4a5b6c71")
"""The uuid5 namespace of every id the engine derives (fixed forever: ids are persisted)."""


def derived_id(
    source_event_id: str, programme: str | None, member_id: str | None, kind: str
) -> str:
    """uuid5 of (source event, programme, member, kind)."""
    name = f"{source_event_id}|{programme or ''}|{member_id or ''}|{kind}"
    return uuid5_text(name)


_NAMESPACE_BYTES = PUHUI_NAMESPACE.bytes


def uuid5_text(name: str) -> str:
    """`str(uuid.uuid5(PUHUI_NAMESPACE, name))`, without building a `UUID` (a sixth of the
    cost of deciding a card swipe went to the two ids of its payout and audit record)."""
    # uuid5 is SHA-1 by definition (RFC 4122); it names, it does not protect
    sha1 = hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False)
    digest = bytearray(sha1.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
