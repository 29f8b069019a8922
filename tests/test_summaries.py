"""The summary tables answer exactly what the appeals table answers.

Property tests draw random filter combinations (period, territories, topics, sources,
executors, `now`) and compare every KPI computed through the summaries with the one computed
from raw rows: counts must be equal; a percentile must lie within one histogram bucket of the
exact value, which the test computes itself with pandas. Both databases.
"""
from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from queries import kpis, measures, reference, speed, summaries, trend
from queries.dialect import dialect_of
from queries.summaries import lattice
from queries.summaries.__main__ import main as summaries_main
from queries.filters import Filters
from queries.viewer import Viewer
from tests.conftest import SMALL_AS_OF, examples, sent_statements


ANALYST = Viewer("t", "analyst")
GROUPS = [None, "territory", "municipality", "topic", "category", "source", "executor"]
PROPERTY = settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIRST = dt.date(2020, 11, 20)


def _codes(engine) -> dict:
    with engine.connect() as c:
        return {
            "territories": sorted(r[0] for r in c.execute(text("select code from municipalities"))),
            "topics": sorted(r[0] for r in c.execute(text("select code from topics"))),
            "executors": sorted(r[0] for r in c.execute(text("select distinct organization_id from appeals"))),
        }


_RAW: dict[str, pd.DataFrame] = {}


def raw_rows(engine) -> pd.DataFrame:
    key = str(engine.url)
    if key not in _RAW:
        with engine.connect() as c:
            _RAW[key] = read_raw(c)
    return _RAW[key]


