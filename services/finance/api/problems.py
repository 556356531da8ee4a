"""Refusals the API raises itself, each with a stable `code` the page translates.

Every error body is a `models.Problem`; one raised without a code of its own gets the code of
its status (`STATUS_CODES`), so no answer is left without one.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException

STATUS_CODES = {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "refused", 413: "too_large", 422: "invalid",
                429: "too_many", 503: "unavailable"}


class Refusal(HTTPException):
    """An HTTP refusal with its code: `Refusal(404, "not_found", "no payout p1")`."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, detail, dict(headers) if headers else None)
        self.code = code


def code_of(status: int, code: str | None) -> str:
    return code or STATUS_CODES.get(status, "error")
