"""Percentiles from histogram rows, as PostgreSQL's percentile_cont computes them from values."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from queries.measures import BUCKET_LOWER, BUCKET_WIDTH, PERCENTILES, bucket_of


def hist_percentiles(hist: pd.DataFrame, columns: Iterable[str], grouped: bool) -> pd.DataFrame:
    """Percentile columns from histogram rows, per key (or one row): linear within a bucket.

    Matches percentile_cont: the value at position q·(n−1) of the sorted values, interpolated
    between its two neighbours; each neighbour is placed evenly within its bucket.
    """
    if grouped:
        codes, keys = pd.factorize(hist["key"]) if len(hist) else (np.array([], dtype=int), pd.Index([]))
    else:
        codes, keys = np.zeros(len(hist), dtype=int), pd.Index([0])
    metric = pd.to_numeric(hist["metric"]).to_numpy(np.int64) if len(hist) else np.array([], dtype=np.int64)
    bucket = pd.to_numeric(hist["bucket"]).to_numpy(np.int64) if len(hist) else np.array([], dtype=np.int64)
    n = pd.to_numeric(hist["n"]).to_numpy(np.float64) if len(hist) else np.array([], dtype=np.float64)
    return _from_buckets(codes, keys, metric, bucket, n, list(columns), grouped)


def hist_percentile_arrays(a: dict[str, np.ndarray], columns: Iterable[str], grouped: bool
                           ) -> dict[str, np.ndarray]:
    """hist_percentiles of read.hist_arrays' arrays (a key and bucket may repeat, n may be
    negative: summed), as arrays: the distinct keys (`key`, when grouped) and a value per key
    and column."""
    if grouped:
        codes, uniques = pd.factorize(a["key"])
        uniques = np.asarray(uniques, dtype=a["key"].dtype)
    else:
        codes, uniques = np.zeros(len(a["n"]), dtype=np.int64), None
    out = _percentile_arrays(np.asarray(codes, np.int64), len(uniques) if grouped else 1,
                             np.asarray(a["metric"], np.int64), np.asarray(a["bucket"], np.int64),
                             np.asarray(a["n"], np.float64),
                             list(columns))
    return {"key": uniques, **out} if grouped else out


def value_percentile_arrays(keys: np.ndarray | None, values: dict[int, np.ndarray], columns: Iterable[str]
                            ) -> tuple[np.ndarray | None, np.ndarray, dict[str, np.ndarray]]:
    """hist_percentiles of appeals' own values (metric → a value per appeal, NaN where not
    measured; `keys`: each appeal's group, None for one cohort), bucketed as the build buckets
    them, so that a cohort read from its rows gets the figure its cells would give. As arrays:
    the distinct keys (None for one cohort), each appeal's position among them, and each
    column's value per key (for a small cohort a frame costs more than the figure, bench.figures)."""
    n_values = len(next(iter(values.values()), []))
    if keys is not None:
        codes, uniques = _factorized(keys)
    else:
        codes, uniques = np.zeros(n_values, dtype=np.int64), None
    coded = {}
    for m, v in values.items():
        v = np.asarray(v, dtype=float)
        keep = ~np.isnan(v)
        coded[m] = (codes[keep], v[keep])
    return uniques, codes, coded_percentile_arrays(len(uniques) if uniques is not None else 1, coded, columns)


