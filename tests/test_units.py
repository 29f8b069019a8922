"""Small pieces with exact answers: formatting, the working calendar, configuration, percentiles."""
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import text

from dashboard import fmt
from dashboard.i18n import set_lang
from queries.config import ConfigError, mask_url, normalise_url, resolve_database
from queries.dialect import dialect_of
from queries.workcal import default_calendar

NBSP = "\u00a0"


def test_russian_formatting():
    assert fmt.number(12345) == f"12{NBSP}345"
    assert fmt.share(0.853) == f"85,3{NBSP}%"
    assert fmt.date(dt.date(2026, 11, 29)) == "29.11.2026"
    assert fmt.local(dt.datetime(2026, 11, 29, 7, 5, tzinfo=dt.timezone.utc)) == "29.11.2026 14:05"
    assert [fmt.count(n, "appeal") for n in (1, 2, 5, 11, 21, 22, 112, 1001)] == [
        "1 обращение", "2 обращения", "5 обращений", "11 обращений", "21 обращение", "22 обращения",
        "112 обращений", f"1{NBSP}001 обращение"]
    set_lang("en")
    try:
        assert fmt.number(12345) == "12,345" and fmt.share(0.853) == "85.3%" and fmt.count(1, "day") == "1 day"
    finally:
        set_lang("ru")


def to_s(local: str) -> np.ndarray:
    moment = dt.datetime.fromisoformat(local) - dt.timedelta(hours=7)
    return np.array([int(moment.replace(tzinfo=dt.timezone.utc).timestamp())])


def local(s) -> str:
    return (dt.datetime.fromtimestamp(int(s[0]), dt.timezone.utc) + dt.timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("start, hours, due", [
    ("2024-06-03 10:00", 8, "2024-06-03 18:00"),    # Monday: to the end of the day
    ("2024-06-07 17:00", 4, "2024-06-10 12:00"),    # Friday → Monday
    ("2024-04-27 10:00", 4, "2024-04-27 14:00"),    # a transferred working Saturday
    ("2024-12-28 17:30", 1, "2025-01-09 09:30"),    # a working Saturday, then the New Year holidays
    ("2024-06-08 12:00", 8, "2024-06-10 17:00"),    # Saturday: the clock starts on Monday 09:00
    ("2024-06-11 20:00", 8, "2024-06-13 17:00"),    # June 12 is a holiday
])
def test_working_hours_deadlines(start, hours, due):
    cal = default_calendar(dt.date(2026, 1, 1))
    assert local(cal.add_work_hours(to_s(start), hours)) == due
    assert cal.work_hours_between(to_s(start), cal.add_work_hours(to_s(start), hours))[0] == pytest.approx(hours)


def test_config_resolution_order(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert resolve_database(secrets).origin == "default"
    secrets.write_text('[connections.appeals]\nurl = "postgresql://a@h/db"\n')
    assert resolve_database(secrets).url == "postgresql://a@h/db"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/x.sqlite")
    target = resolve_database(secrets)
    assert (target.url, target.origin) == ("sqlite:////tmp/x.sqlite", "DATABASE_URL")


def test_bad_urls_are_one_sentence():
    assert "***" in mask_url("postgresql://u:secret@h/db") and "secret" not in mask_url("postgresql://u:secret@h/db")
    with pytest.raises(ConfigError, match="unsupported"):
        normalise_url("mysql://root@localhost/x")
    with pytest.raises(ConfigError):
        normalise_url("::nonsense::")
    assert normalise_url("postgres://u@h/db").startswith("postgresql+psycopg2://")


def test_percentile_matches_numpy_on_both_databases(small_db):
    with small_db.connect() as conn:
        d = dialect_of(conn)
        got = conn.execute(text(f"""select {d.percentile('first_response_work_hours', 0.5)},
                                           {d.percentile('first_response_work_hours', 0.9)} from appeals""")).one()
        values = pd.read_sql(text("select first_response_work_hours as x from appeals where first_response_work_hours is not null"), conn)["x"]
    assert float(got[0]) == pytest.approx(np.quantile(values, 0.5), abs=1e-9)
    assert float(got[1]) == pytest.approx(np.quantile(values, 0.9), abs=1e-9)


def test_local_day_buckets_agree_on_both_databases(small_sqlite, small_postgres):
    query = "select {b} as d, count(*) as n from appeals group by 1 order by 1"
    out = []
    for engine in (small_sqlite, small_postgres):
        with engine.connect() as conn:
            d = dialect_of(conn)
            out.append([(str(r[0])[:10], r[1]) for r in conn.execute(text(query.format(b=d.bucket("received_at", "week"))))])
    assert out[0] == out[1]


def test_xlsx_export_has_filters_and_as_of_above_the_table():
    import openpyxl
    from dashboard.context import Context
    from dashboard.ui import to_xlsx
    from queries.filters import Filters
    ctx = Context("sqlite://", Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 31), sources=("vk",)), "ru",
                  dt.datetime(2024, 2, 1, 5, 0, tzinfo=dt.timezone.utc),
                  pd.DataFrame(columns=["id", "code", "name_ru", "name_en"]),
                  pd.DataFrame(columns=["id", "code", "name_ru", "name_en"]),
                  pd.DataFrame(columns=["id", "name_ru", "name_en"]), {}, None)
    data = to_xlsx(pd.DataFrame({"Поступило": [12345]}), "Рейтинг", ctx)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.values)
    flat = [c for r in rows for c in r if c is not None]
    assert "Рейтинг" in flat and "01.01.2024 — 31.01.2024" in flat and "ВКонтакте" in flat
    assert any(isinstance(c, str) and "По состоянию на 01.02.2024 12:00" in c for c in flat)
    assert rows[-2][0] == "Поступило" and rows[-1][0] == 12345


