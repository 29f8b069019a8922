"""Every page through AppTest on the small fixed database (SQLite and PostgreSQL): the figures
shown equal an independent pandas calculation, for a wide and a narrow filter combination."""
import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest

from .conftest import SMALL_AS_OF
from .pagetools import expected_kpis, frame, metric, number, run_page, select

WIDE = dict(date_from=dt.date(2021, 2, 1), date_to=dt.date(2021, 3, 31))
NARROW = dict(date_from=dt.date(2021, 3, 1), date_to=dt.date(2021, 3, 7), territory="50701000", topic="covid.vaccination")
COMBOS = {"wide": WIDE, "narrow": NARROW}


def params(combo: dict) -> dict:
    p = {"from": combo["date_from"].isoformat(), "to": combo["date_to"].isoformat()}
    if combo.get("territory"):
        p["territory"] = combo["territory"]
    if combo.get("topic"):
        p["topic"] = combo["topic"]
    return p


@pytest.fixture
def db(small_db):
    return small_db, small_db.url.render_as_string(hide_password=False)


@pytest.fixture
def appeals(db):
    return frame(db[0])


def close(shown: str, expected: float, decimals: int, scale: float = 1.0) -> None:
    if expected is None or (isinstance(expected, float) and np.isnan(expected)):
        assert np.isnan(number(shown)), shown
        return
    assert number(shown) == pytest.approx(round(expected * scale, decimals), abs=10 ** -decimals / 2 + 1e-9), shown


@pytest.mark.parametrize("combo", COMBOS)
def test_overview_cards(db, appeals, combo):
    c = COMBOS[combo]
    cohort = select(appeals, c["date_from"], c["date_to"], c.get("territory"), c.get("topic"))
    assert len(cohort) >= 30
    exp = expected_kpis(cohort, SMALL_AS_OF)
    at = run_page(db[1], SMALL_AS_OF, **params(c))
    close(metric(at, "Поступило"), exp["received"], 0)
    close(metric(at, "Доля решённых"), exp["resolved_share"], 1, 100)
    close(metric(at, "В срок"), exp["on_time_share"], 1, 100)
    close(metric(at, "Время первой реакции"), exp["first_response_median"], 1)
    close(metric(at, "Просрочено сейчас"), exp["overdue_now"], 0)
    close(metric(at, "Удовлетворённость"), exp["satisfaction"], 1, 100)
    close(metric(at, "Эскалировано"), exp["escalated_share"], 1, 100)
    # the delta of "Поступило" against the equal-length period before
    days = (c["date_to"] - c["date_from"]).days + 1
    prev = select(appeals, c["date_from"] - dt.timedelta(days=days), c["date_from"] - dt.timedelta(days=1),
                  c.get("territory"), c.get("topic"))
    card = next(m for m in at.metric if m.label == "Поступило")
    if len(prev):
        assert number(card.delta) == pytest.approx(round((len(cohort) - len(prev)) / len(prev) * 100, 1), abs=0.051)


@pytest.mark.parametrize("combo", COMBOS)
def test_topics_table(db, appeals, combo):
    c = COMBOS[combo]
    cohort = select(appeals, c["date_from"], c["date_to"], c.get("territory"), c.get("topic"))
    at = run_page(db[1], SMALL_AS_OF, "pages/topics.py", **params(c))
    with db[0].connect() as conn:
        names = pd.read_sql("select code, name_ru from topics", conn).set_index("code")["name_ru"]
    # categories first, as published: each category's topics pooled
    table = at.dataframe[0].value
    by_category = cohort.groupby(cohort["parent_t_code"].fillna(cohort["t_code"])).size()
    assert dict(zip(table["Категория"], table["Поступило"].map(number))) == \
        {names[k]: v for k, v in by_category.items()}
    at.session_state["topics_level"] = "topic"  # the «Темы» side of the switch
    at.run()
    table = at.dataframe[0].value
    shown = dict(zip(table["Тема"], table["Поступило"].map(number)))
    expected = cohort.groupby("t_code").size()
    assert {names[k]: v for k, v in expected.items()} == shown
    # on-time share of the biggest topic
    top = expected.idxmax()
    exp = expected_kpis(cohort[cohort["t_code"] == top], SMALL_AS_OF)
    row = table[table["Тема"] == names[top]].iloc[0]
    close(row["В срок"], exp["on_time_share"], 1, 100)
    # the treemap: every topic and category with its appeals; the root's and the biggest category's
    # colour is their own on-time share (metrics.md), not an average of their topics' shares
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    cells = dict(zip(spec["ids"], zip(spec["values"], spec["marker"]["colors"])))
    assert {k[2:]: v for k, (v, _) in cells.items() if k.startswith("t:")} == expected.to_dict()
    by_category = cohort.groupby("parent_t_code").size()
    assert {k[2:]: v for k, (v, _) in cells.items() if k.startswith("c:")} == by_category.to_dict()
    assert cells["all"][0] == len(cohort)
    close(cells["all"][1], expected_kpis(cohort, SMALL_AS_OF)["on_time_share"], 1, 100)
    big = by_category.idxmax()
    close(cells[f"c:{big}"][1], expected_kpis(cohort[cohort["parent_t_code"] == big], SMALL_AS_OF)["on_time_share"], 1, 100)


