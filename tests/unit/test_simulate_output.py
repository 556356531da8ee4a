"""`puhui simulate`'s payout lines, written without the model, are the model's bytes; derived
ids made from the SHA-1 directly are `uuid.uuid5`'s."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalogue import Catalogue
from engine.decisions import ClawedBack, Paid
from engine.ids import PUHUI_NAMESPACE, derived_id
from engine.simulator import Simulator
from puhui.simulate_output import payout_line, validated_line
from puhui.synthetic.feed import FeedPlan, feed
from schemas.decode import Invalid, decode_value
from tests.unit.engine.test_properties import catalogues, feeds


@pytest.fixture(scope="module")
def money() -> list[Paid | ClawedBack]:
    simulator, found = Simulator(), []
    plan = FeedPlan(members=2_000, cards=1_600, days=2, start_date=date(2027, 2, 6), seed=5)
    for topic, value in feed(plan):
        event = decode_value(topic, value)
        assert not isinstance(event, Invalid)
        found += [d for d in simulator.feed(event) if isinstance(d, Paid | ClawedBack)]
    return found


def test_a_generated_feeds_lines_are_the_models(money: list[Paid | ClawedBack]) -> None:
    assert {type(d) for d in money} == {Paid, ClawedBack}
    assert [payout_line(d) for d in money] == [validated_line(d) for d in money]


@settings(max_examples=150, deadline=None)
@given(feeds(), catalogues())
def test_any_feeds_lines_are_the_models(events: list[object], catalogue: Catalogue) -> None:
    simulator = Simulator(catalogue)
    for event in events:
        for d in simulator.feed(event):  # type: ignore[arg-type]  # the strategy's events
            if isinstance(d, Paid | ClawedBack):
                assert payout_line(d) == validated_line(d)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=8), timedelta(hours=-3.5),
                                    timedelta(hours=8, minutes=5, seconds=43)])
def test_any_offset_is_written_as_the_model_writes_it(money: list[Paid | ClawedBack],
                                                      offset: timedelta) -> None:
    at = datetime(1370, 4, 5, 0, 0, 0, 250_000, tzinfo=timezone(offset))
    moved = dataclasses.replace(money[0], occurred_at=at)
    assert payout_line(moved) == validated_line(moved)


def test_a_payout_the_contract_refuses_is_refused(money: list[Paid | ClawedBack]) -> None:
    paid = next(d for d in money if isinstance(d, Paid))
    with pytest.raises(ValueError, match="must be > 0"):
        payout_line(dataclasses.replace(paid, amount_fen=-paid.amount_fen))
    with pytest.raises(ValueError, match="needs a member"):
        payout_line(dataclasses.replace(paid, member_id=None))


@given(st.text(), st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()),
       st.sampled_from(("payout", "clawback", "audit")))
def test_derived_ids_are_uuid5(source: str, programme: str | None, member: str | None,
                               kind: str) -> None:
    name = f"{source}|{programme or ''}|{member or ''}|{kind}"
    assert derived_id(source, programme, member, kind) == str(uuid.uuid5(PUHUI_NAMESPACE, name))
