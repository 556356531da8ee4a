"""Topic `puhui.dead-letters`: messages that could not be decoded, kept with the reason."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.common import Identifier, OutboundModel

TOPIC = "puhui.dead-letters"

BASE64_PATTERN = r"^[A-Za-z0-9+/]*={0,2}$"

Base64 = Annotated[str, StringConstraints(pattern=BASE64_PATTERN)]


class DeadLetter(OutboundModel):
    """A message that is not valid JSON, misses a field, has a wrong type or an unknown `type`.

    It is never lost: `raw` holds its bytes (base64) and `source_topic`, `partition` and
    `offset` say where it came from.
    """

    reason: Identifier
    source_topic: Identifier
    partition: Annotated[int, Field(ge=0)]
    offset: Annotated[int, Field(ge=0)]
    raw: Base64
    received_at: AwareDatetime