def read_raw(conn) -> pd.DataFrame:
    """Every appeal with its group keys, filter codes and times (hours), as this connection sees them."""
    df = pd.read_sql(text("""
select a.id, a.reach, a.response_due_at, a.municipality_id as municipality, coalesce(m.parent_id, m.id) as territory, m.code as mcode,
       pm.code as pmcode, a.topic_id as topic, coalesce(t.parent_id, t.id) as category, t.code as tcode,
       pt.code as ptcode, a.source, a.organization_id as executor, a.received_at, a.first_response_at,
       a.closed_at, a.status, a.first_response_work_hours as fr, a.escalation_work_hours as esc
from appeals a join municipalities m on m.id = a.municipality_id left join municipalities pm on pm.id = m.parent_id
  join topics t on t.id = a.topic_id left join topics pt on pt.id = t.parent_id"""), conn)
    for col in ("received_at", "first_response_at", "closed_at", "response_due_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    df["day"] = (df["received_at"] + pd.Timedelta(hours=7)).dt.date
    df["fr_cal"] = (df["first_response_at"] - df["received_at"]).dt.total_seconds() / 3600
    closed = df["status"].isin(["resolved", "explained", "declined"])
    df["close"] = np.where(closed, (df["closed_at"] - df["received_at"]).dt.total_seconds() / 3600, np.nan)
    return df


def cohort(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    m = (df["day"] >= f.date_from) & (df["day"] <= f.date_to)
    if f.territories:
        m &= df["mcode"].isin(f.territories) | df["pmcode"].isin(f.territories)
    if f.topics:
        m &= df["tcode"].isin(f.topics) | df["ptcode"].isin(f.topics)
    if f.sources:
        m &= df["source"].isin(f.sources)
    if f.executors:
        m &= df["executor"].isin(f.executors)
    return df[m]


VALUE = {"first_response_median": ("fr", 0.5, 1), "first_response_p90": ("fr", 0.9, 1),
         "first_response_median_calendar": ("fr_cal", 0.5, 1), "close_time_median": ("close", 0.5, 24),
         "time_before_escalation": ("esc", 0.5, 1)}


def exact_and_tolerance(values: pd.Series, q: float) -> tuple[float, float]:
    """percentile_cont and the width of the wider bucket of its two neighbours (in hours)."""
    v = np.sort(values.dropna().to_numpy(float))
    if len(v) == 0:
        return np.nan, 0.0
    pos = q * (len(v) - 1)
    lo, hi = v[int(np.floor(pos))], v[int(np.ceil(pos))]
    return lo + (hi - lo) * (pos - np.floor(pos)), max(measures.bucket_width(lo), measures.bucket_width(hi))


def filters_strategy(codes: dict):
    def build(start, days, terr, topics, sources, execs):
        return Filters(start, start + dt.timedelta(days=days), tuple(terr), tuple(topics), tuple(sources), tuple(execs))
    return st.builds(
        build,
        st.dates(FIRST, dt.date(2021, 4, 20)),
        st.sampled_from([0, 1, 6, 13, 29, 30, 45, 59, 89, 120, 200, 400, 800]),
        st.lists(st.sampled_from(codes["territories"]), max_size=2, unique=True),
        st.lists(st.sampled_from(codes["topics"]), max_size=2, unique=True),
        st.lists(st.sampled_from(["vk", "ok", "telegram", "pos"]), max_size=2, unique=True),
        st.lists(st.sampled_from(codes["executors"]), max_size=1, unique=True),
    )


def check_frame(conn, raw: pd.DataFrame, f: Filters, now: dt.datetime, group: str | None) -> None:
    assert summaries.usable(conn, ANALYST), "the summaries must be built, or this compares raw with raw"
    via = kpis.kpi_frame(conn, f, ANALYST, now, group)
    plain = kpis.kpi_frame(conn, f, ANALYST, now, group, raw=True)
    if group:
        via = via.assign(key=via["key"].astype(str)).set_index("key").sort_index()
        plain = plain.assign(key=plain["key"].astype(str)).set_index("key").sort_index()
        assert list(via.index) == list(plain.index), (f, group)
    for col in measures.COUNT_COLUMNS:
        assert via[col].tolist() == plain[col].tolist(), (f, group, col)
    rows = cohort(raw, f)
    for col in (measures.GROUPED_PERCENTILES if group else measures.PERCENTILES):
        value, q, divisor = VALUE[col]
        parts = rows.groupby(rows[group].astype(str)) if group else [(None, rows)]
        for key, part in parts:
            if group and key not in via.index:
                continue
            exact, tol = exact_and_tolerance(part[value], q)
            got = via.loc[key, col] if group else via[col].iloc[0]
            if np.isnan(exact):
                assert pd.isna(got), (f, group, col, key)
            else:
                assert abs(got - exact / divisor) <= tol / divisor + 1e-6, (f, group, col, key, got, exact / divisor)


@pytest.mark.parametrize("group", GROUPS)
def test_kpis_through_summaries_equal_raw(small_db, group):
    codes = _codes(small_db)
    raw = raw_rows(small_db)

    @PROPERTY
    @given(f=filters_strategy(codes), hours=st.integers(0, 400))
    def prop(f, hours):
        with small_db.connect() as conn:
            check_frame(conn, raw, f, SMALL_AS_OF - dt.timedelta(hours=hours), group)

    prop()


def test_trends_and_histogram_through_summaries_equal_raw(small_db):
    codes = _codes(small_db)

    @PROPERTY
    @given(f=filters_strategy(codes), hours=st.integers(0, 400), grain=st.sampled_from(["day", "week", "month"]),
           by=st.sampled_from([None, "topic", "category"]))
    def prop(f, hours, grain, by):
        now = SMALL_AS_OF - dt.timedelta(hours=hours)
        with small_db.connect() as conn:
            assert summaries.usable(conn, ANALYST)
            pd.testing.assert_frame_equal(trend.received_closed(conn, f, ANALYST, grain),
                                          trend.received_closed(conn, f, ANALYST, grain, raw=True))
            keys = ["bucket"] + (["key"] if by else [])
            a = trend.kpi_trend(conn, f, ANALYST, grain, now, by).sort_values(keys).reset_index(drop=True)
            b = trend.kpi_trend(conn, f, ANALYST, grain, now, by, raw=True)
            b = b[a.columns].sort_values(keys).reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
            pd.testing.assert_frame_equal(speed.response_histogram(conn, f, ANALYST),
                                          speed.response_histogram(conn, f, ANALYST, raw=True), check_dtype=False)

    prop()


def test_the_planner_uses_coarse_cells_for_long_periods():
    p = lattice.pieces(dt.date(2020, 11, 26), dt.date(2024, 3, 10))
    assert p.months == tuple(dt.date(2020 + (11 + i) // 12, (11 + i) % 12 + 1, 1) for i in range(39))
    assert p.months[0] == dt.date(2020, 12, 1) and p.months[-1] == dt.date(2024, 2, 1)
    assert p.days == ((dt.date(2020, 11, 26), dt.date(2020, 11, 30)), (dt.date(2024, 3, 1), dt.date(2024, 3, 10)))
    # every day of the period is covered exactly once
    covered = []
    for m in p.months:
        covered += [m + dt.timedelta(days=i) for i in range((lattice.month_end(m) - m).days + 1)]
    for a, b in p.days:
        covered += [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
    assert sorted(covered) == [dt.date(2020, 11, 26) + dt.timedelta(days=i) for i in range(1201)]


def test_whole_years_are_read_from_year_cells_and_equal_raw(small_db):
    """A period holding whole calendar years reads their year cells (every KPI, overall and per
    group, with and without filters, equal to the raw rows') and its other months as months."""
    p = lattice.pieces(dt.date(2019, 12, 15), dt.date(2022, 1, 31), years=True)
    assert p.years == (dt.date(2020, 1, 1), dt.date(2021, 1, 1)) and p.months == (dt.date(2022, 1, 1),)
    assert p.days == ((dt.date(2019, 12, 15), dt.date(2019, 12, 31)),)
    assert lattice.pieces(dt.date(2020, 1, 1), dt.date(2020, 12, 30), years=True).years == ()
    codes = _codes(small_db)
    raw = raw_rows(small_db)
    with small_db.connect() as conn:
        assert conn.execute(text("select count(*) from agg_counts where grain = 'y'")).scalar() > 0
        assert conn.execute(text("select count(*) from agg_hist where grain = 'y'")).scalar() > 0
        for f in (Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31)), Filters(dt.date(2020, 11, 29), dt.date(2022, 1, 9)),
                  Filters(dt.date(2021, 1, 1), dt.date(2021, 12, 31), territories=tuple(codes["territories"][:2])),
                  Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31), topics=tuple(codes["topics"][:1]),
                          sources=("vk", "pos"))):
            for group in GROUPS:
                check_frame(conn, raw, f, SMALL_AS_OF, group)


def test_edge_days_are_read_as_a_month_minus_its_rest_when_that_is_shorter():
    D = dt.date
    # Aug 2..Oct 30: August minus Aug 1, September whole, October minus Oct 31
    p, add, subtract = lattice.edge_plan(lattice.pieces(D(2026, 8, 2), D(2026, 10, 30)))
    assert p.months == (D(2026, 8, 1), D(2026, 9, 1), D(2026, 10, 1)) and p.days == ()
    assert add == [] and subtract == [(D(2026, 8, 1), D(2026, 8, 1)), (D(2026, 10, 31), D(2026, 10, 31))]
    # a week inside a month is read as it is; a run across a month end is cut there
    p, add, subtract = lattice.edge_plan(lattice.pieces(D(2026, 3, 10), D(2026, 3, 16)))
    assert p.months == () and add == [(D(2026, 3, 10), D(2026, 3, 16))] and subtract == []
    p, add, subtract = lattice.edge_plan(lattice.pieces(D(2026, 3, 25), D(2026, 4, 20)))
    assert add == [(D(2026, 3, 25), D(2026, 3, 31))] and p.months == (D(2026, 4, 1),)
    assert subtract == [(D(2026, 4, 21), D(2026, 4, 30))]


def test_day_cells_of_most_of_a_month_are_read_as_the_month_less_its_other_days(small_db):
    """A node with day cells reads a run covering most of its month as the month's cell less the
    month's other days: equal to the raw rows for every KPI, overall and per group (a group whose
    appeals all fell on the subtracted days is gone), with and without a filter."""
    D = dt.date
    p, minus = summaries.read.day_cells_plan(lattice.pieces(D(2021, 1, 2), D(2021, 2, 27), years=True))
    assert p.months == (D(2021, 1, 1), D(2021, 2, 1)) and p.days == ()
    assert minus == [(D(2021, 1, 1), D(2021, 1, 1)), (D(2021, 2, 28), D(2021, 2, 28))]
    p, minus = summaries.read.day_cells_plan(lattice.pieces(D(2021, 3, 10), D(2021, 3, 16)))
    assert p.days == ((D(2021, 3, 10), D(2021, 3, 16)),) and p.months == () and minus == []
    codes = _codes(small_db)
    raw = raw_rows(small_db)
    with small_db.connect() as conn:
        for f in (Filters(D(2021, 1, 2), D(2021, 2, 27)), Filters(D(2020, 12, 2), D(2020, 12, 31)),
                  Filters(D(2021, 1, 1), D(2021, 1, 30), topics=tuple(codes["topics"][:1])),
                  Filters(D(2021, 1, 2), D(2021, 1, 31), territories=tuple(codes["territories"][:1]),
                          sources=("vk",))):
            for group in GROUPS:
                check_frame(conn, raw, f, SMALL_AS_OF, group)


def test_buckets_are_a_minute_wide_up_to_eight_hours():
    values = np.array([0, 0.01, 0.5, 1, 7.99, 8, 8.3, 47.9, 48, 300, 500, 9000])
    b = measures.bucket_of(values)
    assert (measures.BUCKET_LOWER[b] <= values + 1e-9).all()
    upper = measures.BUCKET_LOWER[b] + np.where(measures.BUCKET_WIDTH[b] > 0, measures.BUCKET_WIDTH[b], np.inf)
    assert (values < upper).all()
    assert measures.bucket_width(7.5) == pytest.approx(1 / 60)
    assert measures.bucket_width(30) == pytest.approx(0.25)


def table_rows(conn, table: str) -> set:
    return set(map(tuple, conn.execute(text(f"select * from {table}")).all()))


def test_refresh_after_changes_equals_a_rebuild_and_raw(small_db):
    """Change appeals (close, answer, move, add), refresh their days: the cells equal a full rebuild."""
    now = SMALL_AS_OF
    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            rows = conn.execute(text("""select id, received_at, closed_at from appeals
                where status in ('new', 'assigned', 'in_progress') order by id limit 40""")).all()
            ids = [r[0] for r in rows]
            d = dialect_of(conn)
            stamp = d.ts_param(now)
            conn.execute(text("update appeals set status = 'resolved', closed_at = :t where id in ({})".format(
                ", ".join(map(str, ids[:20])))), {"t": stamp})
            conn.execute(text("""update appeals set first_response_at = received_at, first_response_work_hours = 0
                where first_response_at is null and id in ({})""".format(", ".join(map(str, ids[20:])))))
            moved = conn.execute(text("select id, received_at, closed_at from appeals order by id limit 5")).all()
            conn.execute(text("update appeals set municipality_id = (select min(id) from municipalities) where id in ({})"
                              .format(", ".join(str(r[0]) for r in moved))))
            # the contract of refresh: local days of received_at and closed_at, before and after
            touched = [str(x) for r in rows + moved for x in (r[1], r[2]) if x is not None]
            days = {(pd.to_datetime(x, utc=True) + pd.Timedelta(hours=7)).date() for x in touched}
            days |= {(now + dt.timedelta(hours=7)).date()}
            summaries.refresh(conn, days)
            refreshed = {t: table_rows(conn, t) for t in ("agg_counts", "agg_closed", "agg_hist")}
            for f in (Filters(FIRST, dt.date(2021, 4, 20)), Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31))):
                for group in (None, "territory", "source"):
                    check_frame(conn, read_raw(conn), f, now, group)
            summaries.build(conn)
            for t, cells in refreshed.items():
                assert table_rows(conn, t) == cells, t
        finally:
            trans.rollback()


