"""The hash chain: each link hashes the previous link's hash and its record's canonical bytes.

    hash(seq = 1) = sha256(GENESIS || canonical_bytes(record 1))
    hash(seq = n) = sha256(hash(seq = n - 1) || canonical_bytes(record n))

`GENESIS` is 32 zero bytes. Seqs run 1, 2, 3... without gaps, so a removed, changed, inserted
or reordered record breaks the chain at the first place it touches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.audit.domain.record import TrailRecord

GENESIS = bytes(32)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last link of the chain (seq 0 and `GENESIS` for an empty chain)."""

    seq: int
    hash: bytes


EMPTY = ChainHead(0, GENESIS)


@dataclass(frozen=True, slots=True)
class Entry:
    """A record about to join the chain, with its canonical bytes computed once."""

    record: TrailRecord
    canonical: bytes


@dataclass(frozen=True, slots=True)
class ChainLink:
    """A record in the chain: its place, the hash it follows and its own hash."""

    seq: int
    record: TrailRecord
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Break:
    """The first link that does not fit, and why."""

    seq: int
    audit_id: str
    problem: str


def chain_hash(prev: bytes, record: TrailRecord) -> bytes:
    """The hash of `record`'s link when it follows a link whose hash is `prev`."""
    return _link_hash(prev, record.canonical_bytes())


def _link_hash(prev: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev + canonical).digest()


def extend(head: ChainHead, entries: Iterable[Entry]) -> list[ChainLink]:
    """The links that append `entries`, in order, after `head`."""
    links = []
    seq, prev = head.seq, head.hash
    for entry in entries:
        seq += 1
        digest = _link_hash(prev, entry.canonical)
        links.append(ChainLink(seq, entry.record, prev, digest))
        prev = digest
    return links


class ChainWalk:
    """Follows the chain from its start one link at a time, so it can check a stream."""

    def __init__(self) -> None:
        self.head = EMPTY

    def follow(self, link: ChainLink) -> Break | None:
        """None if `link` fits after the links followed so far; else where and why not."""
        problem = self._problem(link)
        if problem is not None:
            return Break(link.seq, link.record.audit_id, problem)
        self.head = ChainHead(link.seq, link.hash)
        return None

    def _problem(self, link: ChainLink) -> str | None:
        expected = self.head.seq + 1
        if link.seq > expected:
            return f"seq {expected} is missing"
        if link.seq < expected:
            return f"seq {link.seq} comes after seq {self.head.seq}"
        if link.prev_hash != self.head.hash:
            return "prev_hash differs"
        if chain_hash(link.prev_hash, link.record) != link.hash:
            return "hash differs"
        return None


def first_break(links: Iterable[ChainLink]) -> Break | None:
    """The first link of `links` (the whole chain, in seq order) that does not fit."""
    walk = ChainWalk()
    for link in links:
        broken = walk.follow(link)
        if broken is not None:
            return broken
    return None


def verify(links: Iterable[ChainLink]) -> int | None:
    """The seq of the first link that does not fit, or None if the whole chain holds."""
    broken = first_break(links)
    return None if broken is None else broken.seq


def appendable(entries: Sequence[Entry], recorded: set[str]) -> list[Entry]:
    """`entries` less those already recorded and repeats within the batch (first one wins)."""
    seen = set(recorded)
    fresh = []
    for entry in entries:
        if entry.record.audit_id not in seen:
            seen.add(entry.record.audit_id)
            fresh.append(entry)
    return fresh
