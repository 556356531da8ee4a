"""Append one consumed batch to the chain, in one transaction, in consumption order.

The chain head is locked before anything else: several instances of the service then append
to one chain one batch at a time, and none holds a lock another is waiting for. A record
already in the trail (a redelivery or a resend: same `audit_id`) is skipped under that lock,
so it adds nothing and leaves no gap. The batch's dead letters commit in the same transaction,
and so does an anchor of the new head when one is due (anchoring.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import ChainHead, ChainLink, Entry, appendable, extend
from services.audit.service_layer.anchoring import Anchoring
from services.runtime.records import Rejected


class AuditTrail(Protocol):
    """The trail inside one open transaction."""

    async def lock_head(self) -> ChainHead: ...

    async def recorded(self, audit_ids: Sequence[str]) -> set[str]: ...

    async def append(self, links: Sequence[ChainLink]) -> None: ...

    async def move_head(self, head: ChainHead) -> None: ...

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None: ...

    async def anchor(self, anchor: Anchor) -> None:
        """Keep `anchor` and send it to topic `audit`."""


OpenTrail = Callable[[], AbstractAsyncContextManager[AuditTrail]]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    appended: int
    repeated: int
    dead_letters: Sequence[Rejected]
    head: ChainHead
    """The chain head after the batch."""


async def record_batch(open_trail: OpenTrail, entries: Sequence[Entry],
                       rejected: Sequence[Rejected], now: datetime,
                       anchoring: Anchoring | None = None) -> BatchOutcome:
    """Record one consumed batch (see `intake.admit`), recorded at `now`: all of it commits,
    or none."""
    anchor = None
    async with open_trail() as trail:
        head = await trail.lock_head()
        if rejected:
            await trail.dead_letter(rejected, now)
        recorded = await trail.recorded([e.record.audit_id for e in entries]) if entries else set()
        links = extend(head, appendable(entries, recorded), now)
        if links:
            await trail.append(links)
            head = ChainHead(links[-1].seq, links[-1].hash)
            await trail.move_head(head)
            anchor = anchoring.due(head, now) if anchoring is not None else None
            if anchor is not None:
                await trail.anchor(anchor)
    if anchoring is not None and anchor is not None:
        anchoring.made(anchor)
    return BatchOutcome(len(links), len(entries) - len(links), rejected, head)
