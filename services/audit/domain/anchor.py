"""An anchor: the chain's head at one moment, signed with a key the database never sees.

Whoever can write the database can rewrite a record and re-hash every link after it, so that
the chain holds again; they cannot make the head match an anchor signed before the rewrite.
The signed bytes are the sorted-key JSON

    {"chain":"puhui-audit","format":1,"hash":H,"key_id":K,"seq":N,"signed_at":T}

(H the head's hash in hex, K the signing key's id, T in UTC like `occurred_at`), signed with
Ed25519. The anchor as sent on topic `audit` and kept in a file is those fields and
`"type":"chain_anchor"` and `"signature"` (hex).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime

import orjson

from services.audit.domain.chain import ChainHead
from services.audit.domain.record import utc_text

ANCHOR_TYPE = "chain_anchor"
MARKER = b'"type":"chain_anchor"'
"""In every anchor message, and in no audit record (their schema has no `type` field)."""
FORMAT = 1
_FIELDS = {"chain", "format", "hash", "key_id", "seq", "signed_at", "signature", "type"}


class NotAnAnchor(ValueError):
    """Bytes that do not hold an anchor; says what is wrong."""


@dataclass(frozen=True, slots=True)
class Anchor:
    head: ChainHead
    signed_at: datetime
    key_id: str
    signature: bytes

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.head, self.signed_at, self.key_id)

    def to_json(self, indent: bool = False) -> bytes:
        document = {**_signed_document(self.head, self.signed_at, self.key_id),
                    "type": ANCHOR_TYPE, "signature": self.signature.hex()}
        option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
        return orjson.dumps(document, option=option)

    @classmethod
    def from_json(cls, value: bytes) -> Anchor:
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError as error:
            raise NotAnAnchor(f"not JSON: {error}") from None
        if not isinstance(document, dict) or set(document) != _FIELDS:
            raise NotAnAnchor(f"an anchor has exactly the fields {sorted(_FIELDS)}")
        if (document["type"], document["chain"], document["format"]) != (
                ANCHOR_TYPE, "puhui-audit", FORMAT):
            raise NotAnAnchor("not a puhui-audit chain anchor of format 1")
        try:
            return cls(ChainHead(_count(document["seq"]), _hex(document["hash"], 32)),
                       _moment(document["signed_at"]), str(document["key_id"]),
                       _hex(document["signature"], 64))
        except (TypeError, ValueError) as error:
            raise NotAnAnchor(str(error)) from None

    def __str__(self) -> str:
        return (f"seq={self.head.seq} (hash {self.head.hash.hex()}), signed "
                f"{utc_text(self.signed_at)} by key {self.key_id}")


def signed_bytes(head: ChainHead, signed_at: datetime, key_id: str) -> bytes:
    """What the signature of the anchor of `head` signs (see the module docstring)."""
    return orjson.dumps(_signed_document(head, signed_at, key_id), option=orjson.OPT_SORT_KEYS)


def _signed_document(head: ChainHead, signed_at: datetime, key_id: str) -> dict[str, object]:
    return {"chain": "puhui-audit", "format": FORMAT, "hash": head.hash.hex(), "key_id": key_id,
            "seq": head.seq, "signed_at": utc_text(signed_at)}


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("seq: must be a whole number from 1")
    return value


def _hex(value: object, size: int) -> bytes:
    try:
        raw = bytes.fromhex(str(value))
    except (ValueError, binascii.Error):
        raise ValueError(f"not hex: {value!r}") from None
    if len(raw) != size:
        raise ValueError(f"{value!r} is not {size} bytes")
    return raw


def _moment(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("signed_at: must carry its offset")
    return moment
