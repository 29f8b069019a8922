"""A just-started server's first page (dashboard.warm): after the warm-up, the overview of a
region-wide user asks the database for no figure (every read is in the shared cache, whoever signs
in), and what it shows is the data's (the received card against a pandas count)."""
import os
import re

import streamlit as st

from dashboard import warm
from dashboard.urlstate import default_filters
from queries.localtime import local_date
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF, sent_statements
from .pagetools import frame, metric, number, run_page, select

FIGURES = re.compile(r"\b(appeals|appeal_events|agg_counts|agg_hist|agg_closed)\b")


def _reads(fn, *args):
    """fn(*args) and the number of statements it sent for figures or cases."""
    with sent_statements() as statements:
        out = fn(*args)
    return out, sum(bool(FIGURES.search(s)) for s in statements)


def test_after_the_warm_up_the_overview_reads_no_figure(small_db):
    url = small_db.url.render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    os.environ["PULSE_AS_OF"] = SMALL_AS_OF.isoformat()
    st.cache_data.clear()
    warm.first_page()
    at, n = _reads(run_page, url, SMALL_AS_OF, None, Viewer("warm-minister", "analyst"))
    assert n == 0
    f = default_filters(local_date(SMALL_AS_OF))
    expected = len(select(frame(small_db), f.date_from, f.date_to))
    assert expected > 0
    assert number(metric(at, "Поступило")) == expected


def test_a_cold_overview_reads_its_figures(small_db):
    """The counter above sees the overview's reads when nothing is warmed (it could not pass by
    seeing nothing)."""
    url = small_db.url.render_as_string(hide_password=False)
    st.cache_data.clear()
    _, n = _reads(run_page, url, SMALL_AS_OF, None, Viewer("cold-minister", "analyst"))
    assert n > 5


def test_the_shared_cache_is_shared_within_a_role_and_scope_only(small_db):
    """Two analysts share a cached case list; the press role after them gets its own, masked one
    (the seeded texts carry names and phone numbers), and an executor its own."""
    from dashboard import data
    from queries.filters import Filters
    url = small_db.url.render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    st.cache_data.clear()
    f = Filters(SMALL_AS_OF.date().replace(day=1), SMALL_AS_OF.date())
    page = lambda viewer: data.case_page(url, viewer, f, SMALL_AS_OF, "", "newest", 1)[0]  # noqa: E731
    first, n = _reads(page, Viewer("a1", "analyst"))
    again, m = _reads(page, Viewer("a2", "analyst"))
    assert n > 0 and m == 0 and again.equals(first)  # the second analyst's is the first's, not read again
    press, n = _reads(page, Viewer("p1", "press"))
    assert n > 0
    assert not press["text"].equals(first["text"])  # masked: the seeded texts carry names and numbers
    assert not press["text"].str.contains(r"8-913-\d{3}-\d{2}-\d{2}|Меня зовут [А-ЯЁ]").any()
    own, n = _reads(page, Viewer("e1", "executor", executors=(1,)))
    assert n > 0 and not own["id"].equals(first["id"])
