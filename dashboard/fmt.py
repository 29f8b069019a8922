"""Numbers, shares, dates and plurals the Russian way (12 345; 85,3 %; 29.11.2026), or English."""
from __future__ import annotations

import datetime as dt
import math
import re

from dashboard.i18n import get_lang, t
from queries.dialect import LOCAL_OFFSET

NBSP = "\u00a0"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x, decimals: int = 0) -> str:
    """12 345 / 12,345; 2,5 / 2.5."""
    if _missing(x):
        return "—"
    s = f"{x:,.{decimals}f}"
    if get_lang() == "en":
        return s
    return s.replace(",", NBSP).replace(".", ",")


def share(x, decimals: int = 1) -> str:
    """A fraction as per cent: 0.853 → 85,3 %."""
    if _missing(x):
        return "—"
    return f"{number(x * 100, decimals)}{NBSP}%" if get_lang() == "ru" else f"{number(x * 100, decimals)}%"


def hours(x) -> str:
    return "—" if _missing(x) else f"{number(x, 1)}{NBSP}{t('unit.hours')}"


def days(x) -> str:
    return "—" if _missing(x) else f"{number(x, 1)}{NBSP}{t('unit.days')}"


def signed(x, decimals: int = 1, suffix: str = "") -> str:
    if _missing(x):
        return "—"
    sign = "+" if x > 0 else ("−" if x < 0 else "±")
    return f"{sign}{number(abs(x), decimals)}{suffix}"


def date(d: dt.date | None) -> str:
    if d is None:
        return "—"
    return d.strftime("%d.%m.%Y") if get_lang() == "ru" else d.isoformat()


def local(moment: dt.datetime | None, with_seconds: bool = False) -> str:
    """A UTC moment in the region's local time: 29.11.2026 14:05."""
    if moment is None or moment != moment:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    moment = moment + LOCAL_OFFSET
    fmt = "%d.%m.%Y %H:%M" if get_lang() == "ru" else "%Y-%m-%d %H:%M"
    return moment.strftime(fmt + (":%S" if with_seconds else ""))


RU_PLURALS = {
    "appeal": ("обращение", "обращения", "обращений"),
    "day": ("день", "дня", "дней"),
    "case": ("случай", "случая", "случаев"),
    "minute": ("минуту", "минуты", "минут"),  # «на 1 минуту, на 3 минуты»
}
EN_PLURALS = {"appeal": ("appeal", "appeals"), "day": ("day", "days"), "case": ("case", "cases"),
              "minute": ("minute", "minutes")}


def plural_ru(n: int, forms: tuple[str, str, str]) -> str:
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def count(n: int, word: str) -> str:
    """"21 обращение", "3 дня", "12 345 обращений"."""
    if get_lang() == "en":
        one, many = EN_PLURALS[word]
        return f"{number(n)} {one if n == 1 else many}"
    return f"{number(n)} {plural_ru(n, RU_PLURALS[word])}"


WJ = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?:\\:(?=//)|www(?=\\\.)|[\w\\.]+(?=@))")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:&=\"'])")


def plain(value) -> str:
    """A user-supplied string (an appeal's text, a URL parameter, a file's header) for a place
    that renders markdown: every markdown character escaped, so it shows as written and can make
    no heading, link or image (a remote image would load when the card opens)."""
    escaped = _MARKDOWN.sub(r"\\\1", str(value)).replace("\n", "  \n")
    # GFM links bare addresses even when escaped: a word joiner (invisible) after the scheme, in
    # "www." and before "@" leaves nothing that reads as a URL or an e-mail address
    return _AUTOLINK.sub(lambda m: m.group(0) + WJ, escaped)
