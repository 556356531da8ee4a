"""`puhui run`: every service as its own process on the local stack, restarted if it dies.

With `--demo` it also feeds a short synthetic stream (registrations, cards, two days of
swipes) so a newcomer sees payouts flow, prints running totals from PostgreSQL, and serves the
finance review with a demo user of each role (`services/finance/demo.py`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date

import asyncpg
import click
import orjson
from aiokafka import AIOKafkaProducer

from puhui.settings import Connections, instance_port, metrics_ports
from puhui.synthetic.feed import FeedPlan, feed
from schemas.topics import key_of

TOTALS = """
select programme, count(*) filter (where kind = 'payout') as payouts,
       count(*) filter (where kind = 'clawback') as clawbacks, sum(amount_fen) as net
from payouts group by programme order by programme
"""


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started: float = field(default=0.0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, start_new_session=True)
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def children(instances: int, first_port: int) -> list[Child]:
    """Every service's process; `/metrics` ports from `first_port` on (`PUHUI_METRICS_PORT`,
    the same block the stack's Prometheus scrapes)."""
    python = [sys.executable, "-m", "puhui", "service"]
    found = []
    for name, port in metrics_ports(first_port).items():
        count = instances if name == "disbursement" else 1
        for i in range(count):
            metrics_port = port if i == 0 else instance_port(first_port, i)
            label = name if count == 1 else f"{name}-{i + 1}"
            found.append(Child(label, [*python, name, "--metrics-port", str(metrics_port)]))
    return found


def supervise(instances: int, demo: bool, members: int, first_port: int) -> None:
    procs = children(instances, first_port)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in procs:
        child.start()
        click.echo(f"started {child.name} (pid {child.proc.pid if child.proc else '?'})")
    connections = Connections.from_env()
    if demo:
        procs.append(finance_review(connections.database_url))
        sent = asyncio.run(produce_demo(connections.kafka_bootstrap, members))
        click.echo(f"demo: sent {sent:,} events (members, cards, two days of swipes)")
    last_line = ""
    try:
        while not stopping:
            for child in procs:
                if not child.alive():
                    child.restarts += 1
                    click.secho(f"{child.name} exited; restarting (restart {child.restarts})",
                                fg="yellow")
                    child.start()
            line = asyncio.run(totals_line(connections.database_url))
            if line != last_line:
                click.echo(line)
                last_line = line
            for _ in range(20):
                if stopping:
                    break
                time.sleep(0.25)
    finally:
        for child in procs:
            if child.alive() and child.proc is not None:
                child.proc.terminate()
        for child in procs:
            if child.proc is not None:
                child.proc.wait(timeout=30)
        click.echo("all services stopped")


def finance_review(database_url: str) -> Child:
    """`puhui finance serve` with a demo user of each role, their passwords printed once."""
    from services.finance.demo import demo_users

    port = int(os.environ.get("PUHUI_FINANCE_PORT", "8080"))
    users = asyncio.run(demo_users(database_url))
    child = Child("finance", [sys.executable, "-m", "puhui", "finance", "serve", "--port",
                              str(port)])
    child.start()
    click.secho(f"finance review (财务审核): http://127.0.0.1:{port}/  sign in as", bold=True)
    for name, role, password in users:
        click.echo(f"  {name:<16} {password}   ({role.value})")
    return child


async def produce_demo(bootstrap: str, members: int) -> int:
    plan = FeedPlan(members=members, cards=members * 4 // 5, days=2,
                    start_date=date(2027, 2, 5), seed=int.from_bytes(os.urandom(4), "big"))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                linger_ms=10)
    await producer.start()
    sent = 0
    try:
        for topic, value in feed(plan):
            await producer.send(topic, orjson.dumps(value), key=key_of(topic, value))
            sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def totals_line(dsn: str) -> str:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"(database not answering: {exc})"
    try:
        rows = await conn.fetch(TOTALS)
    except asyncpg.UndefinedTableError:
        return "(waiting for the services to create the schema)"
    finally:
        await conn.close()
    if not rows:
        return "no payouts yet"
    parts = [f"{r['programme']}: {r['payouts']} paid, {r['clawbacks']} clawed back, "
             f"{r['net'] / 100:,.2f} CNY" for r in rows]
    return " | ".join(parts)
