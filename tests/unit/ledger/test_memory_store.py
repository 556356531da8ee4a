"""The ledger store contract (tests/ledger_store_contract.py) on the in-memory twin."""

from __future__ import annotations

import uuid

import orjson
import pytest

from services.ledger.adapters.memory import MemoryLedgerStore
from tests.ledger_store_contract import CHECKS, Check


class MemoryPeek:
    def __init__(self, store: MemoryLedgerStore) -> None:
        self.tables = store.tables

    async def payout_amounts(self, prefix: str) -> list[int]:
        return [s.payout.amount_fen for pid, s in self.tables.payouts.items()
                if pid.startswith(prefix)]

    async def dead_letters_at(self, topic: str, partition: int, offset: int) -> tuple[int, int]:
        stored = int((topic, partition, offset) in self.tables.dead_letters)
        sent = sum(1 for m in self.tables.outbox if m.topic == "puhui.dead-letters"
                   and orjson.loads(m.value)["offset"] == offset)
        return stored, sent


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_memory_store_keeps_the_contract(check: Check) -> None:
    store = MemoryLedgerStore()
    await check(store, uuid.uuid4().hex, MemoryPeek(store))