def test_months_built_in_runs_of_days_give_the_same_cells(small_db, monkeypatch):
    """A month of more than SLICE_APPEALS appeals is read in runs of days (bounded memory at any
    scale): its day cells as they come, its month and year cells summed from the runs', its
    closings' cells once the month is complete; so in a refresh of the month. Every table equals
    the build of whole months."""
    build_module = sys.modules["queries.summaries.build"]  # the package's `build` is the function
    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            whole = {t: table_rows(conn, t) for t in ("agg_counts", "agg_closed", "agg_hist")}
            month = ("substr(received_at, 1, 7) || '-01'" if conn.dialect.name == "sqlite"
                     else "to_char(received_at at time zone 'UTC', 'YYYY-MM-01')")
            rows = conn.execute(text(f"select count(*), {month} from appeals group by {month}")).all()
            per_month = [n for n, _ in rows]
            months = [dt.date.fromisoformat(m) for _, m in rows]
            monkeypatch.setattr(build_module, "SLICE_APPEALS", 40)
            assert sum(n > 80 for n in per_month) >= 3  # months cut into three runs or more
            summaries.build(conn)
            for t, cells in whole.items():
                assert table_rows(conn, t) == cells, t
            # the refresh of a month (its day and month cells, its year summed from the months)
            busiest = max(zip(per_month, months), key=lambda x: x[0])[1]
            summaries.refresh(conn, {busiest.replace(day=15)})
            for t, cells in whole.items():
                assert table_rows(conn, t) == cells, t
        finally:
            trans.rollback()


