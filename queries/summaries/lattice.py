"""The lattice of summary cells and the planner's cutting of a period.

A cell is a node (a subset of the four filterable dimensions: municipality, topic, source,
organization, as a bit mask `dims`), a grain (d: local day, m: month, y: year) and a period. A
query needs the node of its filtered and grouped dimensions; its period is cut into whole years,
months and the remaining days (`pieces`), so that a long period reads a few coarse cells and a
short one a few fine ones.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from queries.filters import Filters
from queries.measures import GROUPS, HIST_METRICS


DIMS = {"municipality_id": 1, "topic_id": 2, "source": 4, "organization_id": 8}


FULL = 15


NODES = sorted(range(16), key=lambda n: (-bin(n).count("1"), n))  # finest first: parents before children


# Three-dimension nodes are not stored: a query that needs one reads the finest node, which is
# not much larger. Day cells for the nodes of at most two dimensions; a query on a finer node
# reads the days at the edges of its period from the appeals (three filters narrow them).
STORED_NODES = tuple(n for n in NODES if bin(n).count("1") != 3)


DAY_NODES = tuple(n for n in STORED_NODES if bin(n).count("1") <= 2)


# Histograms: by month for every stored node (a three-dimension query merges the finest node's
# cells, as its counts do); by day as day_hist_metrics says.
HIST_NODES = STORED_NODES


# Year cells, summed from the month cells: counts for every stored node, histograms for the nodes
# of at most two dimensions (a league over five years reads 5 cells per key, not 60). The finest
# nodes' queries filter on three or more dimensions and read few cells anyway.
YEAR_HIST_NODES = tuple(n for n in STORED_NODES if bin(n).count("1") <= 2)


YEAR_TABLES = ("agg_counts", "agg_hist")  # closings are read by month and day only (series)


def day_hist_metrics(node: int) -> tuple[int, ...]:
    """The histogram metrics kept by day for `node`: every metric for the empty and one-dimension
    nodes, first response (the metric of grouped frames and league tables) for two dimensions."""
    dims = bin(node).count("1")
    return HIST_METRICS if dims <= 1 else (1,) if dims == 2 else ()


def parent(node: int) -> int:
    """The stored node one dimension finer, from which `node` is summed."""
    for bit in DIMS.values():
        finer = node | bit
        if finer != node and finer in STORED_NODES and finer != FULL:
            return finer
    return FULL


def node_for(filters: Filters, group: str | None = None) -> int:
    node = GROUPS[group].dim if group else 0
    for name, bit in (("territories", DIMS["municipality_id"]), ("topics", DIMS["topic_id"]),
                      ("sources", DIMS["source"]), ("executors", DIMS["organization_id"])):
        if getattr(filters, name):
            node |= bit
    return node


def stored_node(needed: int) -> int:
    return needed if needed in STORED_NODES else FULL


def month_end(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Pieces:
    """A period cut into whole years (where asked), whole months and runs of days (inclusive)."""
    months: tuple[dt.date, ...]
    days: tuple[tuple[dt.date, dt.date], ...]
    years: tuple[dt.date, ...] = ()


def pieces(date_from: dt.date, date_to: dt.date, years: bool = False) -> Pieces:
    """`years`: whole calendar years as year cells (kept for counts, and for the histograms of
    YEAR_HIST_NODES); else as their months."""
    whole_years, months, days = [], [], []
    cur = date_from
    while cur <= date_to:
        if years and cur.month == 1 and cur.day == 1 and dt.date(cur.year, 12, 31) <= date_to:
            whole_years.append(cur)
            cur = dt.date(cur.year + 1, 1, 1)
        elif cur.day == 1 and month_end(cur) <= date_to:
            months.append(cur)
            cur = month_end(cur) + dt.timedelta(days=1)
        else:
            end = min(date_to, month_end(cur))
            if days and days[-1][1] == cur - dt.timedelta(days=1):
                days[-1] = (days[-1][0], end)
            else:
                days.append((cur, end))
            cur = end + dt.timedelta(days=1)
    return Pieces(tuple(months), tuple(days), tuple(whole_years))


def edge_plan(p: Pieces) -> tuple[Pieces, list[tuple[dt.date, dt.date]], list[tuple[dt.date, dt.date]]]:
    """How a node without day cells reads the edge days of its period: each run of them, cut at
    month ends, from the appeals as it is, or, when the rest of its month is shorter, as the
    month's cell minus the rest of the month read from the appeals (counts and histograms are
    sums, so the difference is exact). A period ending today reads its month's cell and the
    days still to come, which hold nothing.

    Returns the pieces to read from cells (no days), the runs to add and the runs to subtract."""
    months, add, subtract = list(p.months), [], []
    for a, b in p.days:
        cur = a
        while cur <= b:
            first, last = cur.replace(day=1), month_end(cur)
            end = min(b, last)
            inside = (end - cur).days + 1
            if inside > (last - first).days + 1 - inside:
                months.append(first)
                if cur > first:
                    subtract.append((first, cur - dt.timedelta(days=1)))
                if end < last:
                    subtract.append((end + dt.timedelta(days=1), last))
            else:
                add.append((cur, end))
            cur = end + dt.timedelta(days=1)
    return replace(p, months=tuple(sorted(months)), days=()), add, subtract
