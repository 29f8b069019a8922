"""Spikes against the season: the expected range against an independent pandas computation from the
appeals, an incident injected into a cell found first and linked to its cases, an ordinary season
without alerts, the documented incidents of the demo data found, and the CLI's CSV equal to the
page's rows — on both databases."""
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import text

from queries import schema, spikes as sp
from queries.cases import case_list
from queries.dialect import dialect_of
from queries.filters import Filters
from queries.summaries import refresh
from queries.viewer import Viewer
from reports.spikes import CSV_COLUMNS, spike_table

from .conftest import CALIBRATION_AS_OF, HISTORY_AS_OF
from .pagetools import frame, run_page

ROOT = Path(__file__).resolve().parent.parent
ANALYST = Viewer("spikes-analyst", "analyst")
WEEK = dt.date(2022, 3, 14)


def weekly(engine) -> pd.DataFrame:
    """Appeals per (municipality, category, local week) from the appeals themselves."""
    df = frame(engine)
    df["category"] = df["parent_t_code"].fillna(df["t_code"])
    df["week"] = [d - dt.timedelta(days=d.weekday()) for d in df["local_date"]]
    return df.groupby(["municipality_id", "category", "week"]).size().rename("n").reset_index()


def independent(engine, week: dt.date) -> pd.DataFrame:
    """The documented definition (queries/spikes.py's docstring, docs/spikes.md), in plain pandas."""
    w = weekly(engine)
    counts = w.set_index(["municipality_id", "category", "week"])["n"]
    cells = w[["municipality_id", "category"]].drop_duplicates()
    start = dt.date(2020, 11, 26)
    get = lambda m, c, d: int(counts.get((m, c, d), 0))  # noqa: E731
    recent_weeks = [week - dt.timedelta(weeks=8 - j) for j in range(8)]
    years = []
    for k in range(1, 6):
        y, n, _ = week.isocalendar()
        anchor = dt.date.fromisocalendar(y - k, min(n, dt.date(y - k, 12, 28).isocalendar()[1]), 1)
        before = [anchor - dt.timedelta(weeks=8 - j) for j in range(8)]
        if before[0] >= start:
            years.append((before, [anchor, anchor + dt.timedelta(weeks=1)]))
    rows = []
    for m, c in cells.itertuples(index=False):
        rec = np.array([get(m, c, d) for d in recent_weeks], dtype=float)
        num = sum(np.mean([get(m, c, d) for d in same]) for _, same in years)
        den = sum(np.mean([get(m, c, d) for d in before]) for before, _ in years)
        rows.append(dict(m=m, c=c, received=get(m, c, week), level=(rec.sum() - rec.max()) / 7, num=num, den=den,
                         mean=rec.mean(), var=rec.var(ddof=1)))
    t = pd.DataFrame(rows)
    pooled = t.groupby("c")[["num", "den"]].sum()
    prior = (pooled["num"] / pooled["den"]).replace([np.inf, -np.inf], np.nan).fillna(1.0)
    t["expected"] = t["level"] * (t["num"] + 5 * t["c"].map(prior)) / (t["den"] + 5)
    t["a_cell"] = np.where(t["mean"] >= 3, np.maximum(t["var"] - t["mean"], 0) / t["mean"] ** 2, np.nan)
    alpha = t["c"].map(t.groupby("c")["a_cell"].median()).fillna(0.1).clip(0.02, 1.0)
    alpha = alpha + 1 / np.maximum(t["level"] * 7, 1) + 1 / (2 * t["num"] + 5) + 1 / (8 * t["den"] + 5)
    mu = np.maximum(t["expected"], 0.05)
    size = 1 / alpha
    t["low"] = stats.nbinom.ppf(0.0001, size, size / (size + mu))
    t["high"] = stats.nbinom.ppf(0.9999, size, size / (size + mu))
    return t[t["received"] > 0]


def test_the_expected_range_equals_an_independent_computation(history_db):
    with history_db.connect() as conn:
        got = sp.spikes(conn, WEEK, ANALYST, "category")
        cats = dict(conn.execute(text("select id, code from topics")).all())
    got["c"] = got["topic_id"].map(cats)
    want = independent(history_db, WEEK)
    both = want.merge(got, left_on=["m", "c"], right_on=["municipality_id", "c"], suffixes=("", "_got"))
    assert len(both) == len(want) == len(got) and len(both) > 100
    assert (both["received"] == both["received_got"]).all()
    assert np.allclose(both["expected"], both["expected_got"])
    assert (both["low"] == both["low_got"]).all() and (both["high"] == both["high_got"]).all()
    assert got["history"].all()


def test_a_week_without_an_earlier_year_has_no_range(history_db):
    with history_db.connect() as conn:
        got = sp.spikes(conn, dt.date(2021, 11, 15), ANALYST)
    assert len(got) and not got["history"].any() and not got["spike"].any() and got["high"].isna().all()


