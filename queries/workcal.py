"""Working hours in the region by its production calendar, vectorised over numpy arrays.

Times are int64 seconds since the Unix epoch (UTC). Working time is Mon–Fri 09:00–18:00 in the
region's local time (queries.localtime: one offset all year), minus public holidays and transferred
days off, plus transferred working Saturdays, as the `holidays` package maintains them for the
region's country.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np

from queries.localtime import OFFSET_SECONDS
from queries.region import REGION

LOCAL_OFFSET_S = OFFSET_SECONDS
DAY_S = 86400
WORK_START_S = 9 * 3600
WORK_END_S = 18 * 3600
WORK_DAY_S = WORK_END_S - WORK_START_S


class WorkCalendar:
    """Cumulative working seconds per local day over [first, last]; W(t) and its inverse."""

    def __init__(self, first: dt.date, last: dt.date):
        self.first = first
        self.last = last
        n = (last - first).days + 1
        ru = holidays.country_holidays(REGION.holidays, years=range(first.year, last.year + 1))
        self.dates = [first + dt.timedelta(days=i) for i in range(n)]
        self.working = np.array([ru.is_working_day(d) for d in self.dates], dtype=bool)
        secs = np.where(self.working, WORK_DAY_S, 0).astype(np.int64)
        self.cum_end = np.cumsum(secs)
        self.cum_start = self.cum_end - secs
        self.day0 = (dt.datetime(first.year, first.month, first.day) - dt.datetime(1970, 1, 1)).days

    def _day_index(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = np.asarray(t, dtype=np.int64) + LOCAL_OFFSET_S
        day = local // DAY_S - self.day0
        if day.size and (day.min() < 0 or day.max() >= len(self.dates)):
            raise ValueError("time outside the working calendar's range")
        return day, local % DAY_S

    def work_seconds_at(self, t: np.ndarray) -> np.ndarray:
        """W(t): working seconds from the calendar's first day up to t."""
        day, sod = self._day_index(t)
        inside = np.clip(sod - WORK_START_S, 0, WORK_DAY_S)
        return self.cum_start[day] + np.where(self.working[day], inside, 0)

    def work_hours_between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Working hours from start to end (end >= start)."""
        return (self.work_seconds_at(end) - self.work_seconds_at(start)) / 3600.0

    def add_work_hours(self, t: np.ndarray, hours: np.ndarray | float) -> np.ndarray:
        """The earliest moment at which `hours` working hours have passed since t (seconds, int64)."""
        t = np.asarray(t, dtype=np.int64)
        target = self.work_seconds_at(t) + np.round(np.asarray(hours, dtype=float) * 3600).astype(np.int64)
        day = np.searchsorted(self.cum_end, target, side="left")
        if day.size and day.max() >= len(self.dates):
            raise ValueError("deadline beyond the working calendar's range")
        local = (self.day0 + day) * DAY_S + WORK_START_S + (target - self.cum_start[day])
        return np.maximum(local - LOCAL_OFFSET_S, t)

    def is_working_day(self, d: dt.date) -> bool:
        return bool(self.working[(d - self.first).days])


@lru_cache(maxsize=4)
def calendar_for(first: dt.date, last: dt.date) -> WorkCalendar:
    return WorkCalendar(first, last)


# The first day of the Russian production calendar the `holidays` package knows: an export of any
# year since is measured in working hours (building it takes a fifth of a second, once a process).
CALENDAR_FIRST = dt.date(1991, 1, 1)


def default_calendar(until: dt.date | None = None) -> WorkCalendar:
    """A calendar from CALENDAR_FIRST to two years past `until` (default: today)."""
    until = until or dt.date.today()
    return calendar_for(CALENDAR_FIRST, dt.date(until.year + 2, 12, 31))
