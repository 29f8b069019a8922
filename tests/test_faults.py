"""Unreachable and empty databases: a clear message in Russian, no traceback, recovery."""
import datetime as dt

from queries.db import make_engine
from queries.migrate import upgrade

from .conftest import SMALL_AS_OF
from .pagetools import run_page


def test_unreachable_database_gives_a_message_then_recovers(small_sqlite):
    at = run_page("postgresql://nobody@127.0.0.1:9/none", SMALL_AS_OF)
    errors = " ".join(e.value for e in at.error)
    assert "База данных недоступна" in errors and "127.0.0.1:9" in errors
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