def test_a_delta_of_changed_and_new_appeals_equals_a_rebuild_and_raw(small_db):
    """Read the appeals about to change, change them (close, answer, move, re-topic) and add new
    ones; apply_delta of before and after leaves the cells a full rebuild gives."""
    now = SMALL_AS_OF
    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            d = dialect_of(conn)
            ids = [r[0] for r in conn.execute(text("""select id from appeals
                where status in ('new', 'assigned', 'in_progress') order by id limit 40"""))]
            moved = [r[0] for r in conn.execute(text("select id from appeals where closed_at is not null order by id limit 6"))]
            changed = ids + moved
            cond = f"a.id in ({', '.join(map(str, changed))})"
            before = summaries.appeal_rows(conn, cond)
            conn.execute(text("update appeals set status = 'resolved', closed_at = :t where id in ({})".format(
                ", ".join(map(str, ids[:20])))), {"t": d.ts_param(now)})
            conn.execute(text("""update appeals set first_response_at = received_at, first_response_work_hours = 0
                where first_response_at is null and id in ({})""".format(", ".join(map(str, ids[20:])))))
            conn.execute(text("update appeals set municipality_id = (select min(id) from municipalities) where id in ({})"
                              .format(", ".join(map(str, moved[:3])))))
            conn.execute(text("update appeals set topic_id = (select max(id) from topics) where id in ({})"
                              .format(", ".join(map(str, moved[3:])))))
            top = conn.execute(text("select max(id) from appeals")).scalar_one()
            cols = ("source", "text", "municipality_id", "topic_id", "organization_id", "status", "reopened_count",
                    "first_response_work_hours", "escalation_work_hours", "received_at", "response_due_at",
                    "first_response_at", "closed_at")
            conn.execute(text(f"""insert into appeals (external_id, {', '.join(cols)})
                select 'delta-' || id, {', '.join(cols)} from appeals where id % 97 = 0"""))
            after = summaries.appeal_rows(conn, f"{cond} or a.id > {top}")
            assert len(after) > len(before) == len(changed)
            summaries.apply_delta(conn, before, after)
            applied = {t: table_rows(conn, t) for t in ("agg_counts", "agg_closed", "agg_hist")}
            raw = read_raw(conn)
            for f in (Filters(FIRST, dt.date(2021, 4, 20)), Filters(dt.date(2020, 1, 1), dt.date(2021, 12, 31))):
                for group in (None, "territory", "topic", "source"):
                    check_frame(conn, raw, f, now, group)
            summaries.build(conn)
            for t, cells in applied.items():
                assert table_rows(conn, t) == cells, t
        finally:
            trans.rollback()


def test_summaries_are_used_only_when_built_and_not_for_executors(small_db):
    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            assert summaries.usable(conn, ANALYST)
            org = conn.execute(text("select min(organization_id) from appeals")).scalar_one()
            assert not summaries.usable(conn, Viewer("e", "executor", executors=(org,)))
            conn.execute(text("delete from dataset_info where key = 'summaries'"))
            assert not summaries.usable(conn, ANALYST)
        finally:
            trans.rollback()


@pytest.mark.parametrize("group", [None, "topic"])
def test_kpis_read_the_appeals_while_the_summaries_are_not_built(small_db, group):
    """kpi_frame reads whether the summaries are built with the cells' counts: cells whose state
    is not `ready` are not used, grouped or not, whether or not they hold rows for the cohort."""
    f = Filters(dt.date(2021, 1, 1), dt.date(2021, 2, 28))
    empty = Filters(dt.date(2031, 1, 1), dt.date(2031, 1, 31))  # no appeals and no cells
    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            raw = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=True)
            conn.execute(text("update agg_counts set received = received + 1000"))
            # the cells are read while ready (the changed cells show), and not once they are not
            assert not kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group)["received"].equals(raw["received"])
            conn.execute(text("delete from dataset_info where key = 'summaries'"))
            got = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group)
            assert got["received"].tolist() == raw["received"].tolist()
            assert len(kpis.kpi_frame(conn, empty, ANALYST, SMALL_AS_OF, group, figures=["received"])) == \
                len(kpis.kpi_frame(conn, empty, ANALYST, SMALL_AS_OF, group, figures=["received"], raw=True))
        finally:
            trans.rollback()


def test_cli_builds_and_reports(tmp_path, small_sqlite, capsys):
    import shutil
    copy = tmp_path / "c.sqlite"
    shutil.copy(small_sqlite.url.database, copy)
    url = f"sqlite:///{copy}"
    assert summaries_main(["refresh", "--db", url, "--days", "2021-02-01..2021-02-03"]) == 0
    assert summaries_main(["status", "--db", url]) == 0
    assert "ready" in capsys.readouterr().out
    assert summaries_main(["refresh", "--db", url, "--days", "2021-02-30"]) == 2
    assert "--days" in capsys.readouterr().err


@pytest.mark.parametrize("group", GROUPS)
def test_a_cohort_without_appeals_gives_empty_figures_on_both_paths(small_db, group):
    f = Filters(dt.date(2030, 1, 1), dt.date(2030, 2, 15), territories=("50701000",))
    with small_db.connect() as conn:
        via = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group)
        plain = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=True)
        # a cohort with appeals, for the columns a page expects of either frame
        full = kpis.kpi_frame(conn, f.narrowed(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 2, 15)),
                              ANALYST, SMALL_AS_OF, group)
    assert full["received"].sum() > 0
    for frame in (via, plain):
        assert list(frame.columns) == list(full.columns)
        if group is None:  # one row of zero counts and empty figures
            assert len(frame) == 1 and frame["received"].iloc[0] == 0 and frame["overdue_now"].iloc[0] == 0
            assert pd.isna(frame["first_response_median"].iloc[0]) and pd.isna(frame["on_time_share"].iloc[0])
        else:  # no group at all: a group of zeros would stand in a league as a territory with no appeals
            assert frame.empty


