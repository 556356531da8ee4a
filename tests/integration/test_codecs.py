"""A real client's messages are read in every codec Kafka defines, and in transactions.

kcat (librdkafka, as a bank's client would be) produces a feed in each codec; aiokafka's
transactional producer one more (kcat has no transactions), and an aborted transaction that
must pay nothing. Every message of every feed is decided: what the engine owes is paid.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import defaultdict

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from puhui.stack.config import StackConfig
from tests.feeds import Feed, simulate, standard_feed
from tests.integration.ledger_harness import KEY_FIELD, running_services, wait_for

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
PAYOUTS = "select count(*) from payouts where member_id like $1"


def _kcat(bootstrap: str, feed: Feed, codec: str) -> None:
    by_topic: dict[str, list[bytes]] = defaultdict(list)
    for topic, value in feed.lines:
        by_topic[topic].append(str(value[KEY_FIELD[topic]]).encode() + b"\t" + orjson.dumps(value))
    for topic, lines in by_topic.items():
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-z", codec,
                        "-X", "linger.ms=50"], input=b"\n".join(lines) + b"\n", check=True,
                       timeout=60, capture_output=True)


async def _transaction(bootstrap: str, feed: Feed, commit: bool) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap,
                                transactional_id=f"puhui-test-{feed.prefix}")
    await producer.start()
    try:
        await producer.begin_transaction()
        for topic, value in feed.lines:
            key = str(value[KEY_FIELD[topic]]).encode()
            await producer.send(topic, orjson.dumps(value), key=key)
        await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by scripts/setup")
async def test_every_codec_and_a_transaction_are_paid_in_full(stack: StackConfig) -> None:
    feeds = {codec: standard_feed(members=2) for codec in (*CODECS, "transaction")}
    aborted = Feed()
    aborted.register(0)
    aborted.issue(0)
    aborted.swipe(0, "7832", 4500, "2027-01-12T19:30:00+08:00")
    assert simulate(aborted)  # it would pay, were it committed
    for codec in CODECS:
        await asyncio.to_thread(_kcat, stack.bootstrap_servers, feeds[codec], codec)
    await _transaction(stack.bootstrap_servers, aborted, commit=False)
    await _transaction(stack.bootstrap_servers, feeds["transaction"], commit=True)
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        paid = {codec: await wait_for(pool, PAYOUTS, [f"{feed.prefix}-%"], len(simulate(feed)),
                                      seconds=60)
                for codec, feed in feeds.items()}
        await asyncio.sleep(1.0)  # an aborted message read anyway would be paid by now
        not_committed = await pool.fetchval(PAYOUTS, f"{aborted.prefix}-%")
    assert paid == {codec: len(simulate(feed)) for codec, feed in feeds.items()}
    assert not_committed == 0
