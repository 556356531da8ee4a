"""The pure rules of finance security: back-off, dead-letter masking, CSRF and API tokens,
what a token's role may be, what a browser may be made to send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from starlette.requests import Request

from schemas.decode import Invalid, decode
from services.finance.api.security import cross_site, wrong_media_type
from services.finance.domain import throttle
from services.finance.domain.credentials import csrf_token, new_api_token, same_secret
from services.finance.domain.dead_letters import mask_reason
from services.finance.domain.roles import Role, covers

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)


def test_a_few_wrong_passwords_are_free_then_each_doubles_the_wait() -> None:
    waits = []
    count = None
    for n in range(16):
        count = throttle.after_failure(count, NOW + timedelta(seconds=n), throttle.FREE_PER_USER)
        waits.append(count.locked_until - count.last_failed_at)
    assert waits[:4] == [timedelta(0)] * 4
    assert waits[4:8] == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert waits[-1] == throttle.LONGEST_WAIT
    assert count is not None
    assert count.failures == 16


def test_failures_an_hour_old_are_forgotten_and_the_longest_lock_wins() -> None:
    old = throttle.Failures(30, NOW, NOW + throttle.LONGEST_WAIT)
    assert throttle.after_failure(old, NOW + timedelta(hours=2), 4).failures == 1
    assert throttle.after_failure(old, NOW + timedelta(minutes=59), 4).failures == 31
    short = throttle.Failures(5, NOW, NOW + timedelta(seconds=2))
    assert throttle.retry_after([short, old], NOW) == throttle.LONGEST_WAIT
    assert throttle.retry_after([short], NOW + timedelta(seconds=3)) == timedelta(0)


def _reason(**fields: object) -> str:
    message = {"event_id": "7d0c6f3e-2a41-4c8e-9a52-8b1d2f3e4a5b", "type": "member_registered",
               "member_id": "m1", "occurred_at": "2027-03-01T10:00:00+08:00",
               "union_branch": "b", "birth_date": "1990-01-01", "name": "x"} | fields
    invalid = decode("member.enrolment", orjson.dumps(message))
    assert isinstance(invalid, Invalid)
    return invalid.reason


@pytest.mark.parametrize("birth_date", ["1990-02-30", "1990; x: y", 19900230, ["1990", "01"],
                                        "1" * 80, {"y": "1990; m"}])
def test_a_birth_date_in_a_dead_letter_reason_is_masked(birth_date: object) -> None:
    reason = _reason(birth_date=birth_date, member_id="", occurred_at=5)
    masked = mask_reason(reason)
    assert "1990" not in masked, (reason, masked)
    assert "111" not in masked, (reason, masked)
    assert "birth_date: must be a real date as YYYY-MM-DD, got <personal>" in masked
    assert "member_id: must not be empty, got ''" in masked  # what is not personal stays


def test_a_reason_without_personal_data_is_unchanged() -> None:
    reason = _reason(member_id="", occurred_at="2027-03-01")
    assert mask_reason(reason) == reason
    assert mask_reason("not valid JSON: unexpected character: line 1 column 1 (char 0)") \
        == "not valid JSON: unexpected character: line 1 column 1 (char 0)"


def test_the_csrf_token_is_the_sessions_own() -> None:
    assert csrf_token("a") == csrf_token("a") != csrf_token("b")
    session = "s3cr3t-session-token-of-43-characters-long"
    assert session not in csrf_token(session)
    assert len(csrf_token(session)) == 43
    assert same_secret(csrf_token("a"), csrf_token("a"))
    assert not same_secret("", csrf_token("a"))


def test_an_api_token_is_random_and_named_by_its_id() -> None:
    (first_id, first), (second_id, second) = new_api_token(), new_api_token()
    assert first.startswith(first_id + ".")
    assert first_id != second_id
    assert first != second
    assert len(first) > 50


def test_a_token_may_have_the_users_role_or_a_narrower_one() -> None:
    assert covers(Role.ADMIN, Role.APPROVER)
    assert covers(Role.APPROVER, Role.VIEWER)
    assert covers(Role.PREPARER, Role.PREPARER)
    assert not covers(Role.PREPARER, Role.APPROVER)
    assert not covers(Role.VIEWER, Role.ADMIN)


def _request(method: str, path: str, **headers: str) -> Request:
    return Request({"type": "http", "method": method, "path": path, "query_string": b"",
                    "headers": [(k.replace("_", "-").lower().encode(), v.encode())
                                for k, v in headers.items()]})


APP = "http://127.0.0.1:8080"


@pytest.mark.parametrize(("method", "headers", "refused"), [
    ("POST", {}, False),  # a script: neither header
    ("POST", {"Origin": APP, "Sec_Fetch_Site": "same-origin"}, False),
    ("POST", {"Origin": "http://127.0.0.1:9000"}, True),
    ("POST", {"Sec_Fetch_Site": "same-site"}, True),
    ("POST", {"Sec_Fetch_Site": "none"}, True),
    ("DELETE", {"Origin": "null"}, True),
    ("GET", {"Origin": "http://127.0.0.1:9000"}, False),  # a read: CORS keeps the answer
    ("GET", {"Sec_Fetch_Site": "cross-site"}, True),
])
def test_what_a_browser_may_send(method: str, headers: dict[str, str], refused: bool) -> None:
    assert (cross_site(_request(method, "/api/batches", **headers), APP) is not None) is refused


@pytest.mark.parametrize(("path", "headers", "refused"), [
    ("/api/batches", {"Content_Type": "application/json", "Content_Length": "2"}, False),
    ("/api/batches", {"Content_Type": "text/plain", "Content_Length": "2"}, True),
    ("/api/batches", {"Content_Length": "2"}, True),  # a Blob with no type
    ("/api/batches/x/approve", {}, False),
    ("/api/batches/x/approve", {"Content_Type": "application/x-www-form-urlencoded"}, True),
    ("/api/confirmations", {"Content_Type": "multipart/form-data; boundary=x"}, False),
    ("/api/confirmations", {"Content_Type": "application/json", "Content_Length": "2"}, True),
])
def test_only_json_bodies_are_read(path: str, headers: dict[str, str], refused: bool) -> None:
    assert (wrong_media_type(_request("POST", path, **headers)) is not None) is refused
