"""`puhui generate`: a seeded, reproducible synthetic population and feed, as JSON lines.

Each line is `{"topic": ..., "value": {...}}`, in processing order, ready for `puhui simulate`;
or, with `--kafka`, each value produced straight into its topic with its key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO

import click
import orjson
from aiokafka.errors import KafkaError

from puhui.feed_producer import produce_lines
from puhui.synthetic.accidents import accident_feed
from puhui.synthetic.feed import FeedPlan, feed
from puhui.synthetic.population import Line
from services.runtime.progress import progress

CHUNK = 8_192
"""Lines encoded between two writes (and two progress updates)."""


@click.command("generate")
@click.option(
    "--members",
    type=click.IntRange(min=0),
    default=1_750_000,
    show_default=True,
    help="Members registered before the first day.",
)
@click.option(
    "--cards",
    type=click.IntRange(min=0),
    default=1_400_000,
    show_default=True,
    help="Cards issued (card k to member k).",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=35,
    show_default=True,
    help="Days of card transactions.",
)
@click.option(
    "--start-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2027-02-01",
    show_default=True,
    help="The first day (Asia/Shanghai).",
)
@click.option(
    "--seed", type=int, default=2027, show_default=True, help="Same seed and options, same bytes."
)
@click.option(
    "--duplicates-rate",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Share of card transactions resent a little later.",
)
@click.option(
    "--events",
    "max_swipes",
    type=click.IntRange(min=0),
    default=None,
    help="Stop after this many card transactions (resends included).",
)
@click.option(
    "--out",
    type=click.File("wb"),
    default="-",
    show_default=True,
    help="Where to write the JSON lines (- for stdout).",
)
@click.option(
    "--accidents",
    is_flag=True,
    help="The money-truth feed instead (puhui/synthetic/accidents.py): --members members, each "
         "with one of the feeds' accidents (late cards, blocks before issues, late registrations, "
         "replaced cards, refunds before purchases, ...), every message twice, in its phases.",
)
@click.option(
    "--kafka",
    "bootstrap",
    metavar="BOOTSTRAP",
    default=None,
    help="Produce into Kafka at BOOTSTRAP (host:port) instead of writing lines.",
)
def generate(
    members: int,
    cards: int,
    days: int,
    start_date: datetime,
    seed: int,
    duplicates_rate: float,
    max_swipes: int | None,
    out: BinaryIO,
    accidents: bool,
    bootstrap: str | None,
) -> None:
    """Write a seeded synthetic feed (JSON lines) for `puhui simulate`, or produce it into
    Kafka (`--kafka`), keyed by card, member or date.

    Registrations and card issues first, then day by day the clock, card transactions
    (commutes, trips home, cinema, books, shopping, refunds, reversals, resends), certificates
    and honours.
    """
    if accidents:
        if bootstrap is not None:
            raise click.UsageError("--accidents writes lines only: each of its phases must be "
                                   "recorded before the next is sent")
        write_lines((line for phase in accident_feed(members, seed) for line in phase), out)
        return
    plan = FeedPlan(members, cards, days, start_date.date(), seed, duplicates_rate, max_swipes)
    if bootstrap is None:
        write_feed(plan, out)
        return
    try:
        with progress("producing", plan.expected_lines()) as advance:
            sent = asyncio.run(produce_lines(feed(plan), bootstrap, advance))
    except KafkaError as error:
        raise click.ClickException(f"Kafka at {bootstrap}: {error}") from None
    click.echo(f"produced {sent:,} events to {bootstrap}", err=True)


def write_feed(plan: FeedPlan, out: BinaryIO) -> int:
    """Write every line of the feed of `plan` to `out`; returns the number of lines."""
    return write_lines(feed(plan), out, plan.expected_lines())


def write_lines(lines: Iterable[Line], out: BinaryIO, expected: int | None = None) -> int:
    """Write `lines` as JSON lines `{"topic", "value"}`; returns how many."""
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    written, chunk = 0, []
    with progress("generating", expected) as advance:
        for topic, value in lines:
            chunk.append(dumps({"topic": topic, "value": value}, option=newline))
            if len(chunk) == CHUNK:
                out.write(b"".join(chunk))
                written += len(chunk)
                chunk.clear()
                advance(written)
        out.write(b"".join(chunk))
    out.flush()
    return written + len(chunk)
