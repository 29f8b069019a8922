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
from queries.summaries.cells import cells_of, closed_cells, closings, encoded, read_days
from queries.summaries.codec import DIM_COLUMNS, GRAINS, SOURCE_CODES, decode_hist, encode_hist
from queries.summaries.lattice import YEAR_HIST_NODES, month_end
from queries.summaries.state import is_ready, set_state
from queries.summaries.store import (CLOSED_TABLE_COLUMNS, COUNT_TABLE_COLUMNS, HIST_TABLE_COLUMNS, delete_months,
                                     execute, merge, new_tables, period_value, swap_in, write)


def _fill_all(conn: Connection, d: Dialect, months: list[dt.date]) -> None:
    """Every cell of these months (a refresh; fill_years then sums their years from the stored
    months): the appeals received in each month, and those closed in it, whenever received."""
    closed_fine: list = []
    for month in months:
        df = read_days(conn, d, "received_at", month, month_end(month) + dt.timedelta(days=1))
        if len(df):
            counts, hist, _ = cells_of(df, years=False)
            write(conn, "agg_counts", counts, COUNT_TABLE_COLUMNS)
            write(conn, "agg_hist", [encoded(hist)], HIST_TABLE_COLUMNS)
        closed_fine.append(closings(read_days(conn, d, "closed_at", month, month_end(month) + dt.timedelta(days=1))))
    write(conn, "agg_closed", closed_cells(closed_fine), CLOSED_TABLE_COLUMNS)


def _build_all(conn: Connection, d: Dialect, years: list[int], progress=None) -> None:
    """Every cell, into empty tables (new_tables): the appeals read a calendar year at a time,
    its year cells summed from its month cells here, every appeal's closing counted from the same
    read. On PostgreSQL the reads, COPYs and each table's indexing and swap (swap_in) run beside
    the computing (queries.db.Pipeline): a table is indexed while the next one's cells are computed. A
    year's cells wait for the last year's COPYs before they are queued, so that at most two years
    of cells are held (millions of cells a year at ten million appeals)."""
    into = new_tables(conn, d)
    closed_fine: list = []
    writing: list = []
    with Pipeline(threaded=d.pg) as pipe:
        ranges = [(dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in years]
        following = pipe.submit(read_days, conn, d, "received_at", *ranges[0]) if ranges else None
        for i in range(len(ranges)):
            df = following.result()
            if i + 1 < len(ranges):  # read while this year's cells are computed
                following = pipe.submit(read_days, conn, d, "received_at", *ranges[i + 1])
            if df.empty:
                continue
            counts, hist, closed = cells_of(df, years=True)  # every appeal's closing counted from this read
            hist = encoded(hist)
            for done in writing:
                done.result()
            writing = [pipe.submit(write, conn, into["agg_counts"], counts, COUNT_TABLE_COLUMNS),
                       pipe.submit(write, conn, into["agg_hist"], [hist], HIST_TABLE_COLUMNS)]
            del counts, hist  # only the queued writes hold them now
            closed_fine.append(closed)
            if progress:
                progress((i + 1) / len(ranges), f"summaries {years[i]}")
        pipe.submit(swap_in, conn, d, "agg_counts", into["agg_counts"])
        pipe.submit(swap_in, conn, d, "agg_hist", into["agg_hist"])
        pipe.submit(write, conn, into["agg_closed"], closed_cells(closed_fine), CLOSED_TABLE_COLUMNS)
        pipe.submit(swap_in, conn, d, "agg_closed", into["agg_closed"])


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
        params["r_d"] = list(YEAR_HIST_NODES)
        stored = run(conn, f"""select dims, metric, {dims}, urgent, hist from agg_hist
            where dims in :r_d and grain = 'm' and period >= :lo and period < :hi""", params)
        if stored.empty:
            continue
        long = decode_hist(stored, ["dims", "metric", *DIM_COLUMNS, "urgent"])
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
        years = []
        if lo is not None:  # a day either side: local days may fall in the UTC year before or after
            first = dt.date.fromisoformat(str(lo)[:10]) - dt.timedelta(days=1)
            last = dt.date.fromisoformat(str(hi)[:10]) + dt.timedelta(days=1)
            years = list(range(first.year, last.year + 1))
        _build_all(conn, d, years, progress)
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
