"""A week of ordinary card traffic with each of the watch's four patterns planted on a Friday.

Ordinary: a metro and a bus line all day, a busy cinema whose Friday evening is its busiest
(every evening is busy, Friday's more so), two bookshops, refunds at the usual rate. Planted,
on Friday 2027-03-05 (Shanghai):

- `merchant_burst`: a small bookshop rings up 40 cards between 14:20 and 14:28, each paid a
  subsidy; another rings up 40 at 14:40 that the ledger paid nothing on (cards it does not
  know): not subsidised purchases, so not a burst;
- `subsidy_maximising`: a cinema sells 30 tickets at exactly 3,990 fen from 15:00 to 16:00;
- `refund_ratio`: a bookshop refunds 16 of its 24 sales of the day;
- `card_velocity`: one card at 4 subsidised merchants between 19:01 and 19:06.

Each paid purchase is followed by its payout on `payouts` (the ledger's amount under the
reference catalogue, without its limits: the watch only asks whether one was paid); a cinema
ticket at 9.90 CNY or less earns nothing and has none.

The cards at the planted merchants are all of one Kafka partition of `card.transactions`
(Kafka's own murmur2 partitioner), so those merchants' swipes reach the watch in time order
and the figures at the crossing are exact: `EXPECTED`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count
from typing import Any

from puhui.synthetic.ids import event_id
from puhui.synthetic.timing import stamp
from services.runtime.partitions import default_partition

FRIDAY = date(2027, 3, 5)
CARD_PARTITIONS = 8
METRO = ("M-ZZMETRO", "郑州地铁", "4111")
BUS = ("M-ZZBUS", "郑州公交", "4131")
BUSY_CINEMA = ("M-CINEMA-01", "奥斯卡影城", "7832")
BOOKS = ("M-BOOKS-01", "中原图书大厦", "5942")
BURST_SHOP = ("M-BOOKS-09", "小书屋", "5942")
MAX_CINEMA = ("M-CINEMA-09", "光明影院", "7832")
REFUND_SHOP = ("M-BOOKS-08", "退款书店", "5942")
UNPAID_SHOP = ("M-BOOKS-07", "无补贴书店", "5942")
PROGRAMMES = {"4111": "green_commute", "4131": "green_commute", "7832": "cinema",
              "5942": "books"}
Merchant = tuple[str, str, str]
Line = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Expected:
    rule: str
    key: str
    window_start: str
    figures: dict[str, float]


EXPECTED = (
    Expected("merchant_burst", BURST_SHOP[0], "2027-03-05T14:20:00+08:00",
             {"purchases": 30, "baseline_per_hour": 0.21, "baseline_days": 7}),
    Expected("subsidy_maximising", MAX_CINEMA[0], "2027-03-05T15:00:00+08:00",
             {"purchases": 20, "at_amount": 20, "share": 1.0, "amount_fen": 3990}),
    Expected("refund_ratio", REFUND_SHOP[0], "2027-03-05T00:00:00+08:00",
             {"refunds": 13, "purchases": 24, "usual_purchases_per_day": 5.0,
              "ratio": 0.5417}),
    Expected("card_velocity", "C-VELOCITY", "2027-03-05T19:00:00+08:00", {"merchants": 4}),
)


def partition_of(card: str) -> int:
    return default_partition(card, CARD_PARTITIONS)


class _Feed:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  # synthetic data must repeat from its seed
        self.lines: list[tuple[str, int, dict[str, Any]]] = []
        self.unpaid: set[str] = set()
        """Transaction ids of purchases the ledger paid nothing on."""
        self.ids = count(1)
        self.cards = [f"C-{n:06d}" for n in range(5000)]
        self.one_partition = [c for c in self.cards if partition_of(c) == 0]

    def swipe(self, day: date, second: int, merchant: Merchant, amount: int, card: str,
              kind: str = "purchase", original: str | None = None) -> str:
        transaction_id = f"W{next(self.ids):09d}"
        at = stamp(f"{day.isoformat()}T", second)
        value: dict[str, Any] = {
            "event_id": event_id(self.rng), "type": kind, "transaction_id": transaction_id,
            "card_id": card, "amount_fen": amount, "currency": "CNY",
            "merchant_id": merchant[0], "merchant_name": merchant[1], "mcc": merchant[2],
            "occurred_at": at}
        if original is not None:
            value["original_transaction_id"] = original
        self.lines.append((at, len(self.lines), value))
        return transaction_id

    def card(self, planted: bool = False) -> str:
        return self.rng.choice(self.one_partition if planted else self.cards)

    def ordinary_day(self, day: date) -> None:
        rng, friday = self.rng, day.weekday() == 4
        for _ in range(900):
            self.swipe(day, _commute(rng), METRO, 200 + 100 * rng.randrange(6), self.card())
        for _ in range(250):
            self.swipe(day, _commute(rng), BUS, 100 + 100 * rng.randrange(2), self.card())
        for _ in range(800 if friday else 500):  # every evening busy, Friday's the busiest
            second = int(min(max(rng.gauss(20.0 if friday else 19.5, 1.2), 10), 23.9) * 3600)
            self.swipe(day, second, BUSY_CINEMA, 900 + 10 * rng.randrange(711), self.card())
        for _ in range(120):
            self.swipe(day, rng.randrange(9 * 3600, 21 * 3600), BOOKS,
                       1000 + 10 * rng.randrange(2900), self.card())
        for shop in (BURST_SHOP, MAX_CINEMA, REFUND_SHOP, UNPAID_SHOP):  # quiet, a few a day
            for _ in range(5):
                self.swipe(day, rng.randrange(10 * 3600, 13 * 3600), shop,
                           1000 + 10 * rng.randrange(500), self.card(planted=True))
        self._refunds(day)

    def _refunds(self, day: date) -> None:
        ordinary = {m[0]: m for m in (METRO, BUS, BUSY_CINEMA, BOOKS)}
        bought = [v for _, _, v in self.lines if v["type"] == "purchase"
                  and v["merchant_id"] in ordinary and v["occurred_at"].startswith(str(day))]
        for value in self.rng.sample(bought, len(bought) // 50):
            second = min(_seconds(value["occurred_at"]) + 3600, 86_399)
            self.swipe(day, second, ordinary[value["merchant_id"]], value["amount_fen"],
                       value["card_id"], "refund", value["transaction_id"])

    def planted(self, day: date) -> None:
        for n in range(40):
            self.swipe(day, 14 * 3600 + 20 * 60 + 12 * n, BURST_SHOP, 2000 + 10 * n,
                       self.one_partition[n])
        for n in range(40):
            self.unpaid.add(self.swipe(day, 14 * 3600 + 40 * 60 + 12 * n, UNPAID_SHOP,
                                       2000 + 10 * n, self.one_partition[300 + n]))
        for n in range(30):
            self.swipe(day, 15 * 3600 + 120 * n, MAX_CINEMA, 3990, self.one_partition[100 + n])
        sales = [self.swipe(day, 10 * 3600 + 60 * n, REFUND_SHOP, 3000 + 10 * n,
                            self.one_partition[200 + n]) for n in range(19)]
        for n, sale in enumerate(sales[:16]):
            self.swipe(day, 16 * 3600 + 60 * n, REFUND_SHOP, 3000 + 10 * n,
                       self.one_partition[200 + n], "reversal", sale)
        velocity = [METRO, BUS, BUSY_CINEMA, BOOKS]
        for n, merchant in enumerate(velocity):
            self.swipe(day, 19 * 3600 + 60 + 100 * n, merchant, 4000, "C-VELOCITY")

    def sorted_lines(self) -> Iterator[Line]:
        for _, _, value in sorted(self.lines, key=lambda line: (line[0], line[1])):
            yield "card.transactions", value
            paid = _subsidy(value)
            if paid and value["transaction_id"] not in self.unpaid:
                yield "payouts", _payout(value, paid)


def planted_week(seed: int = 13) -> list[Line]:
    """Seven ordinary days before Friday, then Friday with the four patterns planted."""
    feed = _Feed(seed)
    for back in range(7, -1, -1):
        feed.ordinary_day(FRIDAY - timedelta(days=back))
    feed.planted(FRIDAY)
    return list(feed.sorted_lines())


def _subsidy(value: dict[str, Any]) -> int:
    """What the reference catalogue pays on a purchase, before its limits (fen)."""
    if value["type"] != "purchase":
        return 0
    amount, mcc = int(value["amount_fen"]), value["mcc"]
    if mcc in ("4111", "4131"):
        return min(amount // 2, 100)
    if mcc == "7832":
        return max(0, min(amount - 990, 3000))
    return amount // 5 if mcc == "5942" else 0


def _payout(value: dict[str, Any], amount: int) -> dict[str, Any]:
    programme = PROGRAMMES[value["mcc"]]
    return {"payout_id": f"pay_{value['event_id']}", "member_id": f"mem_{value['card_id']}",
            "programme": programme, "amount_fen": amount, "kind": "payout",
            "source_event_id": value["event_id"], "transaction_id": value["transaction_id"],
            "period": value["occurred_at"][:7], "occurred_at": value["occurred_at"],
            "trace": [{"rule": "matched", "outcome": f"{programme}: mcc {value['mcc']} purchase",
                       "amount_fen": amount}]}


def _commute(rng: random.Random) -> int:
    hours = rng.gauss(8.0, 0.6) if rng.random() < 0.5 else rng.gauss(18.0, 0.7)
    return int(min(max(hours, 5.5), 23.9) * 3600)


def _seconds(at: str) -> int:
    hours, minutes, seconds = at[11:13], at[14:16], at[17:19]
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)
