"""The faust app: five agents, six windowed tables, three internal topics.

- `cards` reads `card.transactions` (keyed by card): forwards each transaction at a
  subsidised category, keyed by merchant, to `<app>-merchant-swipes`, and each such purchase,
  keyed by transaction id, to `<app>-paid-join`;
- `payouts` reads `payouts` (keyed by member): forwards each payout on a purchase, keyed by
  transaction id, to `<app>-paid-join`;
- `joins` reads that topic: pairs a purchase with its payout, and passes the subsidised
  purchase on to `<app>-merchant-swipes` (keyed by merchant) and `<app>-card-swipes` (by card);
- `merchants` reads the merchant topic: subsidy-maximising amounts and refund ratio (every
  transaction), merchant burst (subsidised purchases);
- `velocity` reads the card topic: card velocity (subsidised purchases).

The agents are thin: decode, hand the swipe to the service layer, go on. faust acks a message
even when an exception escapes its agent, so they retry a transient failure themselves and
stop the worker when it outlives its retries (the supervisor restarts it, the offsets not
committed are consumed again). faust flushes its producer (changelogs, the forwarded
swipes) before it commits offsets: what a committed offset covers is in the changelogs.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from pydantic import ValidationError

from schemas.card_transactions import CardTransaction
from schemas.decode import decode
from schemas.payouts import Payout
from schemas.topics import CARD_TRANSACTIONS, PARTITIONS, PAYOUTS
from services.runtime.errors import TransientFailure
from services.watch.adapters.tables import hopping_table, pairing_table, tumbling_table
from services.watch.config import Watched
from services.watch.domain.paid import PaidSide
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import local_seconds
from services.watch.service_layer.watch import (
    CardWatch,
    MerchantTables,
    MerchantWatch,
    PaidJoin,
    Record,
)

log = logging.getLogger("puhui.watch")
APP_ID = "puhui-watch"
RETRIES = 8
INTERNAL_PARTITIONS = 8
INTERNAL = ("merchant-swipes", "card-swipes", "paid-join")


@dataclass(frozen=True)
class StreamSettings:
    bootstrap: str
    state_dir: Path
    app_id: str = APP_ID
    """Names the consumer group, the changelog topics and the internal topic."""
    source_topic: str = CARD_TRANSACTIONS
    payouts_topic: str = PAYOUTS
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
    payouts_in = app.topic(settings.payouts_topic, key_serializer="raw", value_serializer="raw")
    to_merchants, to_cards, to_join = (
        app.topic(internal_topic(settings, name), key_serializer="raw", value_serializer="json",
                  partitions=INTERNAL_PARTITIONS, internal=True) for name in INTERNAL)
    card_watch, merchant_watch, join = _watches(app, watched, record)

    @app.agent(cards_in)
    async def cards(stream: Any) -> None:
        async for event in stream.events():
            counters.consumed(settings.source_topic)
            swipe = _swipe(event, watched)
            if swipe is None:
                counters.skipped(settings.source_topic)
                continue
            await to_merchants.send(key=swipe.merchant_id.encode(), value=swipe.as_json())
            if swipe.kind == "purchase":
                await to_join.send(key=swipe.transaction_id.encode(),
                                   value={"swipe": swipe.as_json()})

    @app.agent(payouts_in)
    async def payouts(stream: Any) -> None:
        async for value in stream:
            counters.consumed(settings.payouts_topic)
            paid = _paid(value)
            if paid is None:
                counters.skipped(settings.payouts_topic)
                continue
            await to_join.send(key=paid.transaction_id.encode(), value={"paid": paid.as_json()})

    @app.agent(to_join)
    async def joins(stream: Any) -> None:
        async for event in stream.events():
            counters.consumed(to_join.get_topic_name())
            side = _side(event.value)
            joined = join.observe(side, event.message.partition, event.message.offset)
            if joined is not None:
                await to_merchants.send(key=joined.merchant_id.encode(), value=joined.as_json())
                await to_cards.send(key=joined.card_id.encode(), value=joined.as_json())

    @app.agent(to_merchants)
    async def merchants(stream: Any) -> None:
        async for value in stream:
            counters.consumed(to_merchants.get_topic_name())
            await _retrying(app, partial(merchant_watch.observe, Swipe.from_json(value)))

    @app.agent(to_cards)
    async def velocity(stream: Any) -> None:
        async for value in stream:
            counters.consumed(to_cards.get_topic_name())
            await _retrying(app, partial(card_watch.observe, Swipe.from_json(value)))

    return app


async def create_internal_topics(settings: StreamSettings) -> None:
    """The internal topics, before the worker starts: faust's assignor ignores a topic that
    does not exist yet when the group first forms, and would never give its agent a
    partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        for name in INTERNAL:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(internal_topic(settings, name),
                                                    INTERNAL_PARTITIONS, 1)])
    finally:
        await admin.close()


