"""Does each server really answer? Asked the way the services will ask it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.error
import urllib.request

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from schemas.topics import INBOUND_RETENTION_DAYS, PARTITIONS, topic_configs

log = logging.getLogger(__name__)
# aiokafka logs every refused connection at ERROR while a broker starts; that is expected here.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


async def kafka_answers(bootstrap: str, within: float) -> bool:
    """True once the broker serves metadata (KRaft controller and broker both up)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except (KafkaError, OSError) as exc:
            log.debug("kafka not ready yet: %r", exc)
        finally:
            with contextlib.suppress(KafkaError, OSError):
                await admin.close()
        await asyncio.sleep(0.5)
    return False


async def ensure_topics(bootstrap: str, partitions: dict[str, int] = PARTITIONS,
                        inbound_retention_days: int = INBOUND_RETENTION_DAYS) -> list[str]:
    """Create the topics that are missing, with their configs (`topic_configs`), and set those
    configs on the topics that exist; returns the names created."""
    configs = topic_configs(inbound_retention_days)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in partitions if name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(name, partitions[name], 1, topic_configs=configs.get(name, {}))
                 for name in missing], timeout_ms=15000)
        present = [ConfigResource(ConfigResourceType.TOPIC, name, configs[name])
                   for name in partitions if name in existing and configs.get(name)]
        if present:
            for answer in await admin.alter_configs(present):
                _refused(answer.resources)
        return missing
    finally:
        await admin.close()


def _refused(resources: list[tuple[object, ...]]) -> None:
    for error_code, message, _type, name in (r[:4] for r in resources):
        if error_code:
            raise KafkaError(f"the broker refused the configs of topic {name}: {message}")


async def topic_retention_ms(bootstrap: str, names: list[str]) -> dict[str, int]:
    """Each topic's `retention.ms` as the broker reports it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        answers = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, None) for name in names])
    finally:
        await admin.close()
    found: dict[str, int] = {}
    for answer in answers:
        for resource in answer.resources:
            _error, _message, _type, name, entries = resource[:5]
            for entry in entries:
                if entry[0] == "retention.ms":
                    found[name] = int(entry[1])
    return found


async def postgres_answers(dsn: str, within: float) -> bool:
    """True once `select 1` answers on the server (any database)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            log.debug("postgres not ready yet: %r", exc)
            await asyncio.sleep(0.3)
            continue
        try:
            return bool(await conn.fetchval("select 1") == 1)
        finally:
            await conn.close()
    return False


async def ensure_database(server_dsn: str, name: str) -> bool:
    """Create database `name` if missing; True when it was created."""
    conn = await asyncpg.connect(server_dsn, timeout=10)
    try:
        if await conn.fetchval("select 1 from pg_database where datname = $1", name):
            return False
        await conn.execute(f'create database "{name}"')
        return True
    finally:
        await conn.close()


def prometheus_ready(url: str, within: float) -> bool:
    """True once Prometheus says it is ready to serve queries (`/-/ready` answers 200)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        # S310: the URL is our own server's http address, never user input
        with (contextlib.suppress(urllib.error.URLError, OSError),
              urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer):  # noqa: S310
            if answer.status == 200:
                return True
        time.sleep(0.2)
    return False
