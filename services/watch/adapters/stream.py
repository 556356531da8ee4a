"""The faust app: two agents, four windowed tables, one internal topic.

- `cards` reads `card.transactions` (keyed by card): card velocity, then forwards each
  subsidised transaction, keyed by merchant, to the internal `puhui-watch-merchant-swipes`;
- `merchants` reads that topic: merchant burst, subsidy-maximising amounts, refund ratio.

Both agents are thin: decode, hand the swipe to the service layer, go on. faust acks a message
even when an exception escapes its agent, so they retry a transient failure themselves and
stop the worker when it outlives its retries (the supervisor restarts it, the offsets not
committed are consumed again). faust flushes its producer (changelogs, the forwarded
swipes) before it commits offsets: what a committed offset covers is in the changelogs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from puhui.topics import CARD_TRANSACTIONS, PARTITIONS
from schemas.card_transactions import CardTransaction
from schemas.decode import decode
from services.runtime.errors import TransientFailure
from services.watch.adapters.tables import hopping_table, tumbling_table
from services.watch.config import Watched
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import local_seconds
from services.watch.service_layer.watch import CardWatch, MerchantTables, MerchantWatch, Record

log = logging.getLogger("puhui.watch")
APP_ID = "puhui-watch"
RETRIES = 8
MERCHANT_PARTITIONS = 8


@dataclass(frozen=True)
class StreamSettings:
    bootstrap: str
    state_dir: Path
    app_id: str = APP_ID
    """Names the consumer group, the changelog topics and the internal topic."""
    source_topic: str = CARD_TRANSACTIONS
    max_poll_records: int = 500
    """Bounded batches: the watch shares the machine with the ledger's hot path."""


@dataclass
class Counters:
    """What the agents report (the metrics adapter counts it)."""

    consumed: Callable[[str], None]
    skipped: Callable[[str], None]
    """A message the watch does not look at: not decodable (disbursement dead-letters it),
    or at a merchant category no card programme pays on."""


def build_app(settings: StreamSettings, watched: Watched, record: Record,
              counters: Counters) -> faust.App:
    app = faust.App(
        settings.app_id, broker=f"kafka://{settings.bootstrap}", store="memory://",
        datadir=str(settings.state_dir), topic_partitions=PARTITIONS[CARD_TRANSACTIONS],
        topic_replication_factor=1, web_enabled=False, consumer_auto_offset_reset="earliest",
        broker_max_poll_records=settings.max_poll_records, stream_buffer_maxsize=1000,
        producer_acks=-1, producer_linger_ms=20, table_standby_replicas=0,
        # a watch killed and started again rejoins its group in seconds, not a minute
        broker_session_timeout=10.0, broker_heartbeat_interval=2.0)
    cards_in = app.topic(settings.source_topic, key_serializer="raw", value_serializer="raw")
    merchant_swipes = merchant_topic(settings)
    swipes = app.topic(merchant_swipes, key_serializer="raw", value_serializer="json",
                       partitions=MERCHANT_PARTITIONS, internal=True)
    card_watch, merchant_watch = _watches(app, watched, record)

    @app.agent(cards_in)
    async def cards(stream: Any) -> None:
        async for event in stream.events():
            counters.consumed(settings.source_topic)
            swipe = _swipe(event, watched)
            if swipe is None:
                counters.skipped(settings.source_topic)
                continue
            await _retrying(app, partial(card_watch.observe, swipe))
            await swipes.send(key=swipe.merchant_id.encode(), value=swipe.as_json())

    @app.agent(swipes)
    async def merchants(stream: Any) -> None:
        async for value in stream:
            counters.consumed(merchant_swipes)
            swipe = Swipe.from_json(value)
            await _retrying(app, partial(merchant_watch.observe, swipe))

    return app


async def create_internal_topic(settings: StreamSettings) -> None:
    """The merchant topic, before the worker starts: faust's assignor ignores a topic that
    does not exist yet when the group first forms, and would never give its agent a
    partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(merchant_topic(settings), MERCHANT_PARTITIONS, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


def merchant_topic(settings: StreamSettings) -> str:
    return f"{settings.app_id}-merchant-swipes"


def _watches(app: faust.App, watched: Watched, record: Record) -> tuple[CardWatch,
                                                                          MerchantWatch]:
    rules = watched.rules
    cards_n, merchants_n = PARTITIONS[CARD_TRANSACTIONS], MERCHANT_PARTITIONS
    # windows are kept in Shanghai wall time, 8 h ahead of what faust's expiry compares
    # them with: each table keeps 8 h more than its rule needs
    velocity = hopping_table(app, "card-velocity",
                             timedelta(minutes=rules.card_velocity.window_minutes),
                             timedelta(minutes=rules.card_velocity.hop_minutes),
                             timedelta(hours=1), cards_n)
    tables = MerchantTables(
        burst=tumbling_table(app, "merchant-burst",
                             timedelta(minutes=rules.merchant_burst.window_minutes),
                             timedelta(hours=2), merchants_n),
        hour=tumbling_table(app, "merchant-amounts",
                            timedelta(minutes=rules.subsidy_maximising.window_minutes),
                            timedelta(hours=3), merchants_n),
        day=tumbling_table(app, "merchant-day", timedelta(days=1),
                           timedelta(days=rules.merchant_burst.baseline_days + 2), merchants_n))
    return CardWatch(watched, velocity, record), MerchantWatch(watched, tables, record)


def _swipe(event: Any, watched: Watched) -> Swipe | None:
    decoded = decode(CARD_TRANSACTIONS, event.value or b"")
    if not isinstance(decoded, CardTransaction) or decoded.mcc not in watched.subsidised_mcc:
        return None
    return Swipe(decoded.transaction_id, decoded.card_id, decoded.merchant_id, decoded.mcc,
                 decoded.type, decoded.amount_fen, local_seconds(decoded.occurred_at),
                 event.message.partition, event.message.offset)


async def _retrying(app: faust.App, action: Callable[[], Awaitable[object]]) -> None:
    delay = 0.2
    for attempt in range(1, RETRIES + 1):
        try:
            await action()
            return
        except TransientFailure as exc:
            if attempt == RETRIES:
                log.error("watch: %s; stopping (the supervisor restarts it)", exc)
                await app.crash(exc)
                raise
            log.warning("watch: %s (attempt %d/%d); retrying in %.1fs", exc, attempt,
                        RETRIES, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
