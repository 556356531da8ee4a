"""Consumed messages into trail entries; a message the trail cannot hold is rejected, with why.

Rejecting here, before the batch's transaction, keeps one bad message from failing the whole
batch over and over (a poison pill): whatever passes is known to fit the trail's columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import orjson
from pydantic import ValidationError

from schemas.audit import AuditRecord
from schemas.reasons import describe
from services.audit.domain.anchor import MARKER, Anchor, NotAnAnchor
from services.audit.domain.chain import Entry
from services.audit.domain.record import TrailRecord
from services.audit.service_layer.well_formed import KINDS, well_formed_entry
from services.runtime.records import InboundRecord, Rejected

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# JSON text can carry a NUL character only escaped (a raw control character is invalid JSON),
# so a value without this escape needs no closer look.
_ESCAPED_NUL = b"\\u0000"
_TEXT_FIELDS = KINDS.texts


def admit(records: Sequence[InboundRecord]) -> tuple[list[Entry], list[Rejected]]:
    """Split a batch into entries for the chain and rejected messages, keeping their order.
    The chain's own anchors (also on topic `audit`) are neither: they are already kept."""
    entries: list[Entry] = []
    rejected: list[Rejected] = []
    for record in records:
        # a tombstone: aiokafka hands over None for the value, not bytes
        kept = record if record.value is not None else dataclasses.replace(record, value=b"")
        result = read_anchor(kept.value) if MARKER in kept.value else read_entry(kept.value)
        if result is None:
            continue
        if isinstance(result, Entry):
            entries.append(result)
        else:
            rejected.append(Rejected(kept, result))
    return entries, rejected


def read_entry(value: bytes) -> Entry | str:
    """The entry in one message value, or the reason it cannot join the trail: read by
    `well_formed_entry` when it can (the ledger's own messages), else by the contract."""
    return well_formed_entry(value) or validated_entry(value)


def validated_entry(value: bytes) -> Entry | str:
    """`read_entry` by the contract's pydantic model: the reference, and the reasons."""
    try:
        record = TrailRecord.of(AuditRecord.model_validate_json(value))
    except ValidationError as error:
        return describe(error.errors(include_url=False))
    problem = _out_of_range(record) or (_nul_in_text(record) if _ESCAPED_NUL in value else None)
    if problem is not None:
        return problem
    try:
        return Entry(record, record.canonical_bytes())
    except (orjson.JSONEncodeError, OverflowError) as error:
        return f"has no canonical form: {error}"


def read_anchor(value: bytes) -> str | None:
    """None for an anchor, or the reason the message is neither an anchor nor a record."""
    try:
        Anchor.from_json(value)
    except NotAnAnchor as error:
        return f"not a chain anchor: {error}"
    return None


def _out_of_range(record: TrailRecord) -> str | None:
    if not BIGINT_MIN <= record.amount_fen <= BIGINT_MAX:
        return "amount_fen: must fit in 64 bits"
    return None


def _nul_in_text(record: TrailRecord) -> str | None:
    """PostgreSQL's text and jsonb cannot hold a NUL character."""
    for name in _TEXT_FIELDS:
        text = record.values[name]
        if text is not None and "\x00" in text:
            return f"{name}: must not contain a NUL character"
    for index, step in enumerate(record.trace):
        if any("\x00" in str(step[key]) for key in ("rule", "outcome")):
            return f"trace[{index}]: must not contain a NUL character"
    return None
