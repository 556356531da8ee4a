"""Issue #15 (hardening), on the real database: what a browser may be made to send, the
security headers, four eyes at every step, sign-in back-off, sessions after a password
change, and the smaller refusals. The attacks from a real browser page are in
tests/e2e/test_finance_csrf.py."""

from __future__ import annotations

import random
import time
import uuid

import httpx
import orjson
import pytest

from engine.catalogue import load_catalogue
from schemas.decode import Invalid, decode
from services.finance.api.app import create_app
from services.finance.bootstrap import Finance, build
from services.finance.domain.roles import Role
from services.runtime.records import utc_now
from tests.integration.finance.harness import PASSWORD, Bearer, Payouts, Staff

APP = "http://finance.test"
FAILED_SIGN_INS = """
select count(*) from outbox_messages where topic = 'audit'
   and convert_from(value, 'UTF8')::jsonb->>'decision' = 'sign_in_failed'
   and convert_from(value, 'UTF8')::jsonb->>'actor' like $1
"""


def _from(finance: Finance, address: str) -> httpx.AsyncClient:
    """A client of the same app, connecting from `address`."""
    app = create_app(lambda: build("unused", load_catalogue(), utc_now))
    app.state.finance = finance
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url=APP)


def _address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def _session(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    """The headers of a signed-in page: its cookie and its CSRF token."""
    signed = await client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    client.cookies.clear()
    return {"Cookie": f"puhui_finance={signed.cookies['puhui_finance']}",
            "X-CSRF-Token": signed.json().get("csrf_token") or ""}


async def _batch(finance: Finance, batch_id: str) -> tuple[str, str | None]:
    row = await finance.pool.fetchrow(
        "select status, approved_by from settlement_batches where batch_id = $1", batch_id)
    assert row is not None
    return row["status"], row["approved_by"]


@pytest.fixture
def finance(finance_client: tuple[Finance, httpx.AsyncClient]) -> Finance:
    return finance_client[0]


async def test_a_page_of_another_origin_or_without_the_csrf_token_changes_nothing(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts, finance: Finance) -> None:
    await payouts.add(700)
    prepared = await client.post("/api/batches", auth=staff.auth(Role.PREPARER),
                                 json={"programme": "books", "day": payouts.day.isoformat()})
    batch_id = prepared.json()["batch_id"]
    page = await _session(client, staff.name(Role.APPROVER))
    approve = f"/api/batches/{batch_id}/approve"
    attacks = [
        ({"Origin": "http://finance.test:8081"}, "cross_site"),  # another port, same site
        ({"Origin": "http://evil.example"}, "cross_site"),
        ({"Sec-Fetch-Site": "same-site"}, "cross_site"),  # a subdomain's page
        ({"Sec-Fetch-Site": "cross-site", "Origin": APP}, "cross_site"),
        ({"Origin": "null"}, "cross_site"),  # a sandboxed frame
        ({"X-CSRF-Token": ""}, "csrf_token"),
        ({"X-CSRF-Token": "A" * 43}, "csrf_token"),
    ]
    for extra, code in attacks:
        response = await client.post(approve, headers={**page, **extra})
        assert (response.status_code, response.json()["code"]) == (403, code), extra
    form = await client.post(approve, headers={**page, "Origin": APP,
                                               "Content-Type": "application/x-www-form-urlencoded"},
                             content=b"a=1")
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")
    preparer = await _session(client, staff.name(Role.PREPARER, 2))
    plain = await client.post("/api/batches", headers={**preparer, "Content-Type": "text/plain"},
                              content=orjson.dumps({"programme": "books",
                                                    "day": payouts.day.isoformat()}))
    assert (plain.status_code, plain.json()["code"]) == (415, "unsupported_media_type")
    assert await _batch(finance, batch_id) == ("prepared", None)
    own = await client.post(approve, headers={**page, "Origin": APP,
                                              "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200, own.text
    assert await _batch(finance, batch_id) == ("approved", staff.name(Role.APPROVER))


async def test_reads_from_another_sites_page_are_refused_too(
        client: httpx.AsyncClient, staff: Staff) -> None:
    page = await _session(client, staff.name(Role.VIEWER))
    for site in ("same-site", "cross-site"):
        response = await client.get("/api/payouts.csv", headers={**page, "Sec-Fetch-Site": site})
        assert response.status_code == 403
    assert (await client.get("/api/payouts?limit=1", headers={
        **page, "Sec-Fetch-Site": "same-origin"})).status_code == 200


async def test_every_answer_has_the_security_headers_and_no_swagger_from_a_cdn(
        client: httpx.AsyncClient, staff: Staff) -> None:
    for path in ("/", "/static/app.js", "/api/openapi.json", "/api/me", "/api/nowhere"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        if path.startswith("/api/"):
            assert response.headers["cache-control"] == "no-store"
            assert "code" in response.json() or path == "/api/openapi.json"
    assert (await client.get("/api/docs")).status_code == 401
    docs = await client.get("/api/docs", auth=staff.auth(Role.ADMIN))
    assert docs.status_code == 404
    assert "cdn" not in docs.text


async def test_whoever_approved_a_large_payout_may_not_prepare_its_batch(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts, finance: Finance) -> None:
    large = await payouts.add(300_000, programme="craft_award")
    admin, other = staff.auth(Role.ADMIN), staff.auth(Role.ADMIN, 2)
    day = {"programme": "craft_award", "day": payouts.day.isoformat()}
    assert (await client.post(f"/api/payouts/{large}/approve", auth=admin)).status_code == 200
    refused = await client.post("/api/batches", auth=admin, json=day)
    assert (refused.status_code, refused.json()["code"]) == (403, "same_person"), refused.text
    assert large in refused.json()["detail"]
    assert await finance.pool.fetchval(
        "select count(*) from settlement_batches where programme = 'craft_award' "
        "and business_day = $1", payouts.day) == 0
    assert await finance.pool.fetchval(
        "select state from payout_settlement where payout_id = $1", large) == "pending"
    prepared = await client.post("/api/batches", auth=other, json=day)
    assert prepared.status_code == 201, prepared.text
    approved = await client.post(f"/api/batches/{prepared.json()['batch_id']}/approve",
                                 auth=admin)
    assert approved.status_code == 200  # two people: admin approved, admin 2 prepared


async def test_wrong_passwords_make_the_name_and_the_address_wait(
        staff: Staff, finance: Finance) -> None:
    name = staff.name(Role.VIEWER, 2)
    async with _from(finance, _address()) as guesser:
        for _ in range(5):
            wrong = await guesser.post("/api/session", json={"username": name, "password": "guess"})
            assert (wrong.status_code, wrong.json()["code"]) == (401, "wrong_password")
        locked = await guesser.post("/api/session", json={"username": name, "password": PASSWORD})
        assert (locked.status_code, locked.json()["code"]) == (429, "sign_in_throttled")
        assert int(locked.headers["retry-after"]) >= 1
    async with _from(finance, _address()) as elsewhere:  # the name waits from anywhere
        assert (await elsewhere.post("/api/session", json={
            "username": name, "password": PASSWORD})).status_code == 429
    assert await finance.pool.fetchval(FAILED_SIGN_INS, f"{name} (from %") == 5

    async with _from(finance, _address()) as flood:  # many names from one address
        for n in range(20):
            await flood.post("/api/session", json={"username": f"nobody-{n}-{uuid.uuid4().hex}",
                                                   "password": "guess"})
        started = time.monotonic()
        for _ in range(20):
            waited = await flood.post("/api/session", json={
                "username": staff.name(Role.ADMIN, 2), "password": PASSWORD})
            assert waited.status_code == 429
        assert time.monotonic() - started < 0.8  # refused before any password is checked
    async with _from(finance, _address()) as colleague:  # everyone else signs in as before
        assert (await colleague.post("/api/session", json={
            "username": staff.name(Role.ADMIN, 2), "password": PASSWORD})).status_code == 200


async def test_a_changed_password_ends_the_users_sessions(
        client: httpx.AsyncClient, finance: Finance) -> None:
    name = f"changer-{uuid.uuid4().hex[:8]}"
    await finance.auth.add_user(name, Role.VIEWER, PASSWORD)
    page = await _session(client, name)
    assert (await client.get("/api/me", headers=page)).status_code == 200
    await finance.auth.add_user(name, Role.VIEWER, "another long password")
    assert (await client.get("/api/me", headers=page)).status_code == 401


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
async def test_a_batch_of_a_day_out_of_range_is_422(
        client: httpx.AsyncClient, staff: Staff, day: str) -> None:
    response = await client.post("/api/batches", auth=staff.auth(Role.PREPARER),
                                 json={"programme": "books", "day": day})
    assert (response.status_code, response.json()["code"]) == (422, "invalid"), response.text


async def test_a_viewer_sees_no_personal_data_in_dead_letter_reasons(
        client: httpx.AsyncClient, staff: Staff, finance: Finance) -> None:
    bad = decode("member.enrolment", orjson.dumps({
        "event_id": str(uuid.uuid4()), "type": "member_registered", "member_id": "m-dl",
        "occurred_at": "2027-03-01T10:00:00+08:00", "birth_date": "1990-02-30",
        "union_branch": "b", "name": 17}))
    assert isinstance(bad, Invalid)
    assert "1990-02-30" in bad.reason  # what the decoder writes today
    marker = f"dl-{uuid.uuid4().hex}"
    await finance.pool.execute(
        "insert into dead_letters (consumer, source_topic, partition, \"offset\", reason, raw) "
        "values ($1, 'member.enrolment', 0, 0, $2, '')", marker, bad.reason)

    async def reason(role: Role) -> str:
        answer = await client.get("/api/dead-letters?limit=500", auth=staff.auth(role))
        return next(d["reason"] for d in answer.json()["items"] if d["consumer"] == marker)

    assert "1990-02-30" not in await reason(Role.VIEWER)
    assert "birth_date: must be a real date as YYYY-MM-DD, got <personal>" \
        in await reason(Role.VIEWER)
    assert "1990-02-30" in await reason(Role.PREPARER)


async def test_headers_too_large_are_431(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me", headers={"Authorization": "Bearer " + "x" * 20_000})
    assert (response.status_code, response.json()["code"]) == (431, "headers_too_large")


async def test_the_role_is_checked_before_the_body(
        client: httpx.AsyncClient, staff: Staff) -> None:
    for path in ("/api/batches", "/api/batches/x/approve"):
        response = await client.post(path, auth=staff.auth(Role.VIEWER), content=b"{not json",
                                     headers={"Content-Type": "application/json"})
        assert (response.status_code, response.json()["code"]) == (403, "forbidden_role")


async def test_an_api_token_acts_as_its_user_within_its_role_until_revoked(
        client: httpx.AsyncClient, staff: Staff, finance: Finance) -> None:
    name = staff.name(Role.APPROVER, 2)
    token_id, text = await finance.auth.add_token(name, Role.VIEWER, 1, "tests")
    assert await finance.pool.fetchval(
        "select count(*) from finance_api_tokens where token_sha256 = sha256($1::bytea)",
        text.encode()) == 1  # only its hash is kept
    me = (await client.get("/api/me", auth=Bearer(text))).json()
    assert (me["username"], me["role"], me["csrf_token"]) == (name, "viewer", None)
    refused = await client.post("/api/batches/x/approve", auth=Bearer(text))
    assert refused.status_code == 403  # the token is a viewer's, though its user approves
    assert await finance.pool.fetchval(
        "select count(*) from outbox_messages where topic = 'audit' "
        "and convert_from(value, 'UTF8') like '%api_token_created%' "
        "and convert_from(value, 'UTF8') like $1",
        f"%{token_id}%") == 1
    assert await finance.auth.revoke_token(token_id, "tests")
    assert (await client.get("/api/me", auth=Bearer(text))).status_code == 401
