"""Summary tables: how they are built and refreshed, and a planner that answers KPI queries from them.

The lattice. A cell is a node (a subset of the four filterable dimensions: municipality, topic,
source, organization, as a bit mask `dims`), a grain (d: local day, m: month) and a
period. `agg_counts` holds every count of `kpis.FIXED_COUNTS` plus the unanswered counts for
the stored nodes (see STORED_NODES) by day and month; `agg_closed` the appeals closed per local day of closing;
`agg_hist` the time histograms (see SEGMENTS) of the stored nodes.

The planner. A query needs the node of its filtered and grouped dimensions. Its period is cut
into whole months and the remaining days (`pieces`), so that a long period reads a few coarse
cells and a short one a few fine ones. Counts are exact. The two counts that depend
on `now` (unanswered past the deadline) are the stored unanswered counts minus the unanswered
appeals whose deadline is still ahead — few, read through the partial index
ix_appeals_unanswered_due. Percentiles come from the histograms, exact to within one bucket.
A node without day cells reads the days at the edges of its period from the appeals, which
its filters then narrow.

Freshness. `build` fills everything from `appeals`; `refresh(days)` recomputes the cells of the
given local days (whole months). The seeder and the importer call them in their
own transaction, so the summaries always match the appeals they were committed with.
`dataset_info.summaries = ready` tells the queries that they may use them.
"""
from __future__ import annotations

import argparse
import contextlib
import contextvars
import datetime as dt
import sys
import time
from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries import schema
from queries.db import Pipeline, copy_frame
from queries.dialect import Dialect, dialect_of
from queries.filters import Filters, where
from queries.kpis import CLOSED, FEW_ROWS_COUNTS, FIXED_COUNTS, OPEN
from queries.run import run
from queries.schema import SOURCES
from queries.viewer import Viewer

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


COUNT_NAMES = (*FIXED_COUNTS, "no_response", "no_response_open")
GROUP_DIM = {"territory": 1, "municipality": 1, "topic": 2, "category": 2, "source": 4, "executor": 8}
GROUP_KEY = {  # group → (key SQL over the summary alias c, join it needs)
    "territory": ("coalesce(m.parent_id, m.id)", "join municipalities m on m.id = c.municipality_id"),
    "municipality": ("c.municipality_id", ""),
    "topic": ("c.topic_id", ""),
    "category": ("coalesce(t.parent_id, t.id)", "join topics t on t.id = c.topic_id"),
    "source": ("c.source", ""),
    "executor": ("c.organization_id", ""),
}

# Histogram buckets, in minutes: (segment end, bucket width). One-minute buckets up to 8 hours,
# where first-response medians live; a quarter hour to 2 days; 2 hours to 2 weeks; a day to a
# year; one last bucket beyond. Boundaries fall on whole hours up to 2 weeks.
SEGMENTS = ((480, 1), (2880, 15), (20160, 120), (525600, 1440))


def _bucket_table() -> tuple[np.ndarray, np.ndarray]:
    lower, width, start = [], [], 0
    for end, w in SEGMENTS:
        n = (end - start) // w
        lower.extend(start + w * np.arange(n))
        width.extend([w] * n)
        start = end
    lower.append(start)
    width.append(0)  # the overflow bucket: its lower bound is the estimate
    return np.array(lower, dtype=float) / 60, np.array(width, dtype=float) / 60


BUCKET_LOWER, BUCKET_WIDTH = _bucket_table()  # hours, indexed by bucket
OVERFLOW = len(BUCKET_LOWER) - 1

HIST_METRICS = (1, 2, 3, 4)  # SQL in _metric_columns
PERCENTILES = {  # KPI column → (metric, quantile, divisor)
    "first_response_median": (1, 0.5, 1.0),
    "first_response_p90": (1, 0.9, 1.0),
    "first_response_median_calendar": (2, 0.5, 1.0),
    "close_time_median": (3, 0.5, 24.0),
    "time_before_escalation": (4, 0.5, 1.0),
}


def bucket_of(hours: np.ndarray | float) -> np.ndarray:
    """The bucket of a value in hours (the build and raw_histogram both bucket with it)."""
    minutes = np.asarray(hours, dtype=float) * 60
    out = np.full(minutes.shape, OVERFLOW)
    base, start = 0, 0
    for end, w in SEGMENTS:
        inside = (minutes >= start) & (minutes < end)
        out = np.where(inside, base + np.floor((minutes - start) / w), out)
        base += (end - start) // w
        start = end
    return out.astype(int)


def bucket_width(hours: float) -> float:
    """How far a percentile from the histograms may be from the exact one, at this value."""
    return float(BUCKET_WIDTH[int(bucket_of(hours))])


# ---------------------------------------------------------------------------------------------- periods

def _month_end(day: dt.date) -> dt.date:
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
        elif cur.day == 1 and _month_end(cur) <= date_to:
            months.append(cur)
            cur = _month_end(cur) + dt.timedelta(days=1)
        else:
            end = min(date_to, _month_end(cur))
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
            first, last = cur.replace(day=1), _month_end(cur)
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


def _date(d: Dialect, day: dt.date):
    return day if d.pg else day.isoformat()


def cells_sql(d: Dialect, table: str, p: Pieces, params: dict, cond: str) -> str:
    """A FROM source: the cells of `table` in the pieces' periods that meet `cond` (alias c).

    One UNION ALL arm per grain and day run, each an equality-and-range seek on the primary
    key (an OR of the three would make SQLite scan the node).
    """
    arms = []
    if p.years:
        params["p_years"] = [_date(d, x) for x in p.years]
        arms.append("c.grain = 'y' and c.period in :p_years")
    if p.months:
        params["p_months"] = [_date(d, x) for x in p.months]
        arms.append("c.grain = 'm' and c.period in :p_months")
    for i, (a, b) in enumerate(p.days):
        params[f"p_d{i}a"], params[f"p_d{i}b"] = _date(d, a), _date(d, b)
        arms.append(f"c.grain = 'd' and c.period between :p_d{i}a and :p_d{i}b")
    if not arms:
        arms = ["1=0"]
    return "(" + " union all ".join(f"select * from {table} c where {cond} and {arm}" for arm in arms) + ")"


# ---------------------------------------------------------------------------------------------- state

STATE_KEY = "summaries"


def is_ready(conn: Connection) -> bool:
    row = conn.execute(text("select value from dataset_info where key = :k"), {"k": STATE_KEY}).first()
    return bool(row) and row[0] == "ready"


_DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("summaries_disabled", default=False)


@contextlib.contextmanager
def disabled():
    """Within this block every query reads the appeals table (the benchmark's baseline)."""
    token = _DISABLED.set(True)
    try:
        yield
    finally:
        _DISABLED.reset(token)


