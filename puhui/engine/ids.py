"""Deterministic ids: the same source event always yields the same payout and audit ids."""

from __future__ import annotations

import hashlib
import uuid

PUHUI_NAMESPACE = uuid.UUID("6f1d2c3e-8a47-5b1e-9c0d-2e7f4a5b6c71")
"""The uuid5 namespace of every id the engine derives (fixed forever: ids are persisted)."""

_NAMESPACE_BYTES = PUHUI_NAMESPACE.bytes


def derived_id(
    source_event_id: str, programme: str | None, member_id: str | None, kind: str
) -> str:
    """uuid5 of (source event, programme, member, kind), as `str(uuid.uuid5(...))` writes it.

    Made from the SHA-1 directly (RFC 4122 section 4.3): `uuid.uuid5` builds two objects and
    an int on the way, which was a tenth of a simulation's payouts.
    """
    name = f"{source_event_id}|{programme or ''}|{member_id or ''}|{kind}"
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
