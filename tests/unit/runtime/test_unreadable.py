"""A batch the consumer cannot read at all is a transient failure, counted and logged."""

from __future__ import annotations

import logging

import pytest
from aiokafka.errors import UnsupportedCodecError
from prometheus_client import CollectorRegistry

from services.runtime.consumer import ConsumerSettings, _fetch
from services.runtime.errors import TransientFailure
from services.runtime.metrics import ServiceMetrics


class _Unreadable:
    async def getmany(self, timeout_ms: int, max_records: int) -> dict[object, list[object]]:
        raise UnsupportedCodecError("Libraries for snappy compression codec not found")


async def test_an_unreadable_batch_is_counted_logged_and_transient(
        caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    metrics = ServiceMetrics.create("disbursement", registry)
    settings = ConsumerSettings("127.0.0.1:1", "g", ("card.transactions",))
    with caplog.at_level(logging.ERROR), pytest.raises(TransientFailure, match="snappy"):
        await _fetch(_Unreadable(), settings, metrics.unreadable_batches.inc)
    assert registry.get_sample_value("puhui_unreadable_batches_total") == 1
    assert "cannot read a batch from card.transactions (UnsupportedCodecError" in caplog.text
