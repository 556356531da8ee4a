"""What each signed-in person chose for the page: today, its language."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.finance.api import models
from services.finance.api.messages import DEFAULT, LANGUAGES, Language
from services.finance.api.security import FinanceDep, Reviewer

router = APIRouter(prefix="/api", tags=["session"],
                   responses=models.problem_responses(400, 401, 403, 422))


class Preference(BaseModel):
    language: Language
    """`zh-CN` (the default) or `en`."""


@router.get("/preferences", response_model=Preference)
async def preferences(staff: Reviewer, fin: FinanceDep) -> Preference:
    """The signed-in person's language (zh-CN until they choose another)."""
    found = await fin.preferences.language(staff.username)
    return Preference.model_validate({"language": found if found in LANGUAGES else DEFAULT})


@router.put("/preferences", response_model=Preference)
async def choose(body: Preference, staff: Reviewer, fin: FinanceDep) -> Preference:
    """Remember the signed-in person's language, for every browser they sign in from."""
    await fin.preferences.set_language(staff.username, body.language)
    return body
