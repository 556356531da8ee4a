"""The watch's rules file: the shipped one loads; a bad one fails naming the key."""

from __future__ import annotations

import pytest

from engine.catalogue import load_catalogue
from services.watch.config import RulesError, load_rules, parse_rules

GOOD = """
[merchant_burst]
[subsidy_maximising]
amounts = { cinema = 3990 }
[refund_ratio]
[card_velocity]
"""


def test_the_shipped_rules_load_and_read_the_catalogue() -> None:
    watched = load_rules(load_catalogue())
    assert watched.maximising_amount == {"7832": 3990}
    assert {"4111", "4131", "4112", "7832", "5942"} <= watched.subsidised_mcc
    assert "5411" not in watched.subsidised_mcc  # groceries: no programme pays for them


@pytest.mark.parametrize(("text", "names"), [
    (GOOD.replace("[card_velocity]", "[card_velocity]\nmin_merchants = 1"),
     "card_velocity.min_merchants: Input should be greater than or equal to 2"),
    (GOOD.replace("[refund_ratio]", "[refund_ratio]\nratio = 0.5"),
     "refund_ratio.ratio: unknown key"),
    (GOOD.replace("[merchant_burst]\n", ""), "merchant_burst: missing"),
    (GOOD.replace("cinema = 3990", "cinemas = 3990"),
     "subsidy_maximising.amounts.cinemas: no such programme in the catalogue"),
    (GOOD.replace("cinema = 3990", "birthday = 3990"),
     "subsidy_maximising.amounts.birthday: not a purchase programme"),
    (GOOD.replace("[subsidy_maximising]", "[subsidy_maximising]\nshare_above = 1.5"),
     "subsidy_maximising.share_above: Input should be less than 1"),
])
def test_a_bad_rule_names_its_key(text: str, names: str) -> None:
    with pytest.raises(RulesError) as raised:
        parse_rules(text, load_catalogue())
    assert names in str(raised.value)
