"""The page's message catalogues, read by the API too: the headings and words of exports.

One catalogue per language in `static/i18n/<language>.json`, flat `page.thing` keys; the page
loads the same files, so a heading says the same thing on screen and in a workbook.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Annotated, Literal

from fastapi import Query

from services.finance.api.app_static import STATIC

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
DEFAULT: Language = "zh-CN"
LanguageQuery = Annotated[Language, Query(description="The language of headings and words")]
_PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")


@cache
def catalogue(language: Language) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((STATIC / "i18n" / f"{language}.json").read_text("utf-8"))
    return loaded


def text(language: Language, key: str, **args: object) -> str:
    """The message `key` in `language` (the key itself if it has none), arguments filled in."""
    template = catalogue(language).get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(args.get(m.group(1), m.group(0))), template)
