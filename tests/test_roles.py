"""Who sees what: every page as every role, scope enforced where data is read, masking, the user
store and its CLI, the audit log, the read-only database role."""
import datetime as dt
import re
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import text

from queries.cases import case_card, case_events, case_list
from queries.db import make_engine
from queries.filters import Filters
from queries.kpis import kpi_frame
from queries.migrate import upgrade
from queries.pii import mask_pii
from queries.users import add_user, authenticate, ensure_demo_users
from queries.viewer import AccessDenied, Viewer

from .conftest import SMALL_AS_OF, reader_role
from .pagetools import frame, metric, number, run_page, select

BERDSK = "50708000"
PERIOD = dict(date_from=dt.date(2021, 2, 1), date_to=dt.date(2021, 3, 31))
PARAMS = {"from": "2021-02-01", "to": "2021-03-31"}
PHONE = re.compile(r"8-913-\d{3}-\d{2}-\d{2}")


def writable_copy(small_sqlite, tmp_path):
    """A private copy of the small SQLite database (tests here write users and audit rows)."""
    import shutil
    copy = tmp_path / "copy.sqlite"
    shutil.copy(small_sqlite.url.database, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    upgrade(engine)
    return url, engine


@pytest.fixture
def db(small_db):
    return small_db, small_db.url.render_as_string(hide_password=False)


def org_id(engine, code: str) -> int:
    with engine.connect() as c:
        return c.execute(text("select id from organizations where code = :c"), {"c": code}).scalar_one()


def viewers(engine) -> dict[str, Viewer]:
    return {
        "analyst": Viewer("a", "analyst"), "press": Viewer("p", "press"),
        "head": Viewer("h", "head", territories=(BERDSK,)),
        "executor": Viewer("e", "executor", executors=(org_id(engine, "minzdrav"),)),
    }


def in_scope(df: pd.DataFrame, role: str, engine) -> pd.Series:
    if role == "head":
        return (df["m_code"] == BERDSK) | (df["parent_m_code"] == BERDSK)
    if role == "executor":
        mz = org_id(engine, "minzdrav")
        return (df["organization_id"] == mz) | (df["escalated_to_id"] == mz)
    return pd.Series(True, index=df.index)


@pytest.mark.parametrize("role", ["analyst", "press", "head", "executor"])
def test_overview_figures_per_role(db, role):
    engine, url = db
    v = viewers(engine)[role]
    cohort = select(frame(engine), **PERIOD)
    if role == "executor":  # an executor's own figures only; everyone else sees the whole region
        cohort = cohort[in_scope(cohort, role, engine)]
    at = run_page(url, SMALL_AS_OF, viewer=v, **PARAMS)
    assert number(metric(at, "Поступило")) == len(cohort)


@pytest.mark.parametrize("role", ["analyst", "press", "head", "executor"])
def test_case_list_per_role(db, role):
    engine, url = db
    v = viewers(engine)[role]
    df = select(frame(engine), **PERIOD)
    mine = df[in_scope(df, role, engine)]
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=v, **PARAMS)
    found = next(x.value for x in at.caption if x.value.startswith("Найдено"))
    assert number(found.split("·")[0]) == len(mine)
    listed = at.dataframe[0].value
    assert set(listed["№"]) <= set(mine["id"])
    texts = " ".join(listed["Текст"])
    if role == "press":
        assert not PHONE.search(texts) and "Меня зовут" not in re.sub(r"Меня зовут ▇▇▇", "", texts)
        assert "▇▇▇" in texts
    else:
        shown_ids = listed["№"].tolist()
        raw = dict(zip(mine["id"], mine["text"]))
        assert [t[:200] for t in listed["Текст"]] == [raw[i][:200] for i in shown_ids]


@pytest.mark.parametrize("role", ["analyst", "press", "head", "executor"])
def test_case_card_per_role(db, role):
    engine, url = db
    v = viewers(engine)[role]
    df = select(frame(engine), **PERIOD)
    with_phone = df[df["text"].str.contains("8-913-") & df["source_url"].notna()]
    inside = with_phone[in_scope(with_phone, role, engine)]
    outside = df[~in_scope(df, role, engine)]
    target = inside.iloc[0] if len(inside) else df[in_scope(df, role, engine)].iloc[0]
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=v, id=str(int(target["id"])), **PARAMS)
    assert any(f"Обращение № {int(target['id'])}" == t.value for t in at.title)
    fields = dict(zip(at.dataframe[0].value.iloc[:, 0], at.dataframe[0].value.iloc[:, 1]))
    quote = next(m.value for m in at.markdown if m.value.startswith(">"))
    shown = re.sub(r"\\(.)", r"\1", quote)  # the text as the reader sees it (markdown escapes undone)
    if role == "press":
        assert fields["Автор (псевдоним)"] == "—" and not at.get("link_button")
        assert not PHONE.search(shown)
    else:
        assert fields["Автор (псевдоним)"] == target["author_ref"]
        assert shown == f"> {target['text']}"
    if len(outside):  # a case outside the scope is "not found", whatever the URL asks
        at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=v, id=str(int(outside.iloc[0]["id"])))
        assert any("не найдено" in w.value for w in at.warning)
        assert not any(t.value.startswith("Обращение №") for t in at.title)


