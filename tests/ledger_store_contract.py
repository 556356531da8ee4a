"""The contract of a ledger store (services/ledger/service_layer/store.py), one suite run
against both implementations: the in-memory twin in the unit tier
(tests/unit/ledger/test_memory_store.py) and PostgreSQL in the integration tier
(tests/integration/test_pg_store.py).

Each check gets a fresh store factory and a prefix unique to the run, so the PostgreSQL one
can share a database with other tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Protocol

import pytest

from engine.outcome import Outcome
from engine.state import (
    Arrival,
    CardHolding,
    CardStop,
    HeldItem,
    Ledger,
    Member,
    Membership,
    Purchase,
    Usage,
    UsageKey,
)
from schemas.card_transactions import CardTransaction
from schemas.payouts import Payout
from services.ledger.service_layer.store import LedgerStore
from services.runtime.outbox import OutboxMessage
from services.runtime.records import InboundRecord, Rejected


class Peek(Protocol):
    """What a check reads beyond the protocol: each implementation's tests provide it."""

    async def payout_amounts(self, prefix: str) -> list[int]: ...

    async def dead_letters_at(self, topic: str, partition: int, offset: int) -> tuple[int, int]:
        """(rows stored, dead-letter outbox messages) for that source position."""
        ...


Check = Callable[[LedgerStore, str, Peek], Awaitable[None]]
AT = datetime(2027, 3, 10, 1, tzinfo=UTC)
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def swipe(p: str, n: int, card: str) -> CardTransaction:
    return CardTransaction.model_validate({
        "event_id": event_id(p, n), "type": "purchase", "transaction_id": f"{p}-t{n}",
        "card_id": card, "amount_fen": 200, "currency": "CNY", "merchant_id": "m",
        "merchant_name": "商户", "mcc": "4111", "occurred_at": AT.isoformat()})


def event_id(p: str, n: int) -> str:
    """A UUID made of the run's prefix (32 hex digits) and `n`."""
    return str(uuid.UUID(p[:24] + f"{n:08x}"))


def _held(p: str, n: int, offset: int) -> HeldItem:
    arrival = Arrival("card.transactions", 2, offset)
    return HeldItem(swipe(p, n, f"{p}-c1"), "card", f"{p}-c1", arrival)


@check
async def processed_markers_are_found_after_commit(store: LedgerStore, p: str, peek: Peek) -> None:
    async with store.transaction() as tx:
        assert await tx.processed([f"{p}-a"]) == set()
        await tx.save(Outcome(processed=(f"{p}-a", f"{p}-b")), {})
    async with store.transaction() as tx:
        assert await tx.processed([f"{p}-a", f"{p}-b", f"{p}-c"]) == {f"{p}-a", f"{p}-b"}


@check
async def a_transaction_that_raises_leaves_nothing(store: LedgerStore, p: str, peek: Peek) -> None:
    class Boom(Exception):
        pass

    async def fail_midway() -> None:
        async with store.transaction() as tx:
            await tx.save(Outcome(processed=(f"{p}-x",)), {})
            await tx.write_outbox([OutboxMessage("payouts", b"k", b"v")])
            raise Boom

    with pytest.raises(Boom):
        await fail_midway()
    async with store.transaction() as tx:
        assert await tx.processed([f"{p}-x"]) == set()


