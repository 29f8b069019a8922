"""Filters ⇄ URL query parameters (a public contract): from, to, territory, topic, source, executor, lang.

Pure functions: no streamlit here, so the contract is tested directly.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from queries.filters import CENTRE_START, Filters
from queries.periods import CALENDAR, calendar_range, month_range, unit_of

PRESETS = {"7d": 7, "30d": 30, "quarter": 90, "year": 365}  # rolling: the last N days
# rolling, then calendar (queries.periods.CALENDAR), then one month picked, the whole history, custom
PRESET_ORDER = ["7d", "30d", "quarter", "year", *CALENDAR, "month", "all", "custom"]
DEFAULT_PRESET = "30d"
LIST_PARAMS = {"territory": "territories", "topic": "topics", "source": "sources", "executor": "executors"}


@dataclass(frozen=True)
class Choices:
    """The values each list parameter may take."""
    territories: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    executors: frozenset[int] = frozenset()


@dataclass
class Parsed:
    filters: Filters
    lang: str = "ru"
    notices: list[tuple[str, str]] = field(default_factory=list)


def preset_range(preset: str, today: dt.date, month: tuple[int, int] | None = None) -> tuple[dt.date, dt.date]:
    """A preset's dates; "month": `month` (year, month), by default the last whole one."""
    if preset == "all":
        return CENTRE_START, today
    if preset in CALENDAR:
        return calendar_range(preset, today)
    if preset == "month":
        return month_range(*month) if month else calendar_range("last_month", today)
    days = PRESETS.get(preset, PRESETS[DEFAULT_PRESET])
    return today - dt.timedelta(days=days - 1), today


def preset_of(filters: Filters, today: dt.date) -> str:
    for name in PRESET_ORDER[:-2]:
        if name != "month" and preset_range(name, today) == (filters.date_from, filters.date_to):
            return name
    if unit_of(filters.date_from, filters.date_to) == "month":
        return "month"
    return "custom"


def default_filters(today: dt.date) -> Filters:
    return Filters(*preset_range(DEFAULT_PRESET, today))


def _value(params: Mapping, key: str) -> str | None:
    v = params.get(key)
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else None
    return None if v is None else str(v)


def _date(text: str) -> dt.date | None:
    try:
        d = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return d if dt.date(2000, 1, 1) <= d <= dt.date(2100, 1, 1) else None


def parse(params: Mapping, choices: Choices, today: dt.date) -> Parsed:
    """Filters from query parameters; every unusable value is dropped and reported in `notices`."""
    notices: list[tuple[str, str]] = []
    start, end = preset_range(DEFAULT_PRESET, today)
    raw_from, raw_to = _value(params, "from"), _value(params, "to")
    d_from = _date(raw_from) if raw_from is not None else None
    d_to = _date(raw_to) if raw_to is not None else None
    if raw_from is not None and d_from is None:
        notices.append(("from", raw_from))
    if raw_to is not None and d_to is None:
        notices.append(("to", raw_to))
    if d_from and d_to and d_from > d_to:
        notices.append(("from", raw_from))
        notices.append(("to", raw_to))
        d_from = d_to = None
    if d_from or d_to:
        end = d_to or max(today, d_from)
        start = d_from or end - dt.timedelta(days=PRESETS[DEFAULT_PRESET] - 1)
        if start > end:
            start = end
    lists: dict[str, tuple] = {}
    for param, attr in LIST_PARAMS.items():
        raw = _value(params, param)
        if raw is None or raw == "":
            lists[attr] = ()
            continue
        allowed = getattr(choices, attr)
        good = []
        for item in (x.strip() for x in raw.split(",")):
            if not item:
                continue
            value: str | int | None = item
            if attr == "executors":
                value = int(item) if item.isdecimal() else None
            if value is not None and value in allowed:
                good.append(value)
            else:
                notices.append((param, item))
        lists[attr] = tuple(good)
    lang = _value(params, "lang") or "ru"
    if lang not in ("ru", "en"):
        notices.append(("lang", lang))
        lang = "ru"
    return Parsed(Filters(start, end, **lists), lang, notices)


def to_params(filters: Filters, lang: str = "ru") -> dict[str, str]:
    """The canonical query parameters of a view (always with explicit dates, so a link is exact)."""
    out = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
    for param, attr in LIST_PARAMS.items():
        values = getattr(filters, attr)
        if values:
            out[param] = ",".join(str(v) for v in values)
    if lang != "ru":
        out["lang"] = lang
    return out
