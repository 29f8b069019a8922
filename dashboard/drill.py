"""Drill-down: what a click on a chart element or a table row means for the filters. Pure."""
from __future__ import annotations

import datetime as dt

from queries.filters import Filters

GRAIN_DAYS = {"day": 1, "week": 7, "month": None}


def bucket_range(start: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    if grain == "month":
        nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return start, nxt - dt.timedelta(days=1)
    return start, start + dt.timedelta(days=GRAIN_DAYS[grain] - 1)


def bucket_days(filters: Filters, grain: str, start) -> tuple[int, int]:
    """(days of the bucket starting at `start` that lie in the period, days of the bucket): a week
    or month cut by the period's ends is partial, and its count is not comparable with the others."""
    start = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)[:10])
    lo, hi = bucket_range(start, grain)
    inside = (min(hi, filters.date_to) - max(lo, filters.date_from)).days + 1
    return max(inside, 0), (hi - lo).days + 1


def drill(filters: Filters, dimension: str, value) -> Filters:
    """The narrower filters behind one selected element.

    dimension: territory | topic | source | executor (value: a code or id, replacing that
    filter), or day | week | month (value: the bucket's first date; the period becomes the
    bucket, clipped to the current period).
    """
    if dimension in ("territory", "topic", "source"):
        return filters.narrowed(**{f"{dimension}s" if dimension != "territory" else "territories": (str(value),)})
    if dimension == "executor":
        return filters.narrowed(executors=(int(value),))
    if dimension in GRAIN_DAYS:
        start = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        lo, hi = bucket_range(start, dimension)
        lo, hi = max(lo, filters.date_from), min(hi, filters.date_to)
        if lo > hi:
            return filters
        return filters.narrowed(date_from=lo, date_to=hi)
    raise ValueError(f"unknown drill dimension {dimension}")


def grain_for(filters: Filters) -> str:
    """Day up to a month, week up to half a year, month beyond."""
    if filters.days <= 31:
        return "day"
    if filters.days <= 183:
        return "week"
    return "month"
