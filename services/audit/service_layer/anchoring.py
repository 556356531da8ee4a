"""When the audit service signs its chain's head, and how an anchor is checked.

The service anchors in the transaction of a batch that moved the head, once `every` has
passed since its last anchor (and at the first such batch after it starts); a quiet chain
has nothing new to anchor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from services.audit.domain.anchor import Anchor, signed_bytes
from services.audit.domain.chain import ChainHead


class Signer(Protocol):
    key_id: str

    def sign(self, data: bytes) -> bytes: ...


class Checker(Protocol):
    key_id: str

    def valid(self, data: bytes, signature: bytes) -> bool: ...


class Anchoring:
    def __init__(self, signer: Signer, every: timedelta) -> None:
        self.signer = signer
        self.every = every
        self.last: Anchor | None = None

    def due(self, head: ChainHead, now: datetime) -> Anchor | None:
        """The anchor of `head` signed now, if one is due."""
        if head.seq == 0 or (self.last is not None and (
                self.last.head == head or now - self.last.signed_at < self.every)):
            return None
        signature = self.signer.sign(signed_bytes(head, now, self.signer.key_id))
        return Anchor(head, now, self.signer.key_id, signature)

    def made(self, anchor: Anchor) -> None:
        """`anchor` is committed."""
        self.last = anchor


def forged(anchor: Anchor, checker: Checker) -> str | None:
    """Why `anchor` was not signed by `checker`'s key, or None if it was."""
    if anchor.key_id != checker.key_id:
        return f"it names key {anchor.key_id}, the public key given is {checker.key_id}"
    if not checker.valid(anchor.signed_bytes(), anchor.signature):
        return "its signature does not verify with the public key"
    return None