def test_case_list_pages_and_counts_equal_pandas(small_db, monkeypatch):
    """Every sort's first two pages, and the count (through the summaries, a head's by territory;
    with a text query, through the text index), equal a pandas sort and count of the raw rows."""
    import re

    import snowballstemmer

    from queries import cases
    from queries.cases import COUNT_CAP, SORTS, TEXT_COUNT_CAP, case_list

    codes = _codes(small_db)
    raw = raw_rows(small_db)
    with small_db.connect() as conn:
        texts = pd.read_sql(text("select id, text from appeals"), conn).set_index("id")["text"]
    stemmer = snowballstemmer.stemmer("russian")
    stems = {i: set(stemmer.stemWords(re.findall(r"\w+", t.lower()))) for i, t in texts.items()}
    words = [None, "вакцина", "очереди", "дороги", "ямы", "мусор", "ёлка"]  # frequent, rare, absent

    def check(f, sort, head, word, fence=True) -> int:
        # PostgreSQL sorts a cohort up to cases.SMALL_COHORT itself, and walks the sort's indexes
        # beyond: both reads, whatever the cohort's size
        monkeypatch.setattr(cases, "SMALL_COHORT", 10 ** 9 if fence else 0)
        viewer = Viewer("h", "head", territories=(head,)) if head else ANALYST
        rows = cohort(raw, f)
        if head:
            rows = rows[(rows["mcode"] == head) | (rows["pmcode"] == head)]
        if word:
            stem = stemmer.stemWord(word)
            rows = rows[np.array([stem in stems[i] for i in rows["id"]], dtype=bool)]
        waiting = rows["first_response_at"].isna() & rows["status"].isin(["new", "assigned", "in_progress"])
        order = {
            "newest": rows.sort_values(["received_at", "id"], ascending=False),
            "oldest": rows.sort_values(["received_at", "id"]),
            "overdue": rows.assign(g=np.where(waiting, 0, 1)).sort_values(["g", "response_due_at", "id"]),
            "reach": rows.assign(r=rows["reach"].fillna(-1)).sort_values(["r", "received_at", "id"], ascending=False),
        }[sort]
        with small_db.connect() as conn:
            assert summaries.usable(conn, viewer)
            first, total = case_list(conn, f, viewer, SMALL_AS_OF, query=word, sort=sort, page_size=20)
            second, _ = case_list(conn, f, viewer, SMALL_AS_OF, query=word, sort=sort, page=2, page_size=20)
        assert total == min(len(rows), (TEXT_COUNT_CAP if word else COUNT_CAP) + 1), (f, head, word)
        assert first["id"].tolist() == order["id"].head(20).tolist(), (f, sort, head)
        assert second["id"].tolist() == order["id"].iloc[20:40].tolist(), (f, sort, head)
        return total

    @PROPERTY
    @given(f=filters_strategy(codes), sort=st.sampled_from(list(SORTS)), head=st.sampled_from([None, *codes["territories"]]),
           word=st.sampled_from(words), fence=st.booleans())
    def prop(f, sort, head, word, fence):
        check(f, sort, head, word, fence)

    prop()
    # both branches of a search for certain: more matches than the cap (the page is read along the
    # sort's index), and fewer (the page is sorted from the matches' ids)
    whole = Filters(raw["received_at"].min().date() - dt.timedelta(days=1), SMALL_AS_OF.date())
    for sort in SORTS:
        assert check(whole, sort, None, "вакцина") == TEXT_COUNT_CAP + 1
        assert 0 < check(whole, sort, None, "ямы") <= TEXT_COUNT_CAP
        for fence in (True, False):
            assert check(whole, sort, None, None, fence) > 1_000
            assert check(whole.narrowed(sources=("pos",)), sort, None, None, fence) > 0



def test_reach_sort_with_a_source_of_both_kinds_equals_pandas(small_db, monkeypatch):
    """A source whose appeals partly have a reach (an import may bring VK posts without one):
    the reach sort reads both of its parts, on either read of the list, and orders them as pandas."""
    from queries import cases

    with small_db.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(text("update appeals set reach = null where source = 'vk' and id % 3 = 0"))
            raw = read_raw(conn)
            assert raw.loc[raw["source"] == "vk", "reach"].isna().any() and raw.loc[raw["source"] == "vk", "reach"].notna().any()
            whole = Filters(raw["received_at"].min().date() - dt.timedelta(days=1), SMALL_AS_OF.date())
            for f in (whole.narrowed(sources=("vk",)), whole.narrowed(sources=("vk", "pos")),
                      Filters(dt.date(2021, 1, 1), dt.date(2021, 3, 31), sources=("vk",))):
                rows = cohort(raw, f)
                order = rows.assign(r=rows["reach"].fillna(-1)).sort_values(["r", "received_at", "id"], ascending=False)
                # the page where the appeals with a reach end and those without begin
                n = int(rows["reach"].notna().sum())
                page_no = n // 20 + 1
                expected = order["id"].iloc[(page_no - 1) * 20:page_no * 20].tolist()
                assert rows.set_index("id").loc[expected, "reach"].isna().any(), "the page crosses into no reach"
                for fence in (True, False):
                    monkeypatch.setattr(cases, "SMALL_COHORT", 10 ** 9 if fence else 0)
                    page, _ = cases.case_list(conn, f, ANALYST, SMALL_AS_OF, sort="reach", page=page_no, page_size=20)
                    assert page["id"].tolist() == expected, (f, fence)
        finally:
            trans.rollback()


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_a_first_page_read_from_the_period_end_is_the_sorted_cohorts(small_db, sort):
    """SQLite reads the first page of a large cohort in date order from the period's newest (or
    oldest) days only (cases._date_window), falling back to the whole period when they hold
    less than a page: both give pandas' order. PostgreSQL reads the whole period either way."""

    from queries import cases

    raw = raw_rows(small_db)
    whole = Filters(raw["received_at"].min().date() - dt.timedelta(days=1), SMALL_AS_OF.date())
    # a large cohort whose cases thin out at the newest end (the window finds less than a page
    # there and the whole period is read) and the whole cohort (the window holds the page)
    sparse_end = Filters(whole.date_from, raw["received_at"].max().date() + dt.timedelta(days=200))
    seen = set()
    for f in (whole, whole.narrowed(sources=("vk", "pos")), sparse_end):
        rows = cohort(raw, f)
        order = rows.sort_values(["received_at", "id"], ascending=sort == "oldest")
        with sent_statements() as statements:
            with small_db.connect() as conn:
                page, total = cases.case_list(conn, f, ANALYST, SMALL_AS_OF, sort=sort)
                windowed = cases._date_window(f, sort, total, cases.PAGE_SIZE)
                pg = dialect_of(conn).pg
        assert total > cases.DENSE_COHORT and page["id"].tolist() == order["id"].head(cases.PAGE_SIZE).tolist()
        reads = [st for st in statements if "order by a.received_at" in st]
        if pg or windowed is None:
            assert len(reads) == 1 and ":w_from" not in reads[0] and "w_from" not in reads[0]
        else:
            start, end = windowed
            in_window = rows[(rows["received_at"] >= start) & (rows["received_at"] < end)]
            # one read when the window holds a page, the whole period's after it when it does not
            assert len(reads) == (1 if len(in_window) >= cases.PAGE_SIZE else 2)
            seen.add(len(reads))
    assert pg or seen == {1, 2}


