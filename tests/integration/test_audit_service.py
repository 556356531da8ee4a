"""The audit service on the real Kafka and PostgreSQL: append, chain, dead letters, verify.

The database is shared with other tests: each test makes its own ids, asserts its own rows by
id, and verifies the whole chain (whatever else is in it). A tampered row is put back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import os
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from datetime import timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from schemas.audit import AuditRecord
from services.audit.adapters.keys import load_signer
from services.audit.adapters.reader import READ_CHAIN, link_of, snapshot
from services.audit.adapters.trail import open_trail
from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import link_hash
from services.audit.service_layer.anchoring import Anchoring
from services.audit.service_layer.append import record_batch
from services.audit.service_layer.intake import admit
from services.audit.service_layer.verification import Broken, Verified, verify_trail
from services.bootstrap import BUILDS, Parts
from services.runtime import db
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord, utc_now
from tests.unit.audit.builders import audit_record

MINE = "select * from audit_trail where audit_id = any($1::text[]) order by seq"
COUNT_MINE = "select count(*) from audit_trail where audit_id = any($1::text[])"
HEAD = "select seq, hash from audit_chain_head"
READ_CHAIN_FROM = READ_CHAIN.split("order by")[0]


def _records(n: int, prefix: str | None = None) -> list[AuditRecord]:
    prefix = prefix or f"aud-{uuid.uuid4().hex}"
    return [audit_record(i, amount_fen=100 + i, prefix=prefix) for i in range(1, n + 1)]


def _ids(records: Sequence[AuditRecord]) -> list[str]:
    return [r.audit_id for r in records]


def _value(record: AuditRecord) -> bytes:
    return record.model_dump_json().encode()


async def _produce(bootstrap: str, values: Sequence[bytes], key: bytes = b"one-partition") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send("audit", value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _running_audit(stack: StackConfig) -> AsyncIterator[asyncpg.Pool]:
    """The audit service's loop as a task, stopped when the block ends; yields a pool."""
    pool = await db.create_pool(stack.database_url, max_size=4)
    await db.migrate(pool)
    stop = asyncio.Event()
    metrics = ServiceMetrics.create("audit", CollectorRegistry())
    parts = Parts(stack.bootstrap_servers, pool, metrics, load_catalogue())
    task = asyncio.create_task(BUILDS["audit"](parts)(stop))
    try:
        yield pool
    finally:
        stop.set()
        await task
        await pool.close()


async def _wait_for(pool: asyncpg.Pool, audit_ids: Sequence[str], want: int,
                    seconds: float = 60.0) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        got = int(await pool.fetchval(COUNT_MINE, list(audit_ids)))
        if got >= want or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(0.2)


async def _verify(stack: StackConfig) -> object:
    async with snapshot(stack.database_url) as trail:
        recorded = await trail.head()
        async with aclosing(trail.links()) as links:
            return await verify_trail(links, recorded)


