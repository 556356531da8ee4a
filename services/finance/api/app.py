"""The ASGI app: the API under /api, its OpenAPI schema, and the page at /.

Only the page's static files, the schema and signing in answer without a session; every
`/api` request is authenticated, and what it may do depends on the role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from services.finance.api import models, preferences, review, settle
from services.finance.api.problems import Refusal, code_of
from services.finance.api.security import (
    COOKIE,
    FinanceDep,
    NotSignedIn,
    authenticate,
    current_staff,
    is_public,
    session_cookie,
)
from services.finance.bootstrap import Finance
from services.finance.domain.roles import GRANTS
from services.finance.domain.settlement import NotFound, Refused, SamePerson
from services.finance.domain.staff import Staff
from services.finance.service_layer.auth import SESSION_HOURS
from services.finance.service_layer.settlement import FileRefused
from services.runtime.errors import TransientFailure

STATIC = Path(str(resources.files("services.finance") / "static"))


def create_app(build: Callable[[], Awaitable[Finance]], secure_cookie: bool = False) -> FastAPI:
    """The app; `build` makes its `Finance` when the server starts (and the pool closes with it)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.finance = await build()
        try:
            yield
        finally:
            await app.state.finance.pool.close()

    app = FastAPI(title="Puhui finance review", version="1", lifespan=lifespan,
                  description=__doc__ or "", openapi_url="/api/openapi.json", docs_url="/api/docs",
                  redoc_url=None)
    app.include_router(_session_router(secure_cookie))
    app.include_router(preferences.router)
    app.include_router(review.router)
    app.include_router(settle.router)
    _handle_errors(app)
    _authenticate_first(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _session_router(secure_cookie: bool) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["session"], responses=models.problem_responses(400))

    @router.post("/session", response_model=models.Me,
                 responses=models.problem_responses(401, 422))
    async def sign_in(body: models.SignIn, response: Response, fin: FinanceDep) -> models.Me:
        """Sign in with a name and password: sets the session cookie (HttpOnly, SameSite)."""
        session = await fin.auth.sign_in(body.username, body.password) \
            if "\x00" not in body.username + body.password else None
        if session is None:
            raise Refusal(401, "wrong_credentials", "wrong name or password",
                          headers={"WWW-Authenticate": 'Session realm="puhui-finance"'})
        response.set_cookie(COOKIE, session.token, max_age=SESSION_HOURS * 3600, httponly=True,
                            samesite="strict", secure=secure_cookie, path="/")
        return _me(session.staff)

    @router.get("/me", response_model=models.Me, responses=models.problem_responses(401))
    async def me(staff: Annotated[Staff, Depends(current_staff)]) -> models.Me:
        """Who is signed in, and what their role may do."""
        return _me(staff)

    @router.delete("/session", status_code=204, response_class=Response,
                   responses=models.problem_responses(401))
    async def sign_out(staff: Annotated[Staff, Depends(current_staff)], fin: FinanceDep,
                       token: Annotated[str | None, Depends(session_cookie)]) -> Response:
        """Sign out: the session ends on the server too."""
        if token:
            await fin.auth.sign_out(token)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


def _authenticate_first(app: FastAPI) -> None:
    """Every /api request but signing in is authenticated before anything else is read, so
    an anonymous request gets 401 whatever else is wrong with it."""

    @app.middleware("http")
    async def authenticated(request: Request,
                            call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if is_public(request.method, request.url.path):
            return await call_next(request)
        try:
            staff = await authenticate(request)
        except TransientFailure as error:
            return _problem(503, f"the database did not answer: {error}", "unavailable", [],
                            {"Retry-After": "5"})
        if staff is None:
            refusal = NotSignedIn(request)
            return _problem(401, str(refusal.detail), None, [], refusal.headers)
        request.state.staff = staff
        return await call_next(request)


def _me(staff: Staff) -> models.Me:
    return models.Me(username=staff.username, role=staff.role.value,
                     permissions=sorted(p.value for p in GRANTS[staff.role]))


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_request: Request, error: Refused) -> JSONResponse:
        status = 403 if isinstance(error, SamePerson) else 404 if isinstance(error, NotFound) \
            else 422 if isinstance(error, FileRefused) else 409
        problems = list(error.problems) if isinstance(error, FileRefused) else []
        return _problem(status, error.message, error.code, problems)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return _problem(error.status_code, str(error.detail), getattr(error, "code", None), [],
                        error.headers)

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


def _problem(status: int, detail: str, code: str | None, problems: list[str],
             headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = models.Problem(detail=detail, code=code_of(status, code), problems=problems)
    return JSONResponse(jsonable_encoder(body), status_code=status,
                        headers=dict(headers) if headers else None)
