"""Sign-in sessions, their limits and revocation, the per-run check of the user, throttling of
failed sign-ins across sessions, and the audit of what a user looks for and opens. Both databases."""
import datetime as dt
import uuid

import pandas as pd
import pytest
from sqlalchemy import text

from queries import sessions
from queries.db import make_engine
from queries.migrate import upgrade
from queries.users import add_user, revoke_sessions
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import ensure_user, frame, run_page

BERDSK = "50708000"
PARAMS = {"from": "2021-02-01", "to": "2021-03-31"}


@pytest.fixture
def store(fresh_url):
    engine = make_engine(fresh_url)
    upgrade(engine)
    from ingest.reference import load_reference
    with engine.begin() as c:
        load_reference(c)
        add_user(c, "olga", "pw", "analyst")
    yield engine
    engine.dispose()


def _shift(engine, column: str, delta: dt.timedelta, session_id: int) -> None:
    with engine.begin() as c:
        value = c.execute(text(f"select {column} from user_sessions where id = :i"), {"i": session_id}).scalar_one()
        value = pd.Timestamp(value).to_pydatetime()
        value = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)) + delta
        c.execute(text(f"update user_sessions set {column} = :v where id = :i"), {"v": value, "i": session_id})


def test_a_ticket_is_exchanged_once_and_only_while_fresh(store):
    with store.begin() as c:
        session, ticket = sessions.start(c, "olga", "10.0.0.1")
        token, lifetime = sessions.exchange(c, ticket)
        assert sessions.exchange(c, ticket) is None  # single use
        assert dt.timedelta(days=6, hours=23) < lifetime <= dt.timedelta(days=7)
        stored = c.execute(text("select token_hash, ticket_hash from user_sessions where id = :i"),
                           {"i": session.id}).one()
        assert stored == (sessions.digest(token), None) and token not in stored  # only the hash is kept
        late, late_ticket = sessions.start(c, "olga")
    _shift(store, "created_at", -sessions.TICKET_TTL - dt.timedelta(seconds=5), late.id)
    with store.begin() as c:
        assert sessions.exchange(c, late_ticket) is None
        assert sessions.exchange(c, "made-up") is None


@pytest.mark.parametrize("ending", ["idle", "absolute", "signed_out", "disabled", "new_password"])
def test_a_session_ends_by_its_limits_and_by_revocation(store, ending):
    with store.begin() as c:
        session, ticket = sessions.start(c, "olga")
        token, _ = sessions.exchange(c, ticket)
        assert sessions.resume(c, token) == (session, Viewer("olga", "analyst"))
        assert sessions.current(c, session) == Viewer("olga", "analyst")
    if ending == "idle":
        _shift(store, "last_seen_at", -sessions.idle_limit() - dt.timedelta(minutes=1), session.id)
    elif ending == "absolute":
        _shift(store, "expires_at", -sessions.absolute_limit(), session.id)
    with store.begin() as c:
        if ending == "signed_out":
            assert sessions.revoke(c, session.id) == 1
        elif ending == "disabled":
            c.execute(text("update users set disabled = true where username = 'olga'"))
        elif ending == "new_password":
            assert revoke_sessions(c, "olga") == 1
        assert sessions.resume(c, token) is None and sessions.current(c, session) is None
        assert sessions.token_viewer(c, token) is None


def test_activity_keeps_a_session_and_a_role_change_applies_at_once(store):
    with store.begin() as c:
        session, ticket = sessions.start(c, "olga")
        token, _ = sessions.exchange(c, ticket)
    _shift(store, "last_seen_at", -sessions.idle_limit() + dt.timedelta(minutes=5), session.id)
    with store.begin() as c:
        found = sessions.resume(c, token)
        assert found is not None and found[0].stale  # read only: the page touches it apart
        sessions.touch(c, found[0])  # the idle clock restarts
        seen = c.execute(text("select last_seen_at from user_sessions where id = :i"), {"i": session.id}).scalar_one()
    assert pd.Timestamp(seen).tz_localize(None) > pd.Timestamp.now('UTC').tz_localize(None) - pd.Timedelta(minutes=2)
    with store.begin() as c:
        c.execute(text("update users set role = 'head', territory_code = :t where username = 'olga'"), {"t": BERDSK})
        assert sessions.current(c, session) == Viewer("olga", "head", (BERDSK,))


def test_failed_sign_ins_lock_a_name_and_an_address_across_sessions(store):
    with store.begin() as c:
        for name in ("olga", "nobody"):  # an existing and an unknown name: the same rule
            for i in range(sessions.MAX_PER_NAME):
                assert not sessions.locked(c, name, f"10.0.0.{i}")
                sessions.failed(c, name, f"10.0.0.{i}")
            assert sessions.locked(c, name, "10.9.9.9")
        assert not sessions.locked(c, "ivan", "10.9.9.9")
        for i in range(sessions.MAX_PER_CLIENT):
            sessions.failed(c, f"guess{i}", "10.1.1.1")
        assert sessions.locked(c, "ivan", "10.1.1.1") and not sessions.locked(c, "ivan", "10.1.1.2")
        c.execute(text("update sign_in_failures set at = :t"),
                  {"t": dt.datetime.now(dt.timezone.utc) - sessions.WINDOW - dt.timedelta(minutes=1)})
        assert not sessions.locked(c, "olga", "10.1.1.1")