async def _verify_command() -> tuple[int, str]:
    """`puhui audit verify` as a process, with the test stack's environment."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from services.audit.cli import audit; audit(['verify'])",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ))
    out, err = await process.communicate()
    return int(process.returncode or 0), (out + err).decode()


async def test_records_join_the_chain_in_consumption_order(stack: StackConfig) -> None:
    records = _records(20)
    await _produce(stack.bootstrap_servers, [_value(r) for r in records])
    async with _running_audit(stack) as pool:
        assert await _wait_for(pool, _ids(records), len(records)) == len(records)
        rows = await pool.fetch(MINE, _ids(records))
    assert [row["audit_id"] for row in rows] == _ids(records)
    for row, record in zip(rows, records, strict=True):
        assert row["amount_fen"] == record.amount_fen
        assert row["occurred_at"] == record.occurred_at
        assert row["member_id"] == record.member_id
        assert orjson.loads(row["trace"]) == [step.model_dump() for step in record.trace]
        assert len(row["hash"]) == len(row["prev_hash"]) == 32
    verdict = await _verify(stack)
    assert isinstance(verdict, Verified), str(verdict)
    assert verdict.count >= rows[-1]["seq"]


async def test_a_redelivered_record_adds_nothing(stack: StackConfig) -> None:
    first, marker = _records(2)
    await _produce(stack.bootstrap_servers, [_value(first)])
    async with _running_audit(stack) as pool:
        assert await _wait_for(pool, [first.audit_id], 1) == 1
        await _produce(stack.bootstrap_servers, [_value(first), _value(first), _value(marker)])
        assert await _wait_for(pool, [marker.audit_id], 1) == 1
        assert await pool.fetchval(COUNT_MINE, [first.audit_id]) == 1
        # the same batch handed over again, as after a crash before the offset commit
        head = await pool.fetchrow(HEAD)
        entries, _ = admit([InboundRecord("audit", 0, 0, None, _value(first)),
                            InboundRecord("audit", 0, 1, None, _value(marker))])
        outcome = await record_batch(lambda: open_trail(pool), entries, [], utc_now())
        assert (outcome.appended, outcome.repeated) == (0, 2)
        assert await pool.fetchrow(HEAD) == head
    assert isinstance(await _verify(stack), Verified)


async def test_undecodable_messages_land_in_dead_letters(stack: StackConfig) -> None:
    run = uuid.uuid4().hex
    not_json = f"not json {run}".encode()
    wrong = orjson.dumps({"audit_id": f"aud-{run}", "amount_fen": "a lot"})
    (marker,) = _records(1)
    await _produce(stack.bootstrap_servers, [not_json, wrong, _value(marker)])
    async with _running_audit(stack) as pool:
        assert await _wait_for(pool, [marker.audit_id], 1) == 1
        dead = await pool.fetch(
            "select raw, reason from dead_letters where consumer = 'audit' and raw = any($1)",
            [not_json, wrong])
        sent = await pool.fetch(
            "select convert_from(value, 'UTF8')::jsonb as letter from outbox_messages"
            " where topic = 'puhui.dead-letters'"
            " and convert_from(value, 'UTF8')::jsonb ->> 'raw' = any($1::text[])",
            [base64.b64encode(raw).decode() for raw in (not_json, wrong)])
    reasons = {bytes(row["raw"]): row["reason"] for row in dead}
    assert reasons[not_json].startswith("Invalid JSON")
    assert "amount_fen: must be an integer" in reasons[wrong]
    assert "missing fields" in reasons[wrong]
    letters = [orjson.loads(row["letter"]) for row in sent]
    assert sorted(letter["source_topic"] for letter in letters) == ["audit", "audit"]


async def test_concurrent_appends_stay_one_chain(stack: StackConfig) -> None:
    batches = [_records(300) for _ in range(4)]
    pool = await db.create_pool(stack.database_url, max_size=4)
    try:
        await db.migrate(pool)

        async def append(records: Sequence[AuditRecord]) -> None:
            entries, _ = admit([InboundRecord("audit", 0, i, None, _value(r))
                                for i, r in enumerate(records)])
            await record_batch(lambda: open_trail(pool), entries, [], utc_now())

        await asyncio.gather(*(append(batch) for batch in batches))
        everything = [audit_id for batch in batches for audit_id in _ids(batch)]
        assert await pool.fetchval(COUNT_MINE, everything) == len(everything)
    finally:
        await pool.close()
    assert isinstance(await _verify(stack), Verified)


async def test_the_trail_refuses_update_delete_and_truncate(stack: StackConfig) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        for statement in ("update audit_trail set amount_fen = amount_fen",
                          "delete from audit_trail", "truncate audit_trail"):
            verb = statement.split()[0].upper()
            with pytest.raises(asyncpg.InsufficientPrivilegeError,
                               match=f"audit_trail is append-only: {verb} is not allowed"):
                async with conn.transaction():  # rolled back, whatever happens
                    await conn.execute(statement)
    finally:
        await conn.close()


async def test_verify_names_exactly_the_tampered_record(stack: StackConfig) -> None:
    records = _records(3)
    pool = await db.create_pool(stack.database_url, max_size=2)
    try:
        await db.migrate(pool)
        entries, _ = admit([InboundRecord("audit", 0, i, None, _value(r))
                            for i, r in enumerate(records)])
        await record_batch(lambda: open_trail(pool), entries, [], utc_now())
        target = await pool.fetchrow(MINE, [records[1].audit_id])
        code, output = await _verify_command()
        assert code == 0, output
        head = await pool.fetchrow(HEAD)
        assert output.strip().endswith(f"records, head {head['hash'].hex()}")
        await _set_amount(pool, target["seq"], target["amount_fen"] + 1)
        try:
            code, output = await _verify_command()
        finally:
            await _set_amount(pool, target["seq"], target["amount_fen"])
        assert code == 1
        assert output.strip() == (f"audit record seq={target['seq']} "
                                  f"(audit_id={records[1].audit_id}) "
                                  "does not fit the chain: hash differs")
    finally:
        await pool.close()
    code, output = await _verify_command()
    assert code == 0, output


async def _set_amount(pool: asyncpg.Pool, seq: int, amount_fen: int) -> None:
    """Change a row behind the trigger's back, as someone with the owner's rights could."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("alter table audit_trail disable trigger audit_trail_append_only")
        await conn.execute("update audit_trail set amount_fen = $2 where seq = $1", seq, amount_fen)
        await conn.execute("alter table audit_trail enable trigger audit_trail_append_only")


