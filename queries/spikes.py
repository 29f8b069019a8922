"""Spikes against the season: for each territory × topic (or category) × week, the range of appeals
expected from that cell's own history, and the cells above it.

The expected count is the cell's recent level times its seasonal ratio:
- level: the mean of the 8 weeks before, its largest week left out (a spike of last month does not
  raise this month's expectation);
- seasonal ratio: in each earlier year (the same ISO week, up to five years back), the week and the
  next one against the 8 weeks before them, pooled over the years and pulled towards the
  category's region-wide ratio by a few appeals' weight (a small cell's ratio is mostly noise).
  Ratios, not counts: the centre's growth cancels, and the winter snow that comes every year
  raises the expectation as it raised the counts before.
The range is the central 99.98 % of a negative binomial with that mean (scipy.stats) and the
over-dispersion the category's cells show in their recent weeks. A cell is a spike when its count
is above the range and at least MIN_RECEIVED; its score is how unlikely that many were
(−log10 of the upper tail). A cell without an earlier year whose window lies wholly within the
centre's history, or without 8 recent weeks, has too little history: no range, no alert.

Read from the summaries' day cells of the territory × topic node (one GROUP BY over the windows'
days), or from the appeals when the summaries do not answer.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.dialect import dialect_of
from queries.filters import CENTRE_START
from queries.localtime import LOCAL
from queries.summaries import usable
from queries.summaries.store import period_value
from queries.viewer import Viewer

RECENT = 8           # weeks that give the level
YEARS = 5            # earlier years looked at
SHRINK = 5.0         # appeals: the weight of the category's ratio in a cell's
MIN_RECEIVED = 8     # fewer appeals in a week is never a spike (a handful is noise in a small cell)
LOW_Q, HIGH_Q = 0.0001, 0.9999
DEFAULT_ALPHA = 0.1  # over-dispersion when a category's cells say too little
NODE = 3             # the summaries' territory × topic node (lattice.DIMS: 1 | 2)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def last_whole_week(today: dt.date) -> dt.date:
    """The Monday of the last whole week before `today`'s (the overview's spikes)."""
    return week_start(today) - dt.timedelta(days=7)


def weeks_between(d_from: dt.date, d_to: dt.date) -> list[dt.date]:
    """The Mondays of the weeks that begin within [d_from, d_to]."""
    first = week_start(d_from) if d_from.weekday() == 0 else week_start(d_from) + dt.timedelta(days=7)
    return [first + dt.timedelta(days=7 * i) for i in range(max(0, (d_to - first).days // 7 + 1))]


def same_week(week: dt.date, years_back: int) -> dt.date:
    """The Monday of the same ISO week `years_back` years earlier (week 53 → 52)."""
    year, number, _ = week.isocalendar()
    year -= years_back
    last = dt.date(year, 12, 28).isocalendar()[1]
    return dt.date.fromisocalendar(year, min(number, last), 1)


@dataclass(frozen=True)
class Window:
    """Which weekly columns the cells are read into: column 0..RECENT-1 the recent weeks, RECENT the
    week itself; for each earlier year k, RECENT weeks before, the week and the next."""
    week: dt.date

    @property
    def starts(self) -> list[tuple[int, int, dt.date]]:
        """(year k, position j, Monday): j = 0..RECENT-1 before, RECENT the week, RECENT+1 the next."""
        out = []
        for k in range(YEARS + 1):
            anchor = self.week if k == 0 else same_week(self.week, k)
            for j in range(RECENT + (1 if k == 0 else 2)):
                out.append((k, j, anchor + dt.timedelta(days=7 * (j - RECENT))))
        return out


def _weekly(conn: Connection, mondays: list[dt.date], viewer: Viewer, level: str) -> pd.DataFrame:
    """Appeals per (municipality, topic or category, week) for the weeks beginning on `mondays`."""
    d = dialect_of(conn)
    mondays = sorted(set(mondays))
    # runs of consecutive weeks as day ranges: a few BETWEENs instead of hundreds of days
    runs: list[list[dt.date]] = []
    for m in mondays:
        if runs and (m - runs[-1][1]).days == 7:
            runs[-1][1] = m
        else:
            runs.append([m, m])
    params: dict = {}
    arms = []
    summarised = usable(conn, viewer)
    day = "c.period" if summarised else d.local_date("a.received_at")
    for i, (a, b) in enumerate(runs):
        if summarised:
            params[f"a{i}"], params[f"b{i}"] = period_value(d, a), period_value(d, b + dt.timedelta(days=6))
            arms.append(f"c.period between :a{i} and :b{i}")
        else:
            lo = dt.datetime.combine(a, dt.time(), tzinfo=LOCAL)
            hi = dt.datetime.combine(b + dt.timedelta(days=7), dt.time(), tzinfo=LOCAL)
            params[f"a{i}"], params[f"b{i}"] = d.ts_param(lo), d.ts_param(hi)
            arms.append(f"(a.received_at >= :a{i} and a.received_at < :b{i})")
    week = d.date_bucket(day, "week")
    # a category's cells: its topics summed (a category's own id where it has no topics)
    topic = "coalesce(tp.parent_id, tp.id)" if level == "category" else "tp.id"
    if summarised:
        sql = (f"select c.municipality_id as m, {topic} as t, {week} as w, sum(c.received) as n "
               f"from agg_counts c join topics tp on tp.id = c.topic_id "
               f"where c.dims = {NODE} and c.grain = 'd' and ({' or '.join(arms)}) group by c.municipality_id, {topic}, w")
    else:
        sql = (f"select a.municipality_id as m, {topic} as t, {week} as w, count(*) as n from appeals a "
               f"join topics tp on tp.id = a.topic_id where {' or '.join(arms)} group by a.municipality_id, {topic}, w")
    rows = pd.DataFrame([tuple(r) for r in conn.execute(text(sql), params)], columns=["m", "t", "w", "n"])
    rows["w"] = pd.to_datetime(rows["w"]).dt.date
    return rows


def has_history(week: dt.date) -> bool:
    """Whether `week` can have a range: its 8 weeks before, and the window of at least one earlier
    year, lie wholly within the centre's history. A matter of dates only (no data read)."""
    week = week_start(week)
    if week - dt.timedelta(weeks=RECENT) < CENTRE_START:
        return False
    return any(same_week(week, k) - dt.timedelta(weeks=RECENT) >= CENTRE_START for k in range(1, YEARS + 1))


