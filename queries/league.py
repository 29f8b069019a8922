"""League tables of territories and executors: KPIs, score, rank within peer group, rank change.

Grain: one row per territory (a city counts its districts; each city district also has a row
of its own) or per executor.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from queries import reference
from queries.filters import Filters
from queries.kpis import kpi_frame, territory_frames
from queries.metrics import SCORE_PARTS, SMALL_N, score, with_shares
from queries.viewer import Viewer

TERRITORY_PEERS = {"urban_okrug": "urban_okrug", "municipal_district": "municipal", "municipal_okrug": "municipal",
                   "city_district": "city_district"}
EXECUTOR_PEERS = {"ministry": "ministry", "regional_agency": "ministry", "municipal_admin": "municipal_admin",
                  "clinic": "clinic", "utility": "utility", "other": "utility"}


def rank(df: pd.DataFrame) -> pd.Series:
    """Rank by score within peer group, only for rows with enough appeals and a score (1 = best)."""
    eligible = (df["received"] >= SMALL_N) & df["score"].notna()
    # an ineligible row's score is NaN here, and a NaN takes no rank
    return df["score"].where(eligible).groupby(df["peer_group"]).rank(ascending=False, method="min")


def _territory_rows(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime,
                    terr: pd.DataFrame) -> pd.DataFrame:
    top, districts = territory_frames(conn, filters, viewer, now, terr, shares=False)  # _finish adds them
    top = top.merge(terr[terr["parent_id"].isna()], left_on="key", right_on="id")
    districts = districts.merge(terr[terr["kind"] == "city_district"], left_on="key", right_on="id")
    rows = pd.concat([top, districts], ignore_index=True)
    # every territory appears, even with no appeals in the period
    missing = terr[~terr["id"].isin(rows["id"])]
    if len(missing):
        rows = pd.concat([rows, missing.assign(received=0)], ignore_index=True)
    rows["peer_group"] = rows["kind"].map(TERRITORY_PEERS)
    return rows


def _finish(rows: pd.DataFrame, shares: bool = True) -> pd.DataFrame:
    """The shares (`shares`: territories without appeals were appended with NaN counts), score and
    rank."""
    if shares:
        rows = with_shares(rows)
    rows["score"] = score(rows)
    rows["rank"] = rank(rows)
    return rows


def territory_league(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime) -> pd.DataFrame:
    """Territories with every league column, score, rank, previous rank and rank change.

    The territory filter is ignored here: a league compares every territory.
    """
    f = filters.narrowed(territories=())
    terr = reference.territories(conn)
    cur = _finish(_territory_rows(conn, f, viewer, now, terr))
    prev = _finish(_territory_rows(conn, f.previous(), viewer, now, terr))
    return _with_change(cur, prev)


def executor_league(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime) -> pd.DataFrame:
    """Executors with every league column (no per-capita), score, rank and rank change."""
    f = filters.narrowed(executors=())
    orgs = reference.executors(conn)

    def rows(flt: Filters, figures=None) -> pd.DataFrame:
        df = kpi_frame(conn, flt, viewer, now, "executor", figures=figures).merge(orgs, left_on="key", right_on="id")
        df["peer_group"] = df["kind"].map(EXECUTOR_PEERS)
        return _finish(df, shares=False)  # kpi_frame's own, every executor in it having appeals

    # of the previous period only the rank (its score's shares) and the volume are shown
    return _with_change(rows(f), rows(f.previous(), SCORE_PARTS))


PEER_ORDER = ["urban_okrug", "municipal", "city_district", "ministry", "municipal_admin", "clinic", "utility"]


def _with_change(cur: pd.DataFrame, prev: pd.DataFrame) -> pd.DataFrame:
    prev_rank = prev.set_index("id")["rank"]
    cur["previous_rank"] = cur["id"].map(prev_rank)
    cur["rank_change"] = cur["previous_rank"] - cur["rank"]  # positive: moved up
    # the volume against the previous period, in per cent (the map's "change"); none from nothing
    prev_received = cur["id"].map(prev.set_index("id")["received"]).astype(float)
    cur["received_prev"] = prev_received
    cur["received_change"] = ((cur["received"] - prev_received) / prev_received * 100).where(prev_received > 0)
    cur["_peer_order"] = cur["peer_group"].map(PEER_ORDER.index)
    return (cur.sort_values(["_peer_order", "rank", "received"], ascending=[True, True, False], na_position="last")
            .drop(columns="_peer_order").reset_index(drop=True))


def funnel_limits(p: float, n_max: int, points: int = 60) -> pd.DataFrame:
    """Binomial control limits around share p: n, lo95, hi95, lo998, hi998."""
    n = np.unique(np.geomspace(max(5, 1), max(n_max, 10), points).astype(int))
    se = np.sqrt(p * (1 - p) / n)
    return pd.DataFrame({
        "n": n, "lo95": np.clip(p - 1.96 * se, 0, 1), "hi95": np.clip(p + 1.96 * se, 0, 1),
        "lo998": np.clip(p - 3.09 * se, 0, 1), "hi998": np.clip(p + 3.09 * se, 0, 1),
    })


def peer_average(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime) -> pd.DataFrame:
    """For an executor: its own figures and the average of the organizations of its kind (clinics
    with clinics), one row each (`who`: own, peers). The peers' figures are read in aggregate and
    only their mean leaves this function: no other organization's row or case reaches the viewer."""
    orgs = reference.executors(conn)
    mine = orgs[orgs["id"].isin(viewer.executors)]
    if mine.empty:
        return pd.DataFrame()
    peer_kind = EXECUTOR_PEERS.get(mine.iloc[0]["kind"])
    kinds = [k for k, g in EXECUTOR_PEERS.items() if g == peer_kind]
    everyone = Viewer("peer-average", "analyst")  # aggregates only: see the docstring
    f = filters.narrowed(executors=())
    rows = kpi_frame(conn, f, everyone, now, "executor").merge(orgs, left_on="key", right_on="id")
    peers = rows[rows["kind"].isin(kinds) & ~rows["id"].isin(viewer.executors) & (rows["received"] >= SMALL_N)]
    own = kpi_frame(conn, f.narrowed(executors=tuple(viewer.executors)), viewer, now)
    numeric = [c for c in own.columns if c in peers.columns and pd.api.types.is_numeric_dtype(own[c])]
    average = peers[numeric].mean(numeric_only=True).to_frame().T
    average["peers"] = len(peers)
    own = own[numeric].assign(peers=len(peers))
    return pd.concat([own.assign(who="own"), average.assign(who="peers")], ignore_index=True)
