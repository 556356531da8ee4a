"""Trace steps as a message key and its arguments, so the page says them in either language.

The engine records each step as `{rule, outcome, amount_fen}` with `outcome` in words
(`engine/trace.py`); this reads those words back into fields (`money 2027-03: used
40.00 of 40.00, 0.00 left` -> kind money, period 2027-03, used 4000, max 4000, left 0) and
names the sentence that says them (`trace.limit.money.cut`: the monthly limit cut this
payout). Money arguments are integer fen. A step it does not know keeps key `trace.raw`
and its words, so nothing is ever hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Args = dict[str, str | int]

MONEY = r"-?[0-9][0-9,]*\.[0-9]{2}"
_MATCHED = {
    "purchase": re.compile(r"(?P<programme>[a-z0-9_]+): purchase at mcc (?P<mcc>\d{4})"),
    "birthday": re.compile(r"(?P<programme>[a-z0-9_]+): birthday on (?P<day>[0-9*-]{10})"),
    "award": re.compile(r"(?P<programme>[a-z0-9_]+): (?P<event>member_\w+) (?P<grade>\w+)"),
}
_NONE = {
    "purchase": re.compile(r"none pays on a purchase at mcc (?P<mcc>\d{4})"),
    "event": re.compile(r"none pays on (?P<event>\w+)"),
}
_LIMIT = re.compile(rf"(?P<kind>money|count|once) (?P<period>\S+): used (?P<used>{MONEY}|\d+) "
                    rf"of (?P<max>{MONEY}|\d+), (?P<left>{MONEY}|-?\d+) left")
_BUDGET = re.compile(rf"(?P<year>\d{{4}}): (?P<left>{MONEY}) left")
_CLAWBACK = re.compile(rf"refunded (?P<refunded>{MONEY}) of (?P<purchase>{MONEY}) that earned "
                       rf"(?P<earned>{MONEY}); clawed back before (?P<before>{MONEY})")
_ELIGIBILITY = re.compile(r"(?P<reason>[a-z_]+)(?P<midnight> at 00:00)?")
_RELEASED = re.compile(r"known since event (?P<event>\S+)")
_DUPLICATE = re.compile(r"(?P<refund>refund )?(?P<transaction>\S+) already decided"
                        r"(?: \((?P<event>[^)]+)\))?")
_FINANCE = {
    "batch": [
        ("prepared", re.compile(rf"(?P<batch>\S+): (?P<count>\d+) payouts, (?P<amount>{MONEY}) "
                                r"CNY, day (?P<day>\S+)")),
        ("approved", re.compile(r"(?P<batch>\S+): (?P<count>\d+) payouts prepared by "
                                r"(?P<preparer>.+)")),
        ("exported", re.compile(r"(?P<batch>\S+): (?P<count>\d+) lines for the bank")),
    ],
    "payout": [
        ("approved", re.compile(rf"(?P<payout>\S+): (?P<amount>{MONEY}) CNY")),
        ("requeued", re.compile(r"(?P<payout>\S+) back to pending after failing in "
                                r"(?P<batch>\S+)")),
    ],
    "confirmation": [
        ("imported", re.compile(rf"(?P<settled>\d+) settled \((?P<settled_amount>{MONEY}) CNY\), "
                                rf"(?P<failed>\d+) failed \((?P<failed_amount>{MONEY}) CNY\), "
                                r"(?P<unchanged>\d+) unchanged")),
    ],
    "view": [("exported", re.compile(r"payouts: (?P<filter>.*)"))],
    "token": [
        ("created", re.compile(r"(?P<token>\S+) of (?P<who>\S+) \((?P<role>\w+)\), until "
                               r"(?P<until>\S+)")),
        ("revoked", re.compile(r"(?P<token>\S+) revoked")),
        ("used", re.compile(r"with API token (?P<token>\S+)")),
    ],
    "sign_in": [("failed", re.compile(r"wrong name or password"))],
    # a Watch signal's review (services/finance/api/watch.py): which signal, and the note
    "signal": [("id", re.compile(r"(?P<signal>sig_[0-9a-f]+)"))],
    "note": [("text", re.compile(r"(?P<note>.+)", re.DOTALL))],
    "back_off": [("waiting", re.compile(r"(?P<key>.+): (?P<count>\d+) wrong in a row, next try "
                                        r"after (?P<seconds>\d+) s"))],
}
_HOLDS = ("card", "member", "purchase")
_PERIODS = (("day", re.compile(r"\d{4}-\d{2}-\d{2}")), ("month", re.compile(r"\d{4}-\d{2}")),
            ("year", re.compile(r"\d{4}")), ("window", re.compile(r"window:.*")),
            ("ever", re.compile(r"ever")))


@dataclass(frozen=True, slots=True)
class Explained:
    rule: str
    outcome: str
    amount_fen: int | None
    key: str
    args: Args = field(default_factory=dict)


def fen(text: str) -> int:
    """`-1,234.56` -> `-123456`: the engine's yuan text back to integer fen."""
    sign = -1 if text.startswith("-") else 1
    whole, cents = text.lstrip("-").replace(",", "").split(".")
    return sign * (int(whole) * 100 + int(cents))


