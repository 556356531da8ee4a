"""docs/metrics.md and what the services expose are the same list: names, types, labels."""

from __future__ import annotations

from tests.unit.monitoring.catalogue import documented, exposed

# Never a label: these would make one series per member, card or transaction.
HIGH_CARDINALITY = {"member_id", "member", "card_id", "card", "transaction_id", "event_id",
                    "payout_id", "audit_id"}


def test_the_documented_catalogue_is_what_a_service_exposes() -> None:
    docs, served = documented(), exposed()
    assert len(docs) >= 20
    assert sorted(docs - served) == [], "documented in docs/metrics.md but not exposed"
    assert sorted(served - docs) == [], "exposed but not in docs/metrics.md"


def test_no_label_names_a_member_card_or_transaction() -> None:
    for entry in exposed():
        assert not set(entry.labels) & HIGH_CARDINALITY, entry