@pytest.mark.parametrize("group", [None, "topic", "municipality", "source"])
def test_kpis_without_percentiles_are_the_same_frame(small_db, group):
    """percentiles=False (the overview's grouped frames) leaves every percentile empty and every
    other column as it was, through the summaries and through the plain GROUP BY."""
    f = Filters(dt.date(2021, 1, 10), dt.date(2021, 3, 20))
    with small_db.connect() as conn:
        for raw in (False, True):
            full = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=raw)
            lean = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=raw, percentiles=False)
            pct = [c for c in full.columns if c in measures.PERCENTILES]
            assert pct and lean[pct].isna().all().all()
            assert full[pct].notna().any().any()  # the full frame has them: the test compares something
            if group:
                full, lean = full.sort_values("key").reset_index(drop=True), lean.sort_values("key").reset_index(drop=True)
            pd.testing.assert_frame_equal(lean[full.columns].drop(columns=pct), full.drop(columns=pct))


@pytest.mark.parametrize("topics", [(), ("covid.vaccination",)])
def test_territory_frames_from_one_read_equal_kpi_frames(small_db, topics):
    """The league's territory and municipality frames, from one read of municipality cells,
    equal kpi_frame's own "territory" and "municipality" frames (each read on its own)."""
    f = Filters(dt.date(2020, 12, 3), dt.date(2021, 3, 17), topics=topics)
    with small_db.connect() as conn:
        both = kpis.territory_frames(conn, f, ANALYST, SMALL_AS_OF, reference.territories(conn))
        for got, group in zip(both, ("territory", "municipality")):
            want = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group)
            got, want = (x.sort_values("key").reset_index(drop=True) for x in (got, want))
            assert len(want) > 1 and want["first_response_median"].notna().any()
            pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)


@pytest.mark.parametrize("group", [None, "territory", "topic", "source", "executor"])
def test_small_cohorts_percentiles_from_rows_equal_the_cells(small_db, group, monkeypatch):
    """The planner reads a small cohort's percentiles from its rows, bucketed as the cells are:
    the same figures as from the histogram cells, so that a figure does not change with the
    path (the league reads cells, a page may read rows). Both paths forced, compared."""
    f = Filters(dt.date(2020, 12, 10), dt.date(2021, 2, 14), topics=("covid.vaccination", "roads"))
    frames = {}
    with small_db.connect() as conn:
        for limit in (0, 10 ** 9):
            monkeypatch.setitem(kpis.RAW_ROWS, dialect_of(conn).name, limit)
            df = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group)
            frames[limit] = df.sort_values("key").reset_index(drop=True) if group else df
    pct = [c for c in frames[0].columns if c in measures.PERCENTILES]
    assert frames[0][pct].notna().any().any()
    pd.testing.assert_frame_equal(frames[0], frames[10 ** 9], check_dtype=False)


@pytest.mark.parametrize("group", [None, "municipality", "topic"])
@pytest.mark.parametrize("figure", ["received", "resolved_share", "on_time_share", "overdue_now",
                                    "first_response_median", "close_time_median"])
def test_a_figure_alone_equals_its_column_of_the_full_frame(small_db, group, figure):
    """kpi_frame(figures=[x]) reads only what x needs, and gives x's column (with the counts it is
    made of) as the full frame does, through the summaries and the plain GROUP BY."""
    if group and figure == "close_time_median":
        pytest.skip("a grouped frame carries the first response's percentiles only")
    f = Filters(dt.date(2021, 1, 5), dt.date(2021, 4, 20), sources=("vk", "pos"))
    with small_db.connect() as conn:
        for raw in (False, True):
            full = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=raw)
            alone = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, raw=raw, figures=[figure])
            assert figure in alone.columns and full[figure].notna().any()
            if group:
                full = full[full["received"] > 0]
                full, alone = (x.sort_values("key").reset_index(drop=True) for x in (full, alone))
            pd.testing.assert_frame_equal(alone, full[alone.columns].reset_index(drop=True), check_dtype=False)


FEW_ROWS = {  # a cohort of a few hundred appeals, and how to count it in plain SQL
    "territory": (dict(territories=("50708000",)), "(m.code = '50708000' or p.code = '50708000')"),
    "source": (dict(sources=("ok",)), "a.source = 'ok'"),
}


@pytest.mark.parametrize("figures", [None, ["first_response_median"]])
@pytest.mark.parametrize("cohort", list(FEW_ROWS))
@pytest.mark.parametrize("group", [None, "territory", "topic", "source"])
def test_a_cohort_with_few_rows_is_read_from_them_with_the_cells_figures(small_db, group, cohort, figures,
                                                                        monkeypatch):
    """The planner reads a figure whose rows are few (kpis._rows_to_read, from the summaries'
    volumes) from the appeals and nothing else, a median alone with its count in one statement;
    every column equals the cells'."""
    narrowing, condition = FEW_ROWS[cohort]
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 2, 7), **narrowing)
    with small_db.connect() as conn:
        name = dialect_of(conn).name
        cells = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, figures=figures)
        estimate = kpis._rows_to_read(conn, f)
        exact = conn.execute(text("select count(*) from appeals a join municipalities m on m.id = a.municipality_id "
                                  f"left join municipalities p on p.id = m.parent_id where {condition} "
                                  "and a.received_at >= :a and a.received_at < :b"),
                             {k: dialect_of(conn).ts_param(v) for k, v in zip("ab", f.utc_bounds())}).scalar()
        assert 0 < exact and exact / 3 < estimate < exact * 3  # the filter's share of the days' appeals
        # the cohort within every figure's limit, a median's the lowest
        least = min(1.0, kpis.PERCENTILE_ROWS[name], *kpis.GROUP_PERCENTILE_ROWS[name].values())
        monkeypatch.setitem(kpis.RAW_ROWS, name, int(estimate / least) + 1)
        with sent_statements() as statements:
            rows = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, figures=figures)
    reads = [st for st in statements if "from appeals" in st]
    # neither a cell nor the summaries' state is read: the plain GROUP BY reads neither
    assert reads and not any("agg_" in st or "dataset_info" in st for st in statements)
    assert len(reads) == (1 if figures else 2)
    if group:
        cells, rows = (x.sort_values("key").reset_index(drop=True) for x in (cells, rows))
    if "received" in cells:  # a median alone, ungrouped, carries no count
        assert cells["received"].sum() == exact
    assert cells[figures[0] if figures else "first_response_median"].notna().any()
    pd.testing.assert_frame_equal(rows[cells.columns], cells, check_dtype=False)


