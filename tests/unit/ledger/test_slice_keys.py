"""The keys a batch's slice is loaded by (`services/ledger/service_layer/slice.py`)."""

from __future__ import annotations

from typing import Any

from schemas.member_enrolment import ENROLMENT_MODELS
from services.ledger.service_layer.slice import SliceKeys, keys_of

AT = "2027-03-10T08:00:00+08:00"
EVENT_ID = "00000000-0000-4000-8000-000000000001"


def _example(kind: str, model: Any) -> Any:
    fields: dict[str, Any] = {"event_id": EVENT_ID, "type": kind, "member_id": "M-1",
                              "occurred_at": AT, "card_id": "C-1", "birth_date": "1990-03-10",
                              "union_branch": "b1", "name": "张三", "level": "technician",
                              "title": "technical_champion"}
    wanted = {k: v for k, v in fields.items() if k in model.model_fields}
    return model.model_validate(wanted)


def test_every_enrolment_event_that_names_a_card_loads_that_card() -> None:
    for kind, model in ENROLMENT_MODELS.items():
        keys = keys_of([_example(kind, model)])
        assert keys.member_ids == {"M-1"}, kind
        assert keys.card_ids == ({"C-1"} if "card_id" in model.model_fields else set()), kind


def test_held_keys_are_each_asked_once_per_kind() -> None:
    keys = SliceKeys(card_ids={"C-1"}, member_ids={"M-1"}, transaction_ids={"T-1"})
    asked: dict[str, set[str]] = {}
    assert keys.held_keys(("card", "purchase"), asked) == {("card", "C-1"), ("purchase", "T-1")}
    assert keys.held_keys(("card", "purchase"), asked) == set()
    keys.card_ids.add("C-2")  # a held event led to another card
    assert keys.held_keys(("card", "purchase"), asked) == {("card", "C-2")}
    assert keys.held_keys(("member",), asked) == {("member", "M-1")}
