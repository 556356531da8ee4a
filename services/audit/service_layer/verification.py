"""Walk the whole chain in seq order and say whether every link fits, and the head with it."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from typing import TypeAlias

from services.audit.domain.chain import Break, ChainHead, ChainLink, ChainWalk

PROGRESS_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class Verified:
    count: int
    head: ChainHead

    def __str__(self) -> str:
        return f"audit chain verified: {self.count} records, head {self.head.hash.hex()}"


@dataclass(frozen=True, slots=True)
class Broken:
    at: Break

    def __str__(self) -> str:
        return (f"audit record seq={self.at.seq} (audit_id={self.at.audit_id}) "
                f"does not fit the chain: {self.at.problem}")


@dataclass(frozen=True, slots=True)
class HeadMismatch:
    """Every link fits, but the chain ends elsewhere than its recorded head (a cut tail)."""

    recorded: ChainHead
    reached: ChainHead

    def __str__(self) -> str:
        return (f"audit chain head records seq={self.recorded.seq} "
                f"(hash {self.recorded.hash.hex()}), but the trail ends at "
                f"seq={self.reached.seq} (hash {self.reached.hash.hex()})")


Verdict: TypeAlias = Verified | Broken | HeadMismatch


async def verify_trail(links: AsyncIterable[ChainLink], recorded: ChainHead,
                       advance: Callable[[int], None] = lambda _done: None) -> Verdict:
    """Follow `links` (the whole trail in seq order) up to the recorded head."""
    walk = ChainWalk()
    count = 0
    async for link in links:
        broken = walk.follow(link)
        if broken is not None:
            return Broken(broken)
        count += 1
        if count % PROGRESS_EVERY == 0:
            advance(count)
    advance(count)
    if walk.head != recorded:
        return HeadMismatch(recorded, walk.head)
    return Verified(count, walk.head)
