"""The ledger store's in-memory twin, for the unit tier and the property tests.

It keeps what the PostgreSQL tables keep, as one full `Ledger` plus the payouts, outbox and
dead letters, and answers every `load_*` with just the rows asked for, the way the SQL
does, so a slice that misses a row misses it here too. A transaction works on the live
tables and restores a copy taken at its start if it raises. Locks are not needed: the
store never suspends, so on one event loop a transaction runs whole before the next.
It passes the same contract tests as `PgLedgerStore` (tests/ledger_store_contract.py).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from engine.apply import apply
from engine.outcome import Outcome
from engine.periods import MonthDay, celebrated_on
from engine.state import BudgetKey, HeldItem, HeldKey, Ledger, UsageKey
from schemas.payouts import Payout
from services.ledger.service_layer.store import PayoutColumns
from services.runtime.outbox import OutboxMessage
from services.runtime.records import Rejected

Position = tuple[str, int, int]


@dataclass
class StoredPayout:
    payout: PayoutColumns
    trace_json: str
    merchant: tuple[str, str] | None

    def as_payout(self) -> Payout:
        """The row as the contract's `Payout`, validated (what a reader of the table gets)."""
        p = self.payout
        return Payout.model_validate({
            "payout_id": p.payout_id, "member_id": p.member_id, "programme": p.programme,
            "amount_fen": p.amount_fen, "kind": p.kind, "source_event_id": p.source_event_id,
            "transaction_id": p.transaction_id, "period": p.period,
            "occurred_at": p.occurred_at, "trace": orjson.loads(self.trace_json)})


@dataclass
class MemoryTables:
    ledger: Ledger = field(default_factory=Ledger)
    names: dict[str, str] = field(default_factory=dict)
    payouts: dict[str, StoredPayout] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    dead_letters: dict[Position, tuple[str, str, bytes]] = field(default_factory=dict)
    """(topic, partition, offset) -> (consumer, reason, raw)."""
    locks_taken: list[list[str]] = field(default_factory=list)
    """Each `lock` call's keys, in the order taken (for tests of the lock order)."""


class MemoryLedgerTransaction:
    def __init__(self, tables: MemoryTables) -> None:
        self.t = tables

    async def processed(self, event_ids: Sequence[str]) -> set[str]:
        return {e for e in event_ids if e in self.t.ledger.processed}

    async def lock(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys))
        if wanted:
            self.t.locks_taken.append(wanted)

    async def load_cards(self, ledger: Ledger, card_ids: Iterable[str]) -> None:
        full = self.t.ledger
        for card_id in set(card_ids):
            if card_id in full.cards:
                ledger.cards[card_id] = full.cards[card_id]
            if card_id in full.card_stops:
                ledger.card_stops[card_id] = full.card_stops[card_id]

    async def load_held(self, ledger: Ledger, keys: Iterable[HeldKey]) -> list[HeldItem]:
        found = sorted((item for key in set(keys) for item in self.t.ledger.held.get(key, ())),
                       key=lambda item: item.arrival)
        for item in found:
            ledger.held[item.held_key] = (*ledger.held.get(item.held_key, ()), item)
        return found

    async def load_purchases(self, ledger: Ledger, transaction_ids: Iterable[str]) -> None:
        for tx in set(transaction_ids):
            if tx in self.t.ledger.purchases:
                ledger.purchases[tx] = self.t.ledger.purchases[tx]

    async def load_birthday_members(self, ledger: Ledger, days: Sequence[MonthDay]) -> None:
        for month_day in days:
            for member_id in self.t.ledger.birthdays.get(month_day, ()):
                _put_member(ledger, self.t.ledger, member_id)

    async def load_ticks(self, ledger: Ledger, birthdays: Iterable[MonthDay]) -> None:
        wanted = {md for b in birthdays for md in celebrated_on(b)}
        for day, event_id in self.t.ledger.days_started.items():
            if (day.month, day.day) in wanted:
                ledger.days_started[day] = event_id

    async def load_members(self, ledger: Ledger, member_ids: Iterable[str]) -> None:
        for member_id in set(member_ids):
            _put_member(ledger, self.t.ledger, member_id)

    async def load_usage(self, ledger: Ledger, member_ids: Iterable[str],
                         periods: Iterable[str], keys: Iterable[UsageKey]) -> None:
        members, in_periods, exact = set(member_ids), set(periods), set(keys)
        for key, usage in self.t.ledger.usage.items():
            if (key.member_id in members and key.period in in_periods) or key in exact:
                ledger.usage[key] = usage

    async def lock_budgets(self, ledger: Ledger, keys: Iterable[BudgetKey]) -> None:
        for key in set(keys):
            ledger.budget_spent[key] = self.t.ledger.budget_spent.get(key, 0)

    async def save(self, outcome: Outcome, names: Mapping[str, str]) -> None:
        # held and released in one batch: add, then release (as the SQL does)
        apply(self.t.ledger, outcome._replace(holds_released=()))
        apply(self.t.ledger, Outcome(holds_released=outcome.holds_released))
        self.t.names.update(names)

    async def save_payouts(self, payouts: Sequence[PayoutColumns], traces: Sequence[str],
                           merchants: Mapping[str, tuple[str, str]]) -> None:
        for payout, trace in zip(payouts, traces, strict=True):
            merchant = merchants.get(payout.source_event_id)
            self.t.payouts.setdefault(payout.payout_id, StoredPayout(payout, trace, merchant))

    async def write_outbox(self, messages: Sequence[OutboxMessage]) -> None:
        self.t.outbox.extend(messages)

    async def record_dead_letters(self, consumer: str, rejected: Sequence[Rejected],
                                  now: datetime) -> None:
        for r in rejected:
            at = (r.record.topic, r.record.partition, r.record.offset)
            if at not in self.t.dead_letters:
                self.t.dead_letters[at] = (consumer, r.reason, r.record.value)
                self.t.outbox.append(r.outbox_message(now))


def _put_member(ledger: Ledger, full: Ledger, member_id: str) -> None:
    member = full.members.get(member_id)
    if member is None:
        return
    ledger.members[member_id] = member
    if member.birth_date is not None:
        birthday = (member.birth_date.month, member.birth_date.day)
        ledger.birthdays.setdefault(birthday, set()).add(member_id)


class MemoryLedgerStore:
    def __init__(self, tables: MemoryTables | None = None) -> None:
        self.tables = tables if tables is not None else MemoryTables()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryLedgerTransaction]:
        before = copy.deepcopy(self.tables)
        try:
            yield MemoryLedgerTransaction(self.tables)
        except BaseException:
            self.tables.__dict__.update(before.__dict__)
            raise
