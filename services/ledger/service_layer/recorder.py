"""Record a batch: lock, load the slice, decide each event with the engine, write it all.

One PostgreSQL transaction per batch holds the effects (payouts, limit usage, budget draws,
registry rows, holds), the processed-event markers and the outbox rows, so a crash anywhere
leaves either all of it or none of it, and a redelivered event finds its marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from puhui.engine.apply import apply
from puhui.engine.catalogue import Catalogue
from puhui.engine.decide import decide
from puhui.engine.decisions import Decision
from puhui.engine.outcome import Outcome
from puhui.engine.state import (
    BudgetKey,
    CardHolding,
    Ledger,
    Member,
    Purchase,
    Usage,
    UsageKey,
)
from schemas.card_transactions import CardTransaction
from schemas.decode import InboundEvent
from schemas.member_enrolment import MemberRegistered, MemberUpdated
from services.ledger.adapters import repository as repo
from services.ledger.service_layer import published
from services.ledger.service_layer import slice as keys_of_slice
from services.runtime import outbox
from services.runtime.dead_letters import record_dead_letters
from services.runtime.records import Decoded, Rejected, utc_now


@dataclass
class BatchReport:
    """What a batch did, for metrics and logs."""

    decisions: list[Decision] = field(default_factory=list)
    duplicates: int = 0
    dead_letters: list[Rejected] = field(default_factory=list)


class Recorder:
    """The service layer of the ledger: load, decide, record."""

    def __init__(self, pool: asyncpg.Pool, catalogue: Catalogue, consumer: str) -> None:
        self.pool = pool
        self.catalogue = catalogue
        self.consumer = consumer

    async def record(self, decoded: Sequence[Decoded], rejected: Sequence[Rejected]) -> BatchReport:
        async with (repo.translate_errors("record a batch"), self.pool.acquire() as conn,
                    conn.transaction()):
            report = await self._record(conn, decoded)
            await record_dead_letters(conn, self.consumer, rejected, utc_now())
        report.dead_letters = list(rejected)
        return report

    async def _record(self, conn: asyncpg.Connection, decoded: Sequence[Decoded]) -> BatchReport:
        events = [d.event for d in decoded]
        ledger = Ledger()
        ledger.processed |= await repo.processed(conn, [e.event_id for e in events])
        fresh = [e for e in events if e.event_id not in ledger.processed]
        report = BatchReport(duplicates=len(events) - len(fresh))
        if not fresh:
            return report
        await self._load(conn, ledger, fresh)
        merchants = _merchants(fresh, ledger)
        outcomes = []
        for event in fresh:
            outcome = decide(event, ledger, self.catalogue)
            apply(ledger, outcome)
            outcomes.append(outcome)
        merged = merge(outcomes)
        money = published.payouts_of(merged.decisions)
        await repo.save(conn, merged, _names(fresh))
        await repo.save_payouts(conn, [p.payout for p in money], [p.trace_json for p in money],
                                merchants)
        await outbox.write(conn, published.outbox_messages(merged.decisions, money))
        report.decisions = list(merged.decisions)
        return report

    async def _load(self, conn: asyncpg.Connection, ledger: Ledger,
                    events: Sequence[InboundEvent]) -> None:
        keys = keys_of_slice.keys_of(events)
        # Phase 1: cards (and what hangs on them), locked before any member.
        await repo.lock(conn, (f"card:{c}" for c in keys.card_ids))
        await repo.load_cards(conn, ledger, keys.card_ids)
        await self._load_held(conn, ledger, keys)
        await repo.load_purchases(conn, ledger, keys.transaction_ids)
        keys_of_slice.add_purchases(keys, ledger.purchases.values())
        keys.member_ids |= {h.member_id for hs in ledger.cards.values() for h in hs}
        # Phase 2: members, including everyone whose birthday a day_started may pay.
        await repo.load_birthday_members(conn, ledger, keys.birthdays())
        keys.member_ids |= set(ledger.members)
        await repo.lock(conn, (f"member:{m}" for m in keys.member_ids))
        await repo.load_members(conn, ledger, keys.member_ids)
        usage_keys = [k for p in ledger.purchases.values() for k in p.usage_keys]
        await repo.load_usage(conn, ledger, keys.member_ids, keys.periods(), usage_keys)
        # Phase 3: the budgets of every programme in every year the batch can touch.
        years = keys.years() | {p.budget_year for p in ledger.purchases.values() if p.budget_year}
        await repo.lock_budgets(conn, ledger, ((p.name, y) for p in self.catalogue.programmes
                                               for y in years))

    async def _load_held(self, conn: asyncpg.Connection, ledger: Ledger,
                         keys: keys_of_slice.SliceKeys) -> None:
        """Held events these events may release, and those that wait on them in turn
        (a refund held for a purchase that is itself held for its card)."""
        asked: set[tuple[str, str]] = set()
        while wanted := keys.held_keys() - asked:
            asked |= wanted
            keys_of_slice.add_held(keys, await repo.load_held(conn, ledger, wanted))


def merge(outcomes: Sequence[Outcome]) -> Outcome:
    """One outcome with the effects of all, in order (deltas added, rows last-wins)."""
    usage: dict[UsageKey, Usage] = {}
    budget: dict[BudgetKey, int] = {}
    members: dict[str, Member] = {}
    cards: dict[str, tuple[CardHolding, ...]] = {}
    purchases: dict[str, Purchase] = {}
    for o in outcomes:
        for key, delta in o.usage.items():
            was = usage.get(key, Usage())
            usage[key] = Usage(was.count + delta.count, was.fen + delta.fen)
        for bkey, fen in o.budget.items():
            budget[bkey] = budget.get(bkey, 0) + fen
        members.update(o.members)
        cards.update(o.cards)
        purchases.update(o.purchases)
    return Outcome(
        decisions=tuple(d for o in outcomes for d in o.decisions),
        processed=tuple(e for o in outcomes for e in o.processed),
        usage=usage, budget=budget, members=members, cards=cards, purchases=purchases,
        holds_added=tuple(i for o in outcomes for i in o.holds_added),
        holds_released=tuple(i for o in outcomes for i in o.holds_released))


def _merchants(events: Sequence[InboundEvent], ledger: Ledger) -> dict[str, tuple[str, str]]:
    """event id -> (merchant id, name) of every swipe this batch may decide, held ones too,
    so a card payout can be found by its merchant."""
    swipes = [e for e in events if isinstance(e, CardTransaction)]
    swipes += [i.event for items in ledger.held.values() for i in items
               if isinstance(i.event, CardTransaction)]
    return {s.event_id: (s.merchant_id, s.merchant_name) for s in swipes}


def _names(events: Sequence[InboundEvent]) -> dict[str, str]:
    """Members' names from the registry events (the engine keeps no personal data)."""
    names = {}
    for event in events:
        if isinstance(event, MemberRegistered | MemberUpdated) and event.name:
            names[event.member_id] = event.name
    return names
