"""What if: replay the recorded events under another catalogue (role `admin`).

A run compares what the ledger paid with what the new catalogue would have paid, decided by
the production engine over the events the broker recorded (docs/services.md, "What if").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.catalogue import CatalogueError
from services.finance.api import models
from services.finance.api.security import FinanceDep, Planner, Refusal, RoleFirst
from services.finance.bootstrap import Finance
from services.finance.service_layer.whatif import Run, State, WhatIfRuns

router = APIRouter(prefix="/api/whatif", tags=["what if"], route_class=RoleFirst,
                   responses=models.problem_responses(400, 401, 403, 422))

MAX_CATALOGUE = 200_000
"""Characters of a catalogue (the reference one is about 5,000)."""


class InForce(BaseModel):
    catalogue: str
    """The catalogue in force, as TOML: the page's starting point."""


class Asked(BaseModel):
    catalogue: str = Field(max_length=MAX_CATALOGUE)
    """The catalogue to replay under, as TOML (PRODUCT.md's keys)."""
    year: int = Field(ge=2000, le=2099)
    """The calendar year replayed and compared."""
    member_prefix: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9_.:-]*$")
    """Compare only members whose id starts with it (empty: every member)."""


class RunView(BaseModel):
    run_id: int
    started_by: str
    asked_at: datetime
    year: int
    member_prefix: str
    catalogue_sha256: str
    state: State
    done: int
    """Messages read so far, of `total`."""
    total: int
    error: str | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    """`whatif.json`: per programme, per member (histogram), budget burn-down by day."""


def _runs(fin: Finance) -> WhatIfRuns:
    if fin.whatif is None:
        raise Refusal(404, "this server starts no what-if runs", "not_found")
    return fin.whatif


def _view(run: Run, with_result: bool = True) -> RunView:
    return RunView(run_id=run.run_id, started_by=run.started_by, asked_at=run.asked_at,
                   year=run.year, member_prefix=run.member_prefix,
                   catalogue_sha256=run.catalogue_sha256, state=run.state,
                   done=run.done, total=run.total, error=run.error,
                   finished_at=run.finished_at, result=run.result if with_result else None)


@router.get("/catalogue", response_model=InForce, responses=models.problem_responses(404))
async def in_force(_: Planner, fin: FinanceDep) -> InForce:
    """The catalogue in force, to edit."""
    return InForce(catalogue=_runs(fin).replayer.in_force)


@router.post("/runs", response_model=RunView, status_code=202,
             responses=models.problem_responses(404, 415))
async def ask(body: Asked, staff: Planner, fin: FinanceDep) -> RunView:
    """Queue a replay under `catalogue`; one runs at a time, the others wait (`queued`). A
    catalogue that cannot be used is refused (422, naming the key) and nothing starts."""
    try:
        run = _runs(fin).ask(staff.username, body.catalogue, body.year, body.member_prefix)
    except CatalogueError as error:
        raise Refusal(422, str(error), "catalogue_invalid") from None
    return _view(run)


@router.get("/runs", response_model=list[RunView], responses=models.problem_responses(404))
async def runs(_: Planner, fin: FinanceDep) -> list[RunView]:
    """Every run of this server, newest first (without their results)."""
    return [_view(run, with_result=False) for run in _runs(fin).runs()]


@router.get("/runs/{run_id}", response_model=RunView, responses=models.problem_responses(404))
async def one(run_id: int, _: Planner, fin: FinanceDep) -> RunView:
    """One run, with its progress and, when done, its result."""
    run = _runs(fin).get(run_id)
    if run is None:
        raise Refusal(404, f"no run {run_id}", "not_found")
    return _view(run)


@router.post("/runs/{run_id}/stop", response_model=RunView,
             responses=models.problem_responses(404, 415))
async def stop(run_id: int, _: Planner, fin: FinanceDep) -> RunView:
    """Stop a queued or running run: it leaves nothing behind and shows as `stopped`."""
    run = _runs(fin).stop(run_id)
    if run is None:
        raise Refusal(404, f"no run {run_id}", "not_found")
    return _view(run)
