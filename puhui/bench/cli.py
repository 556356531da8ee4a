"""`puhui bench`: measure the pipeline against the raw Kafka floor on the local stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from puhui.bench.chart import ChartLibraryMissing, draw, require_chart_library
from puhui.bench.figures import lines
from puhui.bench.fleet import SERVICES, WATCH
from puhui.bench.fresh import NotClean
from puhui.bench.plan import BenchPlan
from puhui.bench.run import Bench
from puhui.bench.watch import PhaseFailed
from puhui.settings import Connections


@click.command("bench")
@click.option("--members", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="Members registered (through the pipeline) before the card days.")
@click.option("--cards", type=click.IntRange(min=1), default=None,
              help="Cards issued, card k to member k.  [default: 4/5 of --members]")
@click.option("--events", type=click.IntRange(min=1), default=300_000, show_default=True,
              help="Card transactions of the card-day phase (resends included).")
@click.option("--rate", type=click.IntRange(min=1), default=2_000, show_default=True,
              help="Swipes per second offered in the latency phase.")
@click.option("--latency-seconds", type=click.FloatRange(min=1), default=30.0,
              show_default=True, help="How long the latency phase offers swipes.")
@click.option("--full-day", is_flag=True,
              help="The federation's 1.75 million members and 1.4 million cards, then one "
                   "whole generated weekday (ignores --members, --cards, --events).")
@click.option("--instances", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Disbursement processes (they share the card partitions).")
@click.option("--without-watch", is_flag=True,
              help="Leave the watch out: the hot path alone, as runs before it were.")
@click.option("--profile", "profiled", type=click.Choice([*SERVICES, WATCH]), multiple=True,
              help="Record this service with py-spy (repeatable); the summary joins the JSON.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("bench-results"), show_default=True,
              help="Where <timestamp>.json, <timestamp>.png and the service logs go.")
def bench(members: int, cards: int | None, events: int, rate: int, latency_seconds: float,
          full_day: bool, instances: int, without_watch: bool, profiled: tuple[str, ...],
          out_dir: Path) -> None:
    """Raw Kafka floor and the whole pipeline, in one run, on the local stack.

    Uses its own database (puhui_bench, dropped and created) and recreates the topics, so
    stop any `puhui run` on the same broker first. Prints events per second of both and
    their ratio, latency percentiles at a fixed offered rate and every service's peak RSS;
    writes them as JSON and draws a PNG chart. The watch runs beside the four services (as
    `puhui run` and the deployment run it) unless --without-watch; its CPU per card event,
    peak RSS and lag are printed per stage.
    """
    if without_watch and WATCH in profiled:
        raise click.UsageError("--profile watch needs the watch (drop --without-watch)")
    try:
        require_chart_library()
    except ChartLibraryMissing as error:
        raise click.ClickException(str(error)) from None
    plan = BenchPlan.full_day(rate, latency_seconds) if full_day else BenchPlan(
        members, cards if cards is not None else members * 4 // 5, events, None, rate,
        latency_seconds)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    run = Bench(plan, Connections.from_env(), out_dir / f"{stamp}-logs",
                lambda text: click.echo(text, err=True), profiled, full_day, instances,
                not without_watch)
    try:
        figures = asyncio.run(run.run())
    except (NotClean, PhaseFailed) as error:
        raise click.ClickException(str(error)) from None
    for line in lines(figures):
        click.echo(line)
    result = out_dir / f"{stamp}.json"
    result.write_bytes(orjson.dumps(figures.as_dict(), option=orjson.OPT_INDENT_2))
    draw(figures, out_dir / f"{stamp}.png")
    click.echo(f"wrote {result} and {result.with_suffix('.png')}")
