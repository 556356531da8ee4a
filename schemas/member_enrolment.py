"""Topic `member.enrolment` (key = `member_id`): what the membership system streams.

`EnrolmentEvent` is the union of every event type, told apart by the `type` field;
`ENROLMENT_EVENT` validates a decoded JSON object into the right one.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from schemas.common import CalendarDate, EventId, InboundModel, NonEmptyText, OccurredAt, SourceId

TOPIC = "member.enrolment"

CertificateLevel = Literal["technician", "senior_technician"]
HonourTitle = Literal["technical_champion", "technical_pacesetter"]


class _EnrolmentBase(InboundModel):
    event_id: EventId
    member_id: SourceId
    occurred_at: OccurredAt


class MemberRegistered(_EnrolmentBase):
    """A member registered by real name. `name` is personal data: never logged in clear."""

    type: Literal["member_registered"]
    birth_date: CalendarDate
    union_branch: NonEmptyText
    name: NonEmptyText


class MemberUpdated(_EnrolmentBase):
    """A change to a member's details: at least one of birth_date, union_branch, name."""

    type: Literal["member_updated"]
    birth_date: CalendarDate | None = None
    union_branch: NonEmptyText | None = None
    name: NonEmptyText | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.birth_date is None and self.union_branch is None and self.name is None:
            raise PydanticCustomError(
                "nothing_updated", "member_updated: needs one of birth_date, union_branch, name"
            )
        return self


class MemberLeft(_EnrolmentBase):
    """Membership ends at `occurred_at`."""

    type: Literal["member_left"]


class CardIssued(_EnrolmentBase):
    """The card belongs to the member from `occurred_at`."""

    type: Literal["card_issued"]
    card_id: SourceId


class CardBlocked(_EnrolmentBase):
    """No card programme pays for this card from `occurred_at`."""

    type: Literal["card_blocked"]
    card_id: SourceId


class CardCancelled(_EnrolmentBase):
    """No card programme pays for this card from `occurred_at`."""

    type: Literal["card_cancelled"]
    card_id: SourceId


class MemberCertified(_EnrolmentBase):
    """The member gained a skill certificate."""

    type: Literal["member_certified"]
    level: CertificateLevel


class MemberHonoured(_EnrolmentBase):
    """The member was awarded an honour."""

    type: Literal["member_honoured"]
    title: HonourTitle


EnrolmentEvent = Annotated[
    MemberRegistered
    | MemberUpdated
    | MemberLeft
    | CardIssued
    | CardBlocked
    | CardCancelled
    | MemberCertified
    | MemberHonoured,
    Field(discriminator="type"),
]

ENROLMENT_EVENT: TypeAdapter[EnrolmentEvent] = TypeAdapter(EnrolmentEvent)

ENROLMENT_MODELS: dict[str, type[_EnrolmentBase]] = {
    "member_registered": MemberRegistered,
    "member_updated": MemberUpdated,
    "member_left": MemberLeft,
    "card_issued": CardIssued,
    "card_blocked": CardBlocked,
    "card_cancelled": CardCancelled,
    "member_certified": MemberCertified,
    "member_honoured": MemberHonoured,
}
"""Each enrolment `type` and the model that reads it (the same dispatch as `ENROLMENT_EVENT`)."""