def expected_league(appeals: pd.DataFrame, c: dict) -> pd.DataFrame:
    """Territory rows (a city with its districts; districts also alone), score and rank by metrics.md."""
    cohort = select(appeals, c["date_from"], c["date_to"], None, c.get("topic"))
    rows = []
    keys = cohort[["m_code", "parent_m_code", "m_kind"]].drop_duplicates()
    top_codes = set(keys["parent_m_code"].fillna(keys["m_code"]))
    for code in top_codes:
        part = cohort[(cohort["m_code"] == code) | (cohort["parent_m_code"] == code)]
        kind = appeals.loc[appeals["m_code"] == code, "m_kind"].iloc[0]
        rows.append((code, "urban_okrug" if kind == "urban_okrug" else "municipal", part))
    for code in keys.loc[keys["m_kind"] == "city_district", "m_code"]:
        rows.append((code, "city_district", cohort[cohort["m_code"] == code]))
    out = []
    for code, peer, part in rows:
        e = expected_kpis(part, SMALL_AS_OF)
        res = part["status"] == "resolved"
        fb = res & part["citizen_feedback"].notna()
        dens = {"on_time_share": e["on_time_n"], "resolved_share": len(part), "confirmed_share": fb.sum(),
                "satisfaction": part["citizen_rating"].notna().sum()}
        parts = [e[k] * 100 for k in dens if dens[k] >= 30]
        out.append({"code": code, "peer": peer, "received": len(part), "on_time_n": e["on_time_n"],
                    "score": np.mean(parts) if parts else np.nan})
    df = pd.DataFrame(out)
    eligible = (df["received"] >= 30) & df["score"].notna()
    df["rank"] = np.nan
    for peer, idx in df[eligible].groupby("peer").groups.items():
        df.loc[idx, "rank"] = df.loc[idx, "score"].rank(ascending=False, method="min")
    return df


@pytest.mark.parametrize("combo", COMBOS)
def test_territory_league(db, appeals, combo):
    c = COMBOS[combo]
    at = run_page(db[1], SMALL_AS_OF, "pages/territories.py", **params(c))
    with db[0].connect() as conn:
        names = pd.read_sql("select code, name_ru, population from municipalities", conn).set_index("code")
    league = next(d.value for d in at.dataframe if "Место" in d.value.columns)
    exp = expected_league(appeals, c)
    # a city district and a top-level territory can share a name: key the display by (name, group)
    for row in exp.itertuples():
        name = names.loc[row.code, "name_ru"]
        group = {"urban_okrug": "Городские округа", "municipal": "Муниципальные районы и округа",
                 "city_district": "Районы Новосибирска"}[row.peer]
        shown = league[(league["Название"] == name) & (league["Группа"] == group)].iloc[0]
        assert number(shown["Поступило"]) == row.received, name
        close(shown["Балл"], row.score, 1)
        assert (shown["Место"] == "—" and np.isnan(row.rank)) or number(shown["Место"]) == row.rank, name
        close(shown["На 10 тыс. жителей"], row.received / names.loc[row.code, "population"] * 10_000, 1)
        # a share from fewer than 30 appeals carries the footnote mark, explained under the table
        assert shown["В срок"].endswith("*") == (0 < row.on_time_n < 30), (name, shown["В срок"])
    notes = [c.value for c in at.caption if c.value.startswith("«*» — мало данных")]
    assert bool(notes) == bool(((exp["on_time_n"] > 0) & (exp["on_time_n"] < 30)).any())


