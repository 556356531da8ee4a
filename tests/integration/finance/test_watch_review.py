"""Watch signals in finance review: listed, shown, reviewed by an approver with a note (once),
refused to other roles and without a note; each action an audit record in the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from services.finance.bootstrap import Finance
from services.finance.domain.roles import Role
from tests.integration.finance.harness import Staff

INSERT = """
insert into watch_signals (signal_id, rule, key_kind, key, window_start, window_end,
                           observed_at, figures, thresholds, examples)
values ($1, 'card_velocity', 'card', $2, $3, $4, $4, '{"merchants": 4}',
        '{"min_merchants": 4}', '{T1,T2}')
"""
AUDITED = """
select count(*) from outbox_messages
where topic = 'audit' and convert_from(value, 'UTF8')::jsonb ->> 'decision' = $1
  and convert_from(value, 'UTF8') like '%' || $2 || '%'
"""


async def _signal(pool: asyncpg.Pool) -> tuple[str, str]:
    signal_id, card = f"sig_{uuid.uuid4().hex[:20]}", f"C-{uuid.uuid4().hex[:8]}"
    await pool.execute(INSERT, signal_id, card, datetime(2027, 4, 2, 11, tzinfo=UTC),
                       datetime(2027, 4, 2, 11, 10, tzinfo=UTC))
    return signal_id, card


async def test_an_approver_reviews_a_signal_once_with_a_note(
        finance_client: tuple[Finance, httpx.AsyncClient], staff: Staff) -> None:
    finance, client = finance_client
    signal_id, card = await _signal(finance.pool)
    listed = await client.get("/api/signals", auth=staff.auth(Role.VIEWER))
    assert [s["key"] for s in listed.json() if s["signal_id"] == signal_id] == [card]
    shown = await client.get(f"/api/signals/{signal_id}", auth=staff.auth(Role.VIEWER))
    assert shown.json()["signal"]["figures"] == {"merchants": 4}

    url, note = f"/api/signals/{signal_id}/review", f"a family sharing one card {card}"
    for role in (Role.VIEWER, Role.PREPARER):
        refused = await client.post(url, json={"action": "reviewed", "note": note},
                                    auth=staff.auth(role))
        assert refused.status_code == 403
    blank = await client.post(url, json={"action": "reviewed", "note": "   "},
                              auth=staff.auth(Role.APPROVER))
    assert blank.status_code == 409
    escalated = await client.post(url, json={"action": "escalated", "note": "asking the bank"},
                                  auth=staff.auth(Role.APPROVER))
    assert escalated.json()["status"] == "escalated"
    reviewed = await client.post(url, json={"action": "reviewed", "note": note},
                                 auth=staff.auth(Role.APPROVER))
    assert (reviewed.json()["status"], reviewed.json()["note"]) == ("reviewed", note)
    again = await client.post(url, json={"action": "reviewed", "note": note},
                              auth=staff.auth(Role.APPROVER))
    assert again.status_code == 409
    open_ones = await client.get("/api/signals", auth=staff.auth(Role.VIEWER))
    assert signal_id not in {s["signal_id"] for s in open_ones.json()}
    assert await finance.pool.fetchval(AUDITED, "signal_reviewed", note) == 1
    assert await finance.pool.fetchval(AUDITED, "signal_escalated", signal_id) == 1
