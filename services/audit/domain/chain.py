"""The hash chain: each link hashes the previous link's hash and its own bytes.

    hash(seq = 1) = sha256(GENESIS || link_bytes(link 1))
    hash(seq = n) = sha256(hash(seq = n - 1) || link_bytes(link n))

`GENESIS` is 32 zero bytes. Seqs run 1, 2, 3... without gaps, so a removed, changed, inserted
or reordered record breaks the chain at the first place it touches.

A link's bytes depend on its format (the trail's `format` column):

- format 2 (every link since migration 0006) hashes every column the finance Audit page
  shows: the sorted-key JSON `{"format":2,"record":R,"recorded_at":T,"seq":N}`, where R is
  the record's canonical document (record.py, with `actor`), T is `recorded_at` written like
  `occurred_at`, and N the seq;
- format 1 (the links recorded before) hashed the record's twelve-field document alone:
  its `recorded_at` is not covered. Those links keep verifying as they were hashed; a link
  in format 1 after one in format 2 breaks the chain, so the older format cannot be slipped
  in later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.audit.domain.record import TrailRecord, utc_text

GENESIS = bytes(32)
FORMAT = 2
"""The format new links are written in."""
FORMATS = (1, 2)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last link of the chain (seq 0 and `GENESIS` for an empty chain)."""

    seq: int
    hash: bytes


EMPTY = ChainHead(0, GENESIS)


@dataclass(slots=True)  # not frozen, for the cost of making one: see record.py
class Entry:
    """A record about to join the chain, with its canonical bytes computed once."""

    record: TrailRecord
    canonical: bytes


@dataclass(slots=True)  # not frozen, for the cost of making one: see record.py
class ChainLink:
    """A record in the chain: its place, the hash it follows, its own hash, when the trail
    took it and the format its hash was made in."""

    seq: int
    record: TrailRecord
    prev_hash: bytes
    hash: bytes
    recorded_at: datetime
    format: int = FORMAT


@dataclass(frozen=True, slots=True)
class Break:
    """The first link that does not fit, and why."""

    seq: int
    audit_id: str
    problem: str


def link_hash(prev: bytes, link: ChainLink) -> bytes:
    """What `link`'s hash must be when it follows a link whose hash is `prev`."""
    if link.format == 1:
        return _digest(prev, link.record.format_1_bytes())
    return _digest(prev, format_2_bytes(link.seq, link.recorded_at, link.record.canonical_bytes()))


def format_2_bytes(seq: int, recorded_at: datetime, canonical: bytes) -> bytes:
    """`{"format":2,"record":...,"recorded_at":...,"seq":...}` around a record's canonical
    bytes: the keys in sorted order, so it is what orjson would write for the whole object."""
    return _format_2(seq, _recorded_at_part(recorded_at), canonical)


def _recorded_at_part(recorded_at: datetime) -> bytes:
    """What comes between a link's record and its seq: the same for a whole batch."""
    return b',"recorded_at":"' + utc_text(recorded_at).encode() + b'","seq":'


def _format_2(seq: int, recorded_at_part: bytes, canonical: bytes) -> bytes:
    return b"".join((b'{"format":2,"record":', canonical, recorded_at_part, b"%d}" % seq))


def _digest(prev: bytes, data: bytes) -> bytes:
    return hashlib.sha256(prev + data).digest()


def extend(head: ChainHead, entries: Iterable[Entry], recorded_at: datetime) -> list[ChainLink]:
    """The links (format 2) that append `entries`, in order, after `head`, all recorded at
    `recorded_at`."""
    links = []
    seq, prev = head.seq, head.hash
    recorded_at_part = _recorded_at_part(recorded_at)
    for entry in entries:
        seq += 1
        digest = _digest(prev, _format_2(seq, recorded_at_part, entry.canonical))
        links.append(ChainLink(seq, entry.record, prev, digest, recorded_at))
        prev = digest
    return links


class ChainWalk:
    """Follows the chain from its start one link at a time, so it can check a stream."""

    def __init__(self) -> None:
        self.head = EMPTY
        self.format = FORMATS[0]
        self.format_1_links = 0

    def follow(self, link: ChainLink) -> Break | None:
        """None if `link` fits after the links followed so far; else where and why not."""
        problem = self._problem(link)
        if problem is not None:
            return Break(link.seq, link.record.audit_id, problem)
        self.head = ChainHead(link.seq, link.hash)
        self.format = link.format
        self.format_1_links += link.format == 1
        return None

    def _problem(self, link: ChainLink) -> str | None:
        expected = self.head.seq + 1
        if link.seq > expected:
            return f"seq {expected} is missing"
        if link.seq < expected:
            return f"seq {link.seq} comes after seq {self.head.seq}"
        if link.format not in FORMATS:
            return f"format {link.format} is unknown"
        if link.format < self.format:
            return f"format {link.format} after format {self.format}"
        if link.prev_hash != self.head.hash:
            return "prev_hash differs"
        if link_hash(link.prev_hash, link) != link.hash:
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
