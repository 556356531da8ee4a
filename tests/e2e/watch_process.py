"""The watch as a real process (`python -m puhui service watch`) over a topic of its own."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from puhui.stack.config import StackConfig
from schemas.topics import PARTITIONS
from services.runtime import db

_ports = iter(range(46150, 46199))
SIGNALS = """
select rule, key, window_start, observed_at, figures from watch_signals
where key = any($1::text[]) order by rule, key, window_start
"""


@dataclass
class Watch:
    stack: StackConfig
    state: Path
    app_id: str = field(default_factory=lambda: f"watch-test-{uuid.uuid4().hex[:8]}")
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def topic(self) -> str:
        return f"{self.app_id}-cards"

    @property
    def payouts_topic(self) -> str:
        return f"{self.app_id}-payouts"

    def start(self) -> None:
        self.port = next(_ports)
        env = {**os.environ, "PUHUI_KAFKA_BOOTSTRAP": self.stack.bootstrap_servers,
               "PUHUI_DATABASE_URL": self.stack.database_url, "PUHUI_WATCH_APP_ID": self.app_id,
               "PUHUI_WATCH_TOPIC": self.topic, "PUHUI_WATCH_PAYOUTS_TOPIC": self.payouts_topic,
               "PUHUI_WATCH_STATE_DIR": str(self.state)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "puhui", "service", "watch", "--metrics-port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL,
            stderr=(self.state / f"{self.app_id}.log").open("ab"))

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def assert_alive(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, (self.state / f"{self.app_id}.log").read_text()[-3000:]

    def metric(self, name: str, labels: str = "") -> float:
        """A sample of the watch's /metrics (0 while it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics",
                                        timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return 0.0
        pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "")
        found = re.search(rf"^{pattern} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def merchant_swipes(self) -> float:
        """Taken by the merchant agent: each transaction, and each subsidised purchase again."""
        topic = f"{self.app_id}-merchant-swipes"
        return self.metric("puhui_events_consumed_total", f'topic="{topic}"')

    def subsidised(self) -> float:
        """Subsidised purchases taken by the card-velocity agent (one per joined pair)."""
        topic = f"{self.app_id}-card-swipes"
        return self.metric("puhui_events_consumed_total", f'topic="{topic}"')

    async def wait_for_swipes(self, want: int, seconds: float = 240) -> None:
        """Until the merchant agent has taken `want` swipes; then a few seconds more, so a
        second signal would have landed too."""
        deadline = asyncio.get_running_loop().time() + seconds
        while self.merchant_swipes() < want:
            self.assert_alive()
            assert asyncio.get_running_loop().time() < deadline, \
                f"the watch took {self.merchant_swipes():.0f} of {want} swipes"
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)


@contextmanager
def watch_process(stack: StackConfig, state: Path) -> Iterator[Watch]:
    watch = Watch(stack, state)
    asyncio.run(_create_topics(stack.bootstrap_servers, [watch.topic, watch.payouts_topic]))
    try:
        yield watch
    finally:
        watch.stop()


async def _create_topics(bootstrap: str, topics: Iterable[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS["card.transactions"], 1)
                                   for topic in topics])
    finally:
        await admin.close()


async def forget_signals(dsn: str, keys: Iterable[str]) -> None:
    """Signals of these keys from an earlier run would make this run's a duplicate."""
    pool = await db.create_pool(dsn, max_size=1)
    try:
        await db.migrate(pool)
        await pool.execute("delete from watch_signals where key = any($1::text[])", list(keys))
    finally:
        await pool.close()


async def signals(dsn: str, keys: Iterable[str]) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(SIGNALS, list(keys)))
    finally:
        await conn.close()
