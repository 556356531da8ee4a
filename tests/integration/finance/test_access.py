"""Every request authenticated (401), every action by role (403), four eyes refused clearly."""

from __future__ import annotations

import re

import httpx
import pytest

from services.finance.domain.roles import Role
from tests.integration.finance.harness import PASSWORD, Bearer, Payouts, Staff

PUBLIC = {("post", "/api/session")}


async def test_every_api_operation_answers_401_without_a_session(
        client: httpx.AsyncClient, staff: Staff) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    operations = [(method, path) for path, item in schema["paths"].items() for method in item]
    assert len(operations) >= 20
    for method, path in operations:
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        for auth in (None, Bearer("tok_0123456789.wrong"), Bearer("x" * 300)):
            response = await client.request(method, url, auth=auth, content=b"{not json")
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "not_signed_in"
            # never Basic: a browser would ask for a password and keep it for any site
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_http_basic_is_not_accepted_even_with_the_right_password(
        client: httpx.AsyncClient, staff: Staff) -> None:
    basic = httpx.BasicAuth(staff.name(Role.ADMIN), PASSWORD)
    for method, path in (("GET", "/api/me"), ("POST", "/api/batches/x/approve")):
        response = await client.request(method, path, auth=basic)
        assert response.status_code == 401, response.text
        assert "basic" not in response.headers["www-authenticate"].lower()
    assert (await client.get("/api/me", auth=staff.auth(Role.ADMIN))).status_code == 200


async def test_signing_in_opens_a_session_and_signing_out_ends_it(
        client: httpx.AsyncClient, staff: Staff) -> None:
    wrong = await client.post("/api/session", json={"username": staff.name(Role.VIEWER),
                                                    "password": "nope"})
    assert wrong.status_code == 401
    signed = await client.post("/api/session", json={"username": staff.name(Role.VIEWER),
                                                     "password": PASSWORD})
    assert signed.status_code == 200
    assert signed.json()["role"] == "viewer"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    token = signed.cookies["puhui_finance"]
    client.cookies.clear()
    session = {"Cookie": f"puhui_finance={token}"}
    me = await client.get("/api/me", headers=session)
    assert me.json()["username"] == staff.name(Role.VIEWER)
    csrf = me.json()["csrf_token"]
    assert csrf
    assert csrf != token
    bare = await client.delete("/api/session", headers=session)  # a change needs the token
    assert (bare.status_code, bare.json()["code"]) == (403, "csrf_token")
    forged = await client.delete("/api/session", headers={**session, "X-CSRF-Token": "x" * 43})
    assert forged.status_code == 403
    out = await client.delete("/api/session", headers={**session, "X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert (await client.get("/api/me", headers=session)).status_code == 401


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    (Role.VIEWER, "POST", "/api/batches", {"programme": "books", "day": "2301-01-01"}),
    (Role.APPROVER, "POST", "/api/batches", {"programme": "books", "day": "2301-01-01"}),
    (Role.VIEWER, "POST", "/api/batches/x/approve", None),
    (Role.PREPARER, "POST", "/api/batches/x/approve", None),
    (Role.PREPARER, "POST", "/api/payouts/x/approve", None),
    (Role.VIEWER, "POST", "/api/batches/x/export", None),
    (Role.VIEWER, "POST", "/api/payouts/x/requeue", None),
])
async def test_the_wrong_role_gets_403(client: httpx.AsyncClient, staff: Staff, role: Role,
                                       method: str, path: str, body: object) -> None:
    response = await client.request(method, path, json=body, auth=staff.auth(role))
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith(f"a {role.value} may not")


async def test_a_viewer_may_not_import_a_confirmation(client: httpx.AsyncClient,
                                                      staff: Staff) -> None:
    response = await client.post("/api/confirmations", auth=staff.auth(Role.VIEWER),
                                 files={"file": ("c.csv", b"x")})
    assert response.status_code == 403


async def test_whoever_prepared_a_batch_is_refused_its_approval(
        client: httpx.AsyncClient, staff: Staff, payouts: Payouts) -> None:
    await payouts.add(1200)
    await payouts.add(800, member=2)
    admin = staff.auth(Role.ADMIN)
    prepared = await client.post("/api/batches", auth=admin,
                                 json={"programme": "books", "day": payouts.day.isoformat()})
    assert prepared.status_code == 201, prepared.text
    batch = prepared.json()
    assert (batch["payout_count"], batch["total_fen"]) == (2, 2000)
    refused = await client.post(f"/api/batches/{batch['batch_id']}/approve", auth=admin)
    assert refused.status_code == 403
    assert refused.json()["code"] == "same_person"
    assert "you prepared batch" in refused.json()["detail"]
    assert "another person must approve it" in refused.json()["detail"]
    approved = await client.post(f"/api/batches/{batch['batch_id']}/approve",
                                 auth=staff.auth(Role.ADMIN, 2))
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == staff.name(Role.ADMIN, 2)
