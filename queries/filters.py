"""The Filters value (the contract between UI and queries) and its translation to a WHERE clause."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import TextClause

from queries import periods
from queries.dialect import Dialect
from queries.localtime import day_start
from queries.region import REGION
from queries.viewer import Viewer, in_codes, scope

CENTRE_START = REGION.centre_start  # the "since the start" preset


@dataclass(frozen=True)
class Filters:
    """A cohort of appeals: received between two local dates (inclusive), narrowed by dimensions.

    territories: municipality codes (a city also selects its districts); topics: topic or
    category codes (a category selects its topics); sources: source codes; executors:
    organization ids. Empty means "all".
    """
    date_from: dt.date
    date_to: dt.date
    territories: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    executors: tuple[int, ...] = ()

    def __post_init__(self):
        if self.date_to < self.date_from:
            raise ValueError("date_to before date_from")
        for name in ("territories", "topics", "sources", "executors"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> "Filters":
        """The comparison period: the previous calendar week, month, quarter or year when this
        period is one (September against August), else the equal-length period right before."""
        d_from, d_to = periods.previous(self.date_from, self.date_to)
        return replace(self, date_from=d_from, date_to=d_to)

    def year_earlier(self) -> "Filters":
        """The same days a year earlier (29 February becomes the 28th)."""
        d_from, d_to = periods.year_earlier(self.date_from, self.date_to)
        return replace(self, date_from=d_from, date_to=d_to)

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_start(self.date_from), day_start(self.date_to + dt.timedelta(days=1))

    def narrowed(self, **changes) -> "Filters":
        return replace(self, **changes)


def where(filters: Filters, d: Dialect, viewer: Viewer, purpose: str = "aggregate", alias: str = "a", *,
          with_dates: bool = True) -> tuple[str, dict]:
    """SQL conditions (joined by `and`) and bound values: the filtered appeals within the viewer's scope."""
    scope_sql, params = scope(viewer, purpose, alias, d.pg)
    conds = [] if scope_sql == "1=1" else [scope_sql]
    if with_dates:
        start, end = filters.utc_bounds()
        conds.append(f"{alias}.received_at >= :f_start and {alias}.received_at < :f_end")
        params.update(f_start=d.ts_param(start), f_end=d.ts_param(end))
    if filters.territories:
        conds.append(in_codes(f"{alias}.municipality_id", "municipalities", "f_terr", params, filters.territories))
    if filters.topics:
        conds.append(in_codes(f"{alias}.topic_id", "topics", "f_topic", params, filters.topics))
    if filters.sources:
        conds.append(f"{alias}.source in :f_source")
        params["f_source"] = list(filters.sources)
    if filters.executors:
        conds.append(f"{alias}.organization_id in :f_exec")
        params["f_exec"] = [int(x) for x in filters.executors]
    return (" and ".join(conds) or "1=1"), params


def sql(statement: str, params: dict) -> TextClause:
    """A text() statement whose list parameters (any list or tuple value) are bound as expanding IN lists."""
    clause = text(statement)
    expanding = [bindparam(name, expanding=True) for name, value in params.items() if isinstance(value, (list, tuple))]
    return clause.bindparams(*expanding) if expanding else clause