@pytest.mark.parametrize("combo", COMBOS)
def test_territory_profile(db, appeals, combo):
    c = dict(COMBOS[combo], territory="50708000")
    cohort = select(appeals, c["date_from"], c["date_to"], c["territory"], c.get("topic"))
    at = run_page(db[1], SMALL_AS_OF, "pages/territories.py", **params(c))
    exp = expected_kpis(cohort, SMALL_AS_OF)
    close(metric(at, "Поступило"), exp["received"], 0)
    close(metric(at, "Просрочено сейчас"), exp["overdue_now"], 0)
    assert any("Профиль территории: Бердск" in h.value for h in at.header)


@pytest.mark.parametrize("combo", COMBOS)
def test_executor_league_and_escalations(db, appeals, combo):
    c = COMBOS[combo]
    cohort = select(appeals, c["date_from"], c["date_to"], c.get("territory"), c.get("topic"))
    at = run_page(db[1], SMALL_AS_OF, "pages/executors.py", **params(c))
    with db[0].connect() as conn:
        orgs = pd.read_sql("select id, name_ru from organizations", conn).set_index("id")["name_ru"]
    league = next(d.value for d in at.dataframe if "Место" in d.value.columns)
    expected = cohort.groupby("organization_id").size()
    assert {orgs[k]: v for k, v in expected.items()} == dict(zip(league["Название"], league["Поступило"].map(number)))
    esc = cohort[cohort["escalated_at"].notna()].groupby(["organization_id", "escalated_to_id"]).size()
    if len(esc):
        flow = next(d.value for d in at.dataframe if "Кому" in d.value.columns)
        shown = {(r["Кто передал"], r["Кому"]): number(r["Число"]) for _, r in flow.iterrows()}
        assert shown == {(orgs[a], orgs[int(b)]): n for (a, b), n in esc.items()}


@pytest.mark.parametrize("combo", COMBOS)
def test_speed_page(db, appeals, combo):
    c = COMBOS[combo]
    cohort = select(appeals, c["date_from"], c["date_to"], c.get("territory"), c.get("topic"))
    exp = expected_kpis(cohort, SMALL_AS_OF)
    at = run_page(db[1], SMALL_AS_OF, "pages/speed.py", **params(c))
    close(metric(at, "Первая реакция, 90-й перцентиль"), exp["first_response_p90"], 1)
    close(metric(at, "Время решения"), exp["close_time_median"], 1)
    overdue = cohort[cohort["status"].isin(["new", "assigned", "in_progress"]) & cohort["first_response_at"].isna()
                     & (cohort["response_due_at"] < pd.Timestamp(SMALL_AS_OF))].sort_values(["response_due_at", "id"])
    if len(overdue):
        listed = next(d.value for d in at.dataframe if "Срок ответа" in d.value.columns)
        assert listed["№"].tolist() == overdue["id"].tolist()


@pytest.mark.parametrize("combo", COMBOS)
def test_cases_list_and_card(db, appeals, combo):
    c = COMBOS[combo]
    cohort = select(appeals, c["date_from"], c["date_to"], c.get("territory"), c.get("topic"))
    at = run_page(db[1], SMALL_AS_OF, "pages/cases.py", **params(c))
    found = next(x.value for x in at.caption if x.value.startswith("Найдено"))
    assert number(found.split("·")[0]) == len(cohort)
    listed = at.dataframe[0].value
    newest = cohort.sort_values(["received_at", "id"], ascending=False).head(50)
    assert listed["№"].tolist() == newest["id"].tolist()
    # the card of the first case shows its fields and its whole timeline
    first = newest.iloc[0]
    at = run_page(db[1], SMALL_AS_OF, "pages/cases.py", **params(c), id=str(int(first["id"])))
    assert any(f"Обращение № {int(first['id'])}" == t.value for t in at.title)
    with db[0].connect() as conn:
        n_events = pd.read_sql(f"select count(*) as n from appeal_events where appeal_id = {int(first['id'])}", conn)["n"][0]
    timeline = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(timeline) == n_events


@pytest.mark.parametrize("c, over_cap", [(WIDE, True), (dict(date_from=dt.date(2021, 3, 1), date_to=dt.date(2021, 3, 3)), False)],
                         ids=["wide-over-the-cap", "three-days-counted"])