async def test_a_recorded_at_moved_back_30_days_is_caught(stack: StackConfig) -> None:
    records = _records(3)
    pool = await db.create_pool(stack.database_url, max_size=2)
    try:
        entries, _ = admit([InboundRecord("audit", 0, i, None, _value(r))
                            for i, r in enumerate(records)])
        await record_batch(lambda: open_trail(pool), entries, [], utc_now())
        target = await pool.fetchrow(MINE, [records[1].audit_id])
        await _bypassing_the_trigger(
            pool, "update audit_trail set recorded_at = $2 where seq = $1",
            target["seq"], target["recorded_at"] - timedelta(days=30))
        try:
            verdict = await _verify(stack)
        finally:
            await _bypassing_the_trigger(
                pool, "update audit_trail set recorded_at = $2 where seq = $1",
                target["seq"], target["recorded_at"])
    finally:
        await pool.close()
    assert isinstance(verdict, Broken)
    assert (verdict.at.seq, verdict.at.problem) == (target["seq"], "hash differs")


async def test_verify_against_an_earlier_anchor_catches_a_fully_rehashed_rewrite(
        stack: StackConfig, tmp_path: Path) -> None:
    """As the superuser: bypass the trigger, rewrite a record, re-hash every later link and
    the head. The chain holds again; the anchor kept before does not."""
    key = tmp_path / "anchors.key"
    public = f"--public-key={key}.pub"
    async with _own_database(stack) as (url, pool):
        env = {**os.environ, "PUHUI_DATABASE_URL": url}
        assert (await _audit(env, "keygen", str(key)))[0] == 0
        anchoring = Anchoring(load_signer(key), timedelta(0))
        for batch in (_records(3), _records(2)):
            entries, _ = admit([InboundRecord("audit", 0, i, None, _value(r))
                                for i, r in enumerate(batch)])
            await record_batch(lambda: open_trail(pool), entries, [], utc_now(), anchoring)
        kept = tmp_path / "kept.json"
        code, output = await _audit(env, "anchor", f"--out={kept}", public)
        assert code == 0, output
        assert Anchor.from_json(kept.read_bytes()).head.seq == 5
        assert (await _audit(env, "verify", f"--against={kept}", public))[0] == 0

        await _rewrite_and_rehash(pool, seq=2, member_id="mem_someone_else")
        assert await pool.fetchval("select member_id from audit_trail where seq = 2") == \
            "mem_someone_else"
        code, output = await _audit(env, "verify")
        assert code == 0, output
        code, output = await _audit(env, "verify", f"--against={kept}", public)
    assert code == 1
    assert "does not pass through the anchor of seq=5" in output
    assert "a record at or before seq=5 was rewritten" in output


async def _audit(env: dict[str, str], *args: str) -> tuple[int, str]:
    """`puhui audit ARGS` as a process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "puhui", "audit", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return int(process.returncode or 0), (out + err).decode()


@contextlib.asynccontextmanager
async def _own_database(stack: StackConfig) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A database of the test's own, migrated by its owner, dropped afterwards."""
    name = f"puhui_audit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack.database_url)
    await admin.execute(f'create database "{name}"')
    url = stack.database_url.rsplit("/", 1)[0] + f"/{name}"
    pool = await db.create_pool(url, max_size=2)
    try:
        await db.migrate(pool)
        yield url, pool
    finally:
        await pool.close()
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


async def _rewrite_and_rehash(pool: asyncpg.Pool, seq: int, member_id: str) -> None:
    links = [link_of(row) for row in await pool.fetch(f"{READ_CHAIN_FROM} where seq >= $1"
                                                      " order by seq", seq)]
    prev = links[0].prev_hash
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("set local session_replication_role = replica")
        for i, link in enumerate(links):
            record = link.record.replace(member_id=member_id) if i == 0 \
                else link.record
            moved = dataclasses.replace(link, record=record, prev_hash=prev)
            prev = link_hash(prev, moved)
            await conn.execute("update audit_trail set member_id = $2, prev_hash = $3, hash = $4"
                               " where seq = $1", link.seq, record.values["member_id"],
                               moved.prev_hash, prev)
        await conn.execute("update audit_chain_head set hash = $1", prev)


async def _bypassing_the_trigger(pool: asyncpg.Pool, statement: str, *args: object) -> None:
    """As the superuser can: with triggers off for the session (replica mode)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("set local session_replication_role = replica")
        await conn.execute(statement, *args)
