"""The page's message catalogues: the same keys in each language, and a message for every key
the page, the API and the engine can ask for."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from engine import eligibility, payments, purchases, refunds, registry
from schemas.audit import AuditDecision
from services.finance.api import app, models
from services.finance.api.app_static import STATIC
from services.finance.api.messages import LANGUAGES, catalogue, text
from services.finance.domain import files, settlement
from services.finance.service_layer.settlement import FileRefused

PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([\w:.]+))?\}")


NOT_KEYS = {"puhui.language", "page.thing"}  # the stored choice; a comment's example


def _js() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted((STATIC / "js").rglob("*.js")))


def test_every_language_has_every_key_and_the_same_placeholders() -> None:
    zh, en = (catalogue(lang) for lang in LANGUAGES)
    assert set(zh) == set(en), set(zh) ^ set(en)
    for key in zh:
        assert zh[key].strip(), key
        assert en[key].strip(), key
        names = [sorted(name for name, _ in PLACEHOLDER.findall(c[key])) for c in (zh, en)]
        assert names[0] == names[1], key


def test_every_key_the_page_names_is_there() -> None:
    literals = set(re.findall(r'"([a-z_]+(?:\.[a-z0-9_]+)+)"', _js()))
    named = {k for k in literals if not k.endswith((".csv", ".xlsx", ".json"))} - NOT_KEYS
    html = (STATIC / "index.html").read_text("utf-8")
    named |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html))
    assert len(named) > 180
    assert sorted(named - set(catalogue("zh-CN"))) == []


def test_every_pipe_names_a_formatter_or_a_message_family() -> None:
    zh = catalogue("zh-CN")
    for template in zh.values():
        for _, pipe in PLACEHOLDER.findall(template):
            if pipe.startswith("key:"):
                assert any(k.startswith(pipe[4:] + ".") for k in zh), pipe
            else:
                assert pipe in ("", "money", "yuan", "int", "day"), pipe


def _codes(module: object) -> set[str]:
    return {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)
            and re.fullmatch(r"[a-z_]+", v)}


def test_every_decision_status_reason_and_error_has_words() -> None:
    zh = catalogue("zh-CN")
    wanted = {f"decision.{d}" for d in typing.get_args(AuditDecision)}
    wanted |= {f"status.{s}" for s in typing.get_args(models.Status)}
    wanted |= {f"batch_status.{s}" for s in typing.get_args(models.BatchStatusName)}
    reasons = set().union(*map(_codes, (eligibility, payments, purchases, refunds, registry)))
    reasons |= {"card_blocked", "card_cancelled", "limit_reached"}
    reasons |= {f"{w}_for_{k}" for w in ("waiting",) for k in ("card", "member", "purchase")}
    wanted |= {f"reason.{r}" for r in reasons - {"ever"}}
    refusals = [c for c in vars(settlement).values()
                if isinstance(c, type) and issubclass(c, settlement.Refused)]
    codes = {c.code for c in [*refusals, FileRefused, files.UnsafeLine]}
    codes |= set(app.CODES.values())
    source = "\n".join(p.read_text("utf-8") for p in Path(app.__file__).parent.glob("*.py"))
    codes |= set(re.findall(r'Refusal\(\d+, f?"[^"]*",\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'_problem\(\d+, (?:[^,"]+|f?"[^"]*"),\s*"([a-z_]+)"', source))
    wanted |= {f"error.{c}" for c in codes}
    wanted |= {f"export.col.{c}" for c in (*files.VIEW_COLUMNS, *files.SETTLEMENT_HEADER)}
    assert sorted(wanted - set(zh)) == []


@pytest.mark.parametrize(("language", "said"), [("zh-CN", "批次 b1：2 笔，由 王丽 制单"),
                                                ("en", "Batch b1: 2 payouts prepared by 王丽")])
def test_a_message_said_by_the_api_fills_its_arguments(
        language: typing.Literal["zh-CN", "en"], said: str) -> None:
    assert text(language, "trace.finance.batch.approved", batch="b1", count=2,
                preparer="王丽") == said
    assert text(language, "no.such.key") == "no.such.key"