def test_case_search_finds_inflected_text(db, appeals, c, over_cap):
    from queries.cases import TEXT_COUNT_CAP
    at = run_page(db[1], SMALL_AS_OF, "pages/cases.py", **params(c))
    at.text_input(key="case_q").set_value("вакцина").run()
    found = next(x.value for x in at.caption if x.value.startswith("Найдено")).split("·")[0]
    cohort = select(appeals, c["date_from"], c["date_to"])
    import re
    import snowballstemmer
    stem = snowballstemmer.stemmer("russian")
    target = stem.stemWord("вакцина")  # any word form: вакцина, вакцину, вакцины
    expected = sum(target in set(stem.stemWords(re.findall(r"\w+", t.lower()))) for t in cohort["text"])
    assert expected > 0
    assert (expected > TEXT_COUNT_CAP) == over_cap  # each case checks the branch it is named for
    if over_cap:  # a text search counts up to the cap, then says "more than"
        assert "более" in found and number(found) == TEXT_COUNT_CAP
    else:
        assert "более" not in found and number(found) == expected


def test_methodology_lists_every_definition(db):
    from queries.metrics import METRICS
    from dashboard.i18n import M
    at = run_page(db[1], SMALL_AS_OF, "pages/methodology.py")
    defs = at.dataframe[0].value
    assert set(defs["Название"]) == {M[f"metric.{m}.label"][0] for m in METRICS}
    import holidays
    ru = holidays.country_holidays("RU", years=[SMALL_AS_OF.year])
    special = [d for d in pd.date_range(f"{SMALL_AS_OF.year}-01-01", f"{SMALL_AS_OF.year}-12-31").date
               if ru.is_working_day(d) != (d.weekday() < 5)]
    assert len(at.dataframe[1].value) == len(special)


def test_english_switch_translates_labels(db):
    at = run_page(db[1], SMALL_AS_OF, **params(WIDE), lang="en")
    labels = {m.label for m in at.metric}
    assert "Received" in labels and "On time" in labels and "Поступило" not in labels


def test_empty_period_shows_a_message(db):
    at = run_page(db[1], SMALL_AS_OF, **{"from": "2030-01-01", "to": "2030-01-07"})
    assert any("обращений нет" in i.value for i in at.info)


def test_cases_keyset_pages_follow_on(db, appeals):
    """«Следующие 50» continues exactly where the first page ended (keyset on received_at, id)."""
    c = WIDE
    cohort = select(appeals, c["date_from"], c["date_to"]).sort_values(["received_at", "id"], ascending=False)
    at = run_page(db[1], SMALL_AS_OF, "pages/cases.py", **params(c))
    first = at.dataframe[0].value["№"].tolist()
    at.button(key="case_next").click().run()
    second = at.dataframe[0].value["№"].tolist()
    assert first + second == cohort["id"].head(100).tolist()
    assert any("Страница 2" in x.value for x in at.caption)
    at.button(key="case_first").click().run()
    assert at.dataframe[0].value["№"].tolist() == first


def test_what_changed_most_is_formatted_and_ordered_by_a_visible_column(small_db):
    """«Что изменилось сильнее всего»: Russian number style, signs, ordered by the change in the number
    of appeals (independent count: pandas over the appeals of both periods)."""
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, **{"from": "2021-02-01", "to": "2021-03-31"})
    tables = [d.value for d in at.dataframe if "Изменение, %" in d.value.columns]
    assert len(tables) == 2
    shown = tables[0]
    df = frame(small_db)
    now = select(df, dt.date(2021, 2, 1), dt.date(2021, 3, 31)).groupby("municipality_id").size()
    was = select(df, dt.date(2020, 12, 4), dt.date(2021, 1, 31)).groupby("municipality_id").size()
    both = pd.concat([now.rename("now"), was.rename("was")], axis=1).fillna(0)
    both = both[(both["now"] >= 30) | (both["was"] >= 30)]
    change = (both["now"] - both["was"]).astype(int)
    expected = change.reindex(change.abs().sort_values(ascending=False).index).head(len(shown))
    got = [number(v) for v in shown["Изменение"]]
    assert got == list(expected.values)
    assert [abs(v) for v in got] == sorted((abs(v) for v in got), reverse=True)
    for value in shown.astype(str).values.ravel():
        assert value not in ("None", "nan") and not re.search(r"\d\.\d", value), value
    assert all(v[0] in "+−±" for v in shown["Изменение"])
    assert any("По убыванию изменения" in c.value for c in at.caption)
