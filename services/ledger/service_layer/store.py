"""The ledger's store: what the service layer needs from a database, and nothing else.

One `transaction()` per batch. Inside it the recorder locks keys (in one global order:
birthdays, cards, purchases, members, then budgets), loads just the slice of the engine's
`Ledger` the batch can touch, and saves the merged outcome with its payouts, outbox messages
and dead letters; all of it commits together or not at all.

Two implementations pass the same contract tests (`tests/ledger_store_contract.py`):
`services.ledger.adapters.repository.PgLedgerStore` (PostgreSQL, integration tier) and
`services.ledger.adapters.memory.MemoryLedgerStore` (the in-memory twin, unit tier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from engine.outcome import Outcome
from engine.periods import MonthDay
from engine.state import BudgetKey, HeldItem, HeldKey, Ledger, UsageKey
from services.runtime.outbox import OutboxMessage
from services.runtime.records import Rejected

Merchants = Mapping[str, tuple[str, str]]
"""source event id -> (merchant id, merchant name) of a card payout's swipe."""


class PayoutColumns(Protocol):
    """What the payouts table keeps of a payout beside its trace: a `schemas.payouts.Payout`,
    or the ledger's own `PublishedPayout`, which is built without validating it again."""

    @property
    def payout_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def member_id(self) -> str: ...
    @property
    def programme(self) -> str: ...
    @property
    def amount_fen(self) -> int: ...
    @property
    def source_event_id(self) -> str: ...
    @property
    def transaction_id(self) -> str | None: ...
    @property
    def period(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


class LedgerTransaction(Protocol):
    """One batch's unit of work. Every `load_*` adds rows to the given `Ledger`."""

    async def processed(self, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` recorded before."""
        ...

    async def lock(self, keys: Iterable[str]) -> None:
        """Hold `keys` (e.g. `card:c1`) until the transaction ends, taken in sorted order."""
        ...

    async def load_cards(self, ledger: Ledger, card_ids: Iterable[str]) -> None:
        """Their holdings (`cards`) and the stops waiting for their issue (`card_stops`)."""
        ...

    async def load_held(self, ledger: Ledger, keys: Iterable[HeldKey]) -> list[HeldItem]:
        """The events still held for `keys`, in arrival order; also added to `ledger.held`."""
        ...

    async def load_purchases(self, ledger: Ledger, transaction_ids: Iterable[str]) -> None: ...

    async def load_birthday_members(self, ledger: Ledger, days: Sequence[MonthDay]) -> None:
        """Every member born on one of `days` (and `ledger.birthdays`)."""
        ...

    async def load_ticks(self, ledger: Ledger, birthdays: Iterable[MonthDay]) -> None:
        """Every day ticked that celebrates one of `birthdays` (`days_started`)."""
        ...

    async def load_members(self, ledger: Ledger, member_ids: Iterable[str]) -> None: ...

    async def load_usage(self, ledger: Ledger, member_ids: Iterable[str],
                         periods: Iterable[str], keys: Iterable[UsageKey]) -> None:
        """Usage of `member_ids` in `periods`, and of the exact `keys`."""
        ...

    async def lock_budgets(self, ledger: Ledger, keys: Iterable[BudgetKey]) -> None:
        """What each budget has spent, held against other batches until the end."""
        ...

    async def save(self, outcome: Outcome, names: Mapping[str, str]) -> None:
        """Every effect of `outcome` (a batch's merged one), and members' `names`."""
        ...

    async def save_payouts(self, payouts: Sequence[PayoutColumns], traces: Sequence[str],
                           merchants: Merchants) -> None:
        """Insert payouts (a payout id already there is left alone)."""
        ...

    async def write_outbox(self, messages: Sequence[OutboxMessage]) -> None: ...

    async def record_dead_letters(self, consumer: str, rejected: Sequence[Rejected],
                                  now: datetime) -> None:
        """Store each rejected message and its outbox message, once per source position."""
        ...


class LedgerStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[LedgerTransaction]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        ...
