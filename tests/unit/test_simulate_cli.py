"""`puhui simulate`: payout lines on stdout, bad lines and the summary on stderr."""

from __future__ import annotations

import gc
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from engine.catalogue import load_catalogue
from puhui.generate import write_feed
from puhui.simulate import simulate
from puhui.synthetic.feed import FeedPlan
from schemas.payouts import Payout

MEMBER, CARD = "M1", "C1"


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _line(topic: str, **value: Any) -> bytes:
    return orjson.dumps({"topic": topic, "value": value})


def _enrolment(n: int, kind: str, **extra: Any) -> bytes:
    at = "2027-01-01T09:00:00+08:00"
    return _line("member.enrolment", event_id=_id(n), type=kind, member_id=MEMBER, occurred_at=at,
                 **extra)  # fmt: skip


def _swipe(n: int, kind: str, tx: str, amount: int, mcc: str, **extra: Any) -> bytes:
    return _line("card.transactions", event_id=_id(n), type=kind, transaction_id=tx,
                 card_id=extra.pop("card_id", CARD), amount_fen=amount, currency="CNY",
                 merchant_id="m", merchant_name="shop", mcc=mcc,
                 occurred_at="2027-03-02T08:00:00+08:00", **extra)  # fmt: skip


REGISTERED = _enrolment(1, "member_registered", birth_date="1990-06-01", union_branch="metro",
                        name="王小明")  # fmt: skip
ISSUED = _enrolment(2, "card_issued", card_id=CARD)
METRO = _swipe(3, "purchase", "T1", 400, "4111")  # green_commute: 50%, at most 100 a ride
BOOKS = _swipe(4, "purchase", "T2", 10_000, "5942")  # books: 20% = 2,000
REFUND = _swipe(5, "refund", "T3", 5_000, "5942", original_transaction_id="T2")  # half back
UNKNOWN_CARD = _swipe(6, "purchase", "T4", 400, "4111", card_id="C-unknown")

FEED = [REGISTERED, ISSUED, METRO, BOOKS, REFUND]


def _invoke(lines: list[bytes], *args: str, stdin: bytes | None = None) -> Result:
    text = b"\n".join(lines) + b"\n"
    if stdin is None:
        with CliRunner().isolated_filesystem():
            Path("events.jsonl").write_bytes(text)
            return CliRunner().invoke(simulate, ["events.jsonl", *args])
    return CliRunner().invoke(simulate, ["-", *args], input=stdin)


def _payouts(result: Result) -> list[Payout]:
    assert result.exit_code == 0, result.output
    return [Payout.model_validate_json(line) for line in result.stdout_bytes.splitlines()]


def test_writes_each_payout_and_clawback_as_a_payouts_line() -> None:
    payouts = _payouts(_invoke(FEED))
    assert [(p.programme, p.kind, p.amount_fen, p.transaction_id) for p in payouts] == [
        ("green_commute", "payout", 100, "T1"),
        ("books", "payout", 2_000, "T2"),
        ("books", "clawback", -1_000, "T2"),
    ]
    assert {p.member_id for p in payouts} == {MEMBER}
    assert payouts[2].source_event_id == _id(5)


def test_stdout_holds_only_payout_lines() -> None:
    result = _invoke([*FEED, b"{oops"])
    assert all(line.startswith(b'{"payout_id"') for line in result.stdout_bytes.splitlines())
    assert "oops" not in result.stdout


def test_reads_stdin() -> None:
    text = b"\n".join(FEED) + b"\n"
    assert _payouts(_invoke([], stdin=text)) == _payouts(_invoke(FEED))


def test_bad_lines_are_reported_with_their_number_and_counted() -> None:
    bad_json = b'{"topic": "card.transactions", "value": '
    unknown_topic = _line("card.swipes", event_id=_id(9))
    bad_amount = _swipe(7, "purchase", "T5", -5, "4111")
    no_envelope = b'{"event_id": "x"}'
    result = _invoke([REGISTERED, bad_json, ISSUED, unknown_topic, bad_amount, no_envelope, METRO])
    assert result.exit_code == 0
    assert "line 2: not valid JSON" in result.stderr
    assert "line 4: unknown topic 'card.swipes'" in result.stderr
    assert "line 5: amount_fen: must be > 0, got -5" in result.stderr
    assert 'line 6: not an object with "topic" and "value"' in result.stderr
    assert "4 bad lines" in result.stderr
    assert [p.transaction_id for p in _payouts(result)] == ["T1"], "the rest still runs"