def test_text_search_understands_russian_word_forms(small_db):
    """«пробка» finds «пробки» and «пробкой» on both databases; unrelated words find nothing."""
    from queries.cases import case_list
    from queries.filters import Filters
    from .pagetools import ANALYST
    from .conftest import SMALL_AS_OF
    f = Filters(dt.date(2020, 11, 1), dt.date(2021, 4, 30))
    with small_db.connect() as c:
        texts = pd.read_sql(text("select id, text from appeals"), c)
        import re
        import snowballstemmer
        stemmer = snowballstemmer.stemmer("russian")
        stems = {i: set(stemmer.stemWords(re.findall(r"\w+", t.lower()))) for i, t in zip(texts["id"], texts["text"])}
        expected = {i for i, s in stems.items() if "пробк" in s}
        assert texts.loc[texts["id"].isin(expected), "text"].str.contains("пробки").any()
        rows, total = case_list(c, f, ANALYST, SMALL_AS_OF, query="пробка", page_size=10_000)
        assert expected and set(rows["id"]) == expected and total == len(expected)
        rows, total = case_list(c, f, ANALYST, SMALL_AS_OF, query="Пробки светофор", page_size=10_000)
        both = {i for i, s in stems.items() if "пробк" in s and "светофор" in s}
        assert set(rows["id"]) == both
        assert case_list(c, f, ANALYST, SMALL_AS_OF, query="зоопарк")[1] == 0