# ---- in the app ---------------------------------------------------------------------------------

def _url(small_db):
    return small_db.url.render_as_string(hide_password=False)


def _log(engine, username: str) -> pd.DataFrame:
    with engine.connect() as c:
        return pd.read_sql(text("select action, target, details from audit_log where username = :u order by id"),
                           c, params={"u": username})


def test_a_disabled_user_loses_an_open_tab_on_the_next_click(small_db):
    name = f"tab-{uuid.uuid4().hex[:8]}"
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(name, "analyst"), **PARAMS)
    assert any(c.value.startswith("Найдено") for c in at.caption)
    with small_db.begin() as c:
        c.execute(text("update users set disabled = true where username = :u"), {"u": name})
    at.run()
    assert at.text_input(key="login_password") is not None
    assert not any(c.value.startswith("Найдено") for c in at.caption) and not at.dataframe
    assert any("Сеанс завершён" in i.value for i in at.info)
    assert "session_refused" in set(_log(small_db, name)["action"])


def test_a_role_change_applies_on_the_next_click(small_db):
    name = f"role-{uuid.uuid4().hex[:8]}"
    df = frame(small_db)
    case = df[df["text"].str.contains("8-913-")].iloc[0]
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(name, "analyst"), id=str(int(case["id"])))
    assert any("8\\-913" in m.value for m in at.markdown)
    with small_db.begin() as c:
        c.execute(text("update users set role = 'press' where username = :u"), {"u": name})
    at.run()
    assert at.session_state["viewer"] == Viewer(name, "press")
    assert not any("8\\-913" in m.value for m in at.markdown)


def test_sign_in_is_throttled_across_browser_sessions(small_db):
    name = f"guess-{uuid.uuid4().hex[:8]}"
    ensure_user(_url(small_db), Viewer(name, "analyst"))  # password "test-password"

    def attempt(password: str):
        at = run_page(_url(small_db), SMALL_AS_OF, viewer=None, **PARAMS)  # a new tab each time
        at.text_input(key="login_user").input(name)
        at.text_input(key="login_password").input(password)
        at.button[0].click().run()
        return at

    for _ in range(sessions.MAX_PER_NAME):
        assert any("Неверное имя" in e.value for e in attempt("wrong").error)
    at = attempt("test-password")  # right, but too late: the same refusal for any name
    assert any("Слишком много" in e.value for e in at.error) and "viewer" not in at.session_state
    log = _log(small_db, name)
    assert list(log["action"]) == ["login_failed"] * (sessions.MAX_PER_NAME + 1)
    assert '"throttled": true' in log["details"].iloc[-1] and '"client"' in log["details"].iloc[0]
    with small_db.begin() as c:
        c.execute(text("delete from sign_in_failures where username = :u"), {"u": name})
    at = attempt("test-password")
    assert at.session_state["viewer"] == Viewer(name, "analyst")
    with small_db.connect() as c:  # a database session was started for the cookie
        assert c.execute(text("select count(*) from user_sessions where username = :u"), {"u": name}).scalar_one() == 1


def test_searches_refusals_and_a_second_user_in_the_tab_are_audited(small_db, monkeypatch):
    from .pagetools import deferred_exports
    given = deferred_exports(monkeypatch)
    head, other = f"head-{uuid.uuid4().hex[:8]}", f"an-{uuid.uuid4().hex[:8]}"
    df = frame(small_db)
    outside = int(df[(df["m_code"] != BERDSK) & (df["parent_m_code"] != BERDSK)]["id"].iloc[0])
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(head, "head", (BERDSK,)),
                  id=str(outside))
    assert any("не найдено" in w.value for w in at.warning)
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(head, "head", (BERDSK,)), id="999999999")
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(head, "head", (BERDSK,)), **PARAMS)
    given.clear()
    at.text_input(key="case_q").input("отопление").run()
    next(d for n, d in given if n.endswith(".csv"))()  # the search's CSV, as its button makes it
    log = _log(small_db, head)
    assert log[["action", "target"]].values.tolist()[:3] == [
        ["open_case_refused", str(outside)], ["open_case_missing", "999999999"], ["search", "отопление"]]
    export = log[log["action"] == "export"].iloc[0]
    assert '"search": "отопление"' in export["details"] and '"rows":' in export["details"]
    # the same tab, another user: the card they open is theirs to be audited
    inside = int(df[df["m_code"] == BERDSK]["id"].iloc[0])
    at = run_page(_url(small_db), SMALL_AS_OF, "pages/cases.py", viewer=Viewer(head, "head", (BERDSK,)), id=str(inside))
    ensure_user(_url(small_db), Viewer(other, "analyst"))
    at.session_state["viewer"] = Viewer(other, "analyst")
    at.run()
    assert _log(small_db, other)["action"].tolist() == ["open_case"]
    assert (_log(small_db, head)["action"] == "open_case").sum() == 1