def test_the_planner_estimates_a_period_from_its_own_months(small_db):
    """The rows a period holds are estimated from its months' volumes, not the history's average
    per day: a whole month is its own count, a part of one its share of the month's days, a
    period before the first appeal or after the day following the last holds none."""
    with small_db.connect() as conn:
        bounds = lambda f: {k: dialect_of(conn).ts_param(v) for k, v in zip("ab", f.utc_bounds())}  # noqa: E731
        count = lambda f: conn.execute(text("select count(*) from appeals a where a.received_at >= :a "  # noqa: E731
                                            "and a.received_at < :b"), bounds(f)).scalar()
        last = dt.date.fromisoformat(str(conn.execute(text(
            "select max(period) from agg_counts where dims = 0 and grain = 'd'")).scalar())[:10])
        month = Filters(dt.date(2021, 2, 1), dt.date(2021, 2, 28))
        assert kpis._rows_to_read(conn, month) == pytest.approx(count(month), rel=1e-9)
        half = Filters(dt.date(2021, 3, 1), dt.date(2021, 3, 16))
        march = count(Filters(dt.date(2021, 3, 1), dt.date(2021, 3, 31)))
        assert kpis._rows_to_read(conn, half) == pytest.approx(march * 16 / 31, rel=1e-9)
        everything = Filters(dt.date(2019, 1, 1), last)
        assert kpis._rows_to_read(conn, everything) == pytest.approx(count(everything), rel=1e-9)
        assert kpis._rows_to_read(conn, Filters(dt.date(2019, 1, 1), dt.date(2019, 12, 31))) == 0
        assert kpis._rows_to_read(conn, Filters(last + dt.timedelta(days=2), last + dt.timedelta(days=60))) == 0
        tomorrow = Filters(last + dt.timedelta(days=1), last + dt.timedelta(days=60))
        assert kpis._rows_to_read(conn, tomorrow) > 0


@pytest.mark.parametrize("group", [None, "topic", "source", "territory", "executor"])
def test_a_median_is_read_from_rows_for_longer_where_its_cells_have_more_keys(small_db, group, monkeypatch):
    """A percentile's cells cost more the more keys they are merged over, so the rows' limit for
    a median depends on the grouping (kpis.GROUP_PERCENTILE_ROWS): a cohort between a low
    limit (set here ungrouped, by topic and by source) and the default (by territory, by
    executor) is read from the cells or from its rows accordingly; the figure is the same
    either way."""
    narrowing, _ = FEW_ROWS["territory"]
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 2, 7), **narrowing)
    with small_db.connect() as conn:
        name = dialect_of(conn).name
        estimate = kpis._rows_to_read(conn, f)
        monkeypatch.setitem(kpis.PERCENTILE_ROWS, name, 2.0)
        monkeypatch.setitem(kpis.GROUP_PERCENTILE_ROWS, name, {None: 0.5, "topic": 0.5, "source": 0.5})
        monkeypatch.setitem(kpis.RAW_ROWS, name, estimate / 1.5)  # above 0.5x the limit, within 2x
        with sent_statements() as statements:
            got = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, figures=["first_response_median"])
        monkeypatch.setitem(kpis.RAW_ROWS, name, -1)
        cells = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, figures=["first_response_median"])
    assert any("agg_" in st for st in statements) == (group in (None, "topic", "source"))
    if group:
        got, cells = (x.sort_values("key").reset_index(drop=True) for x in (got, cells))
    assert cells["first_response_median"].notna().any()
    pd.testing.assert_frame_equal(got[cells.columns], cells, check_dtype=False)


def test_a_crossed_cohort_reads_its_most_selective_dimensions_appeals(small_db):
    """A cohort filtered on two dimensions is read through one dimension's index, the other
    tested on its entries: the planner's estimate is that dimension's appeals in the period
    (within a factor of 3 of a plain count), not the cohort's own, which may be far fewer."""
    narrowing, condition = FEW_ROWS["territory"]
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 2, 28), topics=("roads",), **narrowing)
    with small_db.connect() as conn:
        estimate = kpis._rows_to_read(conn, f)
        bounds = {k: dialect_of(conn).ts_param(v) for k, v in zip("ab", f.utc_bounds())}
        territory = conn.execute(text(
            "select count(*) from appeals a join municipalities m on m.id = a.municipality_id "
            f"left join municipalities p on p.id = m.parent_id where {condition} "
            "and a.received_at >= :a and a.received_at < :b"), bounds).scalar()
        crossed = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, figures=["received"])["received"].sum()
    assert 0 < crossed < territory / 3
    assert territory / 3 < estimate < territory * 3


