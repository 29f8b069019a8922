"""A municipal head's home: their territory first, its standing among peers, their row marked, and
other territories' cases said to be out of scope rather than absent."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from queries.league import territory_league
from queries.filters import Filters
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import frame, metric, number, run_page, select, shown

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


def test_the_profile_says_where_the_territory_stands(small_db):
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/territories.py", viewer=HEAD,
                  **{"from": "2021-02-01", "to": "2021-03-31", "territory": BERDSK})
    f = Filters(dt.date(2021, 2, 1), dt.date(2021, 3, 31))
    with small_db.connect() as c:
        league = territory_league(c, f, HEAD, SMALL_AS_OF)
    mine = league[league["code"] == BERDSK].iloc[0]
    peers = league[league["peer_group"] == mine["peer_group"]]
    # the rank among its peers, from the received counts and shares of all territories (pandas)
    df = select(frame(small_db), f.date_from, f.date_to)
    with small_db.connect() as c:
        population = pd.read_sql(text("select code, population from municipalities where parent_id is null"),
                                 c).set_index("code")["population"]
    counts = df.groupby(df["parent_m_code"].fillna(df["m_code"])).size()
    per_10k = (counts / population.reindex(counts.index) * 10_000).dropna()
    said = " ".join(shown(m.value) for m in at.markdown)
    assert f"{int(mine['rank'])}-е место из {int(peers['rank'].notna().sum())} городских округов" in said
    place = int((per_10k.dropna() > per_10k[BERDSK]).sum()) + 1
    assert f"{place}-е из {len(per_10k)} в области" in said and "на 10 тыс. жителей" in said
    table = next(d.value for d in at.dataframe if "Среднее по группе" in d.value.columns)
    row = table[table.iloc[:, 0] == "Поступило"].iloc[0]
    assert number(row["Среднее по группе"]) == pytest.approx(peers["received"].mean(), abs=0.5)


def test_another_territorys_cases_are_said_to_be_out_of_scope(small_db):
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=HEAD,
                  **{"from": "2021-02-01", "to": "2021-03-31", "territory": "50701000"})
    infos = [shown(i.value) for i in at.info]
    assert any("недоступны для вашей роли" in i and "Новосибирск" in i for i in infos), infos
    assert not any("обращений нет" in i for i in infos)