def usable(conn: Connection, viewer: Viewer) -> bool:
    """The summaries answer for this viewer: they are built, and the viewer's scope is a dimension.

    An executor sees appeals assigned *or escalated* to it; escalation is not a summary dimension,
    so an executor's figures are read from the appeals (they are few).
    """
    return not _DISABLED.get() and viewer.role != "executor" and is_ready(conn)


def _set_state(conn: Connection, value: str) -> None:
    conn.execute(text("delete from dataset_info where key = :k"), {"k": STATE_KEY})
    conn.execute(text("insert into dataset_info (key, value) values (:k, :v)"), {"k": STATE_KEY, "v": value})


# ---------------------------------------------------------------------------------------------- building
#
# The cells are computed in pandas from one narrow read of the appeals per year (a refresh: per
# month), each row's flags packed into one integer: SQLite's GROUP BY over a million rows, once
# per node, took minutes; this is the same code for both databases.

DIM_COLUMNS = ["municipality_id", "topic_id", "source", "organization_id"]
KEY = ["grain", "period", *DIM_COLUMNS]
FLAG_NAMES = [n for n in COUNT_NAMES if n != "received"]
TABLES = {t.name: t for t in (schema.agg_counts, schema.agg_closed, schema.agg_hist)}


def _month_sql(d: Dialect, col: str) -> str:
    return f"date_trunc('month', {col}::timestamp)::date" if d.pg else f"strftime('%Y-%m-01', {col})"


def _read_sql(d: Dialect) -> str:
    from queries.kpis import ROW_FLAGS
    flags = dict(ROW_FLAGS)
    flags["no_response"] = "case when a.first_response_at is null then 1 else 0 end"
    flags["no_response_open"] = f"case when a.first_response_at is null and a.status in {OPEN} then 1 else 0 end"
    packed = " + ".join(f"{1 << i} * ({flags[n]})" for i, n in enumerate(FLAG_NAMES))
    values = ", ".join(f"{sql} as h{m}" for m, sql in _metric_columns(d).items())
    return f"""select {d.local_date('a.received_at')} as day, {d.local_date('a.closed_at')} as cday,
  a.municipality_id, a.topic_id, a.source, a.organization_id, case when t.is_urgent then 1 else 0 end as urgent,
  {packed} as flags, {values}
from appeals a join topics t on t.id = a.topic_id"""


# The build groups integer keys only: a day is its number since 1970-01-01, a source its index in
# SOURCE_CODES (-1: the node has no source). Grouping pandas' text columns cost twice as much.
SOURCE_CODES = np.array([*SOURCES, ""], dtype=object)  # code -1 is the last: ""
GRAINS = ("d", "m", "y")  # a grain by its index
NO_DAY = np.iinfo(np.int32).min


def _day_numbers(values: pd.Series) -> np.ndarray:
    """Local days (date objects or ISO text, None for none) as day numbers, NO_DAY for None."""
    text_days = values.astype(str).str.slice(0, 10).where(values.notna(), None)
    days = np.array(text_days.to_numpy(dtype=object, na_value=None), dtype="datetime64[D]")
    return np.where(np.isnat(days), NO_DAY, days.astype(np.int64)).astype(np.int32)


def _read(conn: Connection, d: Dialect, col: str, lo: dt.date, hi: dt.date) -> pd.DataFrame:
    """Appeals whose `col` falls on local days lo ≤ day < hi, as the narrow frame of _read_sql,
    with integer days and source codes."""
    start = dt.datetime.combine(lo, dt.time(), dt.timezone.utc) - dt.timedelta(hours=7)
    end = dt.datetime.combine(hi, dt.time(), dt.timezone.utc) - dt.timedelta(hours=7)
    return appeal_rows(conn, f"a.{col} >= :lo and a.{col} < :hi", {"lo": d.ts_param(start), "hi": d.ts_param(end)})


def appeal_rows(conn: Connection, cond: str, params: dict | None = None) -> pd.DataFrame:
    """The appeals meeting `cond` (SQL over the alias a) as the narrow frame of _read_sql, with
    integer days and source codes: what the build reads, and what a delta is made of."""
    result = conn.execute(text(_read_sql(dialect_of(conn)) + f" where {cond}"), params or {})
    # the DB-API cursor's plain tuples: a frame from them is five times faster than from Row objects
    df = pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))
    for c in ("day", "cday"):
        df[c] = _day_numbers(df[c])
    df["source"] = pd.Categorical(df["source"], categories=SOURCES).codes.astype(np.int8)
    for c in ("municipality_id", "topic_id", "organization_id"):
        df[c] = pd.to_numeric(df[c]).astype(np.int32)
    return df


def _unpack(df: pd.DataFrame) -> pd.DataFrame:
    """One count per appeal and measure: 0 or 1, times the row's weight `w` where the frame has
    one (a delta's -1 or +1)."""
    flags = pd.to_numeric(df["flags"]).to_numpy(np.int64)
    weight = df["w"].to_numpy(np.int64) if "w" in df.columns else 1
    out = df[["day", *DIM_COLUMNS]].copy()
    out["received"] = weight
    for i, name in enumerate(FLAG_NAMES):
        out[name] = ((flags >> i) & 1) * weight
    return out


def _node_frame(cells: pd.DataFrame, node: int, grain: str, period: str, measures: list[str],
                extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Cells of `node` at `grain` from finer cells: group on the node's dimensions and the period."""
    dims = [c for c, b in DIMS.items() if node & b]
    out = _group_sum(cells, [period, *dims, *extra], measures).rename(columns={period: "period"})
    for c, b in DIMS.items():
        if not node & b:
            out[c] = -1 if c == "source" else 0
    out["dims"] = np.int8(node)
    out["grain"] = np.int8(GRAINS.index(grain))
    return out


def _month(days: pd.Series) -> np.ndarray:
    """Day numbers → the day number of their month's first day."""
    months = days.to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64).astype(np.int32)



def _write(conn: Connection, table: str, frames: list[pd.DataFrame], columns: list[str]) -> int:
    frames = [f for f in frames if len(f)]
    if not frames:
        return 0
    df = pd.concat(frames, ignore_index=True)[columns]
    period = df["period"].to_numpy().astype("datetime64[D]")
    df["source"] = SOURCE_CODES[df["source"].to_numpy()]
    df["grain"] = np.array(GRAINS, dtype=object)[df["grain"].to_numpy()]
    if conn.dialect.name == "sqlite":
        df["period"] = np.datetime_as_string(period, unit="D")
        raw = conn.connection.driver_connection
        raw.executemany(f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                        zip(*[df[c].tolist() for c in columns]))
    else:
        import pyarrow as pa

        # no column is nullable: the empty source of a node without it is written as ""
        arrays = {c: pa.array(df[c].to_numpy(), from_pandas=True) for c in columns if c not in ("period", "hist")}
        if "hist" in columns:
            arrays["hist"] = _bytea_text(df["hist"])
        arrays["period"] = pa.array(period)
        copy_frame(conn, table, pa.table({c: arrays[c] for c in columns}))
    return len(df)


