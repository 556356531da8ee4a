"""Who may send what: a session cookie (the page) or an API token (scripts), each checked for
its role; and what a browser may be made to send from another page (nothing that changes
anything).

HTTP Basic is not accepted: a browser keeps Basic credentials and sends them with any
request, from any site, that targets this server.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from services.finance.bootstrap import Finance
from services.finance.domain.credentials import csrf_token, same_secret
from services.finance.domain.roles import Permission
from services.finance.domain.staff import Staff

COOKIE = "puhui_finance"
CSRF_HEADER = "x-csrf-token"
session_cookie = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session",
                              description="Set by POST /api/session (sign in). A request that "
                              "changes anything also sends the session's `csrf_token` (from "
                              "/api/me) as X-CSRF-Token.")
bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token made with `puhui finance token add`, for scripts.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="puhui-finance"'}
"""Never Basic: a Basic challenge makes a browser ask for, and keep, a password."""
MAX_HEADER_BYTES = 16 * 1024
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPLOADS = frozenset({"/api/confirmations"})
"""The paths whose body is a multipart upload rather than JSON."""
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; connect-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Refusal(HTTPException):
    """A refused request, with the stable `code` the page translates."""

    def __init__(self, status: int, detail: str, code: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers)
        self.code = code


def finance(request: Request) -> Finance:
    built: Finance = request.app.state.finance
    return built


def not_signed_in() -> Refusal:
    return Refusal(401, "sign in first", "not_signed_in", CHALLENGE)


PUBLIC = frozenset({("POST", "/api/session"), ("GET", "/api/openapi.json")})
"""The only /api requests answered without a session: signing in, and the API's schema."""


def is_public(method: str, path: str) -> bool:
    return not path.startswith("/api/") or (method, path) in PUBLIC


async def authenticate(request: Request) -> Staff | None:
    """Who sent `request`: its API token if it has an Authorization header (and nothing else
    then), else its session cookie, else no one."""
    auth = finance(request).auth
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        usable = scheme.lower() == "bearer" and 0 < len(token) < 200 and "\x00" not in token
        return await auth.token(token.strip()) if usable else None
    cookie = request.cookies.get(COOKIE)
    return await auth.session(cookie) if cookie and len(cookie) < 200 else None


def cross_site(request: Request, own_origin: str) -> str | None:
    """Why a browser must not be let send `request` (None: it may).

    Any /api request a browser made for another site, or for a page on another origin of
    this site (Sec-Fetch-Site), is refused; a request that changes anything must come from
    this origin (Origin, when sent) and from a page of it (Sec-Fetch-Site, when sent)."""
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return f"a page of another {site.split('-')[0]} sent this request"
    if request.method not in UNSAFE:
        return None
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin:
        return f"a page of {origin} may not change anything here"
    if site is not None and site != "same-origin":
        return "only this application's own page may change anything here"
    return None


def wrong_media_type(request: Request) -> str | None:
    """A body a form or a plain `fetch` could send: only JSON (or, for an upload, multipart)
    is read. None when the request is acceptable."""
    if request.method not in UNSAFE:
        return None
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    has_body = request.headers.get("content-length", "0") not in ("", "0") \
        or "transfer-encoding" in request.headers
    wanted = "multipart/form-data" if request.url.path in UPLOADS else "application/json"
    if kind == wanted or (not kind and not has_body):
        return None
    return f"send the body as {wanted}"


def missing_csrf(request: Request, staff: Staff) -> bool:
    """A signed-in page's request that changes anything must carry its session's CSRF token
    (an API token's request needs none: a browser never adds one by itself)."""
    if request.method not in UNSAFE or staff.token_id is not None:
        return False
    session = request.cookies.get(COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    return not (session and given and same_secret(given, csrf_token(session)))


def headers_too_large(request: Request) -> bool:
    return sum(len(k) + len(v) for k, v in request.headers.raw) > MAX_HEADER_BYTES


async def current_staff(
    request: Request,
    # declared so that the schema documents both ways in; the middleware already checked them
    _token: Annotated[str | None, Depends(session_cookie)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Staff:
    staff: Staff | None = getattr(request.state, "staff", None)
    if staff is None:
        staff = await authenticate(request)
    if staff is None:
        raise not_signed_in()
    return staff


def refuse_unless(staff: Staff, permission: Permission) -> None:
    if not staff.may(permission):
        raise Refusal(403, f"a {staff.role} may not {permission.value.replace('_', ' ')}",
                      "forbidden_role")


class Requires:
    """A dependency: the signed-in staff, if their role grants `permission` (else 403)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        refuse_unless(staff, self.permission)
        return staff


class RoleFirst(APIRoute):
    """A route that checks the role, then the body's media type, before it reads the body: a
    viewer who sends malformed JSON to an approver's action is told 403, not how to fix it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needed = _permissions(self.dependant)

        async def checked(request: Request) -> Response:
            staff: Staff | None = getattr(request.state, "staff", None)
            if staff is not None:
                for permission in needed:
                    refuse_unless(staff, permission)
            why = wrong_media_type(request)
            if why is not None:
                raise Refusal(415, why, "unsupported_media_type")
            return await handler(request)

        return checked


def _permissions(dependant: Dependant) -> list[Permission]:
    found = [dependant.call.permission] if isinstance(dependant.call, Requires) else []
    return found + [p for sub in dependant.dependencies for p in _permissions(sub)]


Reviewer = Annotated[Staff, Depends(Requires(Permission.REVIEW))]
Preparer = Annotated[Staff, Depends(Requires(Permission.PREPARE))]
Approver = Annotated[Staff, Depends(Requires(Permission.APPROVE))]
Settler = Annotated[Staff, Depends(Requires(Permission.SETTLE))]
Planner = Annotated[Staff, Depends(Requires(Permission.PLAN))]
FinanceDep = Annotated[Finance, Depends(finance)]
