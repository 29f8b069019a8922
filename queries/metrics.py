"""The registry of figures: each KPI of docs/metrics.md once, with how it is computed from a
cohort's counts (queries/measures.py defines the counts), its format and its direction.

Every path reads it: the KPI frames, the league, the trends, the pages (they ask `share`, never
divide themselves), the exports and the Методика page. Labels and definition texts are the user's
words and live in the message catalog under `label_key` and `help_key`; tests/test_architecture.py
ties the registry to docs/metrics.md and to the catalog.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from queries.measures import COUNT_COLUMNS

SMALL_N = 30  # a share over fewer appeals is "мало данных" and takes no rank


@dataclass(frozen=True)
class Metric:
    name: str
    fmt: str                     # count | share | hours | days | rate
    numerator: str | None = None
    denominator: str | None = None
    higher_is_better: bool | None = True

    @property
    def is_share(self) -> bool:
        return self.fmt == "share"

    @property
    def label_key(self) -> str:
        return f"metric.{self.name}.label"

    @property
    def help_key(self) -> str:
        return f"metric.{self.name}.help"


# Counts that are sums of others: the on-time share's base leaves out the appeals still inside their
# response window (answered in time, answered late, or unanswered past the deadline).
BASES = {"on_time_base": ("on_time", "late", "no_response_overdue")}


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("received", "count", higher_is_better=None),
    Metric("per_10k", "rate", higher_is_better=None),
    Metric("closed", "count", higher_is_better=None),
    Metric("resolved", "count", higher_is_better=None),
    Metric("open", "count", higher_is_better=None),
    Metric("resolved_share", "share", "resolved", "received"),
    Metric("confirmed_share", "share", "confirmed", "resolved_with_feedback"),
    Metric("false_closure_share", "share", "false_closures", "resolved", higher_is_better=False),
    Metric("satisfaction", "share", "satisfied", "rated"),
    Metric("escalated_share", "share", "escalated", "received", higher_is_better=False),
    Metric("removed", "count", higher_is_better=False),
    Metric("on_time_share", "share", "on_time", "on_time_base"),
    Metric("overdue_now", "count", higher_is_better=False),
    Metric("first_response_median", "hours", higher_is_better=False),
    Metric("first_response_p90", "hours", higher_is_better=False),
    Metric("close_time_median", "days", higher_is_better=False),
    Metric("time_before_escalation", "hours", higher_is_better=None),
]}

OVERVIEW_CARDS = ["received", "resolved_share", "on_time_share", "first_response_median", "overdue_now",
                  "satisfaction", "escalated_share"]
LEAGUE_COLUMNS = ["received", "per_10k", "on_time_share", "first_response_median", "resolved_share",
                  "confirmed_share", "false_closure_share", "satisfaction", "escalated_share", "overdue_now"]
SCORE_PARTS = ["on_time_share", "resolved_share", "confirmed_share", "satisfaction"]


def share(numerator, denominator):
    """numerator / denominator as a fraction, NaN where the denominator is 0 (scalars or arrays)."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    out = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def with_bases(df: pd.DataFrame) -> pd.DataFrame:
    """Add each count of BASES as the sum of its parts."""
    for name, parts in BASES.items():
        df[name] = sum(df[p] for p in parts)
    return df


def derive(df: pd.DataFrame) -> pd.DataFrame:
    """Add every share (a fraction 0..1, NaN when its denominator is 0) and its low-data flag."""
    return pd.DataFrame(add_shares(dict(df.items())), index=df.index)


def score(df: pd.DataFrame) -> np.ndarray:
    """Score 0–100 per row: the mean of the score parts in %, over those that are not low-data."""
    parts = np.column_stack([df[p].to_numpy(dtype=float) * 100 for p in SCORE_PARTS])
    usable = ~np.column_stack([df[f"{p}_low"].to_numpy(dtype=bool) for p in SCORE_PARTS]) & ~np.isnan(parts)
    n = usable.sum(axis=1)
    total = np.where(usable, parts, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def delta(current: float, previous: float, metric: Metric) -> float | None:
    """Percentage points for shares, % change for counts and times; None when not comparable."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    value = float(changes(np.array([current], dtype=float), np.array([previous], dtype=float), metric)[0])
    return None if np.isnan(value) else value


def changes(current, previous, metric: Metric) -> np.ndarray:
    """delta() over arrays: NaN where not comparable (a count or time from 0, a missing value)."""
    cur, prev = np.asarray(current, dtype=float), np.asarray(previous, dtype=float)
    if metric.is_share:
        return (cur - prev) * 100
    return np.where(prev != 0, (cur - prev) / np.where(prev != 0, prev, 1) * 100, np.nan)


def with_shares(df: pd.DataFrame) -> pd.DataFrame:
    """A KPI frame's counts as integers (0 where a group had no rows), its bases, then every share."""
    for col in COUNT_COLUMNS:
        if df[col].dtype != np.int64:
            df[col] = df[col].fillna(0).astype("int64")
    return derive(with_bases(df))


def needs(names) -> tuple[str, ...]:
    """The counts that the figures `names` are computed from (a share's numerator and
    denominator, a base's parts), in COUNT_COLUMNS order; percentiles need none."""
    from queries.measures import PERCENTILES

    wanted: set[str] = set()
    for name in names:
        m = METRICS.get(name)
        if name in PERCENTILES:
            continue
        if m is None or name == "per_10k":
            raise ValueError(f"not a figure of a KPI frame: {name}")
        for count in ((m.numerator, m.denominator) if m.is_share else (name,)):
            wanted.update(BASES.get(count, (count,)))
    return tuple(c for c in COUNT_COLUMNS if c in wanted)


def add_shares(cols: dict[str, np.ndarray], names=None) -> dict[str, np.ndarray]:
    """The bases whose parts are in `cols` (a frame's columns as arrays), then each share of `names`
    (None: every share) with its `_n` and `_low` columns, and per_10k where there is a population.
    Arrays rather than a frame: a KPI frame has few rows, and each frame operation per column
    cost more than its statements."""
    for name, parts in BASES.items():
        if all(p in cols for p in parts):
            cols[name] = sum(cols[p] for p in parts)
    for m in METRICS.values():
        if m.is_share and (names is None or m.name in names):
            den = np.asarray(cols[m.denominator], dtype=float)
            cols[m.name] = share(np.asarray(cols[m.numerator], dtype=float), den)
            cols[f"{m.name}_n"] = den.astype(np.int64)
            cols[f"{m.name}_low"] = den < SMALL_N
    if "population" in cols and (names is None or "per_10k" in names):
        pop = np.asarray(cols["population"], dtype=float)
        cols["per_10k"] = np.where(pop > 0, np.asarray(cols["received"], dtype=float) / np.where(pop > 0, pop, 1)
                                   * 10_000, np.nan)
    return cols