def spikes(conn: Connection, week: dt.date, viewer: Viewer, level: str = "category") -> pd.DataFrame:
    """Every territory × topic cell of `week` (a Monday) with data: municipality_id, topic_id (a
    category's id at level "category"), week, received, expected, low, high, score, history (False:
    too little history, no range) and spike. Sorted: spikes first, by score."""
    week = week_start(week)
    win = Window(week)
    starts = win.starts
    rows = _weekly(conn, [s for _, _, s in starts], viewer, level)
    cells = rows[["m", "t"]].drop_duplicates().reset_index(drop=True)
    columns = {s: i for i, (_, _, s) in enumerate(starts)}
    y = np.zeros((len(cells), len(starts)))
    if len(rows):
        cell_of = pd.Series(range(len(cells)), index=pd.MultiIndex.from_frame(cells))
        ci = cell_of.loc[pd.MultiIndex.from_frame(rows[["m", "t"]])].to_numpy()
        wi = rows["w"].map(columns)
        ok = wi.notna().to_numpy()
        np.add.at(y, (ci[ok], wi[ok].astype(int).to_numpy()), rows["n"].to_numpy(dtype=float)[ok])
    # which columns lie wholly within the centre's history
    known = np.array([s >= CENTRE_START for _, _, s in starts])
    idx = {(k, j): i for i, (k, j, _) in enumerate(starts)}
    recent = [idx[(0, j)] for j in range(RECENT)]
    now = idx[(0, RECENT)]
    received = y[:, now]
    # level: the recent weeks' mean without their largest
    rec = y[:, recent]
    level_ = (rec.sum(axis=1) - rec.max(axis=1)) / (RECENT - 1)
    has_recent = known[recent].all()
    # seasonal ratio from the earlier years whose whole window is known
    num = np.zeros(len(cells))
    den = np.zeros(len(cells))
    years = 0
    for k in range(1, YEARS + 1):
        cols = [idx[(k, j)] for j in range(RECENT + 2)]
        if not known[cols].all():
            continue
        years += 1
        num += y[:, cols[RECENT:]].mean(axis=1)
        den += y[:, cols[:RECENT]].mean(axis=1)
    # the category's region-wide ratio (every territory pooled), the prior a cell's ratio shrinks to
    frame = pd.DataFrame({"t": cells["t"], "num": num, "den": den})
    pooled = frame.groupby("t")[["num", "den"]].sum()
    prior = (pooled["num"] / pooled["den"]).replace([np.inf, -np.inf], np.nan).fillna(1.0)
    cat_ratio = cells["t"].map(prior).to_numpy()
    ratio = (num + SHRINK * cat_ratio) / (den + SHRINK)
    expected = level_ * ratio
    # over-dispersion per topic from its cells' recent weeks: (variance − mean) / mean²
    m_rec, v_rec = rec.mean(axis=1), rec.var(axis=1, ddof=1)
    alpha_cell = np.where(m_rec >= 3, np.maximum(v_rec - m_rec, 0) / np.maximum(m_rec, 1e-9) ** 2, np.nan)
    alphas = pd.Series(alpha_cell).groupby(cells["t"]).median()
    alpha = np.clip(cells["t"].map(alphas).fillna(DEFAULT_ALPHA).to_numpy(), 0.02, 1.0)
    # the expectation is itself estimated: its relative variance (the level's from 7 weeks' counts,
    # the ratio's from the earlier years' counts) widens the range as a further over-dispersion
    alpha = alpha + 1 / np.maximum(level_ * (RECENT - 1), 1) + 1 / (2 * num + SHRINK) + 1 / (RECENT * den + SHRINK)
    history = bool(has_recent and years > 0)  # = has_history(week)
    mu = np.maximum(expected, 0.05)
    size = 1.0 / alpha
    p = size / (size + mu)
    low = stats.nbinom.ppf(LOW_Q, size, p)
    high = stats.nbinom.ppf(HIGH_Q, size, p)
    tail = stats.nbinom.sf(received - 1, size, p)
    score = -np.log10(np.maximum(tail, 1e-300))
    out = pd.DataFrame({
        "municipality_id": cells["m"].astype(int), "topic_id": cells["t"].astype(int), "week": week,
        "received": received.astype(int), "expected": expected, "low": low.astype(int), "high": high.astype(int),
        "score": score, "history": history,
    })
    if not history:
        out[["expected", "low", "high", "score"]] = np.nan
    out["spike"] = history & (out["received"] > out["high"]) & (out["received"] >= MIN_RECEIVED)
    out = out[(out["received"] > 0) | out["spike"]]
    return out.sort_values(["spike", "score", "received"], ascending=[False, False, False]).reset_index(drop=True)


def spikes_between(conn: Connection, d_from: dt.date, d_to: dt.date, viewer: Viewer,
                   level: str = "category") -> pd.DataFrame:
    """The spikes of every week beginning within [d_from, d_to], strongest first."""
    found = [s[s["spike"]] for s in (spikes(conn, w, viewer, level) for w in weeks_between(d_from, d_to))]
    found = [f for f in found if len(f)]
    if not found:
        return spikes(conn, week_start(d_to), viewer, level).iloc[:0]
    return pd.concat(found).sort_values(["score", "received"], ascending=False).reset_index(drop=True)


def series(conn: Connection, cells: list[tuple[int, int]], last_week: dt.date, weeks: int, viewer: Viewer,
           level: str = "category") -> dict[tuple[int, int], list[int]]:
    """Each cell's weekly counts over the `weeks` weeks ending with `last_week` (the sparklines)."""
    mondays = [last_week - dt.timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    rows = _weekly(conn, mondays, viewer, level)
    counts = rows.groupby(["m", "t", "w"])["n"].sum()
    return {c: [int(counts.get((c[0], c[1], w), 0)) for w in mondays] for c in cells}
