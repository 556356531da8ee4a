"""Topic `puhui.dead-letters`: messages that could not be decoded, kept with the reason."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias, get_args

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.common import Identifier, OutboundModel

TOPIC = "puhui.dead-letters"

BASE64_PATTERN = r"^[A-Za-z0-9+/]*={0,2}$"

Base64 = Annotated[str, StringConstraints(pattern=BASE64_PATTERN)]

InvalidKind: TypeAlias = Literal["empty", "not_json", "not_object", "unknown_topic",
                                 "unknown_type", "missing_field", "invalid_value"]
"""Why a message cannot be decoded, as a small fixed set (the reason says it in words)."""

DeadLetterKind: TypeAlias = Literal["empty", "not_json", "not_object", "unknown_topic",
                                    "unknown_type", "missing_field", "invalid_value",
                                    "unprocessable"]
"""Every kind of dead letter: an undecodable message (`InvalidKind`), or (`unprocessable`) a
valid one that recording failed on for good (a batch bisected to it). Metrics label dead
letters by it."""

DEAD_LETTER_KINDS: frozenset[str] = frozenset(get_args(DeadLetterKind))


class DeadLetter(OutboundModel):
    """A message that is not valid JSON, misses a field, has a wrong type or an unknown `type`,
    or that recording failed on for good (`kind` `unprocessable`).

    It is never lost: `raw` holds its bytes (base64) and `source_topic`, `partition` and
    `offset` say where it came from.
    """

    reason: Identifier
    kind: DeadLetterKind
    """The class of `reason`: `empty`, `not_json`, `not_object`, `unknown_topic`,
    `unknown_type`, `missing_field`, `invalid_value` or `unprocessable`."""
    source_topic: Identifier
    partition: Annotated[int, Field(ge=0)]
    offset: Annotated[int, Field(ge=0)]
    raw: Base64
    received_at: AwareDatetime
