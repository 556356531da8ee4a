"""Append one consumed batch to the chain, in one transaction, in consumption order.

The chain head is locked before anything else: several instances of the service then append
to one chain one batch at a time, and none holds a lock another is waiting for. A record
already in the trail (a redelivery or a resend: same `audit_id`) is skipped under that lock,
so it adds nothing and leaves no gap. The batch's dead letters commit in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.audit.domain.chain import ChainHead, ChainLink, Entry, appendable, extend
from services.runtime.records import Rejected


class AuditTrail(Protocol):
    """The trail inside one open transaction."""

    async def lock_head(self) -> ChainHead: ...

    async def recorded(self, audit_ids: Sequence[str]) -> set[str]: ...

    async def append(self, links: Sequence[ChainLink]) -> None: ...

    async def move_head(self, head: ChainHead) -> None: ...

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None: ...


OpenTrail = Callable[[], AbstractAsyncContextManager[AuditTrail]]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    appended: int
    repeated: int
    dead_letters: Sequence[Rejected]
    head: ChainHead
    """The chain head after the batch."""


async def record_batch(open_trail: OpenTrail, entries: Sequence[Entry],
                       rejected: Sequence[Rejected], now: datetime) -> BatchOutcome:
    """Record one consumed batch (see `intake.admit`): all of it commits, or none."""
    async with open_trail() as trail:
        head = await trail.lock_head()
        if rejected:
            await trail.dead_letter(rejected, now)
        recorded = await trail.recorded([e.record.audit_id for e in entries]) if entries else set()
        links = extend(head, appendable(entries, recorded))
        if links:
            await trail.append(links)
            head = ChainHead(links[-1].seq, links[-1].hash)
            await trail.move_head(head)
    return BatchOutcome(len(links), len(entries) - len(links), rejected, head)