_HEX = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint8).reshape(256, 2)


def _bytea_text(values: pd.Series):
    """Binary values (encode_hist's) as PostgreSQL's bytea hex text (\\x…), an Arrow string
    array built in numpy from the values' buffers: a per-value hex() took over a second a build."""
    import pyarrow as pa

    arr = pa.chunked_array(pa.array(values.array)).combine_chunks()
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    starts = 2 * (offsets - offsets[0]) + 2 * np.arange(n + 1)  # each value gains the two bytes "\\x"
    out = np.empty(int(starts[-1]), dtype=np.uint8)
    prefix = np.zeros(len(out), dtype=bool)
    prefix[starts[:-1]] = prefix[starts[:-1] + 1] = True
    out[starts[:-1]], out[starts[:-1] + 1] = ord("\\"), ord("x")
    out[~prefix] = _HEX[data].ravel()
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(starts), pa.py_buffer(out))


COUNT_TABLE_COLUMNS = ["dims", *KEY, *COUNT_NAMES]
CLOSED_TABLE_COLUMNS = ["dims", *KEY, "closed"]
HIST_TABLE_COLUMNS = ["dims", "metric", *KEY, "urgent", "n", "hist"]
TABLE_COLUMNS = {"agg_counts": COUNT_TABLE_COLUMNS, "agg_closed": CLOSED_TABLE_COLUMNS, "agg_hist": HIST_TABLE_COLUMNS}


def _count_cells(fine: pd.DataFrame, measures: list[str]) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Day cells of the small nodes and month cells of every stored node, from finest day cells:
    (day frames, month frames), one frame per node."""
    days = [_node_frame(fine, node, "d", "day", measures) for node in DAY_NODES]
    fine = fine.assign(month=_month(fine["day"]))
    finest_m = _node_frame(fine, FULL, "m", "month", measures)
    months = {FULL: finest_m}
    for node in STORED_NODES[1:]:
        parent = months[_parent(node)]
        months[node] = _node_frame(parent, node, "m", "period", measures)
    return days, list(months.values())


def _bucketed(df: pd.DataFrame, metrics: Iterable[int], carry: list[str]) -> pd.DataFrame:
    """One row per appeal and measured metric (its value h{metric} in hours not NULL): the
    `carry` columns, metric, bucket. The build and raw_histogram bucket with this alone."""
    parts = []
    for metric in metrics:
        v = pd.to_numeric(df[f"h{metric}"]).to_numpy(float)
        keep = ~np.isnan(v)
        if keep.any():
            part = df.loc[keep, carry].copy()
            part["metric"] = metric
            part["bucket"] = bucket_of(np.maximum(v[keep], 0))
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*carry, "metric", "bucket"])


def _long_hist(df: pd.DataFrame) -> pd.DataFrame:
    """One row per appeal and measured metric: day, month, dimensions, urgent, metric, bucket, n
    (1, or the row's weight `w` where the frame has one: a delta's -1 or +1)."""
    weighted = "w" in df.columns
    long = _bucketed(df, HIST_METRICS, ["day", *DIM_COLUMNS, "urgent", *(["w"] if weighted else [])])
    if long.empty:
        return pd.DataFrame()
    long["n"] = long.pop("w") if weighted else 1
    long["month"] = _month(long["day"])
    return long


HIST_KEY = ("metric", "urgent", "bucket")


def _hist_cells(long: pd.DataFrame) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Bucket counts (long form): by day for DAY_NODES (the metrics of day_hist_metrics), every
    metric by month for all of HIST_NODES: (day frames, month frames), one frame per node."""
    if long.empty:
        return [], []
    first = long[long["metric"] == 1]
    days = [_node_frame(long if len(day_hist_metrics(node)) > 1 else first, node, "d", "day", ["n"], HIST_KEY)
           for node in DAY_NODES]
    months = {FULL: _node_frame(long, FULL, "m", "month", ["n"], HIST_KEY)}
    for node in HIST_NODES[1:]:  # each from the node one dimension finer: far fewer rows than `long`
        months[node] = _node_frame(months[_parent(node)], node, "m", "period", ["n"], HIST_KEY)
    return days, list(months.values())


