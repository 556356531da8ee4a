"""Record a batch: lock, load the slice, decide each event with the engine, write it all.

One store transaction per batch holds the effects (payouts, limit usage, budget draws,
registry rows, holds), the processed-event markers and the outbox rows, so a crash anywhere
leaves either all of it or none of it, and a redelivered event finds its marker.

Locks are taken in one global order, each set sorted: birthdays, cards, purchases, members,
budgets.
What a lock guards is read only after it is taken, so of two batches that meet on a key the
one that commits second sees the other (a hold and its release, a tick and a late
registration of that birthday).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from engine.apply import apply
from engine.catalogue import Catalogue
from engine.decide import decide
from engine.decisions import Decision
from engine.outcome import Outcome
from engine.state import (
    Arrival,
    BudgetKey,
    CardHolding,
    CardStop,
    Ledger,
    Member,
    Purchase,
    Usage,
    UsageKey,
)
from schemas.card_transactions import CardTransaction
from schemas.decode import InboundEvent
from schemas.member_enrolment import MemberRegistered, MemberUpdated
from services.ledger.service_layer import published
from services.ledger.service_layer import slice as keys_of_slice
from services.ledger.service_layer.store import LedgerStore, LedgerTransaction
from services.runtime.records import Decoded, Rejected, utc_now


@dataclass
class BatchReport:
    """What a batch did, for metrics and logs."""

    decisions: list[Decision] = field(default_factory=list)
    duplicates: int = 0
    dead_letters: list[Rejected] = field(default_factory=list)


class Recorder:
    """The service layer of the ledger: load, decide, record."""

    def __init__(self, store: LedgerStore, catalogue: Catalogue, consumer: str,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.catalogue = catalogue
        self.consumer = consumer
        self.clock = clock

    async def record(self, decoded: Sequence[Decoded], rejected: Sequence[Rejected]) -> BatchReport:
        async with self.store.transaction() as tx:
            report = await self._record(tx, decoded)
            await tx.record_dead_letters(self.consumer, rejected, self.clock())
        report.dead_letters = list(rejected)
        return report

    async def _record(self, tx: LedgerTransaction, decoded: Sequence[Decoded]) -> BatchReport:
        ledger = Ledger()
        ledger.processed |= await tx.processed([d.event.event_id for d in decoded])
        fresh = [d for d in decoded if d.event.event_id not in ledger.processed]
        report = BatchReport(duplicates=len(decoded) - len(fresh))
        if not fresh:
            return report
        events = [d.event for d in fresh]
        await load_slice(tx, ledger, events, self.catalogue)
        merchants = _merchants(events, ledger)
        outcomes = []
        for d in fresh:
            arrival = Arrival(d.record.topic, d.record.partition, d.record.offset)
            outcome = decide(d.event, ledger, self.catalogue, arrival)
            apply(ledger, outcome)
            outcomes.append(outcome)
        merged = merge(outcomes)
        money = published.payouts_of(merged.decisions)
        await tx.save(merged, _names(events))
        await tx.save_payouts(money, [p.trace_json for p in money], merchants)
        await tx.write_outbox(published.outbox_messages(merged.decisions, money))
        report.decisions = list(merged.decisions)
        return report


async def load_slice(tx: LedgerTransaction, ledger: Ledger, events: Sequence[InboundEvent],
                     catalogue: Catalogue) -> None:
    """Lock and load into `ledger` every row that deciding `events` in order can read."""
    keys = keys_of_slice.keys_of(events)
    # Birthdays: a tick and a registration of the same birthday see each other (rule 4).
    await tx.lock(f"birthday:{m:02d}-{d:02d}" for m, d in keys.birthday_locks())
    await tx.load_ticks(ledger, keys.birthdays_registered)
    keys.days |= set(ledger.days_started)
    # Cards, and what hangs on them: held swipes, their purchases and the refunds held for those.
    await tx.lock(f"card:{c}" for c in keys.card_ids)
    await tx.load_cards(ledger, keys.card_ids)
    asked: dict[str, set[str]] = {}
    await _load_held(tx, ledger, keys, ("card",), asked)
    # A refund may come on another card than its purchase (a card replaced), in a batch of
    # another instance: the purchase's row, and a refund held for it, are guarded by the
    # purchase's own lock, not by either card's.
    await tx.lock(f"purchase:{t}" for t in keys.transaction_ids)
    await _load_held(tx, ledger, keys, ("card", "purchase"), asked)
    await tx.load_purchases(ledger, keys.transaction_ids)
    keys_of_slice.add_purchases(keys, ledger.purchases.values())
    keys.member_ids |= {h.member_id for hs in ledger.cards.values() for h in hs}
    # Members, including everyone whose birthday a day_started may pay, then what waits on them.
    await tx.load_birthday_members(ledger, keys.birthdays())
    keys.member_ids |= set(ledger.members)
    await tx.lock(f"member:{m}" for m in keys.member_ids)
    await tx.load_members(ledger, keys.member_ids)
    await _load_held(tx, ledger, keys, ("member",), {})
    usage_keys = [k for p in ledger.purchases.values() for k in p.usage_keys]
    await tx.load_usage(ledger, keys.member_ids, keys.periods(), usage_keys)
    # Budgets of every programme in every year the batch can touch.
    years = keys.years() | {p.budget_year for p in ledger.purchases.values() if p.budget_year}
    await tx.lock_budgets(ledger, ((p.name, y) for p in catalogue.programmes for y in years))


async def _load_held(tx: LedgerTransaction, ledger: Ledger, keys: keys_of_slice.SliceKeys,
                     kinds: tuple[str, ...], asked: dict[str, set[str]]) -> None:
    """Held events of `kinds` these events may release, and those that wait on them in turn
    (a refund held for a purchase that is itself held for its card); `asked` keeps the keys
    asked for already."""
    while wanted := keys.held_keys(kinds, asked):
        keys_of_slice.add_held(keys, await tx.load_held(ledger, wanted))  # type: ignore[arg-type]


def merge(outcomes: Sequence[Outcome]) -> Outcome:
    """One outcome with the effects of all, in order (deltas added, rows last-wins)."""
    usage: dict[UsageKey, Usage] = {}
    budget: dict[BudgetKey, int] = {}
    members: dict[str, Member] = {}
    cards: dict[str, tuple[CardHolding, ...]] = {}
    purchases: dict[str, Purchase] = {}
    card_stops: dict[str, tuple[CardStop, ...]] = {}
    days_started: dict[date, str] = {}
    for o in outcomes:
        for key, delta in o.usage.items():
            was = usage.get(key, Usage())
            usage[key] = Usage(was.count + delta.count, was.fen + delta.fen)
        for bkey, fen in o.budget.items():
            budget[bkey] = budget.get(bkey, 0) + fen
        members.update(o.members)
        cards.update(o.cards)
        purchases.update(o.purchases)
        card_stops.update(o.card_stops)
        for day, event_id in o.days_started.items():
            days_started.setdefault(day, event_id)
    return Outcome(
        decisions=tuple(d for o in outcomes for d in o.decisions),
        processed=tuple(e for o in outcomes for e in o.processed),
        usage=usage, budget=budget, members=members, cards=cards, purchases=purchases,
        card_stops=card_stops, days_started=days_started,
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