def _factorized(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize's codes and uniques (an object array, in order of appearance); a few hundred
    keys by a dict, which costs a fraction of pandas' set-up."""
    if len(keys) > 500:
        codes, uniques = pd.factorize(keys)
        return codes, np.asarray(uniques, dtype=object)
    seen: dict = {}
    codes = np.fromiter((seen.setdefault(k, len(seen)) for k in keys), dtype=np.int64, count=len(keys))
    uniques = np.empty(len(seen), dtype=object)
    uniques[:] = list(seen)
    return codes, uniques


def coded_percentile_arrays(n_keys: int, values: dict[int, tuple[np.ndarray, np.ndarray]], columns: Iterable[str]
                            ) -> dict[str, np.ndarray]:
    """value_percentile_arrays of measured values given with their key's position (metric →
    (positions in 0..n_keys-1, values)), for a reader that has the keys apart from the values."""
    buckets = {m: (np.asarray(code, np.int64), np.asarray(bucket_of(np.maximum(v, 0)), np.int64))
               for m, (code, v) in values.items()}
    return _sorted_percentile_arrays(n_keys, buckets, list(columns))


def _sorted_percentile_arrays(n_keys: int, buckets: dict[int, tuple[np.ndarray, np.ndarray]],
                              columns: list[str]) -> dict[str, np.ndarray]:
    """_percentile_arrays of one appeal per (key code, bucket) pair, from the pairs sorted rather
    than from a dense key × bucket histogram: for a few hundred values the dense matrix's
    thousand buckets per key cost more than the statement that fetched them. The same figures:
    the value at a rank is in the bucket that holds the rank-th sorted value, placed evenly
    among that bucket's values."""
    nb = len(BUCKET_LOWER)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        p = PERCENTILES[col]
        code, bucket = buckets.get(p.metric, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        if n_keys == 1:
            out[col] = np.array([_one_percentile(np.sort(bucket), p.q, p.divisor)])
            continue
        flat = np.sort(code * nb + bucket)  # by key, then bucket
        total = np.bincount(code, minlength=n_keys)
        start = np.concatenate(([0], np.cumsum(total)[:-1])) if n_keys else np.zeros(0, np.int64)
        pos = p.q * np.maximum(total - 1, 0)
        has = total > 0

        # both neighbours' ranks at once: half the array operations
        floor = np.floor(pos)
        rank = np.concatenate((floor, np.ceil(pos)))
        start2, has2 = np.concatenate((start, start)), np.concatenate((has, has))
        at = np.where(has2, start2 + rank.astype(np.int64), 0)
        cell = flat[at] if len(flat) else np.zeros(2 * n_keys, np.int64)
        b = cell % nb
        first = np.searchsorted(flat, cell, "left")
        k = np.searchsorted(flat, cell, "right") - first
        value = BUCKET_LOWER[b] + BUCKET_WIDTH[b] * (rank - (first - start2) + 0.5) / np.where(k > 0, k, 1)
        lo, hi = value[:n_keys], value[n_keys:]
        est = (lo + (hi - lo) * (pos - floor)) / p.divisor
        out[col] = np.where(has, est, np.nan)
    return out


def _one_percentile(sorted_buckets: np.ndarray, q: float, divisor: float) -> float:
    """_sorted_percentile_arrays' figure for one key, its values' buckets sorted, in scalars: the
    same arithmetic, without a dozen array operations on one element each."""
    n = len(sorted_buckets)
    if not n:
        return float("nan")
    pos = q * max(n - 1, 0)
    lo_rank, hi_rank = math.floor(pos), math.ceil(pos)

    def value_at(rank: int) -> float:
        b = int(sorted_buckets[rank])
        first = int(np.searchsorted(sorted_buckets, b, "left"))
        k = int(np.searchsorted(sorted_buckets, b, "right")) - first
        return float(BUCKET_LOWER[b] + BUCKET_WIDTH[b] * (rank - first + 0.5) / k)

    lo, hi = value_at(lo_rank), value_at(hi_rank)
    return (lo + (hi - lo) * (pos - lo_rank)) / divisor


def _from_buckets(codes: np.ndarray, keys: pd.Index, metric: np.ndarray, bucket: np.ndarray, n: np.ndarray,
                  columns: list[str], grouped: bool) -> pd.DataFrame:
    out = _percentile_arrays(codes, len(keys), metric, bucket, n, columns)
    return pd.DataFrame({"key": keys, **out} if grouped else out, index=None if grouped else [0])


def _percentile_arrays(codes: np.ndarray, n_keys: int, metric: np.ndarray, bucket: np.ndarray, n: np.ndarray,
                       columns: list[str]) -> dict[str, np.ndarray]:
    nb = len(BUCKET_LOWER)
    out: dict[str, np.ndarray] = {}
    dense: dict[int, np.ndarray] = {}
    rows = np.arange(n_keys)
    for col in columns:
        p = PERCENTILES[col]
        m, q, divisor = p.metric, p.q, p.divisor
        if m not in dense:
            sel = metric == m
            dense[m] = np.bincount(codes[sel] * nb + bucket[sel], weights=n[sel],
                                   minlength=n_keys * nb).reshape(n_keys, nb)
        counts = dense[m]
        cum = np.cumsum(counts, axis=1)
        total = cum[:, -1] if n_keys else np.array([])
        pos = q * np.maximum(total - 1, 0)

        def value_at(rank: np.ndarray) -> np.ndarray:
            b = (cum > rank[:, None]).argmax(axis=1)
            k = counts[rows, b]
            before = cum[rows, b] - k
            return BUCKET_LOWER[b] + BUCKET_WIDTH[b] * (rank - before + 0.5) / np.where(k > 0, k, 1)

        lo, hi = value_at(np.floor(pos)), value_at(np.ceil(pos))
        est = (lo + (hi - lo) * (pos - np.floor(pos))) / divisor
        out[col] = np.where(total > 0, est, np.nan)
    return out
