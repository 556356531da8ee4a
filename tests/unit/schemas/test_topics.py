"""Every topic is declared once, in the contract: its schema module's name, its partitions,
its key; and each consuming service's group."""

from __future__ import annotations

from schemas import registry
from schemas.topics import CONSUMER_GROUPS, KEY_FIELDS, PARTITIONS, TOPICS, key_of
from services import disbursement, enrolment
from services.audit.bootstrap import GROUP_ID as AUDIT_GROUP
from services.bootstrap import LEDGER_SPECS


def test_every_topic_of_the_contract_has_one_declaration() -> None:
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    assert set(names) == set(registry.MESSAGE_TYPES)
    assert all(t.partitions >= 1 for t in TOPICS)


def test_what_we_consume_is_keyed_and_what_we_produce_is_not() -> None:
    assert set(KEY_FIELDS) == set(registry.INBOUND)
    assert key_of("card.transactions", {"card_id": "C-1"}) == b"C-1"


def test_each_consuming_service_reads_in_its_declared_group() -> None:
    assert set(LEDGER_SPECS) | {"audit"} == set(CONSUMER_GROUPS)
    assert CONSUMER_GROUPS["audit"] == AUDIT_GROUP
    for spec in (enrolment.SPEC, disbursement.SPEC):
        assert CONSUMER_GROUPS[spec.name] == f"puhui-{spec.name}"  # the groups in production
        assert set(spec.topics) <= set(PARTITIONS)