@pytest.mark.parametrize("role", ["analyst", "press", "head", "executor"])
def test_league_tables_per_role(db, role):
    engine, url = db
    v = viewers(engine)[role]
    at = run_page(url, SMALL_AS_OF, "pages/territories.py", viewer=v, **PARAMS)
    if role == "executor":  # one organization gets no league of the region built from its own cases
        assert any("недоступна для вашей роли" in e.value for e in at.error) and not at.dataframe
        return
    league = next(d.value for d in at.dataframe if "Место" in d.value.columns)
    df = select(frame(engine), **PERIOD)
    assert league["Поступило"].map(number).sum() >= len(df)  # the city counts its districts once more
    berdsk = league[league["Название"] == "Бердск"]
    assert number(berdsk.iloc[0]["Поступило"]) == int(((df["m_code"] == BERDSK)).sum())


@pytest.mark.parametrize("role", ["analyst", "press", "head", "executor"])
def test_every_page_opens_for_every_role(db, role):
    engine, url = db
    v = viewers(engine)[role]
    for page in ("pages/overview.py", "pages/topics.py", "pages/territories.py", "pages/executors.py",
                 "pages/speed.py", "pages/cases.py", "pages/methodology.py", "pages/audit.py"):
        at = run_page(url, SMALL_AS_OF, page, viewer=v, **PARAMS)
        denied = any("недоступна для вашей роли" in e.value for e in at.error)
        assert denied == ((page == "pages/audit.py" and role != "analyst")
                          or (page == "pages/territories.py" and role == "executor")), page


def test_scope_is_enforced_in_the_queries(small_db):
    engine = small_db
    vs = viewers(engine)
    df = frame(engine)
    f = Filters(dt.date(2020, 11, 1), dt.date(2021, 4, 30), territories=("50701000",))  # asks for another city
    with engine.connect() as c:
        rows, total = case_list(c, f, vs["head"], SMALL_AS_OF, page_size=10_000)
        assert total == 0 and rows.empty
        outside = int(df.loc[df["m_code"] != BERDSK, "id"].iloc[0])
        assert case_card(c, vs["head"], outside) is None
        assert case_events(c, vs["head"], outside).empty
        inside = int(df.loc[df["m_code"] == BERDSK, "id"].iloc[0])
        assert case_card(c, vs["head"], inside) is not None
        mz = vs["executor"]
        k = kpi_frame(c, Filters(dt.date(2020, 11, 1), dt.date(2021, 4, 30)), mz, SMALL_AS_OF)
        assert int(k["received"].iloc[0]) == int(in_scope(df, "executor", engine).sum())
        with pytest.raises(AccessDenied):
            case_list(c, f, None, SMALL_AS_OF)


def test_mask_pii():
    text_ = ("Меня зовут Анна. На ул. Ленина, д. 15 нет света. Мой телефон 8-913-123-45-67, "
             "почта anna@example.ru, дом 7 по улице Мира.")
    masked = mask_pii(text_)
    for secret in ("Анна", "Ленина", "15", "8-913", "anna@", "Мира"):
        assert secret not in masked, secret
    assert "нет света" in masked and masked.count("▇▇▇") >= 5


def test_users_and_hashing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'u.sqlite'}")
    upgrade(engine)
    from ingest.reference import load_reference
    with engine.begin() as c:
        load_reference(c)
        add_user(c, "anna", "s3cret", "head", territory=BERDSK)
        stored = c.execute(text("select password_hash from users where username = 'anna'")).scalar_one()
        assert stored.startswith("$argon2id$") and "s3cret" not in stored
        assert authenticate(c, "anna", "s3cret") == Viewer("anna", "head", (BERDSK,))
        assert authenticate(c, "anna", "wrong") is None and authenticate(c, "nobody", "s3cret") is None
        c.execute(text("update users set disabled = true where username = 'anna'"))
        assert authenticate(c, "anna", "s3cret") is None
        assert ensure_demo_users(c) == 4 and ensure_demo_users(c) == 0
        assert authenticate(c, "minzdrav", "demo").role == "executor"
    url = f"sqlite:///{tmp_path / 'u.sqlite'}"
    run = lambda *a, stdin="": subprocess.run([sys.executable, "-m", "queries.users", "--db", url, *a],  # noqa: E731
                                             input=stdin, capture_output=True, text=True, timeout=60)
    assert run("add", "olga", "--role", "press", stdin="pw1\n").returncode == 0
    with engine.connect() as c:
        assert authenticate(c, "olga", "pw1").role == "press"
    for bad in (["add", "x", "--role", "head"], ["add", "x", "--role", "executor", "--executor", "nope"],
                ["add", "olga", "--role", "press"], ["disable", "ghost"]):
        out = run(*bad, stdin="pw\n")
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, bad
    assert "olga\tpress" in run("list").stdout


