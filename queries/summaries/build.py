"""Keeping the summaries current: the full build, the refresh of given days, and deltas.

The seeder and the importer call them in their own transaction, so that the summaries always
match the appeals they were committed with; dataset_info.summaries = ready then tells the queries
that they may use them.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.db import Pipeline
from queries.dialect import Dialect, dialect_of
from queries.measures import COUNT_NAMES
from queries.run import run
from queries.localtime import day_start
from queries.summaries.cells import HIST_KEY, cells_of, closed_cells, closings, encoded, read_days
from queries.summaries.codec import DIM_COLUMNS, GRAINS, SOURCE_CODES, decode_hist, encode_hist, group_sum
from queries.summaries.lattice import YEAR_HIST_NODES, month_end
from queries.summaries.state import is_ready, set_state
from queries.summaries.store import (CLOSED_TABLE_COLUMNS, COUNT_TABLE_COLUMNS, HIST_TABLE_COLUMNS, delete_months,
                                     execute, merge, new_tables, period_value, swap_in, write)


def _fill_all(conn: Connection, d: Dialect, months: list[dt.date]) -> None:
    """Every cell of these months (a refresh; fill_years then sums their years from the stored
    months): the appeals received in each month, and those closed in it, whenever received; a
    large month in runs of days (_slices), its month cells summed from theirs."""
    for month in months:
        runs = [(lo, hi) for _, lo, hi in _slices(conn, d, [month])]
        month_counts = _CellSums(["dims", "grain", "period", *DIM_COLUMNS], list(COUNT_NAMES))
        month_hist = _CellSums(["dims", "grain", "period", *DIM_COLUMNS, *HIST_KEY], ["n"])
        for j, (lo, hi) in enumerate(runs):
            df = read_days(conn, d, "received_at", lo, hi)
            counts, hist, _ = cells_of(df, years=False) if len(df) else ([], [], None)
            del df
            whole, last = len(runs) == 1, j + 1 == len(runs)
            write(conn, "agg_counts", _of_grain(counts, "d") + _month_cells(month_counts, counts, whole, last),
                  COUNT_TABLE_COLUMNS)
            write(conn, "agg_hist", [encoded(_of_grain(hist, "d") + _month_cells(month_hist, hist, whole, last))],
                  HIST_TABLE_COLUMNS)
        # the cells of closings in a month are that month's only: written once the month is read
        closed = [closings(read_days(conn, d, "closed_at", lo, hi)) for lo, hi in runs]
        write(conn, "agg_closed", closed_cells(closed), CLOSED_TABLE_COLUMNS)


class _CellSums:
    """The year (or month) cells being built, summed read by read (cells_of gives each read's
    share of them): held as cells, not appeals, so that memory is bounded by the lattice."""

    def __init__(self, keys: list[str], measures: list[str]):
        self.keys, self.measures, self.parts = keys, measures, []

    def add(self, frames: list[pd.DataFrame]) -> None:
        frames = [f for f in frames if len(f)]
        if frames:
            self.parts = [group_sum(pd.concat(self.parts + frames, ignore_index=True), self.keys, self.measures)]

    def take(self) -> list[pd.DataFrame]:
        out, self.parts = self.parts, []
        return out


# Appeals turned into cells at once, at most about: a month of them at 20 M appeals (285 000)
# took the build's memory to 4 GB; a month above this is read in runs of days, its month cells
# summed from theirs as a year's are from its months.
SLICE_APPEALS = 60_000


def _slices(conn: Connection, d: Dialect, months: list[dt.date]) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(month, first day, day after the last) of each read: a month whole, or cut into equal runs
    of days that would each hold at most SLICE_APPEALS of its appeals spread evenly."""
    out = []
    for month in months:
        end = month_end(month) + dt.timedelta(days=1)
        n = conn.execute(text("select count(*) from appeals where received_at >= :lo and received_at < :hi"),
                         {"lo": d.ts_param(day_start(month)), "hi": d.ts_param(day_start(end))}).scalar_one()
        days = (end - month).days
        step = -(-days // max(1, -(-int(n) // SLICE_APPEALS)))  # ceil(days / ceil(n / SLICE_APPEALS))
        lo = month
        while lo < end:
            hi = min(lo + dt.timedelta(days=step), end)
            out.append((month, lo, hi))
            lo = hi
    return out


def _month_cells(sums: "_CellSums", frames: list[pd.DataFrame], whole: bool, last: bool) -> list[pd.DataFrame]:
    """A read's month cells, as they may be written: a month read whole gives them as they are;
    a run of days gives its share, summed in `sums` until the month's last run."""
    if whole:
        return _of_grain(frames, "m")
    sums.add(_of_grain(frames, "m"))
    return sums.take() if last else []


def _of_grain(frames: list[pd.DataFrame], grain: str) -> list[pd.DataFrame]:
    code = GRAINS.index(grain)
    return [f for f in frames if len(f) and int(f["grain"].iloc[0]) == code]


def _build_all(conn: Connection, d: Dialect, months: list[dt.date], progress=None) -> None:
    """Every cell, into empty tables (new_tables), a month of appeals at a time (a large month in
    runs of days, _slices), so that memory is bounded by SLICE_APPEALS appeals and a year's cells
    at any scale: each read's day cells written as they are made, its share of the month and year
    cells summed until the month or year is done, its appeals' closings kept until their month
    can receive no more (an appeal closes after it is received). On PostgreSQL the reads, COPYs
    and each table's indexing and swap (swap_in) run beside the computing
    (queries.db.Pipeline); a read's cells wait for the last read's COPYs before they are queued."""
    into = new_tables(conn, d)
    count_keys, hist_keys = ["dims", "grain", "period", *DIM_COLUMNS], ["dims", "grain", "period", *DIM_COLUMNS, *HIST_KEY]
    year_counts, year_hist = _CellSums(count_keys, list(COUNT_NAMES)), _CellSums(hist_keys, ["n"])
    month_counts, month_hist = _CellSums(count_keys, list(COUNT_NAMES)), _CellSums(hist_keys, ["n"])
    later_closings: list[pd.DataFrame] = []  # closings on days after the month read last
    writing: list = []

    def queue(counts: list[pd.DataFrame], hist: list[pd.DataFrame], closed: list[pd.DataFrame]) -> None:
        nonlocal writing
        for done in writing:
            done.result()
        writing = [pipe.submit(write, conn, into["agg_counts"], counts, COUNT_TABLE_COLUMNS),
                   pipe.submit(write, conn, into["agg_hist"], [encoded(hist)], HIST_TABLE_COLUMNS),
                   pipe.submit(write, conn, into["agg_closed"], closed_cells(closed), CLOSED_TABLE_COLUMNS)]

    slices = _slices(conn, d, months)
    with Pipeline(threaded=d.pg) as pipe:
        following = pipe.submit(read_days, conn, d, "received_at", *slices[0][1:]) if slices else None
        for i, (month, lo, hi) in enumerate(slices):
            df = following.result()
            if i + 1 < len(slices):  # read while this one's cells are computed
                following = pipe.submit(read_days, conn, d, "received_at", *slices[i + 1][1:])
            counts, hist, closed = cells_of(df, years=True) if len(df) else ([], [], pd.DataFrame())
            del df
            first_of_month = i == 0 or slices[i - 1][0] != month
            last_of_month = i + 1 == len(slices) or slices[i + 1][0] != month
            last_of_year = i + 1 == len(slices) or slices[i + 1][0].year != month.year
            year_counts.add(_of_grain(counts, "y"))
            year_hist.add(_of_grain(hist, "y"))
            whole = first_of_month and last_of_month
            months_counts = _month_cells(month_counts, counts, whole, last_of_month)
            months_hist = _month_cells(month_hist, hist, whole, last_of_month)
            closed = [c for c in [*later_closings, closed] if len(c)]
            closed = group_sum(pd.concat(closed, ignore_index=True), ["day", *DIM_COLUMNS], ["closed"]) if closed \
                else pd.DataFrame(columns=["day", *DIM_COLUMNS, "closed"])
            if last_of_month:  # a closing's cells are its month's: written once the month is complete
                done = (closed["day"] < _day_number(hi)).to_numpy()
                later_closings, finished = [closed[~done]], [closed[done] if i + 1 < len(slices) else closed]
            else:
                later_closings, finished = [closed], []
            queue(_of_grain(counts, "d") + months_counts + (year_counts.take() if last_of_year else []),
                  _of_grain(hist, "d") + months_hist + (year_hist.take() if last_of_year else []),
                  finished)
            del counts, hist, closed  # only the queued writes hold them now
            if progress and last_of_month:
                progress((months.index(month) + 1) / len(months), f"summaries {month:%Y-%m}")
        pipe.submit(swap_in, conn, d, "agg_counts", into["agg_counts"])
        pipe.submit(swap_in, conn, d, "agg_hist", into["agg_hist"])
        pipe.submit(swap_in, conn, d, "agg_closed", into["agg_closed"])


def _day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def fill_years(conn: Connection, d: Dialect, years: list[int]) -> None:
    """The year cells of these years, summed from their stored month cells (which must be
    current): counts in SQL, histograms merged here (decode_hist sums the months' buckets). The
    refresh's; a full build and a delta sum them from the month cells they have made (years_of)."""
    dims = ", ".join(DIM_COLUMNS)
    for year in years:
        params = {"lo": period_value(d, dt.date(year, 1, 1)), "hi": period_value(d, dt.date(year + 1, 1, 1))}
        execute(conn, f"""insert into agg_counts (dims, grain, period, {dims}, {', '.join(COUNT_NAMES)})
            select dims, 'y', :lo, {dims}, {', '.join(f'sum({n})' for n in COUNT_NAMES)} from agg_counts
            where grain = 'm' and period >= :lo and period < :hi group by dims, {dims}""", params)
        for node in YEAR_HIST_NODES:  # a node at a time: decoded, a year's histograms are large
            stored = run(conn, f"""select dims, metric, {dims}, urgent, hist from agg_hist
                where dims = :node and grain = 'm' and period >= :lo and period < :hi""", {**params, "node": node})
            if len(stored):
                _write_year_hist(conn, decode_hist(stored, ["dims", "metric", *DIM_COLUMNS, "urgent"]), year)


def _write_year_hist(conn: Connection, long: pd.DataFrame, year: int) -> None:
    long["grain"] = np.int8(GRAINS.index("y"))
    long["period"] = np.int32((dt.date(year, 1, 1) - dt.date(1970, 1, 1)).days)
    long["source"] = pd.Categorical(long["source"], categories=list(SOURCE_CODES)).codes.astype(np.int8)
    for c in ("dims", "metric", "municipality_id", "topic_id", "organization_id", "urgent", "n"):
        long[c] = pd.to_numeric(long[c]).astype(np.int64)
    write(conn, "agg_hist", [encode_hist(long)], HIST_TABLE_COLUMNS)


def build(conn: Connection, progress=None) -> float:
    """Rebuild every summary from the appeals, in the caller's transaction. Returns seconds.
    `progress(fraction, label)` hears of each calendar year done."""
    return refresh(conn, None, progress)


def refresh(conn: Connection, days: Iterable[dt.date] | None, progress=None) -> float:
    """Recompute the cells of the months holding these local days (None: everything).

    `days` must hold the local days of received_at and of closed_at, before and after the
    change, of every appeal that changed. Runs in the caller's transaction.
    """
    started = time.perf_counter()
    d = dialect_of(conn)
    if days is None:
        lo, hi = conn.execute(text("select min(received_at), max(received_at) from appeals")).one()
        months = []
        if lo is not None:  # a day either side: local days may fall in the UTC month before or after
            first = (dt.date.fromisoformat(str(lo)[:10]) - dt.timedelta(days=1)).replace(day=1)
            last = dt.date.fromisoformat(str(hi)[:10]) + dt.timedelta(days=1)
            while first <= last:
                months.append(first)
                first = month_end(first) + dt.timedelta(days=1)
        _build_all(conn, d, months, progress)
    else:
        days = sorted(set(days))
        if not days:
            return 0.0
        months = sorted({x.replace(day=1) for x in days})
        delete_months(conn, d, months)
        _fill_all(conn, d, months)
        fill_years(conn, d, sorted({m.year for m in months}))
    set_state(conn, "ready")
    return time.perf_counter() - started


def apply_delta(conn: Connection, before: pd.DataFrame, after: pd.DataFrame) -> float:
    """Bring the summaries from `before` to `after`: frames of appeal_rows() of the changed
    appeals read before and after the change (a new appeal is only in `after`, a deleted one
    only in `before`). Runs in the caller's transaction; nothing to do before the first build.
    Returns seconds."""
    started = time.perf_counter()
    frames = [f.assign(w=np.int64(w)) for f, w in ((before, -1), (after, 1)) if len(f)]
    if not frames or not is_ready(conn):
        return 0.0
    counts, hist, closed = cells_of(pd.concat(frames, ignore_index=True), years=True)
    merge(conn, "agg_counts", counts, list(COUNT_NAMES))
    merge(conn, "agg_closed", closed_cells([closed]), ["closed"])
    merge(conn, "agg_hist", hist, ["n"])
    return time.perf_counter() - started