def _key_codes(df: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One int64 per row, equal exactly for rows with equal `keys`; not compact (callers that need
    0 … groups-1 take np.unique's inverse). Integer columns are mixed-radix digits (value minus the
    column's minimum), other columns their factor codes; where the digits would overflow, the code
    so far is compacted first. Five times faster than factorizing every column."""
    code = np.zeros(len(df), dtype=np.int64)
    if not len(df):
        return code
    span = 1
    for c in keys:
        values = df[c].to_numpy()
        if values.dtype.kind in "iub":
            values = values.astype(np.int64)
            low = int(values.min())
            digit, size = values - low, int(values.max()) - low + 1
        else:
            digit, uniques = pd.factorize(values)  # NaN: -1
            digit, size = digit.astype(np.int64) + 1, len(uniques) + 1
        if span * size >= 1 << 62:
            _, code = np.unique(code, return_inverse=True)
            span = int(code.max()) + 1
        code = code * size + digit
        span *= size
    return code


CELL = ["dims", "metric", "grain", "period", *DIM_COLUMNS, "urgent"]
HIST_RECORD = np.dtype([("bucket", "<u2"), ("n", "<u4")])  # packed: 6 bytes per non-empty bucket


def encode_hist(long: pd.DataFrame) -> pd.DataFrame:
    """Long bucket counts → one row per cell, metric and urgency: n and the packed histogram
    (`hist`: Arrow binary values over one buffer of records, no Python bytes per cell)."""
    import pyarrow as pa

    if long.empty:
        return long
    cell = _key_codes(long, CELL)
    bucket = long["bucket"].to_numpy().astype(np.int64)
    # cells contiguous, buckets ascending: the bucket is the last digit of one sort key
    order = np.argsort(_key_codes(pd.DataFrame({"cell": cell, "bucket": bucket}), ["cell", "bucket"]))
    cell = cell[order]
    start = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    packed = np.empty(len(cell), dtype=HIST_RECORD)
    packed["bucket"] = bucket[order]
    packed["n"] = long["n"].to_numpy()[order]
    offsets = np.r_[start, len(cell)].astype(np.int64) * HIST_RECORD.itemsize
    hist = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(start), [None, pa.py_buffer(offsets),
                                                                            pa.py_buffer(packed.tobytes())])
    out = long[CELL].iloc[order[start]].reset_index(drop=True)  # the keys of each cell's first row
    out["n"] = np.add.reduceat(packed["n"].astype(np.int64), start)
    out["hist"] = pd.arrays.ArrowExtensionArray(hist)
    return out


def decode_hist(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows with packed `hist` → long form: keys, bucket, n, merged over rows with equal keys
    (a year of monthly cells of one key is one histogram), in numpy: the records of thousands of
    cells never become a frame of their own."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "bucket", "n"])
    blobs = [bytes(h) for h in df["hist"]]
    sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs)) // HIST_RECORD.itemsize
    records = np.frombuffer(b"".join(blobs), dtype=HIST_RECORD)
    _, first, group = np.unique(_key_codes(df, keys), return_index=True, return_inverse=True)  # first: a row of each group
    nb = len(BUCKET_LOWER)
    flat = np.repeat(group, sizes) * nb + records["bucket"].astype(np.int64)
    counts = np.bincount(flat, weights=records["n"].astype(np.float64), minlength=len(first) * nb)
    cells = np.flatnonzero(counts)
    out = df[keys].iloc[first[cells // nb]].reset_index(drop=True)
    out["bucket"] = cells % nb
    out["n"] = counts[cells].astype(np.int64)
    return out


def _month_starts(lo: dt.date, hi: dt.date) -> list[dt.date]:
    out, cur = [], lo.replace(day=1)
    while cur <= hi:
        out.append(cur)
        cur = _month_end(cur) + dt.timedelta(days=1)
    return out


def _cells(df: pd.DataFrame, years: bool) -> tuple[list[pd.DataFrame], list[pd.DataFrame], pd.DataFrame]:
    """The cells of the appeals `df` (appeal_rows, weighted by `w` where it has one), by day and
    month, and by year when `years` (df then holds whole calendar years): count frames, histogram
    frames (long form, for encode_hist), and closings per day of closing (for _closed_cells)."""
    measures = list(COUNT_NAMES)
    days, months = _count_cells(_group_sum(_unpack(df), ["day", *DIM_COLUMNS], measures), measures)
    counts = days + months + (_years(months, STORED_NODES, measures) if years else [])
    days, months = _hist_cells(_long_hist(df))
    hist = days + months + (_years(months, YEAR_HIST_NODES, ["n"], HIST_KEY) if years else [])
    return counts, hist, _closings(df)


def _closings(df: pd.DataFrame) -> pd.DataFrame:
    """Closings (weighted by `w` where the frame has one) per local day of closing and dimensions."""
    closed = df.loc[df["cday"] != NO_DAY, ["cday", *DIM_COLUMNS, *(["w"] if "w" in df.columns else [])]]
    closed = closed.rename(columns={"cday": "day", "w": "closed"})
    if "closed" not in closed.columns:
        closed["closed"] = 1
    return _group_sum(closed, ["day", *DIM_COLUMNS], ["closed"])


def _closed_cells(fine: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Closing cells from closings per day (frames of _closings)."""
    fine = [c for c in fine if len(c)]
    if not fine:
        return []
    fine = _group_sum(pd.concat(fine, ignore_index=True), ["day", *DIM_COLUMNS], ["closed"])
    return sum(_count_cells(fine, ["closed"]), [])


def _encoded(hist: list[pd.DataFrame]) -> pd.DataFrame:
    return encode_hist(pd.concat(hist or [pd.DataFrame()], ignore_index=True))


def _fill_all(conn: Connection, d: Dialect, months: list[dt.date]) -> None:
    """Every cell of these months (a refresh; _fill_years then sums their years from the stored
    months): the appeals received in each month, and those closed in it, whenever received."""
    closed_fine: list = []
    for month in months:
        df = _read(conn, d, "received_at", month, _month_end(month) + dt.timedelta(days=1))
        if len(df):
            counts, hist, _ = _cells(df, years=False)
            _write(conn, "agg_counts", counts, COUNT_TABLE_COLUMNS)
            _write(conn, "agg_hist", [_encoded(hist)], HIST_TABLE_COLUMNS)
        closed_fine.append(_closings(_read(conn, d, "closed_at", month, _month_end(month) + dt.timedelta(days=1))))
    _write(conn, "agg_closed", _closed_cells(closed_fine), CLOSED_TABLE_COLUMNS)


def _build_all(conn: Connection, d: Dialect, years: list[int], progress=None) -> None:
    """Every cell, into empty tables (_new_tables): the appeals read a calendar year at a time,
    its year cells summed from its month cells here, every appeal's closing counted from the same
    read. On PostgreSQL the reads, COPYs and each table's indexing and swap (_swap_in) run beside
    the computing (queries.db.Pipeline): a table is indexed while the next one's cells are computed. A
    year's cells wait for the last year's COPYs before they are queued, so that at most two years
    of cells are held (millions of cells a year at ten million appeals)."""
    into = _new_tables(conn, d)
    closed_fine: list = []
    writing: list = []
    with Pipeline(threaded=d.pg) as pipe:
        ranges = [(dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in years]
        following = pipe.submit(_read, conn, d, "received_at", *ranges[0]) if ranges else None
        for i in range(len(ranges)):
            df = following.result()
            if i + 1 < len(ranges):  # read while this year's cells are computed
                following = pipe.submit(_read, conn, d, "received_at", *ranges[i + 1])
            if df.empty:
                continue
            counts, hist, closed = _cells(df, years=True)  # every appeal's closing counted from this read
            hist = _encoded(hist)
            for done in writing:
                done.result()
            writing = [pipe.submit(_write, conn, into["agg_counts"], counts, COUNT_TABLE_COLUMNS),
                       pipe.submit(_write, conn, into["agg_hist"], [hist], HIST_TABLE_COLUMNS)]
            del counts, hist  # only the queued writes hold them now
            closed_fine.append(closed)
            if progress:
                progress((i + 1) / len(ranges), f"summaries {years[i]}")
        pipe.submit(_swap_in, conn, d, "agg_counts", into["agg_counts"])
        pipe.submit(_swap_in, conn, d, "agg_hist", into["agg_hist"])
        pipe.submit(_write, conn, into["agg_closed"], _closed_cells(closed_fine), CLOSED_TABLE_COLUMNS)
        pipe.submit(_swap_in, conn, d, "agg_closed", into["agg_closed"])


def _fill_years(conn: Connection, d: Dialect, years: list[int]) -> None:
    """The year cells of these years, summed from their stored month cells (which must be
    current): counts in SQL, histograms merged here (decode_hist sums the months' buckets). The
    refresh's; a full build and a delta sum them from the month cells they have made (_years)."""
    dims = ", ".join(DIM_COLUMNS)
    for year in years:
        params = {"lo": _date(d, dt.date(year, 1, 1)), "hi": _date(d, dt.date(year + 1, 1, 1))}
        _run(conn, f"""insert into agg_counts (dims, grain, period, {dims}, {', '.join(COUNT_NAMES)})
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
        _write(conn, "agg_hist", [encode_hist(long)], HIST_TABLE_COLUMNS)


def _delete(conn: Connection, d: Dialect, months: list[dt.date]) -> None:
    for table in TABLES:
        # the primary key starts with dims (and metric): naming them all lets the delete seek
        key = f"dims in ({', '.join(map(str, range(16)))})"
        if table == "agg_hist":
            key += f" and metric in ({', '.join(map(str, HIST_METRICS))})"
        days = [_date(d, m + dt.timedelta(days=i)) for m in months for i in range((_month_end(m) - m).days + 1)]
        _run(conn, f"delete from {table} where {key} and grain = 'd' and period in :r_days", {"r_days": days})
        _run(conn, f"delete from {table} where {key} and grain = 'm' and period in :r_m",
             {"r_m": [_date(d, m) for m in months]})
        if table in YEAR_TABLES:
            _run(conn, f"delete from {table} where {key} and grain = 'y' and period in :r_y",
                 {"r_y": sorted({_date(d, dt.date(m.year, 1, 1)) for m in months})})



def _run(conn: Connection, statement: str, params: dict | None = None) -> None:
    from queries.filters import sql
    from queries.run import bind
    params = bind(conn, params)
    conn.execute(sql(statement, params), params)


def _parent(node: int) -> int:
    """The stored node one dimension finer, from which `node` is summed."""
    for bit in DIMS.values():
        finer = node | bit
        if finer != node and finer in STORED_NODES and finer != FULL:
            return finer
    return FULL


def _new_tables(conn: Connection, d: Dialect) -> dict[str, str]:
    """Empty summary tables for a full build, as {summary table: table to write}; _swap_in
    finishes each.

    SQLite: the tables themselves, emptied. PostgreSQL: new tables without their primary key,
    indexed once when filled (the key, then the schema's other indexes) and swapped in with the
    old tables' grants. COPY into a table whose key is maintained row by row (and full of the
    rows just deleted) took four times as long. Readers keep the old tables until the build
    commits; a failure leaves the swap undone, and the transaction rolls back."""
    if not d.pg:
        for name in TABLES:
            _run(conn, f"delete from {name}")
        return {name: name for name in TABLES}
    names = {name: f"{name}__build" for name in TABLES}
    for name, new in names.items():
        _run(conn, f"drop table if exists {new}")
        _run(conn, f"create table {new} (like {name} including defaults)")
    return names


def _swap_in(conn: Connection, d: Dialect, name: str, new: str) -> None:
    """The filled table `new` indexed and put in place of summary table `name` (PostgreSQL)."""
    if not d.pg:
        return
    table = TABLES[name]
    key = ", ".join(c.name for c in table.primary_key.columns)
    pk = table.primary_key.name
    _run(conn, f"alter table {new} add constraint {pk}__build primary key ({key})")
    grants = conn.execute(text("""select grantee, privilege_type from information_schema.role_table_grants
        where table_schema = current_schema() and table_name = :t and grantee <> current_user"""), {"t": name})
    for grantee, privilege in grants.all():  # the app's read-only role keeps reading (README)
        to = "public" if grantee == "PUBLIC" else f'"{grantee}"'
        _run(conn, f"grant {privilege} on {new} to {to}")
    _run(conn, f"drop table {name}")
    _run(conn, f"alter table {new} rename to {name}")
    _run(conn, f"alter table {name} rename constraint {pk}__build to {pk}")
    for index in table.indexes:  # the old table's went with it (schema: the full node's order)
        index.create(conn)


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
        _delete(conn, d, months)
        _fill_all(conn, d, months)
        _fill_years(conn, d, sorted({m.year for m in months}))
    _set_state(conn, "ready")
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- deltas
#
# An import, or a day of new appeals, changes a few thousand appeals spread over many months:
# recomputing those months reads and rewrites all their cells. A delta reads only the changed
# appeals, as they were (weight -1) and as they are (+1), sums them into cells at every grain as
# the build does, and adds those to the stored cells of the same keys. Counts and histograms are
# sums, so the cells equal a rebuild's (tests/test_summaries.py checks it on both databases).

def apply_delta(conn: Connection, before: pd.DataFrame, after: pd.DataFrame) -> float:
    """Bring the summaries from `before` to `after`: frames of appeal_rows() of the changed
    appeals read before and after the change (a new appeal is only in `after`, a deleted one
    only in `before`). Runs in the caller's transaction; nothing to do before the first build.
    Returns seconds."""
    started = time.perf_counter()
    frames = [f.assign(w=np.int64(w)) for f, w in ((before, -1), (after, 1)) if len(f)]
    if not frames or not is_ready(conn):
        return 0.0
    counts, hist, closed = _cells(pd.concat(frames, ignore_index=True), years=True)
    _merge(conn, "agg_counts", counts, list(COUNT_NAMES))
    _merge(conn, "agg_closed", _closed_cells([closed]), ["closed"])
    _merge(conn, "agg_hist", hist, ["n"])
    return time.perf_counter() - started


def _years(months: list[pd.DataFrame], nodes: tuple[int, ...], measures: list[str],
           extra: tuple[str, ...] = ()) -> list[pd.DataFrame]:
    """Year cells of `nodes` from their month cells (frames of _node_frame, one node each)."""
    out = []
    for m in months:
        if m.empty or int(m["dims"].iloc[0]) not in nodes:
            continue
        year = m["period"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]")
        y = m.assign(period=year.astype("datetime64[D]").astype(np.int64).astype(np.int32))
        y = _group_sum(y, ["period", *DIM_COLUMNS, *extra], measures)
        y["dims"] = m["dims"].iloc[0]
        y["grain"] = np.int8(GRAINS.index("y"))
        out.append(y)
    return out


def _coded(df: pd.DataFrame) -> pd.DataFrame:
    """Stored cells (grain letters, dates or ISO text, source text) in the build's integer codes."""
    out = df.copy()
    out["grain"] = pd.Categorical(df["grain"], categories=list(GRAINS)).codes.astype(np.int8)
    out["period"] = _day_numbers(df["period"])
    source = df["source"].where(df["source"] != "")  # no source: NaN, code -1
    out["source"] = pd.Categorical(source, categories=SOURCES).codes.astype(np.int8)
    for c in ("dims", "municipality_id", "topic_id", "organization_id", *(["metric", "urgent"] if "metric" in df else [])):
        out[c] = pd.to_numeric(df[c]).astype(np.int64)
    return out


DELTA_TABLE = "summary_delta"


def _group_sum(df: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    """df grouped by `keys` with integer `measures` summed exactly: one key code per row
    (_key_codes), one sort, and np.add.reduceat per measure. Twice as fast as pandas' groupby on
    the build's frames (and ten integer keys cost pandas a second for a week's import)."""
    if not len(df):
        return df[keys + measures].iloc[:0].reset_index(drop=True)
    code = _key_codes(df, keys)
    order = np.argsort(code, kind="stable")
    code = code[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    out = df[keys].iloc[order[starts]].reset_index(drop=True)
    for m in measures:
        out[m] = np.add.reduceat(df[m].to_numpy(np.int64)[order], starts)
    return out


class OutOfStep(RuntimeError):
    """The stored cells do not match the appeals a delta was read from (something wrote appeals
    without keeping the summaries current): `python -m queries.summary build` rebuilds them."""


def _merge(conn: Connection, table: str, cells: list[pd.DataFrame], measures: list[str]) -> int:
    """Add delta cells (build codes, signed measures) to the stored cells of `table`: the stored
    cells of the delta's keys are read, summed with it, deleted, and written again where not zero.
    Returns the cells written."""
    d = dialect_of(conn)
    hist = table == "agg_hist"
    keys = [c.name for c in TABLES[table].primary_key.columns]
    group = keys + (["bucket"] if hist else [])
    cells = [c for c in cells if len(c)]
    if not cells:
        return 0
    delta = _group_sum(pd.concat(cells, ignore_index=True), group, measures)
    delta = delta[(delta[measures] != 0).any(axis=1)]
    if delta.empty:
        return 0
    _run(conn, f"drop table if exists {DELTA_TABLE}")
    _run(conn, f"create temp table {DELTA_TABLE} as select {', '.join(keys)} from {table} where 1 = 0")
    _write(conn, DELTA_TABLE, [delta[keys].drop_duplicates()], keys)
    if d.pg:
        _run(conn, f"analyze {DELTA_TABLE}")  # a few thousand keys: index seeks, not a scan of the table
    match = " and ".join(f"t.{k} = k.{k}" for k in keys)
    stored = run(conn, f"select {', '.join('t.' + c for c in keys + (['hist'] if hist else measures))} "
                       f"from {DELTA_TABLE} k join {table} t on {match}")
    if len(stored):
        stored = _coded(stored)
        if hist:
            stored = decode_hist(stored, keys)
        merged = _group_sum(pd.concat([stored[group + measures], delta[group + measures]], ignore_index=True),
                            group, measures)
        if d.pg:
            _run(conn, f"delete from {table} t using {DELTA_TABLE} k where {match}")
        else:
            _run(conn, f"delete from {table} where ({', '.join(keys)}) in (select {', '.join(keys)} from {DELTA_TABLE})")
    else:
        merged = delta
    if (merged[measures] < 0).any(axis=None):
        raise OutOfStep(f"{table}: a cell would fall below zero")
    merged = merged[(merged[measures] != 0).any(axis=1)]
    return _write(conn, table, [encode_hist(merged) if hist else merged], TABLE_COLUMNS[table])


def analyze(engine) -> None:
    """Fresh planner statistics after a large change (outside any transaction on PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("analyze agg_counts; analyze agg_closed; analyze agg_hist"))
    else:
        with engine.begin() as c:
            c.execute(text("analyze"))


# ---------------------------------------------------------------------------------------------- queries

def node_for(filters: Filters, group: str | None = None) -> int:
    node = GROUP_DIM[group] if group else 0
    for name, bit in (("territories", 1), ("topics", 2), ("sources", 4), ("executors", 8)):
        if getattr(filters, name):
            node |= bit
    return node


def _cell_filter(filters: Filters, d: Dialect, viewer: Viewer, alias: str = "c",
                 purpose: str = "aggregate") -> tuple[str, dict]:
    return where(filters, d, viewer, purpose, alias=alias, with_dates=False)


def stored_node(needed: int) -> int:
    return needed if needed in STORED_NODES else FULL


def _raw_keys(group: str | None) -> tuple[str, str]:
    """Group key SQL over appeals `a` and the joins it needs."""
    from queries.kpis import GROUPS
    joins = {"territory": " join municipalities m on m.id = a.municipality_id",
             "category": " join topics t on t.id = a.topic_id"}.get(group, "")
    return (GROUPS[group] if group else ""), joins


def _combine(frames: list[pd.DataFrame], group: str | None) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=(["key"] if group else []) + list(COUNT_NAMES))
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    data = {"key": df["key"].to_numpy()} if group else {}
    for col in COUNT_NAMES:  # sums over no rows are NULL
        data[col] = pd.to_numeric(df[col]).fillna(0).to_numpy(dtype=np.int64)
    df = pd.DataFrame(data)
    if len(frames) == 1:
        return df
    if group:
        return df.groupby("key", as_index=False)[list(COUNT_NAMES)].sum()
    return df[list(COUNT_NAMES)].sum().to_frame().T


def counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
           purpose: str = "aggregate") -> pd.DataFrame:
    """The counts of COUNT_NAMES for the cohort, overall or per group (key).

    Whole months from the summary cells; the edge days from day cells when the node
    keeps them, else from the appeals (then the filters narrow what is read).
    purpose "cases": within the viewer's case scope (a head's territory, a municipality condition).
    """
    d = dialect_of(conn)
    territorial = purpose == "cases" and viewer.role == "head"
    node = stored_node(node_for(filters, group) | (DIMS["municipality_id"] if territorial else 0))
    p = pieces(filters.date_from, filters.date_to, years=True)
    frames, subtracted = [], False
    if node not in DAY_NODES and p.days:
        p, frames, subtracted = _edges_from_appeals(
            p, filters, lambda f: _raw_counts(conn, f, viewer, group, purpose), list(COUNT_NAMES))
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, purpose=purpose)
        params["dims"] = node
        source = cells_sql(d, "agg_counts", p, params, f"c.dims = :dims and {cond}")
        key_sql, join = GROUP_KEY[group] if group else ("", "")
        sums = ", ".join(f"sum(c.{n}) as {n}" for n in COUNT_NAMES)
        frames.append(run(conn, f"""
select {key_sql + ' as key, ' if group else ''}{sums}
from {source} c {join}{' group by ' + key_sql if group else ''}""", params))
    out = _combine(frames, group)
    if subtracted and group:  # a group whose appeals all fell on the subtracted days has none
        out = out[out["received"] != 0].reset_index(drop=True)
    return out


def _edges_from_appeals(p: Pieces, filters: Filters, read, measures: list[str]
                        ) -> tuple[Pieces, list[pd.DataFrame], bool]:
    """The edge days of `p` read from the appeals as edge_plan says: `read(filters)` gives a frame
    of additive `measures`; a subtracted run's are negated. Returns the pieces left for the cells,
    the frames read, and whether any frame was subtracted."""
    p, add, subtract = edge_plan(p)
    frames, subtracted = [], False
    for sign, runs in ((1, add), (-1, subtract)):
        for a, b in runs:
            raw = read(filters.narrowed(date_from=a, date_to=b))
            if sign < 0 and len(raw):
                raw[measures] = -raw[measures].apply(pd.to_numeric).fillna(0)
                subtracted = True
            frames.append(raw)
    return p, frames, subtracted


def _raw_counts(conn: Connection, filters: Filters, viewer: Viewer, group: str | None,
                purpose: str = "aggregate") -> pd.DataFrame:
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer, purpose)
    key, joins = _raw_keys(group)
    exprs = ", ".join(f"{e} as {n}" for n, e in FEW_ROWS_COUNTS.items())
    return run(conn, f"""
select {key + ' as key, ' if group else ''}{exprs},
  sum(case when a.first_response_at is null then 1 else 0 end) as no_response,
  sum(case when a.first_response_at is null and a.status in {OPEN} then 1 else 0 end) as no_response_open
from appeals a{joins} where {cond}{' group by ' + key if group else ''}""", params)


def pending(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, group: str | None,
            bucket: str | None = None) -> pd.DataFrame:
    """Unanswered appeals of the cohort whose deadline is at or after `now`: pending, pending_open."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    params["now"] = d.ts_param(now)
    key, joins = _raw_keys(group)
    keys = ([f"{key} as key"] if group else []) + ([f"{d.bucket('a.received_at', bucket)} as bucket"] if bucket else [])
    n_keys = len(keys)
    return run(conn, f"""
select {', '.join(keys) + ', ' if keys else ''}count(*) as pending,
       sum(case when a.status in {OPEN} then 1 else 0 end) as pending_open
from appeals a{'' if d.pg else ' indexed by ix_appeals_unanswered_due'}{joins}
where a.first_response_at is null and a.response_due_at >= :now and {cond}
{'group by ' + ', '.join(str(i + 1) for i in range(n_keys)) if n_keys else ''}""", params)


def histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
              by_urgency: bool = False) -> pd.DataFrame:
    """Histogram rows of the cohort: [key,] metric, [urgent,] bucket, n (a key/bucket may repeat).

    For a node in HIST_NODES: whole months from stored cells; edge days from day
    cells where kept (every metric for the empty node, first response for one-dimension nodes),
    else bucketed from the appeals of those days (then the filters narrow them).
    """
    d = dialect_of(conn)
    node = stored_node(node_for(filters, group))
    metrics = sorted({int(m) for m in metrics})
    p = pieces(filters.date_from, filters.date_to, years=node in YEAR_HIST_NODES)
    frames, subtracted = [], False
    if p.days and not set(metrics) <= set(day_hist_metrics(node)):  # no day cells for these metrics
        p, frames, subtracted = _edges_from_appeals(
            p, filters, lambda f: raw_histogram(conn, f, viewer, group, metrics, by_urgency), ["n"])
    if p.years or p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer, "c")
        params["dims"] = node
        params["p_metrics"] = metrics
        source = cells_sql(d, "agg_hist", p, params, f"c.dims = :dims and c.metric in :p_metrics and {cond}")
        key_sql, join = GROUP_KEY[group] if group else ("", "")
        names = _hist_names(group, by_urgency)
        keys = [n for n in names if n != "bucket"]
        columns = ", ".join(f"{key_sql} as key" if n == "key" else f"c.{n}" for n in keys)
        if d.pg:  # one row per key: the cells' packed records end to end (decode_hist sums repeated buckets)
            stored = run(conn, f"""
select {columns}, string_agg(c.hist, ''::bytea) as hist
from {source} c {join} group by {', '.join(str(i + 1) for i in range(len(keys)))}""", params)
        else:
            stored = run(conn, f"select {columns}, c.hist from {source} c {join}", params)
        frames.append(decode_hist(stored, keys))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=_hist_names(group, by_urgency) + ["n"])
    out = pd.concat(frames, ignore_index=True)
    if subtracted:  # net counts per bucket; a bucket (a key) emptied by the subtraction is gone
        names = _hist_names(group, by_urgency)
        out["n"] = pd.to_numeric(out["n"])
        out = out.groupby(names, as_index=False, sort=False)["n"].sum()
        out = out[out["n"] != 0].reset_index(drop=True)
    return out


def _hist_names(group: str | None, by_urgency: bool) -> list[str]:
    return (["key"] if group else []) + ["metric"] + (["urgent"] if by_urgency else []) + ["bucket"]


def raw_histogram(conn: Connection, filters: Filters, viewer: Viewer, group: str | None, metrics: Iterable[int],
                  by_urgency: bool = False) -> pd.DataFrame:
    """The cohort's appeals bucketed as the stored histograms are: [key,] metric, [urgent,] bucket, n.

    The values are read and bucketed here, as the build buckets them (bucket_of): one read of the
    rows, where bucketing in SQL read them once per metric and evaluated the buckets' CASE for each."""
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer)
    metrics = sorted({int(m) for m in metrics})
    key, joins = _raw_keys(group)
    if "join topics t" not in joins:
        joins += " join topics t on t.id = a.topic_id"
    values = _metric_columns(d)
    rows = run(conn, f"""
select {key + ' as key, ' if group else ''}case when t.is_urgent then 1 else 0 end as urgent,
       {', '.join(f'{values[m]} as h{m}' for m in metrics)}
from appeals a{joins} where {cond}""", params)
    names = _hist_names(group, by_urgency)
    long = _bucketed(rows, metrics, [n for n in names if n not in ("metric", "bucket")])
    if long.empty:
        return pd.DataFrame(columns=names + ["n"])
    return long.groupby(names, sort=False).size().reset_index(name="n")


def _metric_columns(d: Dialect) -> dict[int, str]:
    """SQL: each histogram metric's value in hours over appeals `a` (NULL: not measured), as _read_sql reads them."""
    return {1: "a.first_response_work_hours", 2: d.hours_between("a.received_at", "a.first_response_at"),
            3: f"case when a.status in {CLOSED} then {d.hours_between('a.received_at', 'a.closed_at')} end",
            4: "a.escalation_work_hours"}


def _bucket_of_period(d: Dialect, grain: str, col: str = "c.period") -> str:
    if grain == "day":
        return col
    if grain == "week":
        return f"date_trunc('week', {col}::timestamp)::date" if d.pg else f"date({col}, 'weekday 0', '-6 days')"
    return _month_sql(d, col)


def _series_pieces(filters: Filters, grain: str) -> Pieces:
    if grain == "month":
        return pieces(filters.date_from, filters.date_to)
    return Pieces((), ((filters.date_from, filters.date_to),))  # a month cell cannot be cut into weeks


def series_supported(filters: Filters, by: str | None, grain: str) -> bool:
    """Whether stored cells answer a series: day cells are kept for the small nodes only, so a
    finer node answers by month (its edge days read from the appeals) but not by day or week."""
    return stored_node(node_for(filters, by)) in DAY_NODES or grain == "month"


def series(conn: Connection, filters: Filters, viewer: Viewer, grain: str, measures: Iterable[str],
           table: str = "agg_counts", by: str | None = None) -> pd.DataFrame:
    """Measures per day, ISO week or month bucket (and per group `by`): bucket[, key], measures.

    Only where series_supported(filters, by, grain)."""
    d = dialect_of(conn)
    measures = list(measures)
    node = stored_node(node_for(filters, by))
    p = _series_pieces(filters, grain)
    frames = []
    if node not in DAY_NODES and p.days:
        for a, b in p.days:
            frames.append(_raw_series(conn, filters.narrowed(date_from=a, date_to=b), viewer, grain, measures,
                                      table, by))
        p = Pieces(p.months, ())
    keys = ["bucket"] + (["key"] if by else [])
    if p.months or p.days:
        cond, params = _cell_filter(filters, d, viewer)
        params["dims"] = node
        source = cells_sql(d, table, p, params, f"c.dims = :dims and {cond}")
        bucket = _bucket_of_period(d, grain)
        key_sql, join = GROUP_KEY[by] if by else ("", "")
        sums = ", ".join(f"sum(c.{m}) as {m}" for m in measures)
        frames.append(run(conn, f"""
select {bucket} as bucket{', ' + key_sql + ' as key' if by else ''}, {sums}
from {source} c {join}
group by {', '.join([bucket] + ([key_sql] if by else []))} order by 1""", params))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=keys + measures)
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    df["bucket"] = df["bucket"].astype(str).str.slice(0, 10)
    for m in measures:
        df[m] = pd.to_numeric(df[m]).fillna(0)
    return df.groupby(keys, as_index=False)[measures].sum().sort_values(keys).reset_index(drop=True)