def internal_topic(settings: StreamSettings, name: str) -> str:
    return f"{settings.app_id}-{name}"


def _watches(app: faust.App, watched: Watched,
             record: Record) -> tuple[CardWatch, MerchantWatch, PaidJoin]:
    rules = watched.rules
    internal_n = INTERNAL_PARTITIONS
    # windows are kept in Shanghai wall time, 8 h ahead of what faust's expiry compares
    # them with: each table keeps 8 h more than its rule needs
    velocity = hopping_table(app, "card-velocity",
                             timedelta(minutes=rules.card_velocity.window_minutes),
                             timedelta(minutes=rules.card_velocity.hop_minutes),
                             timedelta(hours=1), internal_n)
    tables = MerchantTables(
        burst=tumbling_table(app, "merchant-burst",
                             timedelta(minutes=rules.merchant_burst.window_minutes),
                             timedelta(hours=2), internal_n),
        hour=tumbling_table(app, "merchant-amounts",
                            timedelta(minutes=rules.subsidy_maximising.window_minutes),
                            timedelta(hours=3), internal_n),
        day=tumbling_table(app, "merchant-day", timedelta(days=1),
                           timedelta(days=rules.refund_ratio.baseline_days + 2), internal_n),
        paid_day=tumbling_table(app, "merchant-paid-day", timedelta(days=1),
                                timedelta(days=rules.merchant_burst.baseline_days + 2),
                                internal_n))
    # a payout follows its purchase within seconds, or within days when the ledger held the
    # swipe for its card: a pair waits 3 days (and the 8 h of Shanghai time) for its other half
    pairings = pairing_table(app, "paid-join", timedelta(days=1), timedelta(days=3),
                             internal_n)
    return (CardWatch(watched, velocity, record), MerchantWatch(watched, tables, record),
            PaidJoin(pairings))


def _swipe(event: Any, watched: Watched) -> Swipe | None:
    decoded = decode(CARD_TRANSACTIONS, event.value or b"")
    if not isinstance(decoded, CardTransaction) or decoded.mcc not in watched.subsidised_mcc:
        return None
    return Swipe(decoded.transaction_id, decoded.card_id, decoded.merchant_id, decoded.mcc,
                 decoded.type, decoded.amount_fen, local_seconds(decoded.occurred_at),
                 event.message.partition, event.message.offset)


def _paid(value: bytes | None) -> PaidSide | None:
    """A payout on a purchase; None for a clawback, a non-card programme or bad bytes."""
    try:
        decoded = Payout.model_validate_json(value or b"")
    except ValidationError:
        return None  # the ledger's own output: never expected, only counted as skipped
    if decoded.kind != "payout" or decoded.transaction_id is None:
        return None
    return PaidSide(decoded.transaction_id, decoded.amount_fen, local_seconds(decoded.occurred_at))


def _side(value: dict[str, Any]) -> Swipe | PaidSide:
    if "paid" in value:
        return PaidSide.from_json(value["paid"])
    return Swipe.from_json(value["swipe"])


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
