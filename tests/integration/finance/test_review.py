"""The stream (filters, keyset pages, live polling), masking, CSV views, totals, holds."""

from __future__ import annotations

import csv
import io

import httpx

from services.finance.domain.roles import Role
from tests.integration.finance.harness import Payouts, Staff


async def _all_pages(client: httpx.AsyncClient, auth: httpx.BasicAuth,
                     params: dict[str, object]) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await client.get("/api/payouts", auth=auth,
                                 params={**params, **({"after": after} if after else {})})).json()
        seen += [p["payout_id"] for p in page["items"]]
        after = page["next"]
        if after is None:
            return seen


async def test_filters_and_keyset_pages(client: httpx.AsyncClient, staff: Staff,
                                        payouts: Payouts) -> None:
    made = [await payouts.add(100 * (n + 1), member=n % 2, merchant=f"{payouts.prefix}-shop{n % 3}",
                              minute=n) for n in range(7)]
    viewer = staff.auth(Role.VIEWER)
    day = payouts.day.isoformat()
    member = {"member_id": f"{payouts.prefix}-m0", "limit": 2}
    newest_first = list(reversed(made))
    assert await _all_pages(client, viewer, member) == [p for p in newest_first
                                                        if int(p.rsplit("p", 1)[1]) % 2 == 0]
    merchant = {"merchant_id": f"{payouts.prefix}-shop1"}
    assert await _all_pages(client, viewer, merchant) == [made[4], made[1]]
    ranged = {"programme": "books", "date_from": day, "date_to": day, "min_fen": 300,
              "max_fen": 500, "status": "pending", "member_id": f"{payouts.prefix}-m0"}
    assert await _all_pages(client, viewer, ranged) == [made[4], made[2]]
    elsewhere = {"member_id": f"{payouts.prefix}-m0", "date_to": "2299-12-31"}
    assert await _all_pages(client, viewer, elsewhere) == []

    first = (await client.get("/api/payouts", auth=viewer, params=member)).json()
    newer = await payouts.add(999, member=0)
    polled = (await client.get("/api/payouts", auth=viewer,
                               params={**member, "since": first["newest"]})).json()
    assert newer in [p["payout_id"] for p in polled["items"]]
    assert polled["next"] is None
    bad = await client.get("/api/payouts", auth=viewer, params={"after": "not-a-cursor"})
    assert bad.status_code == 422


async def test_a_viewer_sees_names_masked_and_others_in_clear(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    payout = await payouts.add(700, name="李小龙")
    seen = {}
    for role in (Role.VIEWER, Role.PREPARER):
        body = (await client.get(f"/api/payouts/{payout}", auth=staff.auth(role))).json()
        seen[role] = body["payout"]["member_name"]
        assert body["trace"][0]["rule"] == "matched"
    assert seen == {Role.VIEWER: "李*龙", Role.PREPARER: "李小龙"}
    exported = await client.get("/api/payouts.csv", auth=staff.auth(Role.VIEWER),
                                params={"member_id": f"{payouts.prefix}-m1", "lang": "en"})
    assert exported.content.startswith(b"\xef\xbb\xbf")  # Excel and WPS read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["payout_id"], r["member_name"], r["amount_cny"]) for r in rows] == [
        (payout, "李*龙", "7.00")]
    chinese = await client.get("/api/payouts.csv", auth=staff.auth(Role.VIEWER),
                               params={"member_id": f"{payouts.prefix}-m1"})
    assert chinese.content.decode("utf-8-sig").startswith("发放编号,记账时间,交易时间,")
    missing = await client.get(f"/api/payouts/{payouts.prefix}-none", auth=staff.auth(Role.VIEWER))
    assert missing.status_code == 404


async def test_totals_follow_the_payouts_recorded(client: httpx.AsyncClient, staff: Staff,
                                                  payouts: Payouts) -> None:
    await payouts.add(1_000, programme="cinema")
    await payouts.add(-400, programme="cinema", member=2)
    totals = (await client.get("/api/totals", auth=staff.auth(Role.VIEWER), params={
        "year": payouts.day.year, "month": payouts.day.month})).json()
    day = [t for t in totals["daily"]
           if t["programme"] == "cinema" and t["day"] == payouts.day.isoformat()]
    assert len(day) == 1
    assert day[0]["payouts"] >= 1
    assert day[0]["paid_fen"] >= 1_000
    assert day[0]["clawbacks"] >= 1
    assert day[0]["clawed_back_fen"] >= 400
    budgets = {b["programme"]: b for b in totals["budgets"]}
    assert budgets["cinema"]["budget_fen"] == 300_000_000
    assert budgets["cinema"]["used_fen"] + budgets["cinema"]["left_fen"] == 300_000_000


async def test_held_events_and_dead_letters_are_counted_with_ages(
        client: httpx.AsyncClient, staff: Staff) -> None:
    for path in ("/api/held", "/api/dead-letters"):
        body = (await client.get(path, auth=staff.auth(Role.VIEWER))).json()
        assert set(body) == {"counts", "items"}
        for count in body["counts"]:
            assert count["count"] >= 1
            assert count["oldest_age_seconds"] >= 0


async def test_a_view_with_dates_is_ordered_by_when_payouts_occurred(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    late = await payouts.add(100, minute=50)  # recorded first, occurred last
    early = await payouts.add(200, minute=5)
    viewer, member = staff.auth(Role.VIEWER), f"{payouts.prefix}-m1"
    day = payouts.day.isoformat()
    assert await _all_pages(client, viewer, {"member_id": member, "limit": 1}) == [early, late]
    dated = {"member_id": member, "date_from": day, "date_to": day, "limit": 1}
    assert await _all_pages(client, viewer, dated) == [late, early]
    first = (await client.get("/api/payouts", auth=viewer, params=dated)).json()
    newer = await payouts.add(300, minute=1)
    polled = (await client.get("/api/payouts", auth=viewer,
                               params={**dated, "since": first["newest"]})).json()
    assert newer in [p["payout_id"] for p in polled["items"]]