def _raw_series(conn: Connection, filters: Filters, viewer: Viewer, grain: str, measures: list[str], table: str,
                by: str | None) -> pd.DataFrame:
    d = dialect_of(conn)
    key, joins = _raw_keys(by)
    if table == "agg_closed":  # closings are dated by closed_at
        cond, params = where(filters, d, viewer, with_dates=False)
        start, end = filters.utc_bounds()
        params.update(c_start=d.ts_param(start), c_end=d.ts_param(end))
        cond += " and a.closed_at >= :c_start and a.closed_at < :c_end"
        col, exprs = "a.closed_at", "count(*) as closed"
    else:
        cond, params = where(filters, d, viewer)
        col, exprs = "a.received_at", ", ".join(f"{FEW_ROWS_COUNTS[m]} as {m}" for m in measures)
    bucket = d.bucket(col, grain)
    return run(conn, f"""
select {bucket} as bucket{', ' + key + ' as key' if by else ''}, {exprs}
from appeals a{joins} where {cond}
group by {bucket}{', ' + key if by else ''}""", params)


def hist_percentiles(hist: pd.DataFrame, columns: Iterable[str], grouped: bool) -> pd.DataFrame:
    """Percentile columns from histogram rows, per key (or one row): linear within a bucket.

    Matches percentile_cont: the value at position q·(n−1) of the sorted values, interpolated
    between its two neighbours; each neighbour is placed evenly within its bucket.
    """
    columns = list(columns)
    nb = len(BUCKET_LOWER)
    if grouped:
        codes, keys = pd.factorize(hist["key"]) if len(hist) else (np.array([], dtype=int), pd.Index([]))
    else:
        codes, keys = np.zeros(len(hist), dtype=int), pd.Index([0])
    out = {"key": keys} if grouped else {}
    metric = pd.to_numeric(hist["metric"]).to_numpy(np.int64) if len(hist) else np.array([], dtype=np.int64)
    bucket = pd.to_numeric(hist["bucket"]).to_numpy(np.int64) if len(hist) else np.array([], dtype=np.int64)
    n = pd.to_numeric(hist["n"]).to_numpy(np.float64) if len(hist) else np.array([], dtype=np.float64)
    dense: dict[int, np.ndarray] = {}
    rows = np.arange(len(keys))
    for col in columns:
        m, q, divisor = PERCENTILES[col]
        if m not in dense:
            sel = metric == m
            dense[m] = np.bincount(codes[sel] * nb + bucket[sel], weights=n[sel],
                                   minlength=len(keys) * nb).reshape(len(keys), nb)
        counts = dense[m]
        cum = np.cumsum(counts, axis=1)
        total = cum[:, -1] if len(keys) else np.array([])
        pos = q * np.maximum(total - 1, 0)

        def value_at(rank: np.ndarray) -> np.ndarray:
            b = (cum > rank[:, None]).argmax(axis=1)
            k = counts[rows, b]
            before = cum[rows, b] - k
            return BUCKET_LOWER[b] + BUCKET_WIDTH[b] * (rank - before + 0.5) / np.where(k > 0, k, 1)

        lo, hi = value_at(np.floor(pos)), value_at(np.ceil(pos))
        est = (lo + (hi - lo) * (pos - np.floor(pos))) / divisor
        out[col] = np.where(total > 0, est, np.nan)
    return pd.DataFrame(out, index=None if grouped else [0])


