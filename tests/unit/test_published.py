"""What the ledger publishes, built once per decision, is what the engine's own `to_payout()`
and `to_audit()` give: same payouts, same bytes on `payouts` and `audit`, same trace column."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from engine.decisions import ClawedBack, Decision, Paid
from engine.simulator import Simulator
from puhui.synthetic.feed import FeedPlan, feed
from schemas.decode import Invalid, decode_value
from schemas.payouts import Payout
from services.ledger.service_layer.published import outbox_messages, payouts_of


@pytest.fixture(scope="module")
def decisions() -> list[Decision]:
    simulator, found = Simulator(), []
    plan = FeedPlan(members=3_000, cards=2_400, days=2, start_date=date(2027, 2, 6), seed=11)
    for topic, value in feed(plan):
        event = decode_value(topic, value)
        assert not isinstance(event, Invalid)
        found += simulator.feed(event)
    return found


def test_the_feed_has_every_kind_of_decision(decisions: list[Decision]) -> None:
    kinds = {d.decision for d in decisions}
    assert {"paid", "clawed_back", "denied"} <= kinds


def test_payouts_are_the_engines(decisions: list[Decision]) -> None:
    money = [d for d in decisions if isinstance(d, Paid | ClawedBack)]
    published = payouts_of(decisions)
    columns = [name for name in Payout.model_fields if name != "trace"]
    assert [{name: getattr(p, name) for name in columns} for p in published] == \
        [d.to_payout().model_dump(exclude={"trace"}) for d in money]
    assert [p.body for p in published] == [d.to_payout().model_dump_json().encode()
                                           for d in money]
    assert [orjson.loads(p.trace_json) for p in published] == \
        [[s.model_dump(mode="json") for s in d.to_payout().trace] for d in money]


def test_outbox_carries_each_payout_then_each_audit_record(decisions: list[Decision]) -> None:
    money = payouts_of(decisions)
    messages = outbox_messages(decisions, money)
    assert [m.value for m in messages[:len(money)]] == [p.body for p in money]
    assert [(m.topic, m.key, m.value) for m in messages[len(money):]] == [
        ("audit", (d.member_id or d.source_event_id).encode(),
         d.to_audit().model_dump_json().encode()) for d in decisions]