def test_an_injected_incident_is_found_first_and_linked_to_its_cases(history_db):
    """Copies of 40 appeals of the week moved into one small cell (Бердск × heating), in a
    transaction that is rolled back: found, ranked first, and its link's cases are those appeals."""
    a = schema.appeals
    with history_db.connect() as conn:
        tx = conn.begin()
        try:
            m_id, heating, housing = (conn.execute(text(q)).scalar_one() for q in (
                "select id from municipalities where code = '50708000'",
                "select id from topics where code = 'housing.heating'", "select id from topics where code = 'housing'"))
            lo = dt.datetime.combine(WEEK, dt.time(12), sp.LOCAL).astimezone(dt.timezone.utc)
            hi = lo + dt.timedelta(days=5)
            ids = [r[0] for r in conn.execute(a.select().with_only_columns(a.c.id).where(
                a.c.received_at >= lo, a.c.received_at < hi).order_by(a.c.id).limit(40)).all()]
            top = conn.execute(a.select().with_only_columns(a.c.id).order_by(a.c.id.desc()).limit(1)).scalar_one()
            cols = [c.name for c in a.columns if c.name not in ("id", "external_id", "municipality_id", "topic_id")]
            for i, source in enumerate(ids):
                conn.execute(text(f"insert into appeals (id, external_id, municipality_id, topic_id, {', '.join(cols)}) "
                                  f"select :new, :ext, :m, :t, {', '.join(cols)} from appeals where id = :src"),
                             {"new": top + 1 + i, "ext": f"incident-{i}", "m": m_id, "t": heating, "src": source})
            refresh(conn, [WEEK + dt.timedelta(days=i) for i in range(-1, 8)])
            table = spike_table(conn, WEEK, WEEK + dt.timedelta(days=6), ANALYST)
            first = table.iloc[0]
            assert (first["territory_code"], first["topic_code"]) == ("50708000", "housing")
            before = conn.execute(text("select count(*) from appeals a join topics t on t.id = a.topic_id "
                                       "where a.municipality_id = :m and t.parent_id = :c and a.received_at >= :lo "
                                       "and a.received_at < :hi and a.id <= :top"),
                                  {"m": m_id, "c": housing, "top": top, "lo": local_midnight(conn, WEEK),
                                   "hi": local_midnight(conn, WEEK + dt.timedelta(days=7))}).scalar_one()
            assert first["received"] == before + 40 and first["received"] > first["expected_high"]
            link = Filters(WEEK, WEEK + dt.timedelta(days=6), territories=("50708000",), topics=("housing",))
            assert case_list(conn, link, ANALYST, HISTORY_AS_OF)[1] == first["received"]
        finally:
            tx.rollback()


def local_midnight(conn, day: dt.date):
    return dialect_of(conn).ts_param(dt.datetime.combine(day, dt.time(), sp.LOCAL))


def test_an_ordinary_season_raises_no_alert(history_db):
    """The winter of 2021/22 (its snow came the year before as well): no alert on the snow
    categories, and at most one alert a week over all cells."""
    alerts = []
    with history_db.connect() as conn:
        for week in sp.weeks_between(dt.date(2022, 1, 10), dt.date(2022, 3, 21)):
            found = spike_table(conn, week, week, ANALYST)
            alerts.append(found)
    every = pd.concat(alerts)
    assert not every["topic_code"].isin(["roads", "landscaping", "housing"]).any(), every
    assert len(every) <= len(alerts), every


def test_the_documented_incidents_of_the_demo_data_are_found(default_sqlite):
    """seed.scenario.INCIDENTS within the calibration data (to mid-2024): each is the first spike
    of its week, at the topic level and at the category level."""
    from seed.scenario import INCIDENTS
    with default_sqlite.connect() as conn:
        for inc in INCIDENTS:
            if inc.week >= CALIBRATION_AS_OF.date():
                continue
            for level, code in (("topic", inc.topic), ("category", inc.topic.split(".")[0])):
                table = spike_table(conn, inc.week, inc.week, ANALYST, level)
                assert len(table) and (table.iloc[0]["territory_code"], table.iloc[0]["topic_code"]) == \
                    (inc.territory, code), (inc, level, table.head(3))


def test_the_command_lines_csv_equals_the_page(default_sqlite):
    """The week of the demo data's heating incident: the CSV's rows are the page's, in order."""
    url = f"sqlite:///{default_sqlite.url.database}"
    week = dt.date(2024, 1, 15)
    run = subprocess.run([sys.executable, "-m", "reports", "spikes", "--from", week.isoformat(), "--to",
                          (week + dt.timedelta(days=6)).isoformat(), "--db", url],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    csv = pd.read_csv(io.StringIO(run.stdout), dtype={"territory_code": str})
    assert list(csv.columns) == CSV_COLUMNS
    at = run_page(url, CALIBRATION_AS_OF, "pages/spikes.py", viewer=ANALYST)
    at.selectbox(key="spikes_week").set_value(week).run()
    assert not at.exception
    shown = at.dataframe(key="spikes_table").value
    with default_sqlite.connect() as conn:
        names = dict(conn.execute(text("select code, name_ru from municipalities")).all())
    assert len(shown) == len(csv) > 0
    for (_, r), (_, s) in zip(csv.iterrows(), shown.iterrows()):
        assert s["Что необычно"].startswith(names[r["territory_code"]] + ", ")
        assert int(s["Поступило"].replace("\u00a0", "")) == r["received"]
        assert s["Ожидалось"] == f"{r['expected_low']}–{r['expected_high']}"
    bad = subprocess.run([sys.executable, "-m", "reports", "spikes", "--from", "2022-13-01", "--to", "2022-03-01",
                          "--db", url], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_whether_a_week_has_history_is_a_matter_of_dates(history_db):
    """queries.spikes.has_history (what the pages ask first) agrees with the computation's own flag."""
    with history_db.connect() as conn:
        for week in (dt.date(2021, 1, 25), dt.date(2021, 11, 15), dt.date(2022, 1, 10), WEEK):
            got = sp.spikes(conn, week, ANALYST)
            assert bool(got["history"].iloc[0]) == sp.has_history(week), week
    assert not sp.has_history(dt.date(2021, 12, 27)) and sp.has_history(dt.date(2022, 2, 7))
