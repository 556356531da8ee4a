"""Which shard decides a line: the one that owns every key the line touches.

Keys are member ids, card ids, purchase transaction ids and event ids. A line's keys must
all belong to one shard (or be new, and join it); otherwise sharding could decide it
differently from one process, and `Conflict` says from which line. A member seen for the
first time goes to the next shard in turn; a card's lines follow its member from its issue.

A card's lines that arrive before its issue (held swipes, refunds of them, blocks, resends)
change nothing another event reads until the issue releases them, so they wait here, in a
`Pending` group per card, and go to the member's shard just before the issue, each with its
own line number (its place in the order of release). Groups still waiting at the end go to
shard 0. Day ticks go to every shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TypeAlias

import orjson

from puhui.simulate import parse_line
from schemas.decode import Invalid

ALL: Final = -1
"""The owner of a day tick's event id: every shard sees it."""

NORMAL, EVERY, LATE, SUSPECT = 0, 1, 2, 3
"""How a worker takes a line: its own; a day tick (every shard); a pending line let go before
its card's issue (it must pay nothing); one that cannot be valid (it must decode as bad)."""

Parsed: TypeAlias = tuple[str, dict[str, object]]
"""A line's topic and value, as orjson read them."""
Line: TypeAlias = tuple[int, bytes, int, Parsed | None]
"""(line number, bytes, how it is taken, and its topic and value if the router read them:
a worker then decodes the value without parsing the line again)."""


class Conflict(Exception):
    """Line `number` ties keys of two shards together: decide from it in one process."""

    def __init__(self, number: int, why: str) -> None:
        super().__init__(f"line {number}: {why}")
        self.number = number


@dataclass(eq=False)
class Pending:
    """A card not issued yet: its lines, and the keys they claimed."""

    card_id: str
    lines: list[Line] = field(default_factory=list)
    keys: list[tuple[dict[str, Owner], str]] = field(default_factory=list)


Owner: TypeAlias = int | Pending
Key: TypeAlias = tuple[dict[str, Owner], str]


@dataclass
class Routed:
    """Where a line goes: `shard` (or `ALL`), after `before` (pending lines let go)."""

    shard: int
    line: Line
    before: list[Line] = field(default_factory=list)


_CARD_TYPES = frozenset({"purchase", "refund", "reversal"})
_MEMBER_TYPES = frozenset({"member_registered", "member_updated", "member_left",
                           "member_certified", "member_honoured"})  # fmt: skip
_CARD_STOPS = frozenset({"card_blocked", "card_cancelled"})


