"""The ASGI app: the API under /api, its OpenAPI schema, and the page at /.

Only the page's static files, the schema and signing in answer without a session or an API
token; every other `/api` request is authenticated, and what it may do depends on the role.
A request another page makes a browser send is refused before anything else (docs/finance.md,
"Security").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from services.finance.api import models, preferences, review, settle, watch, whatif
from services.finance.api.security import (
    CHALLENGE,
    COOKIE,
    SECURITY_HEADERS,
    FinanceDep,
    Refusal,
    RoleFirst,
    authenticate,
    cross_site,
    current_staff,
    headers_too_large,
    is_public,
    missing_csrf,
    not_signed_in,
    session_cookie,
)
from services.finance.bootstrap import Finance
from services.finance.domain.credentials import csrf_token
from services.finance.domain.roles import GRANTS
from services.finance.domain.settlement import NotFound, Refused, SamePerson
from services.finance.domain.staff import Staff
from services.finance.service_layer.auth import SESSION_HOURS, Throttled
from services.finance.service_layer.settlement import FileRefused
from services.runtime.errors import TransientFailure

STATIC = Path(str(resources.files("services.finance") / "static"))
CODES = {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large",
         415: "unsupported_media_type", 422: "invalid", 429: "sign_in_throttled",
         431: "headers_too_large", 503: "unavailable"}
"""The code of a refusal that names none of its own, by status."""


def create_app(build: Callable[[], Awaitable[Finance]], secure_cookie: bool = False,
               origin: str | None = None) -> FastAPI:
    """The app; `build` makes its `Finance` when the server starts (and the pool closes with it).

    `origin` is the page's origin as browsers see it (`https://finance.example.org`); without
    it, the scheme (https with `secure_cookie`) and the Host header of each request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.finance = await build()
        runs = app.state.finance.whatif
        worker = asyncio.create_task(runs.work()) if runs is not None else None
        try:
            yield
        finally:
            if worker is not None:
                runs.stop_all()
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await app.state.finance.pool.close()

    # no /api/docs: Swagger UI would load its script from a CDN; the schema is enough
    app = FastAPI(title="Puhui finance review", version="1", lifespan=lifespan,
                  description=__doc__ or "", openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None)
    app.include_router(_session_router(secure_cookie))
    app.include_router(preferences.router)
    app.include_router(review.router)
    app.include_router(settle.router)
    app.include_router(watch.router)
    app.include_router(whatif.router)
    _handle_errors(app)
    _guard(app, secure_cookie, origin)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _session_router(secure_cookie: bool) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["session"], route_class=RoleFirst,
                       responses=models.problem_responses(400, 403, 415, 431))

    @router.post("/session", response_model=models.Me,
                 responses=models.problem_responses(401, 422, 429))
    async def sign_in(body: models.SignIn, request: Request, response: Response,
                      fin: FinanceDep) -> models.Me:
        """Sign in with a name and password: sets the session cookie (HttpOnly, SameSite).
        After a few wrong passwords for a name or from an address, each further one makes
        the next attempt wait longer (429, Retry-After)."""
        address = request.client.host if request.client else "unknown"
        session = await fin.auth.sign_in(body.username, body.password, address) \
            if "\x00" not in body.username + body.password else None
        if isinstance(session, Throttled):
            seconds = max(1, int(session.retry_after.total_seconds() + 0.999))
            raise Refusal(429, f"too many wrong passwords: try again in {seconds} s",
                          "sign_in_throttled", {"Retry-After": str(seconds)})
        if session is None:
            raise Refusal(401, "wrong name or password", "wrong_password", CHALLENGE)
        response.set_cookie(COOKIE, session.token, max_age=SESSION_HOURS * 3600, httponly=True,
                            samesite="strict", secure=secure_cookie, path="/")
        return _me(session.staff, session.token)

    @router.get("/me", response_model=models.Me, responses=models.problem_responses(401))
    async def me(staff: Annotated[Staff, Depends(current_staff)],
                 token: Annotated[str | None, Depends(session_cookie)]) -> models.Me:
        """Who is signed in, what their role may do, and their session's CSRF token."""
        return _me(staff, token if staff.token_id is None else None)

    @router.delete("/session", status_code=204, response_class=Response,
                   responses=models.problem_responses(401))
    async def sign_out(staff: Annotated[Staff, Depends(current_staff)], fin: FinanceDep,
                       token: Annotated[str | None, Depends(session_cookie)]) -> Response:
        """Sign out: the session ends on the server too."""
        if token and staff.token_id is None:
            await fin.auth.sign_out(token)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


def _guard(app: FastAPI, secure_cookie: bool, origin: str | None) -> None:
    """Before anything else is read: headers not too large; nothing another page made a
    browser send; every /api request but signing in authenticated (an anonymous request gets
    401 whatever else is wrong with it), a page's change with its CSRF token. (The role,
    then the body's media type, are checked next, by each route: `RoleFirst`.) Every answer
    carries the security headers, the API's `no-store` too."""

    def own_origin(request: Request) -> str:
        scheme = "https" if secure_cookie else request.url.scheme
        return origin or f"{scheme}://{request.headers.get('host', '')}"

    async def refused(request: Request) -> Response | None:
        if headers_too_large(request):
            return _problem(431, "the request's headers are too large", "headers_too_large", [])
        if not request.url.path.startswith("/api/"):
            return None
        why = cross_site(request, own_origin(request))
        if why is not None:
            return _problem(403, why, "cross_site", [])
        if is_public(request.method, request.url.path):
            return None
        staff = await authenticate(request)
        if staff is None:
            refusal = not_signed_in()
            return _problem(401, str(refusal.detail), refusal.code, [], refusal.headers)
        if missing_csrf(request, staff):
            return _problem(403, "this request lacks the session's CSRF token (X-CSRF-Token)",
                            "csrf_token", [])
        request.state.staff = staff
        return None

    @app.middleware("http")
    async def guarded(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            response = await refused(request) or await call_next(request)
        except TransientFailure as error:
            response = _problem(503, f"the database did not answer: {error}", "unavailable", [],
                                {"Retry-After": "5"})
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def _me(staff: Staff, session_token: str | None) -> models.Me:
    return models.Me(username=staff.username, role=staff.role.value,
                     permissions=sorted(p.value for p in GRANTS[staff.role]),
                     csrf_token=csrf_token(session_token) if session_token else None)


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_request: Request, error: Refused) -> JSONResponse:
        status = 403 if isinstance(error, SamePerson) else 404 if isinstance(error, NotFound) \
            else 422 if isinstance(error, FileRefused) else 409
        problems = list(error.problems) if isinstance(error, FileRefused) else []
        return _problem(status, error.message, error.code, problems)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = error.code if isinstance(error, Refusal) else CODES.get(error.status_code, "error")
        return _problem(error.status_code, str(error.detail), code, [], error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                    for e in error.errors()]
        return _problem(422, problems[0] if problems else "invalid request", "invalid",
                        problems)

    @app.exception_handler(TransientFailure)
    async def unavailable(_request: Request, error: TransientFailure) -> JSONResponse:
        return _problem(503, f"the database did not answer: {error}", "unavailable", [],
                        {"Retry-After": "5"})


def _problem(status: int, detail: str, code: str, problems: list[str],
             headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = models.Problem(detail=detail, code=code, problems=problems)
    return JSONResponse(jsonable_encoder(body), status_code=status,
                        headers=dict(headers) if headers else None)
