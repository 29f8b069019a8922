"""The region's local time: its zone from configuration, and local days as UTC moments.

Every local day, month and working hour is reckoned in this zone (docs/metrics.md, "Cohort by
received date"). The zone is `PULSE_TIME_ZONE` (an IANA name), else the region's (queries.region). SQLite
shifts timestamps by a fixed offset, so a zone must keep one offset the year round (as every
Russian zone has since 2014); a zone with daylight saving time is refused at start-up.
"""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queries.region import REGION

DEFAULT_TIME_ZONE = REGION.time_zone


def _fixed_offset(name: str) -> dt.timedelta:
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"PULSE_TIME_ZONE={name!r} is not a known time zone") from exc
    offsets = {dt.datetime(2020, m, 1, tzinfo=zone).utcoffset() for m in (1, 7)}
    if len(offsets) != 1:
        raise ValueError(f"PULSE_TIME_ZONE={name!r} changes its offset during the year; only fixed offsets are supported")
    return offsets.pop()


TIME_ZONE = os.environ.get("PULSE_TIME_ZONE", "").strip() or DEFAULT_TIME_ZONE
LOCAL_OFFSET = _fixed_offset(TIME_ZONE)
OFFSET_SECONDS = int(LOCAL_OFFSET.total_seconds())
LOCAL = dt.timezone(LOCAL_OFFSET)


def day_start(day: dt.date) -> dt.datetime:
    """The UTC moment a local day begins."""
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc) - LOCAL_OFFSET


def local_date(moment: dt.datetime) -> dt.date:
    """The local day of a UTC moment."""
    return (moment.astimezone(dt.timezone.utc) + LOCAL_OFFSET).date()
