"""`puhui simulate --from-kafka [--against-ledger]`: the replay, start to finish."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click
from aiokafka.errors import KafkaError
from rich.console import Console

from engine.catalogue import Catalogue
from engine.simulator import Simulator
from puhui.settings import Connections
from puhui.simulate_output import payout_line
from puhui.simulate_report import Tally, show_held, show_summary
from puhui.whatif import report
from puhui.whatif.compare import compare
from puhui.whatif.kafka_source import Counts, RecordedEvents, ReplayMisplaced
from puhui.whatif.ledger import LedgerUnreachable, recorded_payouts
from puhui.whatif.replay import Money, Replayed, replay
from puhui.whatif.window import Window
from services.runtime.progress import counting

PLAIN_WIDTH = 140


@dataclass(frozen=True)
class Replay:
    """What was asked of the replay."""

    window: Window
    catalogue: Catalogue
    in_force: Catalogue
    against_ledger: bool
    member_prefix: str
    out_dir: Path
    summary: bool
    progress_json: bool = False


def run_from_kafka(asked: Replay, connections: Connections | None = None) -> None:
    """Replay the broker's inbound topics; print payouts, or compare them with the ledger."""
    connections = connections or Connections.from_env()
    if asked.against_ledger:
        try:
            report.require_chart_library()
        except report.ChartLibraryMissing as error:
            raise click.ClickException(str(error)) from None
    try:
        done, simulator, tally = asyncio.run(_replay(asked, connections.kafka_bootstrap))
    except (KafkaError, OSError) as error:
        raise click.ClickException(
            f"no Kafka broker answers at {connections.kafka_bootstrap} ({error}); start it "
            "(`puhui stack up`) or set PUHUI_KAFKA_BOOTSTRAP") from None
    except ReplayMisplaced as error:
        raise click.ClickException(f"replay not started: {error}") from None
    _say_read(done.counts)
    show_held(simulator.held())
    if asked.summary:
        show_summary(tally, sum(done.counts.dead_letters.values()), asked.catalogue,
                     simulator.budget_left)
    if asked.against_ledger:
        _against_ledger(asked, done, connections.database_url)


async def _replay(asked: Replay, bootstrap: str) -> tuple[Replayed, Simulator, Tally]:
    source = RecordedEvents(bootstrap, asked.window)
    simulator, tally = Simulator(asked.catalogue), Tally()
    out = None if asked.against_ledger else click.get_binary_stream("stdout")
    try:
        await source.open()
        with counting("replaying", source.total, as_json=asked.progress_json) as advance:
            done = await replay(source, simulator, asked.member_prefix,
                                _writer(out, tally), advance)
    finally:
        await source.close()
    if out is not None:
        out.flush()
    return done, simulator, tally


def _writer(out: BinaryIO | None, tally: Tally) -> Callable[[Money], None]:
    def write(decision: Money) -> None:
        tally.count(decision)
        if out is not None:
            out.write(payout_line(decision))
    return write


def _against_ledger(asked: Replay, done: Replayed, dsn: str) -> None:
    try:
        recorded = asyncio.run(recorded_payouts(dsn, asked.window, asked.member_prefix))
    except LedgerUnreachable as error:
        raise click.ClickException(str(error)) from None
    comparison = compare(recorded, done.payouts, asked.in_force, asked.catalogue)
    about = {"window": {"from": asked.window.report_from.isoformat(),
                        "to": asked.window.last_day.isoformat() if asked.window.last_day
                        else None},
             "member_prefix": asked.member_prefix,
             "events_fed": done.counts.fed,
             "dead_letters_skipped": dict(done.counts.dead_letters)}
    console = Console(width=None if sys.stdout.isatty() else PLAIN_WIDTH)
    report.show(comparison, console)
    written = report.write(comparison, about, asked.out_dir)
    console.print(f"written: {', '.join(str(path) for path in written)}")


def _say_read(counts: Counts) -> None:
    skipped = sum(counts.dead_letters.values())
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.dead_letters.items()))
    click.echo(f"replayed {counts.fed:,} events ({counts.read:,} messages read; "
               f"{counts.outside:,} outside the window; {skipped:,} dead letters skipped"
               f"{': ' + kinds if kinds else ''})", err=True)