def test_sign_in_form_and_audit_log(small_sqlite, tmp_path):
    url, engine = writable_copy(small_sqlite, tmp_path)
    with engine.begin() as c:
        add_user(c, "boss", "pw-boss", "analyst")
        add_user(c, "reporter", "pw-rep", "press")
    at = run_page(url, SMALL_AS_OF, viewer=None, **PARAMS)
    assert not at.metric and at.text_input(key="login_password")
    at.text_input(key="login_user").input("boss")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert any("Неверное имя" in e.value for e in at.error)
    at.text_input(key="login_password").input("pw-boss")
    at.button[0].click().run()
    assert at.metric and at.session_state["viewer"] == Viewer("boss", "analyst")
    # opening a case card is audited, once
    case_id = int(frame(engine)["id"].iloc[5])
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=Viewer("reporter", "press"), id=str(case_id))
    at.run()
    with engine.connect() as c:
        log = pd.read_sql(text("select username, role, action, target from audit_log order by id"), c)
    assert log[["username", "role", "action"]].values.tolist()[:2] == [["boss", "-", "login_failed"], ["boss", "analyst", "login"]]
    assert (log["action"] == "open_case").sum() == 1
    assert log[log["action"] == "open_case"].iloc[0].tolist() == ["reporter", "press", "open_case", str(case_id)]
    # the analyst sees the log; the press does not
    at = run_page(url, SMALL_AS_OF, "pages/audit.py", viewer=Viewer("boss", "analyst"))
    assert "открыта карточка" in set(at.dataframe[0].value["Действие"])  # the action in words, not its code
    at = run_page(url, SMALL_AS_OF, "pages/audit.py", viewer=Viewer("reporter", "press"))
    assert not at.dataframe and any("недоступна" in e.value for e in at.error)


def test_read_only_database_role(small_postgres, pg_server):
    """The app's role reads everything, writes only the audit log; migrations use another URL."""
    upgrade(small_postgres)
    with reader_role(small_postgres) as reader_url:
        owner = small_postgres.url.render_as_string(hide_password=False)
        at = run_page(reader_url, SMALL_AS_OF, "pages/cases.py", owner_url=owner, **PARAMS)
        assert not at.exception and any(x.value.startswith("Найдено") for x in at.caption)
        reader = make_engine(reader_url)
        with reader.connect() as c:
            with pytest.raises(Exception, match="permission denied"):
                c.execute(text("update appeals set status = 'new'"))
        with reader.begin() as c:
            c.execute(text("insert into audit_log (at, username, role, action) values (now(), 't', 'analyst', 'x')"))
            from queries import sessions  # signing in writes sessions and failures
            session, ticket = sessions.start(c, "test-analyst", "127.0.0.1")
            assert sessions.exchange(c, ticket) is not None and sessions.revoke(c, session.id) == 1
            sessions.failed(c, "nobody", "127.0.0.1")
            sessions.succeeded(c, "nobody")
        reader.dispose()


def test_four_demo_users_see_four_dashboards(small_sqlite, tmp_path):
    """minister, press, head-berdsk and minzdrav sign in with `demo` and get four different views."""
    url, engine = writable_copy(small_sqlite, tmp_path)
    with engine.begin() as c:
        ensure_demo_users(c)
    seen = {}
    for name in ("minister", "press", "head-berdsk", "minzdrav"):
        with engine.connect() as c:
            viewer = authenticate(c, name, "demo")
        at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=viewer, **PARAMS)
        listed = at.dataframe[0].value
        found = next(x.value for x in at.caption if x.value.startswith("Найдено"))
        seen[name] = (found, tuple(listed["№"].head(20)), " ".join(listed["Текст"].head(50)))
    assert len({v[0] for v in seen.values()} | {v[1] for v in seen.values()}) >= 4
    assert seen["minister"][1] == seen["press"][1] and seen["minister"][2] != seen["press"][2]  # same cases, masked
    assert number(seen["head-berdsk"][0].split("·")[0]) < number(seen["minister"][0].split("·")[0])
    assert number(seen["minzdrav"][0].split("·")[0]) < number(seen["minister"][0].split("·")[0])


