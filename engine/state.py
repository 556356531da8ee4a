"""The engine's state: a `Ledger` of plain dicts that a service can load partially.

`decide(event, ledger, catalogue)` only reads the ledger; `apply(ledger, outcome)` writes the
outcome's effects into it. A PostgreSQL-backed service loads, for a batch of events, just the
rows those events touch into a fresh `Ledger`, decides, persists each `Outcome`, and applies
it so the next event of the batch sees it. Every field below maps to one table:

- `members`: member_id -> `Member` (birth date, union branch, `memberships`: the spans
  [registered_at, left_at) in which they were a member; `left_at` None while still one).
- `birthdays`: (month, day) -> member ids born that day: read by `day_started`. A service
  loads the members born on the day's (month, day) (and on 29 February when the day is
  28 February of a common year: see `periods.birthdays_on`).
- `cards`: card_id -> the `CardHolding`s of that card, oldest first: (member_id, issued_at,
  ended_at, end_reason = card_blocked | card_cancelled | reissued).
- `usage`: `UsageKey`(member_id, programme, limit, period key, scope) -> `Usage`(count, fen).
  `scope` is "" for per-member limits and the level or title for per-level/per-title ones.
  A purchase's payout adds (1, paid) to the key of every limit of its programme.
- `budget_spent`: (programme, calendar year) -> fen spent.
- `purchases`: transaction_id -> `Purchase`: every purchase decided (even one that earned
  nothing), what it earned, what was refunded and clawed back, and which usage keys and
  budget year it counted in.
- `processed`: event ids already taken (a resend of one changes nothing).
- `card_stops`: card_id -> `CardStop`s of a card blocked or cancelled before its issue arrived:
  the card stays unknown (its swipes keep waiting), and the issue applies them (rule 3).
- `days_started`: the days ticked (`day_started`) -> the first tick's event id: a registration
  that arrives after its birthday's tick pays that day's gift with that source (rule 4).
- `held`: (waiting_for, key) -> the `HeldItem`s waiting for that card, member or purchase; each
  carries its `Arrival`, the order in which released events are decided (rule 1).

What `decide` reads, per event (a partial ledger must hold at least these rows):
- a purchase: `purchases[transaction_id]`, `cards[card_id]`, the holder's `members` row, `usage`
  for its programme's limit keys, `budget_spent[(programme, year)]`, and
  `held[("purchase", transaction_id)]` (refunds it releases, and what they read);
- a refund or reversal: `purchases[original_transaction_id]` (and, for the clawback,
  `usage` at that purchase's `usage_keys` and its budget year);
- member_registered / card_issued / card_blocked / card_cancelled: the member or card (and its
  `card_stops`), and `held[("member", member_id)]` / `held[("card", card_id)]` with what those
  events read;
- member_registered / member_updated with a birth date: `days_started` of that birthday, and
  for each, the member's `usage` of that year and the birthday budget of that year;
- member_certified / member_honoured: the member, `usage` for the award's limit keys, the budget;
- day_started: `birthdays` for the day, those members, their `usage`, the budget, and whether
  the day was ticked before (`days_started`);
- every event: whether its `event_id` is in `processed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple, TypeAlias

from engine.decisions import WaitingFor
from engine.money import Fen
from engine.periods import MonthDay
from schemas.card_transactions import CardTransaction
from schemas.member_enrolment import MemberCertified, MemberHonoured


class UsageKey(NamedTuple):
    """One member's bucket of one limit in one period (and level or title, for those)."""

    member_id: str
    programme: str
    limit: str
    period: str
    scope: str = ""


class Usage(NamedTuple):
    """Paid events and fen counted in a bucket."""

    count: int = 0  # type: ignore[assignment]  # shadows tuple.count: a usage's count reads best
    fen: Fen = 0


NO_USAGE = Usage()

BudgetKey: TypeAlias = tuple[str, int]
"""(programme, calendar year)."""


class Arrival(NamedTuple):
    """Where an event first arrived: (topic, partition, offset) for a service, the position in
    the feed for `puhui simulate`. Events released together are decided in this order."""

    topic: str
    partition: int
    offset: int


NO_ARRIVAL = Arrival("", 0, 0)


class Membership(NamedTuple):
    """One span of membership: from `registered_at` until `left_at` (exclusive)."""

    registered_at: datetime
    left_at: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.registered_at <= at and (self.left_at is None or at < self.left_at)


class Member(NamedTuple):
    """A member as the registry knows them. The name is personal data: not kept here."""

    member_id: str
    birth_date: date | None
    union_branch: str | None
    memberships: tuple[Membership, ...] = ()


class CardHolding(NamedTuple):
    """A card in one member's hands: from `issued_at` until `ended_at` (exclusive)."""

    member_id: str
    issued_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None

    def covers(self, at: datetime) -> bool:
        return self.issued_at <= at and (self.ended_at is None or at < self.ended_at)


class Purchase(NamedTuple):
    """A decided purchase: amount A, earned P, refunded R (at most A), clawed back so far.

    `usage_keys` and `budget_year` say where its payout counted; `counted` whether it took a
    count (a ride, a ticket); `count_returned` whether a reversal gave that count back.
    """

    transaction_id: str
    event_id: str
    member_id: str | None
    programme: str | None
    period: str | None
    amount_fen: Fen
    earned_fen: Fen = 0
    refunded_fen: Fen = 0
    clawed_back_fen: Fen = 0
    usage_keys: tuple[UsageKey, ...] = ()
    budget_year: int | None = None
    counted: bool = False
    count_returned: bool = False
    refund_ids: tuple[str, ...] = ()


class CardStop(NamedTuple):
    """A block or cancel of a card whose issue has not arrived yet: applied by the issue."""

    member_id: str
    at: datetime
    reason: str


HeldEvent: TypeAlias = CardTransaction | MemberCertified | MemberHonoured


@dataclass(frozen=True, slots=True)
class HeldItem:
    """An event put aside until what it waits for (`waiting_for`, `key`) is known."""

    event: HeldEvent
    waiting_for: WaitingFor
    key: str
    arrival: Arrival = NO_ARRIVAL

    @property
    def event_id(self) -> str:
        return self.event.event_id

    @property
    def held_key(self) -> HeldKey:
        return (self.waiting_for, self.key)


HeldKey: TypeAlias = tuple[WaitingFor, str]


@dataclass
class Ledger:
    """Everything the rules read, as plain dicts (see the module docstring for each)."""

    members: dict[str, Member] = field(default_factory=dict)
    birthdays: dict[MonthDay, set[str]] = field(default_factory=dict)
    cards: dict[str, tuple[CardHolding, ...]] = field(default_factory=dict)
    card_stops: dict[str, tuple[CardStop, ...]] = field(default_factory=dict)
    days_started: dict[date, str] = field(default_factory=dict)
    usage: dict[UsageKey, Usage] = field(default_factory=dict)
    budget_spent: dict[BudgetKey, Fen] = field(default_factory=dict)
    purchases: dict[str, Purchase] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)
    held: dict[HeldKey, tuple[HeldItem, ...]] = field(default_factory=dict)