@pytest.mark.parametrize("wide", [False, True])
def test_group_sums_equal_pandas_groupby(wide):
    """The build's grouping (queries.summaries.codec.group_sum over key_codes) against pandas' groupby,
    on integer, negative and text keys; `wide` spans key digits past 2**62, so the code is
    compacted on the way (the path the small test databases never reach)."""
    from queries.summaries.codec import group_sum

    rng = np.random.default_rng(7)
    n = 20_000
    df = pd.DataFrame({
        "a": rng.integers(-3, 4, n), "b": rng.integers(0, 40, n).astype(np.int8),
        "c": rng.choice(["vk", "ok", "pos"], n).astype(object), "w": rng.integers(-5, 6, n), "v": np.ones(n, int)})
    keys = ["a", "b", "c"]
    if wide:  # two columns of range ~2**40: the digits' product overflows int64 without compaction
        df["d"] = rng.integers(0, 3, n) * (1 << 40)
        df["e"] = rng.integers(0, 3, n) * (1 << 40) - (1 << 39)
        keys += ["d", "e"]
    got = group_sum(df, keys, ["w", "v"]).sort_values(keys).reset_index(drop=True)
    expected = df.groupby(keys, as_index=False)[["w", "v"]].sum().sort_values(keys).reset_index(drop=True)
    assert len(got) == len(expected) > 100
    for c in keys + ["w", "v"]:
        assert got[c].tolist() == expected[c].tolist(), c


def test_histogram_cells_go_to_postgresql_as_bytea_hex():
    """encode_hist's packed cells, as the COPY text _bytea_text makes from their buffers, equal
    Python's own hex of each cell (also for a slice, whose buffers start mid-way)."""
    from queries.summaries.codec import CELL, bytea_text, encode_hist

    rng = np.random.default_rng(3)
    n = 5_000
    long = pd.DataFrame({c: rng.integers(0, 3, n) for c in CELL})
    long["bucket"] = rng.integers(0, 1100, n)
    long = long.drop_duplicates(CELL + ["bucket"])
    long["n"] = rng.integers(1, 9, len(long))
    cells = encode_hist(long)
    for part in (cells, cells.iloc[7:40]):
        assert bytea_text(part["hist"]).to_pylist() == ["\\x" + bytes(h).hex() for h in part["hist"].tolist()]
    assert int(cells["n"].sum()) == int(long["n"].sum())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.one_of(
    st.floats(0, 10_000, allow_nan=False), st.sampled_from([0.0, 0.5, 8.0, 8.25, 48.0, 336.0, 9000.0, float("nan")]))),
    max_size=300))
def test_percentiles_of_values_are_the_histograms_percentiles(pairs):
    """A small cohort's percentiles from its values (sorted bucket pairs) equal the same values'
    percentiles from a dense histogram, as the cells give them, and lie within a bucket of
    numpy's exact quantile."""
    from queries.measures import BUCKET_WIDTH, PERCENTILES, bucket_of
    from queries.summaries.percentiles import _percentile_arrays, value_percentile_arrays
    columns = [c for c in PERCENTILES if PERCENTILES[c].metric == 1]
    keys = np.array([f"k{k}" for k, _ in pairs], dtype=object)
    values = np.array([v for _, v in pairs], dtype=float)
    uniques, codes, got = value_percentile_arrays(keys, {1: values}, columns)
    keep = ~np.isnan(values)
    dense = _percentile_arrays(codes[keep].astype(np.int64), len(uniques), np.ones(int(keep.sum()), np.int64),
                               np.asarray(bucket_of(values[keep]), np.int64), np.ones(int(keep.sum())), columns)
    for col in columns:
        np.testing.assert_allclose(got[col], dense[col], rtol=0, atol=1e-9, equal_nan=True)
        for i, key in enumerate(uniques):
            mine = values[(keys == key) & keep]
            if not len(mine):
                assert np.isnan(got[col][i])
                continue
            exact = np.quantile(mine, PERCENTILES[col].q) / PERCENTILES[col].divisor
            lo, hi = np.sort(mine)[[int(np.floor(PERCENTILES[col].q * (len(mine) - 1))),
                                    int(np.ceil(PERCENTILES[col].q * (len(mine) - 1)))]]
            if max(lo, hi) < 8760:  # below the overflow bucket, whose lower bound is the estimate
                width = max(BUCKET_WIDTH[bucket_of(lo)], BUCKET_WIDTH[bucket_of(hi)]) / PERCENTILES[col].divisor
                assert abs(got[col][i] - exact) <= width + 1e-9