@check
async def held_events_come_back_in_arrival_order_until_released(
    store: LedgerStore, p: str, peek: Peek,
) -> None:
    items = [_held(p, 1, 30), _held(p, 2, 10), _held(p, 3, 20)]
    async with store.transaction() as tx:
        await tx.save(Outcome(holds_added=tuple(items)), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        found = await tx.load_held(ledger, [("card", f"{p}-c1"), ("card", f"{p}-none")])
        assert [i.event_id for i in found] == [event_id(p, 2), event_id(p, 3), event_id(p, 1)]
        assert found[0] == items[1]
        assert [i.arrival.offset for i in ledger.held[("card", f"{p}-c1")]] == [10, 20, 30]
        await tx.save(Outcome(holds_released=(items[1],)), {})
    async with store.transaction() as tx:
        left = await tx.load_held(Ledger(), [("card", f"{p}-c1")])
        assert [i.event_id for i in left] == [event_id(p, 3), event_id(p, 1)]


@check
async def held_and_released_in_one_batch_is_not_held(
    store: LedgerStore, p: str, peek: Peek,
) -> None:
    item = _held(p, 1, 5)
    async with store.transaction() as tx:
        await tx.save(Outcome(holds_added=(item,), holds_released=(item,)), {})
    async with store.transaction() as tx:
        assert await tx.load_held(Ledger(), [("card", f"{p}-c1")]) == []


@check
async def cards_and_their_early_stops(store: LedgerStore, p: str, peek: Peek) -> None:
    holding = (CardHolding(f"{p}-m1", AT, None, None),)
    stop = (CardStop(f"{p}-m2", AT, "card_blocked"),)
    async with store.transaction() as tx:
        await tx.save(Outcome(cards={f"{p}-c1": holding}, card_stops={f"{p}-c2": stop}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_cards(ledger, [f"{p}-c1", f"{p}-c2", f"{p}-c3"])
        assert ledger.cards == {f"{p}-c1": holding}
        assert ledger.card_stops == {f"{p}-c2": stop}
        await tx.save(Outcome(card_stops={f"{p}-c2": ()}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_cards(ledger, [f"{p}-c2"])
        assert ledger.card_stops == {}


@check
async def ticks_are_found_by_the_birthdays_they_celebrate(
    store: LedgerStore, p: str, peek: Peek,
) -> None:
    # days_started is keyed by the day alone and shared by the tests of one database: a run
    # takes a common year of the distant past (before anyone's registration, so it owes no
    # member a gift) that no tick holds yet
    async with store.transaction() as tx:
        taken = Ledger()
        await tx.load_ticks(taken, [(2, 29), (6, 15)])
    year = 1100 + int(p[-6:], 16) % 700
    while year % 4 == 0 or any(d.year == year for d in taken.days_started):
        year += 1
    days = {date(year, 2, 28): f"{p}-d1", date(year, 6, 15): f"{p}-d2",
            date(year, 6, 16): f"{p}-d3"}
    async with store.transaction() as tx:
        await tx.save(Outcome(days_started=days), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_ticks(ledger, [(2, 29), (6, 15)])
        mine = {d: e for d, e in ledger.days_started.items() if d.year == year}
        assert mine == {date(year, 2, 28): f"{p}-d1", date(year, 6, 15): f"{p}-d2"}
        await tx.save(Outcome(days_started={date(year, 6, 15): f"{p}-other"}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_ticks(ledger, [(6, 15)])
        assert ledger.days_started[date(year, 6, 15)] == f"{p}-d2"  # the first tick is kept


@check
async def members_by_id_and_by_birthday(store: LedgerStore, p: str, peek: Peek) -> None:
    born = date(1990, 12, 31)
    member = Member(f"{p}-m1", born, "b1", (Membership(AT, None),))
    async with store.transaction() as tx:
        await tx.save(Outcome(members={member.member_id: member}), {member.member_id: "张三"})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_members(ledger, [f"{p}-m1", f"{p}-m9"])
        assert ledger.members == {f"{p}-m1": member}
        by_day = Ledger()
        await tx.load_birthday_members(by_day, [(12, 31)])
        assert by_day.members[f"{p}-m1"] == member
        assert f"{p}-m1" in by_day.birthdays[(12, 31)]


@check
async def usage_by_member_and_period_or_exact_key(store: LedgerStore, p: str, peek: Peek) -> None:
    month = UsageKey(f"{p}-m1", "green_commute", "monthly_money", "2027-03")
    day = UsageKey(f"{p}-m1", "green_commute", "daily_rides", "2027-03-10")
    other = UsageKey(f"{p}-m2", "books", "yearly_money", "2026")
    async with store.transaction() as tx:
        await tx.save(Outcome(usage={month: Usage(2, 200), day: Usage(2, 200),
                                     other: Usage(1, 900)}), {})
        await tx.save(Outcome(usage={month: Usage(-1, -100)}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_usage(ledger, [f"{p}-m1"], ["2027-03"], [other])
        assert ledger.usage == {month: Usage(1, 100), other: Usage(1, 900)}


@check
async def usage_added_to_without_being_read_first(store: LedgerStore, p: str, peek: Peek) -> None:
    key = UsageKey(f"{p}-m1", "cinema", "monthly_amount", "2027-03")
    for _ in range(2):  # the second batch writes the row without having loaded it
        async with store.transaction() as tx:
            await tx.save(Outcome(usage={key: Usage(1, 300)}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_usage(ledger, [f"{p}-m1"], ["2027-03"], [])
        assert ledger.usage == {key: Usage(2, 600)}


AWKWARD = ('"', "\\", ",", "{}", " ", "'", "会员\u3000号", "\t")
"""Characters an array literal or a JSON text would have to escape, in the keys of lookups."""


@check
async def keys_with_awkward_characters_are_found(store: LedgerStore, p: str, peek: Peek) -> None:
    ids = [f"{p}-{odd}-{n}" for n, odd in enumerate(AWKWARD)]
    members = {m: Member(m, None, "b1", (Membership(AT, None),)) for m in ids}
    usage = {UsageKey(m, "cinema", "monthly_amount", f"2027-03{m}"): Usage(1, 100) for m in ids}
    cards = {c: (CardHolding(c, AT, None, None),) for c in ids}
    # held for cards not issued (so that nothing waits on a card that is known)
    holds = tuple(_held_for(p, n, f"{c}-unissued") for n, c in enumerate(ids))
    async with store.transaction() as tx:
        await tx.lock(ids)
        await tx.save(Outcome(processed=tuple(ids), members=members, usage=usage, cards=cards,
                              holds_added=holds), {})
    async with store.transaction() as tx:
        assert await tx.processed([*ids, f"{p}-none"]) == set(ids)
        ledger = Ledger()
        await tx.load_members(ledger, ids)
        await tx.load_cards(ledger, ids)
        await tx.load_usage(ledger, ids, [k.period for k in usage], [])
        exact = Ledger()
        await tx.load_usage(exact, [], [], list(usage))
        held = await tx.load_held(Ledger(), [("card", h.key) for h in holds])
        await tx.save(Outcome(holds_released=holds), {})  # nothing left held for later checks
    assert ledger.members == members
    assert ledger.cards == cards
    assert ledger.usage == usage == exact.usage
    assert sorted(i.key for i in held) == sorted(h.key for h in holds)


def _held_for(p: str, n: int, card: str) -> HeldItem:
    return HeldItem(swipe(p, n, card), "card", card, Arrival("card.transactions", 0, n))


@check
async def budgets_start_at_zero_and_add_up(store: LedgerStore, p: str, peek: Peek) -> None:
    key = (f"{p}-prog", 2027)
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.lock_budgets(ledger, [key])
        assert ledger.budget_spent == {key: 0}
        await tx.save(Outcome(budget={key: 500}), {})
        await tx.save(Outcome(budget={key: -200}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.lock_budgets(ledger, [key])
        assert ledger.budget_spent == {key: 300}


@check
async def purchases_round_trip(store: LedgerStore, p: str, peek: Peek) -> None:
    keys = (UsageKey(f"{p}-m1", "books", "yearly_money", "2027"),)
    bought = Purchase(f"{p}-t1", f"{p}-e1", f"{p}-m1", "books", "2027", 5000, 1000, 2000, 400,
                      keys, 2027, True, False, (f"{p}-r1",))
    async with store.transaction() as tx:
        await tx.save(Outcome(purchases={bought.transaction_id: bought}), {})
    async with store.transaction() as tx:
        ledger = Ledger()
        await tx.load_purchases(ledger, [f"{p}-t1", f"{p}-t2"])
        assert ledger.purchases == {f"{p}-t1": bought}


@check
async def a_payout_id_is_stored_once(store: LedgerStore, p: str, peek: Peek) -> None:
    payout = Payout(payout_id=f"{p}-pay", kind="payout", member_id=f"{p}-m1",
                    programme="books", amount_fen=100, source_event_id=f"{p}-e1",
                    transaction_id=f"{p}-t1", period="2027", occurred_at=AT, trace=[])
    async with store.transaction() as tx:
        await tx.save_payouts([payout], ["[]"], {f"{p}-e1": ("m", "商户")})
    async with store.transaction() as tx:
        await tx.save_payouts([payout.model_copy(update={"amount_fen": 999})], ["[]"], {})
    assert await peek.payout_amounts(p) == [100]


@check
async def a_dead_letter_is_stored_and_sent_once(store: LedgerStore, p: str, peek: Peek) -> None:
    offset = int(p[-8:], 16)
    rejected = [Rejected(InboundRecord("card.transactions", 1, offset, b"k", b"{bad"), "bad")]
    for _ in range(2):
        async with store.transaction() as tx:
            await tx.record_dead_letters("test", rejected, AT)
    assert await peek.dead_letters_at("card.transactions", 1, offset) == (1, 1)
