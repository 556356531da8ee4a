"""`puhui generate`: a reproducible synthetic feed that `puhui simulate` can read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from puhui.generate import generate
from schemas.decode import Invalid, decode_value

SMALL = ["--members", "300", "--cards", "200", "--days", "3", "--start-date", "2027-02-05"]


def _run(*args: str) -> bytes:
    result = CliRunner().invoke(generate, [*SMALL, *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _lines(*args: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _run(*args).splitlines()]


@pytest.fixture(scope="module")
def lines() -> list[dict[str, Any]]:
    return _lines("--seed", "7", "--duplicates-rate", "0.05")


def test_same_seed_same_bytes() -> None:
    assert _run("--seed", "7") == _run("--seed", "7")


def test_another_seed_another_feed() -> None:
    assert _run("--seed", "7") != _run("--seed", "8")


def test_every_line_is_a_valid_event(lines: list[dict[str, Any]]) -> None:
    problems = [
        (number, result)
        for number, line in enumerate(lines, 1)
        if isinstance(result := decode_value(line["topic"], line["value"]), Invalid)
    ]
    assert problems == []


def test_enrolment_first_then_each_day_opens_with_the_clock(lines: list[dict[str, Any]]) -> None:
    kinds = [line["value"]["type"] for line in lines]
    assert kinds[:300] == ["member_registered"] * 300
    assert kinds[300:500] == ["card_issued"] * 200
    assert kinds[500] == "day_started"
    days = [line["value"]["date"] for line in lines if line["topic"] == "clock.days"]
    assert days == ["2027-02-05", "2027-02-06", "2027-02-07"]


def test_each_days_swipes_are_in_time_order(lines: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    last = ""
    for line in lines[500:]:
        value = line["value"]
        if value["type"] == "day_started":
            last = value["date"]
        elif value["event_id"] not in seen:  # a resend may come a little later
            assert value["occurred_at"] >= last
            last = value["occurred_at"]
        seen.add(value["event_id"])


def test_cards_belong_to_registered_members(lines: list[dict[str, Any]]) -> None:
    issued = {v["card_id"] for v in _values(lines, "card_issued")}
    swiped = {line["value"]["card_id"] for line in lines if line["topic"] == "card.transactions"}
    assert swiped <= issued


def test_refunds_and_reversals_follow_their_purchase(lines: list[dict[str, Any]]) -> None:
    bought: dict[str, int] = {}
    followers = 0
    for line in lines:
        value = line["value"]
        if value.get("type") == "purchase":
            bought[value["transaction_id"]] = value["amount_fen"]
        elif value.get("type") in ("refund", "reversal"):
            followers += 1
            assert value["amount_fen"] <= bought[value["original_transaction_id"]]
    assert followers > 0


def test_resends_repeat_the_message_exactly(lines: list[dict[str, Any]]) -> None:
    swipes = [orjson.dumps(line) for line in lines if line["topic"] == "card.transactions"]
    repeated = [raw for raw, times in Counter(swipes).items() if times > 1]
    ids = Counter(orjson.loads(raw)["value"]["event_id"] for raw in set(swipes))
    assert repeated, "a 5% resend rate resends something"
    assert max(ids.values()) == 1, "a resend is the same message, not a new one with the same id"


def test_the_return_window_has_train_trips(lines: list[dict[str, Any]]) -> None:
    mccs = Counter(line["value"].get("mcc") for line in lines)
    assert mccs["4112"] > 0
    assert mccs["4111"] > mccs["7832"]


def test_events_caps_the_card_transactions() -> None:
    capped = _lines("--events", "25")
    assert sum(line["topic"] == "card.transactions" for line in capped) == 25
    assert capped[-1]["topic"] == "card.transactions"


def test_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "feed.jsonl"
    result = CliRunner().invoke(generate, [*SMALL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == _run()


def test_certificates_and_honours_happen() -> None:
    many = CliRunner().invoke(generate, ["--members", "60000", "--cards", "0", "--days", "10"])
    kinds = Counter(orjson.loads(line)["value"]["type"] for line in many.stdout_bytes.splitlines())
    assert kinds["member_certified"] > 0
    assert kinds["card_issued"] == 0


def _values(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [line["value"] for line in lines if line["value"]["type"] == kind]


def test_the_accident_feed_as_lines_is_what_simulate_reads() -> None:
    result = CliRunner().invoke(generate, ["--accidents", "--members", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert {line["topic"] for line in lines} == {"member.enrolment", "card.transactions",
                                                  "clock.days"}
    ids = [line["value"]["event_id"] for line in lines]
    assert len(ids) == 2 * len(set(ids))  # every message twice
    again = CliRunner().invoke(generate, ["--accidents", "--members", "40", "--seed", "3"])
    assert again.stdout_bytes == result.stdout_bytes


def test_the_accident_feed_is_not_produced_straight_into_kafka() -> None:
    result = CliRunner().invoke(generate, ["--accidents", "--kafka", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert "phases" in result.output
