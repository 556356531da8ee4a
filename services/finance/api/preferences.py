"""What each signed-in person chose for the page: today, its language."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.finance.api import models
from services.finance.api.messages import LANGUAGES, Language
from services.finance.api.security import FinanceDep, Reviewer

router = APIRouter(prefix="/api", tags=["session"],
                   responses=models.problem_responses(400, 401, 403, 422))


class Preference(BaseModel):
    language: Language
    """`zh-CN` (the page's default) or `en`."""


class Chosen(BaseModel):
    language: Language | None
    """What the person chose; null until they choose (the page then keeps what it shows)."""


@router.get("/preferences", response_model=Chosen)
async def preferences(staff: Reviewer, fin: FinanceDep) -> Chosen:
    """The signed-in person's language, if they ever chose one."""
    found = await fin.preferences.language(staff.username)
    return Chosen.model_validate({"language": found if found in LANGUAGES else None})


@router.put("/preferences", response_model=Preference)
async def choose(body: Preference, staff: Reviewer, fin: FinanceDep) -> Preference:
    """Remember the signed-in person's language, for every browser they sign in from."""
    await fin.preferences.set_language(staff.username, body.language)
    return body