def test_demo_users_only_for_the_embedded_demo_database():
    from queries.config import DatabaseTarget
    from seed.bootstrap import wants_demo_users
    assert wants_demo_users(DatabaseTarget("sqlite:///x", "default"), {"kind": "demo"})
    assert not wants_demo_users(DatabaseTarget("postgresql://u@h/db", "DATABASE_URL"), {"kind": "demo"})
    assert not wants_demo_users(DatabaseTarget("sqlite:///x", "default"), {})  # imported data: no demo users


def test_exports_are_audited(small_sqlite, tmp_path, monkeypatch):
    """A page's export is made when its button is pressed (the button's deferred data), and only
    then written to the audit log, as the page's viewer's, with the view's filters."""
    from .pagetools import deferred_exports
    given = deferred_exports(monkeypatch)
    url, engine = writable_copy(small_sqlite, tmp_path)
    at = run_page(url, SMALL_AS_OF, "pages/topics.py", viewer=Viewer("boss", "analyst"), **PARAMS)
    assert at.get("download_button")
    name, data = next((n, d) for n, d in given if n.startswith("categories_") and n.endswith(".csv"))
    query = text("select username, action, target, details from audit_log where action = 'export'")
    with engine.connect() as c:
        assert c.execute(query).first() is None  # drawn, not pressed: nothing made, nothing logged
    content = data()
    assert content.startswith("\ufeff".encode()) and b";" in content  # the CSV itself
    with engine.connect() as c:
        row = c.execute(query).first()
    assert row[0] == "boss" and row[2] == name and name.startswith("categories_2021-02-01_2021-03-31_на_")
    assert len(given) >= 4  # every table's CSV and XLSX
    assert '"from": "2021-02-01"' in row[3]


def test_bootstrap_seeds_and_creates_demo_users_once(tmp_path, monkeypatch, capsys):
    """`make run`'s first step on the embedded default: migrate, seed with a progress bar, demo users."""
    import seed.bootstrap as bootstrap
    from queries.config import DatabaseTarget
    from seed.generator import Scenario
    url = f"sqlite:///{tmp_path / 'appeals.sqlite'}"
    monkeypatch.setattr(bootstrap, "resolve_admin_database", lambda: DatabaseTarget(url, "default"))
    monkeypatch.setattr(bootstrap, "Scenario", lambda: Scenario(as_of=dt.datetime(2020, 12, 20, tzinfo=dt.timezone.utc), scale=0.2))
    assert bootstrap.main() == 0
    err = capsys.readouterr().err
    assert "First start" in err and "100%" in err and "Demo users created" in err
    with make_engine(url).connect() as c:
        assert authenticate(c, "head-berdsk", "demo") == Viewer("head-berdsk", "head", (BERDSK,))
    assert bootstrap.main() == 0  # a second start: nothing seeded, nobody created
    err = capsys.readouterr().err
    assert "First start" not in err and "Demo users created" not in err


def test_a_heads_filter_on_other_territories_is_named_and_their_cases_withheld(small_db):
    """The territories of a head's filter that are neither theirs nor their districts, as pandas finds
    them from the municipalities table; on the page, a notice names them and no case of theirs is listed."""
    from queries.reference import outside_case_scope
    with small_db.connect() as c:
        m = pd.read_sql(text("select m.code, p.code as parent_code from municipalities m"
                             " left join municipalities p on p.id = m.parent_id"), c)
        city = "50701000"
        districts = m.loc[m["parent_code"] == city, "code"].tolist()
        codes = (city, districts[0], BERDSK, districts[-1])
        head = Viewer("h", "head", territories=(city,))
        expected = [x for x in codes if x != city and x not in set(m.loc[m["parent_code"] == city, "code"])]
        assert expected == [BERDSK]
        assert outside_case_scope(c, head, codes) == expected
        assert outside_case_scope(c, Viewer("hb", "head", territories=(BERDSK,)), codes) == [city, districts[0], districts[-1]]
        assert outside_case_scope(c, Viewer("a", "analyst"), codes) == []
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", viewer=Viewer("head-nsk", "head", territories=(city,)),
                  **{"from": "2021-02-01", "to": "2021-02-28", "territory": f"{city},{BERDSK}"})
    notices = [i.value for i in at.info]
    assert any("Бердск" in n for n in notices), notices
    df = frame(small_db)
    own = select(df, dt.date(2021, 2, 1), dt.date(2021, 2, 28), territory=city)
    found = [c.value for c in at.caption if c.value.startswith("Найдено")]
    assert found and number(found[0].split(":")[1]) == len(own) > 0, (found, len(own))
