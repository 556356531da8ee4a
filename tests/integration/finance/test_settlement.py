"""Settlement on the real database: large payouts first, export, the bank's answer, review."""

from __future__ import annotations

import csv
import io

import asyncpg
import httpx
import orjson

from services.finance.bootstrap import Finance
from services.finance.domain.roles import Role
from tests.integration.finance.harness import Payouts, Staff

FINANCE_RECORDS = """
select convert_from(value, 'UTF8')::jsonb as record from outbox_messages
 where topic = 'audit' and convert_from(value, 'UTF8')::jsonb->>'actor' like $1 order by id
"""


async def _records(pool: asyncpg.Pool, staff: Staff) -> list[dict[str, object]]:
    rows = await pool.fetch(FINANCE_RECORDS, f"%{staff.suffix}%")
    return [orjson.loads(row["record"]) for row in rows]


async def _prepare(client: httpx.AsyncClient, staff: Staff, payouts: Payouts,
                   programme: str = "books") -> dict[str, object]:
    response = await client.post("/api/batches", auth=staff.auth(Role.PREPARER),
                                 json={"programme": programme, "day": payouts.day.isoformat()})
    assert response.status_code == 201, response.text
    batch: dict[str, object] = response.json()
    return batch


async def test_a_payout_over_1000_cny_is_approved_on_its_own_first(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    large = await payouts.add(150_000, programme="skill_upgrade")
    await payouts.add(100_000, programme="skill_upgrade", member=2)  # exactly 1,000 CNY: no
    batch = await _prepare(client, staff, payouts, "skill_upgrade")
    path = f"/api/batches/{batch['batch_id']}"
    detail = (await client.get(path, auth=staff.auth(Role.VIEWER))).json()
    assert detail["awaiting_own_approval"] == [large]
    waiting = await client.post(f"{path}/approve", auth=staff.auth(Role.APPROVER))
    assert waiting.status_code == 409
    assert waiting.json()["code"] == "awaiting_own_approval"
    assert large in waiting.json()["detail"]
    approved = await client.post(f"/api/payouts/{large}/approve", auth=staff.auth(Role.APPROVER))
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == staff.name(Role.APPROVER)
    again = await client.post(f"/api/payouts/{large}/approve", auth=staff.auth(Role.APPROVER, 2))
    assert again.status_code == 409
    small = await client.post(f"/api/payouts/{payouts.made[1]}/approve",
                              auth=staff.auth(Role.APPROVER))
    assert small.status_code == 409
    assert (await client.post(f"{path}/approve", auth=staff.auth(Role.APPROVER))).status_code \
        == 200


async def test_the_preparer_of_a_batch_may_not_approve_its_large_payout(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    large = await payouts.add(500_000, programme="craft_award")
    admin = staff.auth(Role.ADMIN)
    prepared = await client.post("/api/batches", auth=admin, json={
        "programme": "craft_award", "day": payouts.day.isoformat()})
    assert prepared.status_code == 201
    refused = await client.post(f"/api/payouts/{large}/approve", auth=admin)
    assert (refused.status_code, refused.json()["code"]) == (403, "same_person")


async def test_export_then_the_banks_confirmation_settles_and_fails_payouts(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts,
        finance_client: tuple[Finance, httpx.AsyncClient]) -> None:
    ok, bad = await payouts.add(1_000, name="张三丰"), await payouts.add(-300, member=2)
    batch = await _prepare(client, staff, payouts)
    batch_id = str(batch["batch_id"])
    early = await client.post(f"/api/batches/{batch_id}/export", auth=staff.auth(Role.PREPARER))
    assert early.status_code == 409  # not approved yet
    await client.post(f"/api/batches/{batch_id}/approve", auth=staff.auth(Role.APPROVER))
    exported = await client.post(f"/api/batches/{batch_id}/export", auth=staff.auth(Role.APPROVER))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert f"settlement_{batch_id}.csv" in exported.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["payout_id"], r["direction"], r["amount_fen"]) for r in lines] == [
        (ok, "credit", "1000"), (bad, "debit", "300")]
    assert lines[0]["member_name"] == "张三丰"  # the bank needs the real name

    confirmation = (f"batch_id,payout_id,result,bank_reference,reason\n"
                    f"{batch_id},{ok},settled,BK-{payouts.prefix},\n"
                    f"{batch_id},{bad},failed,,account closed\n").encode()
    wrong = confirmation + f"{batch_id},{payouts.prefix}-nope,settled,BK,\n".encode()
    refused = await client.post("/api/confirmations", auth=staff.auth(Role.PREPARER),
                                files={"file": ("c.csv", wrong)})
    assert refused.status_code == 422
    assert "line 4" in refused.json()["problems"][0]
    imported = await client.post("/api/confirmations", auth=staff.auth(Role.PREPARER),
                                 files={"file": ("c.csv", confirmation)})
    assert imported.json() == {"settled": 1, "settled_fen": 1000, "failed": 1,
                               "failed_fen": -300, "unchanged": 0}
    repeated = await client.post("/api/confirmations", auth=staff.auth(Role.PREPARER),
                                 files={"file": ("c.csv", confirmation)})
    assert repeated.json()["unchanged"] == 2
    closed = (await client.get(f"/api/batches/{batch_id}", auth=staff.auth(Role.VIEWER))).json()
    assert closed["batch"]["status"] == "closed"

    # the failed payout comes back for review, and then into a later batch
    failed = (await client.get("/api/payouts", auth=staff.auth(Role.VIEWER),
                               params={"status": "failed", "member_id": f"{payouts.prefix}-m2"})
              ).json()["items"]
    assert [(p["payout_id"], p["failure_reason"]) for p in failed] == [(bad, "account closed")]
    requeued = await client.post(f"/api/payouts/{bad}/requeue", auth=staff.auth(Role.PREPARER))
    assert requeued.json()["status"] == "pending"
    later = await _prepare(client, staff, payouts)
    assert (later["payout_count"], later["total_fen"]) == (1, -300)

    pool = finance_client[0].pool
    decisions = [(r["decision"], r["actor"]) for r in await _records(pool, staff)
                 if batch_id in orjson.dumps(r["trace"]).decode() or r["decision"] in (
                     "confirmation_imported", "payout_requeued")]
    assert ("batch_approved", f"{staff.name(Role.APPROVER)} (approver)") in decisions
    assert ("settlement_exported", f"{staff.name(Role.APPROVER)} (approver)") in decisions
    assert ("confirmation_imported", f"{staff.name(Role.PREPARER)} (preparer)") in decisions
    assert ("payout_requeued", f"{staff.name(Role.PREPARER)} (preparer)") in decisions


async def test_a_day_with_nothing_pending_gives_no_batch(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    await payouts.add(500)
    await _prepare(client, staff, payouts)
    again = await client.post("/api/batches", auth=staff.auth(Role.PREPARER),
                              json={"programme": "books", "day": payouts.day.isoformat()})
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_settle")
    unknown = await client.post("/api/batches", auth=staff.auth(Role.PREPARER),
                                json={"programme": "lottery", "day": payouts.day.isoformat()})
    assert unknown.status_code == 422