def period_kind(period: str) -> str:
    """The kind of a limit period key: `2027-03` -> month, `window:2027` -> window."""
    return next((kind for kind, shape in _PERIODS if shape.fullmatch(period)), "other")


def explain(steps: Iterable[Mapping[str, object]]) -> list[Explained]:
    """Each step with the message key and arguments that say it."""
    out: list[Explained] = []
    before: int | None = None
    for step in steps:
        rule, outcome = str(step.get("rule", "")), str(step.get("outcome", ""))
        raw = step.get("amount_fen")
        amount = raw if isinstance(raw, int) else None
        key, args = _say(rule, outcome, amount, before)
        out.append(Explained(rule, outcome, amount, key, args))
        before = amount if amount is not None else before
    return out


def _say(rule: str, outcome: str, amount: int | None, before: int | None) -> tuple[str, Args]:
    for reader in _READERS:
        said = reader(rule, outcome, amount, before)
        if said is not None:
            return said
    return "trace.raw", {"rule": rule, "outcome": outcome}


Said = tuple[str, Args] | None


def _matched(rule: str, outcome: str, _amount: int | None, _before: int | None) -> Said:
    if rule == "matched":
        for name, shape in _MATCHED.items():
            if found := shape.fullmatch(outcome):
                return f"trace.matched.{name}", dict(found.groupdict())
    if rule == "programmes":
        for name, shape in _NONE.items():
            if found := shape.fullmatch(outcome):
                return f"trace.none.{name}", dict(found.groupdict())
    return None


def _amounts(rule: str, outcome: str, amount: int | None, before: int | None) -> Said:
    if rule.startswith("amount_") and amount is not None:
        return f"trace.amount.{rule.removeprefix('amount_')}", {"amount": amount}
    if rule == "final" and amount is not None:
        return "trace.final", {"amount": amount}
    if rule == "budget" and amount is not None and (found := _BUDGET.fullmatch(outcome)):
        return (f"trace.budget.{_effect(amount, before)}",
                {"year": found["year"], "left": fen(found["left"]), "amount": amount,
                 "before": before if before is not None else amount})
    if rule == "clawback" and amount is not None and (found := _CLAWBACK.fullmatch(outcome)):
        return "trace.clawback", {**{k: fen(v) for k, v in found.groupdict().items()},
                                  "amount": amount}
    return None


def _limit(rule: str, outcome: str, amount: int | None, before: int | None) -> Said:
    found = _LIMIT.fullmatch(outcome)
    if found is None or amount is None:
        return None
    kind = found["kind"]
    number = fen if kind == "money" else int
    args: Args = {"limit": rule, "period": found["period"],
                  "period_kind": period_kind(found["period"]), "amount": amount,
                  "before": before if before is not None else amount,
                  **{k: number(found[k]) for k in ("used", "max", "left")}}
    if kind != "money":
        args["nth"] = int(found["used"]) + 1
    return f"trace.limit.{kind}.{_effect(amount, before)}", args


def _checks(rule: str, outcome: str, _amount: int | None, _before: int | None) -> Said:
    if rule == "eligibility" and (found := _ELIGIBILITY.fullmatch(outcome)):
        return ("trace.eligibility.midnight" if found["midnight"] else "trace.eligibility",
                {"reason": found["reason"]})
    if rule in _HOLDS:
        if found := _RELEASED.fullmatch(outcome):
            return f"trace.released.{rule}", {"event": found["event"]}
        if outcome.endswith("not known yet"):
            return f"trace.held.{rule}", {}
    if rule == "transaction_id" and (found := _DUPLICATE.fullmatch(outcome)):
        args: Args = {"transaction": found["transaction"]}
        return ("trace.duplicate.refund", args) if found["refund"] else \
            ("trace.duplicate.purchase", args)
    if rule == "actor":
        return "trace.actor", {"actor": outcome}
    for name, shape in _FINANCE.get(rule, []):
        if found := shape.fullmatch(outcome):
            args = {k: fen(v) if k.endswith("amount") else v
                    for k, v in found.groupdict().items()}
            return f"trace.finance.{rule}.{name}", args
    return None


def _effect(amount: int, before: int | None) -> str:
    """What a limit or the budget did to the amount: left it, cut it, or left nothing."""
    if amount <= 0 < (before or 0):
        return "reached"
    return "cut" if before is not None and amount < before else "ok"


_READERS: tuple[Callable[[str, str, int | None, int | None], Said], ...] = (
    _matched, _amounts, _limit, _checks)
