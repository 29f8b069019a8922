"""Faults and bad input: unreachable, empty or vanishing databases; fuzzed URL parameters and filters."""
import datetime as dt
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from queries.cases import case_list
from queries.filters import Filters
from queries.kpis import kpi_frame
from queries.db import make_engine
from queries.migrate import upgrade
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF, examples
from .pagetools import run_page


def test_unreachable_database_gives_a_message_then_recovers(small_sqlite):
    at = run_page("postgresql://nobody@127.0.0.1:9/none", SMALL_AS_OF)
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # as read: markdown escapes undone
    assert "База данных недоступна" in errors and "127.0.0.1:9" in errors
    assert "нажмите «Повторить»" in errors  # what the page promises is what it does
    assert any(b.label == "Повторить" for b in at.button)
    good = small_sqlite.url.render_as_string(hide_password=False)
    at = run_page(good, SMALL_AS_OF, **{"from": "2021-03-01", "to": "2021-03-07"})
    assert not at.error and at.metric


def test_empty_database_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    upgrade(make_engine(url))
    at = run_page(url, SMALL_AS_OF)
    assert any("База данных пуста" in w.value for w in at.warning)


def test_database_without_schema_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'blank.sqlite'}"
    make_engine(url).connect().close()
    at = run_page(url, SMALL_AS_OF)
    assert any("База данных пуста" in w.value for w in at.warning)


# ---- PostgreSQL going away while the app is used, through a TCP proxy the test controls ----------



class Proxy:
    """Forwards 127.0.0.1:port to PostgreSQL; stop() drops the listener and every connection."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        self.port = None
        self.conns: list[socket.socket] = []
        self.listener = None
        self.running = False

    def start(self, port: int | None = None):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port or 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def stop(self):
        self.running = False
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.listener.close()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []


def test_postgres_outage_and_recovery(small_postgres):
    proxy = Proxy().start()
    url = small_postgres.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    params = {"from": "2021-03-01", "to": "2021-03-07"}
    try:
        at = run_page(url, SMALL_AS_OF, **params)
        assert at.metric and not at.error
        port = proxy.port
        proxy.stop()
        for page in ("pages/overview.py", "pages/cases.py", "pages/territories.py"):
            at = run_page(url, SMALL_AS_OF, page, **{"from": "2021-03-02", "to": "2021-03-08"})
            assert not at.exception
            assert any("База данных недоступна" in e.value for e in at.error), page
        proxy.start(port)  # the database is back: the same app process recovers
        at = run_page(url, SMALL_AS_OF, "pages/cases.py", **{"from": "2021-03-03", "to": "2021-03-09"})
        assert not at.error and any(c.value.startswith("Найдено") for c in at.caption)
    finally:
        proxy.stop()


# ---- fuzzing: URL parameters and filter values -------------------------------------------------
NASTY = st.sampled_from([
    "'; drop table canary; --", "50708000') or 1=1 --", "%", "_", "\\", "\x00", "𝕏", "а" * 300, "1,2,3",
    "50701000,50708000", "roads", "covid.vaccination", "vk", "2021-03-01", "9999-99-99", "-1", " ", "", "¹", "№²",
])
VALUES = st.one_of(NASTY, st.text(max_size=40))


@pytest.fixture
def canary(small_db):
    with small_db.begin() as c:
        c.execute(text("create table if not exists canary (x integer)"))
        c.execute(text("delete from canary"))
        c.execute(text("insert into canary values (42)"))
    yield small_db
    with small_db.begin() as c:
        assert c.execute(text("select x from canary")).scalar_one() == 42
        c.execute(text("drop table canary"))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terr=st.lists(VALUES, max_size=3), topic=st.lists(VALUES, max_size=2), src=st.lists(VALUES, max_size=2),
       ex=st.lists(st.integers(-5, 10**12), max_size=2), q=VALUES)
def test_filter_values_cannot_escape(canary, terr, topic, src, ex, q):
    """Arbitrary filter values are bound, never spliced: no error, no rows outside the scope."""
    head = Viewer("h", "head", territories=("50708000",))
    f = Filters(dt.date(2021, 1, 1), dt.date(2021, 4, 30), tuple(terr), tuple(topic), tuple(src), tuple(ex))
    with canary.connect() as c:
        rows, total = case_list(c, f, head, SMALL_AS_OF, query=q, page_size=500)
        if len(rows):
            ids = ",".join(str(int(i)) for i in rows["id"])
            outside = c.execute(text(f"""select count(*) from appeals a join municipalities m on m.id = a.municipality_id
                where a.id in ({ids}) and m.code <> '50708000'""")).scalar_one()
            assert outside == 0
        kpi_frame(c, f, head, SMALL_AS_OF)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["from", "to", "territory", "topic", "source", "executor", "lang", "id"]),
                              VALUES, max_size=5),
       page=st.sampled_from(["pages/overview.py", "pages/cases.py", "pages/territories.py", "pages/speed.py"]))
def test_url_parameters_fuzzed(canary, params, page):
    params = {k: v.replace("\x00", "") for k, v in params.items()}
    url = canary.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, page, viewer=Viewer("h", "head", territories=("50708000",)), **params)
    assert not at.exception
    if page == "pages/cases.py" and at.dataframe and "№" in at.dataframe[0].value.columns:
        ids = at.dataframe[0].value["№"].tolist()
        if ids:
            with canary.connect() as c:
                codes = {r[0] for r in c.execute(text(f"""select m.code from appeals a join municipalities m
                    on m.id = a.municipality_id where a.id in ({",".join(str(int(i)) for i in ids)})"""))}
            assert codes <= {"50708000"}


def test_superscript_digits_are_not_ids(small_db):
    """'¹'.isdigit() is True but int('¹') fails: found by the fuzzer; ids must be decimal digits."""
    f = Filters(dt.date(2021, 1, 1), dt.date(2021, 4, 30))
    with small_db.connect() as c:
        rows, total = case_list(c, f, Viewer("a", "analyst"), SMALL_AS_OF, query="¹")
        assert total == len(rows) == 0
    at = run_page(small_db.url.render_as_string(hide_password=False), SMALL_AS_OF, "pages/cases.py", id="²")
    assert not at.exception and any("id" in w.value for w in at.warning)
