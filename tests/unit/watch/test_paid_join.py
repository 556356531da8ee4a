"""A purchase joined with its payout: in either order, once, and again only where a replay
of the completing message needs it (the rules' guards then count it once)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.watch.domain.paid import JOINED, PaidSide, Pairing, pair
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import local_seconds

AT = local_seconds(datetime(2027, 3, 5, 6, 20, tzinfo=UTC))
SWIPE = Swipe("T1", "C-1", "M-1", "5942", "purchase", 2000, AT, 3, 41)
PAID = PaidSide("T1", 400, AT)


def test_the_pair_goes_on_once_whichever_side_comes_first() -> None:
    for first, second in ((SWIPE, PAID), (PAID, SWIPE)):
        after_first, none = pair(Pairing(), first, 5, 10)
        after_second, joined = pair(after_first, second, 5, 11)
        assert none is None
        assert joined is not None
        assert (joined.paid_fen, joined.source, joined.partition, joined.offset) == \
            (400, JOINED, 5, 11)
        assert (joined.transaction_id, joined.card_id, joined.merchant_id, joined.at) == \
            ("T1", "C-1", "M-1", AT)
        assert joined.subsidised
        assert joined.lane == "j5"
        # a second payout message for the same purchase (a resend) passes nothing on
        assert pair(after_second, PAID, 5, 12)[1] is None


def test_a_replay_passes_the_pair_on_again_only_from_the_completing_message() -> None:
    after_swipe, _ = pair(Pairing(), SWIPE, 2, 7)
    complete, joined = pair(after_swipe, PAID, 2, 9)
    assert pair(complete, SWIPE, 2, 7) == (complete, None)  # seen: changes nothing
    assert pair(complete, PAID, 2, 9) == (complete, joined)  # the crash may have lost it


def test_a_purchase_without_a_payout_is_never_subsidised() -> None:
    alone, joined = pair(Pairing(), SWIPE, 0, 1)
    assert joined is None
    assert not SWIPE.subsidised
    assert Pairing.from_json(alone.as_json()) == alone  # as the changelog keeps it


def test_a_payout_alone_waits_for_its_purchase() -> None:
    alone, joined = pair(Pairing(), PAID, 0, 1)
    assert joined is None
    assert alone.paid_fen == 400
    assert alone.swipe is None
