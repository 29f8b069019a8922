"""A municipal head's home: their territory first, its standing among peers, their row marked, and
other territories' cases said to be out of scope rather than absent."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from queries.filters import Filters
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import expected_kpis, frame, metric, number, run_page, select, shown

BERDSK = "50708000"
HEAD = Viewer("head-home", "head", (BERDSK,))


def _url(db):
    return db.url.render_as_string(hide_password=False)


def test_a_head_opens_on_their_own_territory(small_db):
    at = run_page(_url(small_db), SMALL_AS_OF, viewer=HEAD)  # no parameters: a fresh visit
    assert at.query_params["territory"] in (BERDSK, [BERDSK])
    today = (SMALL_AS_OF + dt.timedelta(hours=7)).date()
    own = select(frame(small_db), today - dt.timedelta(days=29), today, territory=BERDSK)
    assert number(metric(at, "Поступило")) == len(own)


def _territory_scores(df: pd.DataFrame, now) -> pd.DataFrame:
    """Per top-level territory (a city with its districts), from the appeals alone: received, the
    four score parts of metrics.md (a share over fewer than 30 is left out), the score."""
    key = df["parent_m_code"].fillna(df["m_code"])
    rows = []
    for code, g in df.groupby(key):
        k = expected_kpis(g, now)
        fb = (g["status"] == "resolved") & g["citizen_feedback"].notna()
        bases = {"on_time_share": k["on_time_n"], "resolved_share": len(g), "confirmed_share": int(fb.sum()),
                 "satisfaction": int(g["citizen_rating"].notna().sum())}
        parts = [k[m] * 100 for m, n in bases.items() if n >= 30 and not pd.isna(k[m])]
        rows.append({"code": code, "received": len(g), "score": sum(parts) / len(parts) if parts else float("nan")})
    return pd.DataFrame(rows).set_index("code")


def test_the_profile_says_where_the_territory_stands(small_db):
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/territories.py", viewer=HEAD,
                  **{"from": "2021-02-01", "to": "2021-03-31", "territory": BERDSK})
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 3, 31))
    # everything below from the appeals and the municipalities table, with pandas
    df = select(frame(small_db), f.date_from, f.date_to)
    with small_db.connect() as c:
        muni = pd.read_sql(text("select code, kind, population from municipalities where parent_id is null"),
                           c).set_index("code")
    peers = muni.index[muni["kind"] == muni.loc[BERDSK, "kind"]]  # Бердск: the urban okrugs
    scores = _territory_scores(df, SMALL_AS_OF).reindex(muni.index)
    scores["received"] = scores["received"].fillna(0)
    ranked = scores.loc[peers][(scores.loc[peers, "received"] >= 30) & scores.loc[peers, "score"].notna()]
    place_in_group = int((ranked["score"] > ranked.loc[BERDSK, "score"]).sum()) + 1
    counts = df.groupby(df["parent_m_code"].fillna(df["m_code"])).size()
    per_10k = (counts / muni["population"].reindex(counts.index) * 10_000).dropna()
    said = " ".join(shown(m.value) for m in at.markdown)
    assert f"{place_in_group}-е место из {len(ranked)} городских округов" in said, said
    place = int((per_10k.dropna() > per_10k[BERDSK]).sum()) + 1
    assert f"{place}-е из {len(per_10k)} в области" in said and "на 10 тыс. жителей" in said
    table = next(d.value for d in at.dataframe if "Среднее по группе" in d.value.columns)
    row = table[table.iloc[:, 0] == "Поступило"].iloc[0]
    assert number(row["Среднее по группе"]) == pytest.approx(scores.loc[peers, "received"].mean(), abs=0.5)


def test_another_territorys_cases_are_said_to_be_out_of_scope(small_db):
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=HEAD,
                  **{"from": "2021-02-01", "to": "2021-03-31", "territory": "50701000"})
    infos = [shown(i.value) for i in at.info]
    assert any("недоступны для вашей роли" in i and "Новосибирск" in i for i in infos), infos
    assert not any("обращений нет" in i for i in infos)


# ---- an executor's home ------------------------------------------------------------------------

def _org(engine, code: str) -> tuple[int, str]:
    with engine.connect() as c:
        return tuple(c.execute(text("select id, kind from organizations where code = :c"), {"c": code}).one())


def test_an_executor_sees_itself_beside_organizations_of_its_kind(small_db):
    org, kind = _org(small_db, "minzdrav")
    exe = Viewer("exec-home", "executor", executors=(org,))
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/executors.py", viewer=exe,
                  **{"from": "2021-02-01", "to": "2021-03-31"})
    assert not any("Место" in d.value.columns for d in at.dataframe)  # no league of the region
    table = next(d.value for d in at.dataframe if "Среднее по организациям того же вида" in d.value.columns)
    df = select(frame(small_db), dt.date(2021, 2, 1), dt.date(2021, 3, 31))
    with small_db.connect() as c:
        kinds = pd.read_sql(text("select id, kind from organizations"), c).set_index("id")["kind"]
    from queries.league import EXECUTOR_PEERS
    same = {k for k, g in EXECUTOR_PEERS.items() if g == EXECUTOR_PEERS[kind]}
    df["kind"] = df["organization_id"].map(kinds)
    per_org = df[df["kind"].isin(same) & (df["organization_id"] != org)].groupby("organization_id")
    sizes = per_org.size()
    resolved = per_org.apply(lambda g: (g["status"] == "resolved").mean())[sizes >= 30]
    row = table[table.iloc[:, 0] == "Доля решённых"].iloc[0]
    assert number(row["Среднее по организациям того же вида"]) == pytest.approx(resolved.mean() * 100, abs=0.051)
    mine = df[df["organization_id"] == org]
    assert number(row.iloc[1]) == pytest.approx((mine["status"] == "resolved").mean() * 100, abs=0.051)
    assert any(f"в сравнении: {len(resolved)}" in c.value for c in at.caption)


def test_cases_escalated_to_an_executor_are_marked_and_filterable(small_db):
    org, _ = _org(small_db, "minzdrav")
    exe = Viewer("exec-home", "executor", executors=(org,))
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=exe, **{"from": "2020-11-01", "to": "2021-04-15"})
    df = select(frame(small_db), dt.date(2020, 11, 1), dt.date(2021, 4, 15))
    escalated = df[df["escalated_to_id"] == org]
    assert len(escalated) > 0
    at.toggle(key="case_esc").set_value(True).run()
    found = next(c.value for c in at.caption if c.value.startswith("Найдено"))
    assert number(found.split(":")[1]) == len(escalated)
    listed = at.dataframe[0].value
    assert listed["Статус"].str.contains("эскалировано нам").all()
    assert set(listed["№"]) <= set(escalated["id"])
