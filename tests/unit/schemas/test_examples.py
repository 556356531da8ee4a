"""Every example payload is valid for its topic, and every event type has one."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import orjson
import pytest

from schemas import card_transactions, clock_days, member_enrolment, payouts
from schemas.decode import Invalid, decode
from schemas.registry import INBOUND, MESSAGE_TYPES

EXAMPLES = Path(card_transactions.__file__).parent / "examples"
ALL_EXAMPLES = sorted(EXAMPLES.glob("*/*.json"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=_id)
def test_example_is_valid_for_its_topic(path: Path) -> None:
    topic = path.parent.name
    MESSAGE_TYPES[topic].validate_json(path.read_bytes())


@pytest.mark.parametrize("path", [p for p in ALL_EXAMPLES if p.parent.name in INBOUND], ids=_id)
def test_inbound_example_decodes_and_keeps_its_fields(path: Path) -> None:
    event = decode(path.parent.name, path.read_bytes())
    assert not isinstance(event, Invalid), event
    assert set(event.model_dump()) >= set(orjson.loads(path.read_bytes()))


def test_every_topic_has_an_example_folder() -> None:
    assert {path.name for path in EXAMPLES.iterdir()} == set(MESSAGE_TYPES)


@pytest.mark.parametrize(
    ("topic", "types"),
    [
        (card_transactions.TOPIC, get_args(card_transactions.TransactionType)),
        (member_enrolment.TOPIC, tuple(member_enrolment.ENROLMENT_MODELS)),
        (clock_days.TOPIC, ("day_started",)),
    ],
)
def test_every_inbound_type_has_an_example(topic: str, types: tuple[str, ...]) -> None:
    shown = {orjson.loads(path.read_bytes())["type"] for path in (EXAMPLES / topic).glob("*.json")}
    assert shown == set(types)


def test_payout_and_clawback_both_have_an_example() -> None:
    kinds = {orjson.loads(p.read_bytes())["kind"] for p in (EXAMPLES / payouts.TOPIC).glob("*")}
    assert kinds == set(get_args(payouts.PayoutKind))