@pytest.mark.parametrize("group", [None, "topic"])
def test_a_count_alone_is_read_from_an_index_for_longer(small_db, group, monkeypatch):
    """The appeals received, alone, ungrouped and filtered on one dimension, are counted from that
    dimension's index (kpis.INDEX_ONLY_ROWS): a cohort above the rows' limit but within that
    factor of it is read from the appeals; grouped, the same cohort is read from the cells. The
    count equals a plain count either way."""
    narrowing, condition = FEW_ROWS["territory"]
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 2, 28), **narrowing)
    with small_db.connect() as conn:
        name = dialect_of(conn).name
        estimate = kpis._rows_to_read(conn, f)
        exact = conn.execute(text("select count(*) from appeals a join municipalities m on m.id = a.municipality_id "
                                  f"left join municipalities p on p.id = m.parent_id where {condition} "
                                  "and a.received_at >= :a and a.received_at < :b"),
                             {k: dialect_of(conn).ts_param(v) for k, v in zip("ab", f.utc_bounds())}).scalar()
        monkeypatch.setitem(kpis.RAW_ROWS, name, estimate / 2)  # above the limit, within the factor
        monkeypatch.setitem(kpis.INDEX_ONLY_ROWS, name, 4.0)
        with sent_statements() as statements:
            got = kpis.kpi_frame(conn, f, ANALYST, SMALL_AS_OF, group, figures=["received"])
    cells = any("agg_" in st for st in statements)
    assert cells == bool(group)
    assert exact > 0 and got["received"].sum() == exact


def test_the_executor_league_ranks_the_previous_period_as_its_full_frame_would(small_db):
    """The executors' previous period is read for its rank and volume only (no percentiles): the
    previous rank and volume equal those ranked from the plain GROUP BY's full frame."""
    from queries import league
    from queries.metrics import score
    f = Filters(dt.date(2021, 2, 15), dt.date(2021, 4, 15))
    with small_db.connect() as conn:
        got = league.executor_league(conn, f, ANALYST, SMALL_AS_OF)
        prev = kpis.kpi_frame(conn, f.previous(), ANALYST, SMALL_AS_OF, "executor", raw=True)
        kinds = reference.executors(conn).set_index("id")["kind"]
    prev["peer_group"] = prev["key"].map(kinds).map(league.EXECUTOR_PEERS)
    prev["score"] = score(prev)
    eligible = (prev["received"] >= league.SMALL_N) & prev["score"].notna()
    prev["rank"] = prev["score"].where(eligible).groupby(prev["peer_group"]).rank(ascending=False, method="min")
    want = prev.set_index("key")
    assert got["previous_rank"].notna().sum() > 3
    assert got["id"].map(want["rank"]).tolist() == pytest.approx(got["previous_rank"].tolist(), nan_ok=True)
    assert got["id"].map(want["received"]).tolist() == pytest.approx(got["received_prev"].tolist(), nan_ok=True)


def test_codes_resolve_to_their_rows_and_children_once_per_database(small_db):
    """A filter's territory or topic codes bind as the ids of their rows and their children's
    (a city selects its districts), as a pandas lookup of the reference tables gives them; a
    code once resolved is not asked of the database again, while one that found nothing is."""
    from queries.run import _RESOLVED, bind
    from queries.viewer import Codes
    _RESOLVED.pop(small_db, None)
    with small_db.connect() as conn:
        for table in ("municipalities", "topics"):
            ref = pd.read_sql(text(f"select id, code, parent_id from {table}"), conn)
            parent_code = ref["parent_id"].map(ref.set_index("id")["code"])
            cities = ref.loc[ref["id"].isin(ref["parent_id"].dropna()), "code"].tolist()
            sets = [[c] for c in ref["code"]] + [cities[:1] + ref["code"].tolist()[-2:], ["no-such-code"]]
            for codes in sets:
                expected = sorted(ref.loc[ref["code"].isin(codes) | parent_code.isin(codes), "id"].astype(int))
                assert bind(conn, {"x": Codes(table, tuple(codes))})["x"] == expected
            assert cities, f"{table}: a parent with children is part of the test"
    known = tuple(ref["code"][:3])  # topics', resolved above
    # another connection: the ids are the database's
    with small_db.connect() as conn, sent_statements(small_db) as statements:
        bind(conn, {"x": Codes("topics", known)})
        bind(conn, {"x": Codes("topics", ("no-such-code",))})
    assert len(statements) == 1  # the unknown code's, asked again


def test_statements_rendered_for_the_driver_answer_as_text_does(small_db):
    """queries.run.fetch renders its statements for the driver itself: the same rows as
    SQLAlchemy's text() gives for lists, empty lists (IN and NOT IN), a literal `%`, a `::` cast,
    and values that look like binds or format marks, which stay values."""
    from queries.filters import sql
    from queries.run import fetch
    with small_db.connect() as conn:
        cases = [
            ("select a.source as s, count(*) as n from appeals a where a.source in :s and a.id > :lo "
             "group by a.source order by a.source", {"s": ["vk", "ok"], "lo": 5}),
            # an id list that found nothing (a code unknown to the database)
            ("select count(*) as n from appeals a where a.municipality_id in :s", {"s": []}),
            ("select count(*) as n from appeals a where a.municipality_id not in :s", {"s": []}),
            ("select '50%' as p, :t as t, count(*) as n from appeals a where a.id in :ids and a.source = :src",
             {"t": "a:b %(x)s :lo %s", "ids": (1, 2, 3), "src": "vk"}),
            ("select count(*) as n from appeals a where cast(a.id as text) like '1%' and a.id > :lo", {"lo": 0}),
            # a bind named like a list's items
            ("select count(*) as n from appeals a where a.id in :ids and a.id <> :ids_1", {"ids": [1, 2, 3], "ids_1": 7}),
        ]
        if dialect_of(conn).pg:
            cases.append(("select count(*)::bigint as n, ''::bytea as z from appeals a where a.id < :n", {"n": 100}))
        for statement, params in cases:
            expected = conn.execute(sql(statement, params), params)
            want = [tuple(bytes(x) if isinstance(x, memoryview) else x for x in r) for r in expected.fetchall()]
            columns, rows = fetch(conn, statement, params)
            got = [tuple(bytes(x) if isinstance(x, memoryview) else x for x in r) for r in rows]
            assert columns == list(expected.keys()) and got == want, statement
            # the cases read appeals: all of them but the empty IN list count some
            assert want and (want[0][0] or params.get("s") == [] and " in :s" in statement), statement
