"""Finance's review of the watch's signals: what may follow what.

A signal is open until an approver marks it reviewed (with a note) or escalates it; an
escalated one is reviewed later, when whoever looked into it has the answer. A reviewed
signal stays reviewed. None of this touches a payout.
"""

from __future__ import annotations

from enum import StrEnum

from services.finance.domain.settlement import Refused, WrongState

NOTE_MAX = 2000


class SignalAction(StrEnum):
    REVIEW = "reviewed"
    ESCALATE = "escalated"


class NoteRequired(Refused):
    code = "note_required"


def next_status(status: str, action: SignalAction, note: str) -> str:
    """The status after `action`, or a refusal naming why not."""
    if not note.strip():
        raise NoteRequired("a note is required: say what you found or why you escalate")
    if status == "reviewed":
        raise WrongState("this signal is already reviewed")
    if status == "escalated" and action is SignalAction.ESCALATE:
        raise WrongState("this signal is already escalated")
    return action.value
