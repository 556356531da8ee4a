"""The audit record's fields are declared once, in the contract (schemas/audit.py).

These tests add a field to a copy of the product's packages, in `schemas/audit.py` alone, and
check that everything that stores, reads, hashes, checks, publishes or shows an audit record
takes it: the trail's columns and rows, the chain's canonical bytes, the intake's fast reader,
the engine's published JSON, the finance API's `Decision` and its query. The database column
itself is a migration's job (the one other file such a change needs).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
PACKAGES = ("schemas", "engine", "services")
ACTOR_LINE = "    actor: str | None = None\n"

CHECKS = textwrap.dedent('''
    import sys
    from datetime import UTC, datetime
    import orjson
    import schemas.audit
    assert schemas.audit.__file__.startswith(sys.argv[1]), schemas.audit.__file__
    from schemas.audit import AuditRecord
    from schemas.payouts import TraceStep
    from engine import wire
    from engine.decisions import Denied
    from services.audit.adapters.reader import READ_CHAIN
    from services.audit.adapters.trail import COLUMNS, copy_rows
    from services.audit.domain.chain import EMPTY, extend
    from services.audit.domain.record import TrailRecord
    from services.audit.service_layer import well_formed
    from services.audit.service_layer.intake import validated_entry
    from services.finance.adapters.views import TRAIL_COLUMNS
    from services.finance.api.models import Decision

    fields = dict(
        audit_id="aud-1", decision="denied", reason="not_registered", programme=None,
        member_id=None, card_id="card_1", source_event_id="evt-1",
        source_topic="card.transactions", transaction_id="TX1", amount_fen=0,
        occurred_at=datetime(2027, 3, 2, 0, 15, 30, tzinfo=UTC),
        trace=[TraceStep(rule="card", outcome="not registered")])
    without = AuditRecord(**fields)
    witnessed = AuditRecord(**fields, witness="branch 7")

    # the trail stores it and reads it back
    assert "witness" in COLUMNS and "witness" in READ_CHAIN
    link, = extend(EMPTY, [validated_entry(witnessed.model_dump_json().encode())],
                   datetime(2027, 3, 2, tzinfo=UTC))
    assert dict(zip(COLUMNS, copy_rows([link])[0]))["witness"] == "branch 7"

    # the chain hashes it where it has a value, and an older link's bytes stay as they were
    old = TrailRecord.of(without).canonical_bytes()
    assert b"witness" not in old and old == sys.argv[2].encode()
    assert b'"witness":"branch 7"' in TrailRecord.of(witnessed).canonical_bytes()

    # the intake's fast reader checks it, and agrees with the contract's validation
    assert well_formed.READS and "witness" in well_formed.KINDS.text_or_null
    for record in (without, witnessed):
        value = record.model_dump_json().encode()
        fast, full = well_formed.well_formed_entry(value), validated_entry(value)
        assert fast is not None and fast.canonical == full.canonical
        assert fast.record == full.record
    bad = orjson.dumps({**orjson.loads(witnessed.model_dump_json()), "witness": 7})
    assert well_formed.well_formed_entry(bad) is None and isinstance(validated_entry(bad), str)

    # the engine publishes it (its default: a decision does not set it)
    decision = Denied(source_event_id="evt-1", source_topic="card.transactions",
                      member_id=None, programme=None, period=None,
                      occurred_at=fields["occurred_at"], reason="not_registered")
    published = wire.dumps(wire.audit_value(decision, wire.trace_value(decision.trace)))
    assert published == decision.to_audit().model_dump_json().encode()
    assert b'"witness":null' in published

    # finance shows it
    assert "witness" in Decision.model_fields and "witness" in TRAIL_COLUMNS
    print("ok")
''')


def with_a_new_field(tmp_path: Path) -> Path:
    """A copy of the product's packages whose audit record has one more field, `witness`,
    declared in schemas/audit.py and nowhere else."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static"))
    contract = tmp_path / "schemas" / "audit.py"
    text = contract.read_text()
    assert text.count(ACTOR_LINE) == 1
    contract.write_text(text.replace(
        ACTOR_LINE, ACTOR_LINE + '    witness: str | None = None\n    """Who saw it."""\n'))
    return tmp_path


def canonical_today() -> bytes:
    """The canonical bytes of the checks' record without the field, in today's tree."""
    from datetime import UTC, datetime

    from schemas.audit import AuditRecord
    from schemas.payouts import TraceStep
    from services.audit.domain.record import TrailRecord

    record = AuditRecord(
        audit_id="aud-1", decision="denied", reason="not_registered", programme=None,
        member_id=None, card_id="card_1", source_event_id="evt-1",
        source_topic="card.transactions", transaction_id="TX1", amount_fen=0,
        occurred_at=datetime(2027, 3, 2, 0, 15, 30, tzinfo=UTC),
        trace=[TraceStep(rule="card", outcome="not registered")])
    return TrailRecord.of(record).canonical_bytes()


@pytest.mark.timeout(120)
def test_a_field_added_in_the_contract_alone_reaches_every_reader_and_writer(
        tmp_path: Path) -> None:
    tree = with_a_new_field(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", CHECKS, str(tree), canonical_today().decode()],
        cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_checks_fail_on_todays_tree_without_the_field() -> None:
    """The checks really look for the field: on the tree as it is, they fail."""
    result = subprocess.run(
        [sys.executable, "-c", CHECKS, str(ROOT), canonical_today().decode()],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "witness" in result.stderr


def test_the_fast_reader_knows_every_field_of_the_contract() -> None:
    from services.audit.service_layer import well_formed

    assert well_formed.READS, well_formed.KINDS.unknown
    assert not well_formed.KINDS.unknown


def test_the_contract_keeps_every_field_the_chain_formats_hash() -> None:
    """A field that format 1 or 2 hashed cannot leave the contract: the links written in
    those formats could not be checked again."""
    from schemas.audit import AuditRecord
    from services.audit.domain.record import FORMAT_2_FIELDS, LATER_FIELDS, RECORD_FIELDS

    assert set(FORMAT_2_FIELDS) <= set(AuditRecord.model_fields)
    assert LATER_FIELDS == ()  # today; a field added to the contract would be listed here
    assert set(RECORD_FIELDS) == set(FORMAT_2_FIELDS) | set(LATER_FIELDS)
