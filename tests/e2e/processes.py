"""The services as real processes (`python -m puhui service NAME`) for e2e tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from puhui.stack.config import StackConfig
from schemas import payouts as payouts_topic
from schemas.topics import PARTITIONS

Payouts = set[tuple[str, str, str, int]]
MINE = "select payout_id, member_id, programme, amount_fen from payouts where member_id like $1"
_FIRST_PORT = int(os.environ.get("PUHUI_TEST_METRICS_PORT", "19300"))  # parallel runs: their own
_next_port = iter(range(_FIRST_PORT, _FIRST_PORT + 99))


@dataclass
class Services:
    stack: StackConfig
    catalogue: Path | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    """The `/metrics` port of each process started."""

    def start(self, name: str, service: str | None = None) -> None:
        env = {**os.environ, "PUHUI_KAFKA_BOOTSTRAP": self.stack.bootstrap_servers,
               "PUHUI_DATABASE_URL": self.stack.database_url}
        self.ports[name] = next(_next_port)
        argv = [sys.executable, "-m", "puhui", "service", service or name,
                "--metrics-port", str(self.ports[name])]
        if self.catalogue is not None:
            argv += ["--catalogue", str(self.catalogue)]
        logs = self.stack.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"service-{name}.log").open("ab") as log:  # the child keeps its own fd
            self.procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=log)

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=10)

    def all_alive(self) -> bool:
        return all(p.poll() is None for p in self.procs.values())

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


SERVICES = ("enrolment", "disbursement", "audit", "relay")


@contextlib.contextmanager
def every_service(stack: StackConfig) -> Iterator[Services]:
    """The four services as processes, stopped when the block ends."""
    running = Services(stack)
    for name in SERVICES:
        running.start(name)
    try:
        yield running
    finally:
        running.stop_all()


async def payouts(dsn: str, prefix: str) -> Payouts:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(MINE, f"{prefix}-%")
    finally:
        await conn.close()
    return {(r["payout_id"], r["member_id"], r["programme"], r["amount_fen"]) for r in rows}


async def payouts_when(dsn: str, prefix: str, want: int, seconds: float) -> Payouts:
    """The run's payouts once there are `want` of them (or time is up), then a little
    longer, so that a double payment would have landed too."""
    deadline = asyncio.get_running_loop().time() + seconds
    got: Payouts = set()
    while asyncio.get_running_loop().time() < deadline:
        try:
            got = await payouts(dsn, prefix)
        except (OSError, asyncpg.PostgresError):
            got = set()  # the database is restarting in some tests
        if len(got) >= want:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2.0)
    return await payouts(dsn, prefix)


async def payout_ids_on_topic(bootstrap: str, wanted: set[str],
                              seconds: float) -> Counter[str]:
    """How often each of `wanted` is on `payouts`, read from the start until all are there
    (or time is up), then to the end as it is then."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    found: Counter[str] = Counter()
    try:
        partitions = [TopicPartition(payouts_topic.TOPIC, p)
                      for p in range(PARTITIONS[payouts_topic.TOPIC])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            end = await consumer.end_offsets(partitions)
            while any([await consumer.position(tp) < end[tp] for tp in partitions]):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        payout_id = orjson.loads(r.value)["payout_id"]
                        if payout_id in wanted:
                            found[payout_id] += 1
            if set(found) >= wanted:
                break
            await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
    return found


def audit_chain_verifies(stack: StackConfig) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PUHUI_DATABASE_URL": stack.database_url}
    return subprocess.run([sys.executable, "-m", "puhui", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
