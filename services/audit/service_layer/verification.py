"""Walk the whole chain in seq order and say whether every link fits, and the head with it;
with anchors kept outside the database, also whether the chain still passes through them."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import Break, ChainHead, ChainLink, ChainWalk

PROGRESS_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class Verified:
    count: int
    head: ChainHead
    format_1_links: int = 0
    anchors: Sequence[Anchor] = ()

    def __str__(self) -> str:
        lines = [f"audit chain verified: {self.count} records, head {self.head.hash.hex()}"]
        if self.format_1_links:
            lines.append(f"  seq 1-{self.format_1_links} are in format 1: their recorded_at "
                         "is not hashed (covered since migration 0006)")
        lines += [f"  passes through the anchor of {anchor}" for anchor in self.anchors]
        return "\n".join(lines)


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


@dataclass(frozen=True, slots=True)
class Unanchored:
    """Every link fits, but the chain does not pass through an anchor signed earlier: it was
    rewritten (and re-hashed) at or before the anchor's seq, or cut short of it."""

    anchor: Anchor
    found: ChainHead | None
    """The trail's link at the anchor's seq; None when the trail ends before it."""

    def __str__(self) -> str:
        if self.found is None:
            return (f"audit chain ends before the anchor of {self.anchor}: "
                    "records were removed")
        return (f"audit chain does not pass through the anchor of {self.anchor}: the trail "
                f"has hash {self.found.hash.hex()} there, so a record at or before "
                f"seq={self.anchor.head.seq} was rewritten and the links re-hashed")


Verdict: TypeAlias = Verified | Broken | HeadMismatch | Unanchored


async def verify_trail(links: AsyncIterable[ChainLink], recorded: ChainHead,
                       advance: Callable[[int], None] = lambda _done: None,
                       anchors: Sequence[Anchor] = ()) -> Verdict:
    """Follow `links` (the whole trail in seq order) up to the recorded head, checking it
    passes through each of `anchors` (signatures already checked)."""
    walk = ChainWalk()
    waiting: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        waiting.setdefault(anchor.head.seq, []).append(anchor)
    count = 0
    async for link in links:
        broken = walk.follow(link)
        if broken is not None:
            return Broken(broken)
        for anchor in waiting.pop(link.seq, ()):
            if anchor.head != walk.head:
                return Unanchored(anchor, walk.head)
        count += 1
        if count % PROGRESS_EVERY == 0:
            advance(count)
    advance(count)
    if waiting:
        return Unanchored(waiting[min(waiting)][0], None)
    if walk.head != recorded:
        return HeadMismatch(recorded, walk.head)
    return Verified(count, walk.head, walk.format_1_links, tuple(anchors))
