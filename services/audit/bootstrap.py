"""Build the audit service's loop over the process's pool (services/bootstrap.py runs it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import asyncpg

from schemas.topics import AUDIT, CONSUMER_GROUPS
from services.audit.adapters.keys import load_signer
from services.audit.adapters.trail import open_trail
from services.audit.consumer import AuditConsumer
from services.audit.service_layer.anchoring import Anchoring
from services.audit.service_layer.append import AuditTrail
from services.audit.settings import AuditSettings
from services.runtime.consumer import ConsumerSettings, run_consumer
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import utc_now
from services.runtime.retry import Retrying

GROUP_ID = CONSUMER_GROUPS["audit"]
log = logging.getLogger("puhui.audit")


def audit_loop(pool: asyncpg.Pool, bootstrap: str, metrics: ServiceMetrics,
               max_batch: int = 2000, settings: AuditSettings | None = None,
               retrying: Retrying | None = None,
               clock: Callable[[], datetime] = utc_now,
               ) -> Callable[[asyncio.Event], Awaitable[None]]:
    """Consume topic `audit` into the trail until the event it is given is set; anchor the
    chain's head when `settings` (default: from the environment) name a signing key."""

    def trail() -> AbstractAsyncContextManager[AuditTrail]:
        return open_trail(pool)

    consumer = AuditConsumer(trail, metrics, clock,
                             anchoring=anchoring(settings or AuditSettings.from_env()))
    consuming = ConsumerSettings(bootstrap, GROUP_ID, (AUDIT,), max_batch=max_batch,
                                 retrying=retrying or Retrying())
    return lambda stop: run_consumer(consuming, consumer.handle, stop, on_lag=metrics.observe_lag)


def anchoring(settings: AuditSettings) -> Anchoring | None:
    if settings.signing_key is None:
        log.warning("PUHUI_AUDIT_SIGNING_KEY is not set: the chain's head is not anchored, so "
                    "a rewrite by whoever runs the database would go unnoticed")
        return None
    signer = load_signer(settings.signing_key)
    log.info("anchoring the chain every %s with key %s", settings.anchor_every, signer.key_id)
    return Anchoring(signer, settings.anchor_every)
