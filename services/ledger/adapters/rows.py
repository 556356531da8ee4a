"""Rows to engine values and back. Pure: no SQL here, only shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from engine.state import (
    Arrival,
    CardHolding,
    CardStop,
    HeldItem,
    Member,
    Membership,
    Purchase,
    UsageKey,
)
from schemas.decode import Invalid, decode


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def member_from_row(row: Mapping[str, Any]) -> Member:
    spans = orjson.loads(row["memberships"])
    return Member(
        member_id=row["member_id"], birth_date=row["birth_date"],
        union_branch=row["union_branch"],
        memberships=tuple(Membership(datetime.fromisoformat(start), _ts(end))
                          for start, end in spans))


def _memberships(member: Member) -> list[list[str | None]]:
    return [[_iso(m.registered_at), _iso(m.left_at)] for m in member.memberships]


def member_row(member: Member) -> list[Any]:
    """`members`' columns as JSON values: id, birth date (its month and day apart, for the
    birthday lookups), union branch, memberships."""
    born = member.birth_date
    return [member.member_id, None if born is None else born.isoformat(),
            None if born is None else born.month, None if born is None else born.day,
            member.union_branch, _memberships(member)]


def holdings_from_json(text: str) -> tuple[CardHolding, ...]:
    return tuple(CardHolding(member_id, datetime.fromisoformat(issued), _ts(ended), reason)
                 for member_id, issued, ended, reason in orjson.loads(text))


def holdings_value(holdings: tuple[CardHolding, ...]) -> list[list[str | None]]:
    return [[h.member_id, _iso(h.issued_at), _iso(h.ended_at), h.end_reason] for h in holdings]


def purchase_from_row(row: Mapping[str, Any]) -> Purchase:
    return Purchase(
        transaction_id=row["transaction_id"], event_id=row["event_id"],
        member_id=row["member_id"], programme=row["programme"], period=row["period"],
        amount_fen=row["amount_fen"], earned_fen=row["earned_fen"],
        refunded_fen=row["refunded_fen"], clawed_back_fen=row["clawed_back_fen"],
        usage_keys=tuple(UsageKey(*key) for key in orjson.loads(row["usage_keys"])),
        budget_year=row["budget_year"], counted=row["counted"],
        count_returned=row["count_returned"], refund_ids=tuple(row["refund_ids"]))


def purchase_row(p: Purchase) -> tuple[Any, ...]:
    return (p.transaction_id, p.event_id, p.member_id, p.programme, p.period, p.amount_fen,
            p.earned_fen, p.refunded_fen, p.clawed_back_fen,
            orjson.dumps([list(k) for k in p.usage_keys]).decode(), p.budget_year, p.counted,
            p.count_returned, list(p.refund_ids))


def held_from_row(row: Mapping[str, Any]) -> HeldItem:
    event = decode(row["source_topic"], row["payload"].encode())
    if isinstance(event, Invalid):  # we wrote it from a valid event: this is corruption
        raise ValueError(f"held event {row['event_id']} no longer decodes: {event.reason}")
    arrival = Arrival(row["arrival_topic"], row["arrival_partition"], row["arrival_offset"])
    return HeldItem(event, row["waiting_for"], row["waiting_key"], arrival)  # type: ignore[arg-type]


def held_row(item: HeldItem, topic: str) -> tuple[Any, ...]:
    payload = item.event.model_dump_json()
    return (item.event_id, item.waiting_for, item.key, topic, payload, item.event.occurred_at,
            *item.arrival)


def stops_from_json(text: str) -> tuple[CardStop, ...]:
    return tuple(CardStop(member_id, datetime.fromisoformat(at), reason)
                 for member_id, at, reason in orjson.loads(text))


def stops_json(stops: tuple[CardStop, ...]) -> str:
    return orjson.dumps([[s.member_id, s.at.isoformat(), s.reason] for s in stops]).decode()
