"""Build the audit service's loop over the process's pool (services/bootstrap.py runs it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg

from puhui.topics import AUDIT
from services.audit.adapters.trail import open_trail
from services.audit.consumer import AuditConsumer
from services.audit.service_layer.append import AuditTrail
from services.runtime.consumer import ConsumerSettings, run_consumer
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import utc_now

GROUP_ID = "puhui-audit"


def audit_loop(pool: asyncpg.Pool, bootstrap: str, metrics: ServiceMetrics,
               max_batch: int = 2000) -> Callable[[asyncio.Event], Awaitable[None]]:
    """Consume topic `audit` into the trail until the event it is given is set."""

    def trail() -> AbstractAsyncContextManager[AuditTrail]:
        return open_trail(pool)

    consumer = AuditConsumer(trail, metrics, utc_now)
    settings = ConsumerSettings(bootstrap, GROUP_ID, (AUDIT,), max_batch=max_batch)
    return lambda stop: run_consumer(settings, consumer.handle, stop, on_lag=metrics.observe_lag)
