"""Every request is authenticated (a session cookie, or HTTP Basic) and checked for its role."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPBasic, HTTPBasicCredentials

from services.finance.bootstrap import Finance
from services.finance.domain.roles import Permission
from services.finance.domain.staff import Staff

COOKIE = "puhui_finance"
session_cookie = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session",
                              description="Set by POST /api/session (sign in).")
basic = HTTPBasic(auto_error=False, scheme_name="basic",
                  description="A finance user's name and password, for scripts.")


def finance(request: Request) -> Finance:
    built: Finance = request.app.state.finance
    return built


class NotSignedIn(HTTPException):
    def __init__(self, request: Request) -> None:
        # the page asks with X-Requested-With: a Basic challenge would pop up the browser's
        # own password dialog over it
        scheme = "Session" if request.headers.get("x-requested-with") else "Basic"
        super().__init__(401, "sign in first",
                         headers={"WWW-Authenticate": f'{scheme} realm="puhui-finance"'})


PUBLIC = frozenset({("POST", "/api/session"), ("GET", "/api/openapi.json"),
                    ("GET", "/api/docs")})
"""The only /api requests answered without a session: signing in, and the API's documentation."""


def is_public(method: str, path: str) -> bool:
    return not path.startswith("/api/") or (method, path) in PUBLIC


async def authenticate(request: Request) -> Staff | None:
    """Who sent `request`: its session cookie, else its HTTP Basic credentials, else no one."""
    auth = finance(request).auth
    token = request.cookies.get(COOKIE)
    staff = await auth.session(token) if token and len(token) < 200 else None
    credentials = basic_credentials(request.headers.get("authorization"))
    if staff is None and credentials is not None and all(map(_text, credentials)):
        staff = await auth.check_password(*credentials)
    return staff


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(name, password) of an `Authorization: Basic ...` header; None for anything else."""
    scheme, _, param = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, colon, password = text.partition(":")
    return (name, password) if colon else None


async def current_staff(
    request: Request,
    # declared so that the schema documents both ways in; the middleware already checked them
    _token: Annotated[str | None, Depends(session_cookie)],
    _credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> Staff:
    staff: Staff | None = getattr(request.state, "staff", None)
    if staff is None:
        staff = await authenticate(request)
    if staff is None:
        raise NotSignedIn(request)
    return staff


def requires(permission: Permission) -> Callable[..., Awaitable[Staff]]:
    """A dependency: the signed-in staff, if their role grants `permission` (else 403)."""

    async def allowed(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.may(permission):
            raise HTTPException(403, f"a {staff.role} may not {permission.value.replace('_', ' ')}")
        return staff

    return allowed


def _text(value: str) -> bool:
    """PostgreSQL text cannot hold NUL; no user name or password has one."""
    return 0 < len(value) <= 1000 and "\x00" not in value


Reviewer = Annotated[Staff, Depends(requires(Permission.REVIEW))]
Preparer = Annotated[Staff, Depends(requires(Permission.PREPARE))]
Approver = Annotated[Staff, Depends(requires(Permission.APPROVE))]
Settler = Annotated[Staff, Depends(requires(Permission.SETTLE))]
FinanceDep = Annotated[Finance, Depends(finance)]