class Router:
    def __init__(self, shards: int) -> None:
        self.shards = shards
        self.members: dict[str, Owner] = {}
        self.cards: dict[str, Owner] = {}
        self.transactions: dict[str, Owner] = {}
        self.events: dict[str, Owner] = {}
        self.pending: dict[str, Pending] = {}
        self.bad: list[tuple[int, str]] = []
        """Lines found bad here (only lines that would have waited): (number, reason)."""
        self._turn = 0

    def route(self, number: int, line: bytes) -> Routed | None:
        """Where line `number` goes, or None if it waits for its card (or was bad)."""
        parsed = _value(line)
        if parsed is None:
            return Routed(0, (number, line, SUSPECT, None))
        topic, event = parsed
        event_id = event.get("event_id")
        if type(event_id) is not str:
            return Routed(0, (number, line, SUSPECT, None))
        if topic == "clock.days":
            return self._tick((number, line, EVERY, parsed), event_id)
        kind = event.get("type")
        entry: Line = (number, line, NORMAL, parsed)
        if topic == "card.transactions" and kind in _CARD_TYPES:
            return self._card_transaction(entry, event_id, event, kind)
        if topic == "member.enrolment":
            return self._enrolment(entry, event_id, event, kind)
        return Routed(0, (number, line, SUSPECT, None))

    def leftovers(self) -> list[Line]:
        """Lines of cards never issued, in input order (they stay held)."""
        lines = sorted((line for group in self.pending.values() for line in group.lines),
                       key=lambda line: line[0])
        self.pending.clear()
        return lines

    def _tick(self, entry: Line, event_id: str) -> Routed:
        owner = self.events.get(event_id)
        if owner is not None and owner != ALL:
            raise Conflict(entry[0], "day tick with the event id of another shard's event")
        self.events[event_id] = ALL
        return Routed(ALL, entry)

    def _card_transaction(self, entry: Line, event_id: str, event: dict[str, object],
                          kind: object) -> Routed | None:
        card = event.get("card_id")
        purchase = event.get("transaction_id" if kind == "purchase" else
                             "original_transaction_id")
        if type(card) is not str or type(purchase) is not str:
            return Routed(0, _suspect(entry))
        keys = [(self.events, event_id), (self.transactions, purchase), (self.cards, card)]
        return self._place(entry, keys, card, None)

    def _enrolment(self, entry: Line, event_id: str, event: dict[str, object],
                   kind: object) -> Routed | None:
        member = event.get("member_id")
        if type(member) is not str:
            return Routed(0, _suspect(entry))
        if kind in _MEMBER_TYPES:
            return self._place(entry, [(self.events, event_id), (self.members, member)], None,
                               member)
        card = event.get("card_id")
        if type(card) is not str or not (kind == "card_issued" or kind in _CARD_STOPS):
            return Routed(0, _suspect(entry))
        if kind == "card_issued":
            return self._issue(entry, event_id, card, member)
        return self._place(entry, [(self.events, event_id), (self.cards, card)], card, None)

    def _issue(self, entry: Line, event_id: str, card: str, member: str) -> Routed | None:
        group = self.cards.get(card)
        keys: list[Key] = [(self.events, event_id), (self.cards, card), (self.members, member)]
        if not isinstance(group, Pending):
            return self._place(entry, keys, None, member)
        number = entry[0]
        shard = self._owner(number, [keys[0], keys[2]])
        if isinstance(shard, Pending):
            raise Conflict(number, "card issue tied to another card's pending lines")
        target = self._new_shard() if shard is None else shard
        for table, key in group.keys:
            table[key] = target
        del self.pending[group.card_id]
        self._claim(keys, target)
        return Routed(target, entry, [(n, b, LATE, p) for n, b, _, p in group.lines])

    def _place(self, entry: Line, keys: list[Key], card: str | None,
               member: str | None) -> Routed | None:
        number, line = entry[0], entry[1]
        owner = self._owner(number, keys)
        if owner is None and member is not None:
            owner = self._new_shard()
        if owner is None or isinstance(owner, Pending):
            if self._bad(number, line):
                return None
            if owner is None:
                assert card is not None
                owner = self.pending[card] = Pending(card)
            owner.lines.append(entry)
            self._claim(keys, owner)
            return None
        self._claim(keys, owner)
        return Routed(owner, entry)

    def _owner(self, number: int, keys: list[Key]) -> Owner | None:
        found: Owner | None = None
        for table, key in keys:
            owner = table.get(key)
            if owner is None:
                continue
            if found is None:
                found = owner
            elif owner is not found and owner != found:
                raise Conflict(number, f"{key} belongs to another shard than the line's other keys")
        if found == ALL:
            raise Conflict(number, "an event id of a day tick on another event")
        return found

    def _claim(self, keys: list[Key], owner: Owner) -> None:
        for table, key in keys:
            if key not in table:
                table[key] = owner
                if isinstance(owner, Pending):
                    owner.keys.append((table, key))

    def _new_shard(self) -> int:
        shard = self._turn % self.shards
        self._turn += 1
        return shard

    def _bad(self, number: int, line: bytes) -> bool:
        """Whether a line that would wait is bad (reported now, in its place)."""
        event = parse_line(line)
        if isinstance(event, Invalid):
            self.bad.append((number, event.reason))
            return True
        return False


def _suspect(entry: Line) -> Line:
    """`entry` as a line that cannot be valid: the worker decodes it from its bytes."""
    return entry[0], entry[1], SUSPECT, None


def _value(line: bytes) -> Parsed | None:
    try:
        envelope = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(envelope) is not dict:
        return None
    topic, value = envelope.get("topic"), envelope.get("value")
    if type(topic) is not str or type(value) is not dict:
        return None
    return topic, value