# ---------------------------------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    from queries.config import ConfigError, mask_url, resolve_admin_database
    from queries.db import check_connection

    p = argparse.ArgumentParser(prog="python -m queries.summary",
                                description="Build or refresh the summary tables the dashboard reads.")
    p.add_argument("action", choices=("build", "refresh", "status"),
                   help="build: everything from the appeals; refresh: the given days; status: ready or not")
    p.add_argument("--db", help="database URL (default: DATABASE_URL, secrets, or the embedded SQLite file)")
    p.add_argument("--days", help="refresh: local days, YYYY-MM-DD[,YYYY-MM-DD…] or FROM..TO")
    args = p.parse_args(argv)
    try:
        url = args.db or resolve_admin_database().url
        engine = check_connection(url)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with engine.connect() as conn:
        if args.action == "status":
            print("ready" if is_ready(conn) else "not built")
            return 0
    days = None
    if args.action == "refresh":
        if not args.days:
            print("error: refresh needs --days", file=sys.stderr)
            return 2
        try:
            days = parse_days(args.days)
        except ValueError as exc:
            print(f"error: --days: {exc}", file=sys.stderr)
            return 2
    with engine.begin() as conn:
        seconds = refresh(conn, days)
    analyze(engine)
    print(f"{mask_url(url)}: summaries {'built' if days is None else f'refreshed for {len(days)} days'}"
          f" in {seconds:.1f} s", file=sys.stderr)
    return 0


def parse_days(spec: str) -> list[dt.date]:
    out: list[dt.date] = []
    for part in spec.split(","):
        part = part.strip()
        if ".." in part:
            a, b = (dt.date.fromisoformat(x) for x in part.split(".."))
            if b < a:
                raise ValueError(f"{part}: the end is before the start")
            out.extend(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
        elif part:
            out.append(dt.date.fromisoformat(part))
    if not out:
        raise ValueError("no days given")
    return out


if __name__ == "__main__":
    sys.exit(main())
