"""Appending a batch and verifying the chain, over an in-memory trail."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import EMPTY, ChainHead, ChainLink, extend
from services.audit.service_layer.append import AuditTrail, record_batch
from services.audit.service_layer.verification import (
    Broken,
    HeadMismatch,
    Verified,
    verify_trail,
)
from services.runtime.records import InboundRecord, Rejected
from tests.unit.audit.builders import entry

NOW = datetime(2027, 3, 2, tzinfo=UTC)


class MemoryTrail:
    """The trail in memory; a block that raises leaves it as it was (a rolled-back transaction)."""

    def __init__(self) -> None:
        self.links: list[ChainLink] = []
        self.head = EMPTY
        self.dead: list[Rejected] = []
        self.anchors: list[Anchor] = []

    @asynccontextmanager
    async def open(self) -> AsyncIterator[AuditTrail]:
        draft = MemoryTrail()
        draft.links, draft.head, draft.dead = list(self.links), self.head, list(self.dead)
        draft.anchors = list(self.anchors)
        yield draft
        self.links, self.head, self.dead = draft.links, draft.head, draft.dead
        self.anchors = draft.anchors

    async def lock_head(self) -> ChainHead:
        return self.head

    async def recorded(self, audit_ids: Sequence[str]) -> set[str]:
        return {link.record.audit_id for link in self.links} & set(audit_ids)

    async def append(self, links: Sequence[ChainLink]) -> None:
        self.links.extend(links)

    async def move_head(self, head: ChainHead) -> None:
        self.head = head

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None:
        self.dead.extend(rejected)

    async def anchor(self, anchor: Anchor) -> None:
        self.anchors.append(anchor)


async def _stream(links: Iterable[ChainLink]) -> AsyncIterator[ChainLink]:
    for link in links:
        yield link


async def test_a_batch_joins_the_chain_and_moves_the_head() -> None:
    trail = MemoryTrail()
    first = await record_batch(trail.open, [entry(1), entry(2)], [], NOW)
    second = await record_batch(trail.open, [entry(3)], [], NOW)
    assert (first.appended, second.appended) == (2, 1)
    assert [link.seq for link in trail.links] == [1, 2, 3]
    assert trail.head == ChainHead(3, trail.links[-1].hash) == second.head
    assert trail.links == extend(EMPTY, [entry(1), entry(2), entry(3)], NOW)


async def test_a_redelivered_batch_adds_nothing() -> None:
    trail = MemoryTrail()
    await record_batch(trail.open, [entry(1), entry(2)], [], NOW)
    again = await record_batch(trail.open, [entry(2), entry(1), entry(2)], [], NOW)
    assert (again.appended, again.repeated) == (0, 3)
    assert [link.seq for link in trail.links] == [1, 2]


async def test_dead_letters_commit_with_the_batch() -> None:
    trail = MemoryTrail()
    bad = Rejected(InboundRecord("audit", 0, 7, None, b"x"), "Invalid JSON")
    outcome = await record_batch(trail.open, [entry(1)], [bad], NOW)
    assert (outcome.appended, list(outcome.dead_letters)) == (1, [bad])
    assert trail.dead == [bad]


async def test_an_intact_trail_verifies_with_its_count_and_head() -> None:
    links = extend(EMPTY, [entry(i) for i in range(1, 4)], NOW)
    seen: list[int] = []
    verdict = await verify_trail(_stream(links), ChainHead(3, links[-1].hash), seen.append)
    assert verdict == Verified(3, ChainHead(3, links[-1].hash))
    assert str(verdict) == f"audit chain verified: 3 records, head {links[-1].hash.hex()}"
    assert seen[-1] == 3


async def test_an_empty_trail_verifies() -> None:
    assert str(await verify_trail(_stream([]), EMPTY)) == (
        f"audit chain verified: 0 records, head {bytes(32).hex()}")


async def test_a_tampered_record_is_named() -> None:
    links = extend(EMPTY, [entry(i) for i in range(1, 4)], NOW)
    record = links[1].record.replace(amount_fen=5)
    links[1] = dataclasses.replace(links[1], record=record)
    verdict = await verify_trail(_stream(links), ChainHead(3, links[-1].hash))
    assert isinstance(verdict, Broken)
    assert str(verdict) == (
        "audit record seq=2 (audit_id=aud-2) does not fit the chain: hash differs")


@pytest.mark.parametrize("keep", [2, 4])
async def test_a_trail_that_ends_elsewhere_than_its_head_is_refused(keep: int) -> None:
    links = extend(EMPTY, [entry(i) for i in range(1, 5)], NOW)
    head = ChainHead(3, links[2].hash)
    verdict = await verify_trail(_stream(links[:keep]), head)
    assert isinstance(verdict, HeadMismatch)
    assert str(verdict).startswith(f"audit chain head records seq=3 (hash {links[2].hash.hex()})")
    assert f"but the trail ends at seq={keep}" in str(verdict)