def test_blank_lines_are_skipped_but_keep_line_numbers() -> None:
    result = _invoke([REGISTERED, b"", ISSUED, b"   ", b"[]", METRO])
    assert "line 5: not an object" in result.stderr
    assert "1 bad line\n" in result.stderr
    assert len(_payouts(result)) == 1


def test_a_resent_event_pays_once() -> None:
    assert len(_payouts(_invoke([REGISTERED, ISSUED, METRO, METRO]))) == 1


def test_summary_per_programme_on_stderr() -> None:
    result = _invoke([*FEED, b"not json"], "--summary")
    rows = _summary_rows(result.stderr)
    books_budget = load_catalogue().programme("books").yearly_budget_fen
    assert rows["books"] == ["2027", "1", "1", "1,000", "1", f"{books_budget - 1_000:,}"]
    assert rows["green_commute"][1:5] == ["1", "0", "100", "1"]
    assert rows["cinema"][1:5] == ["0", "0", "0", "0"]
    assert "bad lines: 1" in result.stderr
    assert "members paid" not in result.stdout


def test_budget_option_replaces_a_yearly_budget() -> None:
    result = _invoke(FEED, "--budget", "books=1500", "--summary")
    books = [p.amount_fen for p in _payouts(result) if p.programme == "books"]
    assert books[0] == 1_500, "a payout is cut to what the budget has left"
    assert _summary_rows(result.stderr)["books"][-1] == "750", "the clawback gives back half"


def test_events_still_held_are_listed_at_the_end() -> None:
    result = _invoke([REGISTERED, UNKNOWN_CARD, ISSUED])
    assert "still held: 1 events" in result.stderr
    assert "T4" in result.stderr
    assert "waiting for card C-unknown" in result.stderr


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("books", "expected PROGRAMME=FEN, got 'books'"),
        ("books=lots", "the budget must be a whole number of fen, got 'lots'"),
        ("no_such=5", "unknown programme no_such"),
        ("books=-1", "must be an integer >= 0"),
    ],
)
def test_a_bad_budget_is_one_clear_error(budget: str, message: str) -> None:
    result = _invoke(FEED, "--budget", budget)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_a_bad_catalogue_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.toml"
    broken.write_text("[[programme]\nname = ", encoding="utf-8")
    result = _invoke(FEED, "--catalogue", str(broken))
    assert result.exit_code == 2
    assert "--catalogue" in result.stderr
    assert "not valid TOML" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_catalogue_is_one_clear_error(tmp_path: Path) -> None:
    result = _invoke(FEED, "--catalogue", str(tmp_path / "nowhere.toml"))
    assert result.exit_code == 2
    assert "cannot read it" in result.stderr


def _summary_rows(stderr: str) -> dict[str, list[str]]:
    """programme -> the other cells of its row in the rich table."""
    rows = {}
    for line in stderr.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
        if len(cells) == 7 and cells[1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_collector_settings_are_restored_after_a_run() -> None:
    before = gc.get_threshold()
    _payouts(_invoke(FEED))
    assert gc.get_threshold() == before


def test_a_file_shared_out_to_workers_gives_the_one_process_output(tmp_path: Path) -> None:
    """`puhui simulate --processes 2` as a process: each worker opens the file itself (a
    forked worker sharing the file's offset with another would skip or repeat lines)."""
    feed = tmp_path / "feed.jsonl"
    with feed.open("wb") as out:
        write_feed(FeedPlan(members=600, cards=500, days=3, start_date=date(2027, 2, 5),
                            seed=5), out)
    outputs = [subprocess.run([sys.executable, "-m", "puhui", "simulate", str(feed),
                               "--processes", processes, "--summary"],
                              capture_output=True, check=True)
               for processes in ("1", "2")]
    one, two = outputs
    assert one.stdout.count(b"\n") > 100  # it paid
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
