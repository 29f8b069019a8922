"""Maturing figures compared like for like: the previous period as it stood at the same age,
against an independent pandas computation from the appeals' times and their timelines."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from queries import kpis, summaries
from queries.filters import Filters
from queries.kpis import kpi_as_of, kpi_frame
from queries.measures import PERCENTILES, bucket_width
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import frame, number, run_page, select

ANALYST = Viewer("a", "analyst")
CURRENT = Filters(dt.date(2021, 3, 16), dt.date(2021, 4, 14))  # the last 30 days of the small database


def expected_as_of(engine, filters: Filters, as_of: dt.datetime) -> dict:
    df = select(frame(engine), filters.date_from, filters.date_to)
    with engine.connect() as c:
        fb = pd.read_sql(text("select appeal_id, min(at) as at from appeal_events where kind in "
                              "('citizen_confirmed', 'citizen_disputed') group by appeal_id"), c)
    fb_at = df["id"].map(dict(zip(fb["appeal_id"], pd.to_datetime(fb["at"], utc=True))))
    t = pd.Timestamp(as_of)
    closed = df["status"].isin(["resolved", "explained", "declined"]) & (df["closed_at"] <= t)
    resolved = (df["status"] == "resolved") & (df["closed_at"] <= t)
    fr_by = df["first_response_at"] <= t
    on_time = fr_by & (df["first_response_at"] <= df["response_due_at"])
    late = fr_by & (df["first_response_at"] > df["response_due_at"])
    overdue = ~fr_by & (df["response_due_at"] < t)
    with_fb = resolved & df["citizen_feedback"].notna() & (fb_at <= t)
    rated = df["citizen_rating"].notna() & (df["closed_at"] <= t)
    days = (df["closed_at"] - df["received_at"]).dt.total_seconds() / 86400
    return {
        "received": len(df),
        "resolved_share": resolved.sum() / len(df),
        "on_time_share": on_time.sum() / (on_time.sum() + late.sum() + overdue.sum()),
        "confirmed_share": (with_fb & (df["citizen_feedback"] == "confirmed")).sum() / with_fb.sum(),
        "satisfaction": (rated & (df["citizen_rating"] >= 4)).sum() / rated.sum(),
        "escalated_share": (df["escalated_at"] <= t).sum() / len(df),
        "close_time_median": days[closed].median(),
        "first_response_median": df.loc[fr_by, "first_response_work_hours"].median(),
    }


def test_the_previous_period_at_the_same_age_equals_a_computation_from_the_timeline(small_db, monkeypatch):
    previous = CURRENT.previous()
    as_of = SMALL_AS_OF - (CURRENT.date_from - previous.date_from)
    with small_db.connect() as c:
        got = kpi_as_of(c, previous, ANALYST, as_of).iloc[0]
        final = kpi_frame(c, previous, ANALYST, SMALL_AS_OF).iloc[0]
    want = expected_as_of(small_db, previous, as_of)
    for name, value in want.items():
        if name in PERCENTILES:  # from the histograms, as every page's: within the value's bucket
            unit = PERCENTILES[name].divisor
            assert abs(got[name] - value) <= bucket_width(value * unit) / unit + 1e-9, name
        else:
            assert got[name] == pytest.approx(value, rel=1e-9), name
    # through the summaries, by a read of the changed appeals only or of the whole cohort, and from
    # the rows alone: the same counts, each percentile within its bucket
    with small_db.connect() as c:
        with summaries.disabled():
            rows = kpi_as_of(c, previous, ANALYST, as_of).iloc[0]
        for whole in (0, 10 ** 9):
            monkeypatch.setattr(kpis, "AS_OF_WHOLE_ROWS", whole)
            path = kpi_as_of(c, previous, ANALYST, as_of).iloc[0]
            for name in got.index:
                if name in PERCENTILES and pd.notna(rows[name]):
                    unit = PERCENTILES[name].divisor
                    assert abs(path[name] - rows[name]) <= bucket_width(rows[name] * unit) / unit + 1e-9, name
                    assert path[name] == pytest.approx(got[name], rel=1e-9), name
                elif name not in PERCENTILES:
                    assert path[name] == pytest.approx(rows[name], rel=1e-9, nan_ok=True), (name, whole)
    # it matters: the previous period had a month more to close, and its final figure is higher
    assert final["resolved_share"] > got["resolved_share"] + 0.05
    # as of now, the same computation is the ordinary one
    with small_db.connect() as c:
        now_row = kpi_as_of(c, previous, ANALYST, SMALL_AS_OF).iloc[0]
    for name in ("resolved_share", "on_time_share", "confirmed_share", "escalated_share"):
        assert now_row[name] == pytest.approx(final[name], rel=1e-9), name


def test_the_cards_arrows_compare_like_for_like(small_db):
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, **{"from": CURRENT.date_from.isoformat(), "to": CURRENT.date_to.isoformat()})
    previous = CURRENT.previous()
    want_prev = expected_as_of(small_db, previous, SMALL_AS_OF - (CURRENT.date_from - previous.date_from))
    df = select(frame(small_db), CURRENT.date_from, CURRENT.date_to)
    current = (df["status"] == "resolved").sum() / len(df)
    card = next(m for m in at.metric if m.label == "Доля решённых")
    assert number(card.delta) == pytest.approx(round((current - want_prev["resolved_share"]) * 100, 1), abs=0.051)
    assert abs(number(card.delta)) < 5  # not the −11 п. п. of a month's less closing


def test_the_on_time_trend_marks_buckets_with_deadlines_still_ahead(small_db):
    """The on-time trend's last points count only what is already answered or overdue: they are
    drawn apart as not yet comparable (independent: pandas, unanswered appeals with a future deadline)."""
    import json
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/speed.py",
                  **{"from": CURRENT.date_from.isoformat(), "to": CURRENT.date_to.isoformat()})
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if any(tr.get("name") == "Сроки ответа истекли" for tr in json.loads(c.proto.spec)["data"]))
    hollow = next(tr for tr in spec["data"] if tr.get("name", "").startswith("Ещё не сравнимо"))
    df = select(frame(small_db), CURRENT.date_from, CURRENT.date_to)
    ahead = df[df["first_response_at"].isna() & (df["response_due_at"] >= pd.Timestamp(SMALL_AS_OF))]
    days = sorted({str(d) for d in ahead["local_date"]})
    assert sorted(str(x)[:10] for x in hollow["x"]) == days
