"""`puhui simulate`: run the rules engine over a file of events, with no Kafka and no database.

Input: JSON lines `{"topic": ..., "value": {...}}` in processing order (as `puhui generate`
writes them). Output: one JSON line per payout or clawback on stdout, in the `payouts` format.
Everything for a person (bad lines, what is still held, the summary) goes to stderr.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click
import orjson

from engine.catalogue import Catalogue, CatalogueError, load_catalogue
from engine.decisions import ClawedBack, Paid
from engine.simulator import Simulator
from puhui.simulate_output import payout_line
from puhui.simulate_report import BadLines, Tally, show_held, show_summary
from schemas.decode import InboundEvent, Invalid, decode_value
from services.runtime.progress import progress

_MONEY = (Paid, ClawedBack)

CHUNK = 4_096
"""Input lines between two writes of payouts (and two progress updates)."""

LONG_INPUT_BYTES = 50_000_000
"""Inputs at least this long get a progress bar (when stderr is a terminal)."""

SHARDED_BYTES = 10_000_000
"""With `--processes 0`, inputs at least this long are shared out to worker processes."""
AUTO_PROCESSES = 2
"""Worker processes with `--processes 0` (if there are that many cores)."""

RUN_GC_THRESHOLD = (100_000, 50, 100)
"""Garbage-collector thresholds while simulating (see `rarer_collections`)."""


@click.command("simulate")
@click.argument("events", type=click.File("rb"), required=False)
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Programme catalogue (TOML); the reference catalogue if not given.",
)
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="PROGRAMME=FEN",
    help="Replace a programme's yearly budget (fen); may be repeated.",
)
@click.option("--summary", is_flag=True, help="Print a table per programme on stderr.")
@click.option("--from-kafka", is_flag=True,
              help="Replay the inbound topics recorded on the broker (PUHUI_KAFKA_BOOTSTRAP) "
                   "instead of reading EVENTS.")
@click.option("--year", type=click.IntRange(2000, 2099), default=None,
              help="With --from-kafka: replay and report this calendar year.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --from-kafka: report from this day on (replayed from 1 January of "
                   "its year).")
@click.option("--against-ledger", is_flag=True,
              help="With --from-kafka: compare with the payouts PostgreSQL recorded "
                   "(PUHUI_DATABASE_URL); a table, and JSON, CSV and PNG in --out.")
@click.option("--in-force", "in_force_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The catalogue the services ran (its budgets for the burn-down); the "
                   "reference catalogue if not given.")
@click.option("--member-prefix", default="", metavar="PREFIX",
              help="Report and compare only the members whose id starts with PREFIX.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("whatif-results"), show_default=True,
              help="With --against-ledger: where the JSON, CSV and PNG files go.")
@click.option("--progress-json", is_flag=True,
              help="With --from-kafka: progress as JSON lines on stderr instead of a bar.")
@click.option("--processes", type=click.IntRange(0, 16), default=0, show_default=True,
              help="Worker processes the members are shared out to (the output is the same; "
                   "see docs/bench.md for when it is faster); 0: one per core, up to 2, for a "
                   "file of at least 10 MB, else 1.")
def simulate(
    events: BinaryIO | None, catalogue_path: Path | None, budgets: tuple[str, ...],
    summary: bool, from_kafka: bool, year: int | None, since: datetime | None,
    against_ledger: bool, in_force_path: Path | None, member_prefix: str, out_dir: Path,
    progress_json: bool, processes: int,
) -> None:
    """Decide every event in EVENTS (JSON lines, `-` for stdin) and print the payouts.

    A bad line is reported on stderr with its line number and counted; the rest still runs.
    With --from-kafka, the events are those the broker recorded (see docs/services.md,
    "What if").
    """
    catalogue = _catalogue(catalogue_path, budgets)
    if from_kafka or year is not None or since is not None or against_ledger:
        _from_kafka(events, catalogue, _in_force(in_force_path), summary, from_kafka, year,
                    since, against_ledger, member_prefix, out_dir, progress_json)
        return
    if events is None:
        raise click.UsageError("give EVENTS (a file, or - for stdin) or --from-kafka")
    shards = _shards(events, processes)
    if shards > 1:
        _sharded(events, catalogue, shards, summary)
        return
    simulator = Simulator(catalogue)
    tally, bad = Tally(), BadLines()
    out = click.get_binary_stream("stdout")
    bar = progress("simulating", _size(events), minimum=LONG_INPUT_BYTES)
    with rarer_collections(), bar as advance:
        for done in run(_numbered(events), simulator, out, tally, bad):
            advance(done)
    out.flush()
    show_held(simulator.held())
    if summary:
        show_summary(tally, bad.count, catalogue, simulator.budget_left)
    elif bad.count:
        click.echo(f"{bad.count:,} bad line{'' if bad.count == 1 else 's'}", err=True)


def _shards(events: BinaryIO, processes: int) -> int:
    """How many worker processes: none (1) for stdin, which cannot be read twice."""
    size = _size(events)
    if size is None or not events.seekable():
        return 1
    if processes == 0:
        return min(AUTO_PROCESSES, os.cpu_count() or 1) if size >= SHARDED_BYTES else 1
    return processes


def _sharded(events: BinaryIO, catalogue: Catalogue, shards: int, summary: bool) -> None:
    from puhui.shards.run import run_sharded  # it imports this module

    def source() -> Iterator[tuple[int, bytes]]:
        """The file's lines from the start, through a file object of this process's own
        (a forked worker would share `events`'s offset with every other process)."""
        with open(events.name, "rb") as again:
            yield from _numbered(again)

    out = click.get_binary_stream("stdout")
    bar = progress("simulating", _size(events), minimum=LONG_INPUT_BYTES)
    with rarer_collections(), bar as advance:
        result = run_sharded(source, catalogue, shards, out, advance)
    out.flush()
    if result.fell_back_at is not None:
        click.echo(f"simulate: decided in one process from line {result.fell_back_at:,} "
                   f"({result.why})", err=True)
    show_held(result.held)
    if summary:
        def budget_left(programme: str, year: int) -> int:
            spent = result.budget_spent.get((programme, year), 0)
            return catalogue.programme(programme).yearly_budget_fen - spent

        show_summary(result.tally, result.bad.count, catalogue, budget_left)
    elif result.bad.count:
        count = result.bad.count
        click.echo(f"{count:,} bad line{'' if count == 1 else 's'}", err=True)


def run(
    lines: Iterable[tuple[int, bytes]],
    simulator: Simulator,
    out: BinaryIO,
    tally: Tally,
    bad: BadLines,
) -> Iterator[int]:
    """Feed every line's event to `simulator`, write its payouts and clawbacks to `out`.

    Yields the bytes read so far after each chunk of lines, for a progress bar.
    """
    written: list[bytes] = []
    read = 0
    for number, line in lines:
        read += len(line)
        event = parse_line(line)
        if isinstance(event, Invalid):
            bad.report(number, event.reason)
            continue
        for decision in simulator.feed(event):
            if isinstance(decision, _MONEY):
                written.append(payout_line(decision))
                tally.count(decision)
        if number % CHUNK == 0:
            out.write(b"".join(written))
            written.clear()
            yield read
    out.write(b"".join(written))
    yield read


def parse_line(line: bytes) -> InboundEvent | Invalid:
    """The event in one input line `{"topic": ..., "value": {...}}`, or why there is none."""
    try:
        envelope = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Invalid(f"not valid JSON: {error}")
    if type(envelope) is not dict or "topic" not in envelope or "value" not in envelope:
        return Invalid('not an object with "topic" and "value"')
    topic = envelope["topic"]
    if type(topic) is not str:
        return Invalid("topic: must be a string")
    return decode_value(topic, envelope["value"])


@contextmanager
def rarer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often while the in-memory ledger grows.

    The ledger holds millions of long-lived objects; with the default thresholds the collector
    scans them again and again (about a fifth of the run time on a million events). At the
    end they are frozen (kept out of every later collection) before the thresholds come
    back: the first allocation after that would otherwise scan the whole ledger once more
    (2.4 % of a one-process run over the bench's 390,029 lines, py-spy). For a process
    that ends after its run (`puhui simulate`, a shard's worker): the ledger is never
    collected before then.
    """
    before = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*before)


def _numbered(events: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every line that is not blank."""
    for number, line in enumerate(events, 1):
        if line.strip():
            yield number, line


def _catalogue(path: Path | None, budgets: tuple[str, ...]) -> Catalogue:
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        raise click.BadParameter(str(error), param_hint="--catalogue") from None
    if not budgets:
        return catalogue
    try:
        return catalogue.with_budgets(dict(_budget(text) for text in budgets))
    except CatalogueError as error:
        raise click.BadParameter(str(error), param_hint="--budget") from None


def _from_kafka(events: BinaryIO | None, catalogue: Catalogue, in_force: Catalogue,
                summary: bool, from_kafka: bool, year: int | None, since: datetime | None,
                against_ledger: bool, member_prefix: str, out_dir: Path,
                progress_json: bool) -> None:
    from puhui.whatif.run import Replay, run_from_kafka  # aiokafka: only a replay needs it
    from puhui.whatif.window import Window

    if not from_kafka:
        raise click.UsageError("--year, --since and --against-ledger go with --from-kafka")
    if events is not None:
        raise click.UsageError("--from-kafka reads the broker: give no EVENTS")
    if year is not None and since is None:
        window = Window.year(year)
    elif since is not None and year is None:
        window = Window.since(since.date())
    else:
        raise click.UsageError("--from-kafka needs one of --year YYYY or --since YYYY-MM-DD")
    run_from_kafka(Replay(window, catalogue, in_force, against_ledger, member_prefix, out_dir,
                          summary, progress_json))


def _in_force(path: Path | None) -> Catalogue:
    try:
        return load_catalogue(path)
    except CatalogueError as error:
        raise click.BadParameter(str(error), param_hint="--in-force") from None


def _budget(text: str) -> tuple[str, int]:
    """`books=500000` -> ('books', 500000)."""
    programme, sep, fen = text.partition("=")
    if not sep or not programme.strip():
        raise click.BadParameter(f"expected PROGRAMME=FEN, got {text!r}", param_hint="--budget")
    try:
        return programme.strip(), int(fen)
    except ValueError:
        message = f"{programme}: the budget must be a whole number of fen, got {fen!r}"
        raise click.BadParameter(message, param_hint="--budget") from None


def _size(events: BinaryIO) -> int | None:
    """The input's size in bytes, if it is a regular file."""
    try:
        status = os.fstat(events.fileno())
    except (OSError, ValueError, AttributeError):  # in-memory streams have no descriptor
        return None
    return status.st_size if status.st_size > 0 else None
