"""Deterministic ids: the same source event always yields the same payout and audit ids."""

from __future__ import annotations

import uuid

PUHUI_NAMESPACE = uuid.UUID("6f1d2c3e-8a47-5b1e-9c0d-2e7f4a5b6c71")
"""The uuid5 namespace of every id the engine derives (fixed forever: ids are persisted)."""


def derived_id(
    source_event_id: str, programme: str | None, member_id: str | None, kind: str
) -> str:
    """uuid5 of (source event, programme, member, kind)."""
    name = f"{source_event_id}|{programme or ''}|{member_id or ''}|{kind}"
    return str(uuid.uuid5(PUHUI_NAMESPACE, name))
