"""Anchors: signed heads, made when due, skipped by intake, and a re-hashed rewrite caught."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.adapters.keys import (
    Ed25519Checker,
    Ed25519Signer,
    KeyFileError,
    generate,
    load_checker,
    load_signer,
)
from services.audit.domain.anchor import Anchor, NotAnAnchor
from services.audit.domain.chain import EMPTY, ChainHead, ChainLink, extend, link_hash
from services.audit.service_layer.anchoring import Anchoring, forged
from services.audit.service_layer.append import record_batch
from services.audit.service_layer.intake import admit
from services.audit.service_layer.verification import Unanchored, Verified, verify_trail
from services.runtime.records import InboundRecord
from tests.unit.audit.builders import entry
from tests.unit.audit.test_service_layer import NOW, MemoryTrail, _stream

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate())
CHECKER = Ed25519Checker(Ed25519PrivateKey.generate().public_key())


def _rehashed(links: Sequence[ChainLink], index: int, **changes: object) -> list[ChainLink]:
    """`links` with one record changed and every link from it re-hashed: a chain that holds."""
    out = list(links[:index])
    prev = out[-1].hash if out else EMPTY.hash
    for i, link in enumerate(links[index:]):
        record = link.record.replace(**changes) if i == 0 else link.record
        moved = dataclasses.replace(link, record=record, prev_hash=prev)
        moved = dataclasses.replace(moved, hash=link_hash(prev, moved))
        out.append(moved)
        prev = moved.hash
    return out


async def test_a_batch_that_moves_the_head_is_anchored_once_per_interval() -> None:
    trail = MemoryTrail()
    anchoring = Anchoring(SIGNER, timedelta(minutes=5))
    await record_batch(trail.open, [entry(1)], [], NOW, anchoring)
    await record_batch(trail.open, [entry(2)], [], NOW + timedelta(minutes=1), anchoring)
    await record_batch(trail.open, [entry(2)], [], NOW + timedelta(minutes=6), anchoring)
    await record_batch(trail.open, [entry(3)], [], NOW + timedelta(minutes=6), anchoring)
    assert [(a.head.seq, a.signed_at - NOW) for a in trail.anchors] == [
        (1, timedelta(0)), (3, timedelta(minutes=6))]
    assert trail.anchors[-1].head == trail.head
    assert all(forged(a, SIGNER.checker()) is None for a in trail.anchors)


def test_an_anchor_survives_its_json_and_a_changed_one_is_forged() -> None:
    anchor = Anchoring(SIGNER, timedelta(0)).due(ChainHead(7, bytes(range(32))), NOW)
    assert anchor is not None
    assert Anchor.from_json(anchor.to_json(indent=True)) == anchor
    later = dataclasses.replace(anchor, head=ChainHead(8, anchor.head.hash))
    assert forged(later, SIGNER.checker()) == "its signature does not verify with the public key"
    assert forged(anchor, CHECKER) == (
        f"it names key {SIGNER.key_id}, the public key given is {CHECKER.key_id}")
    with pytest.raises(NotAnAnchor):
        Anchor.from_json(anchor.to_json().replace(b'"seq":7', b'"seq":0'))


async def test_a_rewrite_rehashed_to_the_end_verifies_but_not_against_an_earlier_anchor() -> None:
    links = extend(EMPTY, [entry(i) for i in range(1, 6)], NOW)
    anchor = Anchoring(SIGNER, timedelta(0)).due(ChainHead(4, links[3].hash), NOW)
    assert anchor is not None
    rewritten = _rehashed(links, 1, member_id="mem_someone_else")
    head = ChainHead(5, rewritten[-1].hash)
    assert isinstance(await verify_trail(_stream(rewritten), head), Verified)
    verdict = await verify_trail(_stream(rewritten), head, anchors=[anchor])
    assert verdict == Unanchored(anchor, ChainHead(4, rewritten[3].hash))
    assert "a record at or before seq=4 was rewritten" in str(verdict)
    assert isinstance(await verify_trail(_stream(links), ChainHead(5, links[-1].hash),
                                         anchors=[anchor]), Verified)


async def test_a_trail_cut_before_an_anchor_is_caught() -> None:
    links = extend(EMPTY, [entry(i) for i in range(1, 6)], NOW)
    anchor = Anchoring(SIGNER, timedelta(0)).due(ChainHead(5, links[4].hash), NOW)
    assert anchor is not None
    verdict = await verify_trail(_stream(links[:3]), ChainHead(3, links[2].hash),
                                 anchors=[anchor])
    assert verdict == Unanchored(anchor, None)


def test_intake_skips_anchors_and_rejects_what_only_looks_like_one() -> None:
    anchor = Anchoring(SIGNER, timedelta(0)).due(ChainHead(1, bytes(32)), NOW)
    assert anchor is not None
    fake = b'{"type":"chain_anchor","seq":1}'
    entries, rejected = admit([InboundRecord("audit", 0, 0, None, anchor.to_json()),
                               InboundRecord("audit", 0, 1, None, fake)])
    assert entries == []
    assert [r.record.value for r in rejected] == [fake]
    assert rejected[0].reason.startswith("not a chain anchor")


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    path = tmp_path / "anchors.key"
    key_id = generate(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signer(path).key_id == load_checker(path.with_name("anchors.key.pub")).key_id \
        == load_checker(path).key_id == key_id
    with pytest.raises(KeyFileError):
        generate(path)
