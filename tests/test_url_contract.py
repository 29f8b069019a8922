"""The URL contract: parameters set the filters, filters write the parameters, bad values fall back."""
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from dashboard.drill import bucket_days, bucket_range, drill, grain_for
from dashboard.urlstate import Choices, default_filters, parse, preset_of, to_params
from queries.filters import Filters

from .conftest import SMALL_AS_OF, examples
from .pagetools import run_page

TODAY = dt.date(2026, 11, 29)
CHOICES = Choices(frozenset({"50701000", "50708000", "koltsovo"}), frozenset({"roads", "roads.snow"}),
                  frozenset({"vk", "pos"}), frozenset({1, 2, 3}))


def test_parameters_set_the_filters():
    p = parse({"from": "2024-01-01", "to": "2024-01-31", "territory": "50708000,koltsovo", "topic": "roads.snow",
               "source": "vk", "executor": "2,3", "lang": "en"}, CHOICES, TODAY)
    assert p.filters == Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 31), ("50708000", "koltsovo"),
                                ("roads.snow",), ("vk",), (2, 3))
    assert p.lang == "en" and p.notices == []


def test_defaults_are_the_last_30_days():
    p = parse({}, CHOICES, TODAY)
    assert p.filters == Filters(dt.date(2026, 10, 31), TODAY) == default_filters(TODAY)
    assert preset_of(p.filters, TODAY) == "30d"


@pytest.mark.parametrize("bad", [
    {"from": "2024-13-01"}, {"to": "yesterday"}, {"territory": "atlantis"}, {"topic": "roads.nope"},
    {"source": "myspace"}, {"executor": "x1"}, {"executor": "999"}, {"executor": "¹"}, {"lang": "de"},
    {"from": "2024-02-01", "to": "2024-01-01"},
])
def test_bad_values_fall_back_with_a_notice(bad):
    p = parse(bad, CHOICES, TODAY)
    assert p.notices, bad
    assert p.filters.territories == p.filters.topics == p.filters.sources == p.filters.executors == ()
    if "from" in bad or "to" in bad:
        assert (p.filters.date_from, p.filters.date_to) == (dt.date(2026, 10, 31), TODAY)


def test_good_values_survive_next_to_bad_ones():
    p = parse({"territory": "50708000,atlantis"}, CHOICES, TODAY)
    assert p.filters.territories == ("50708000",)
    assert p.notices == [("territory", "atlantis")]


filters_strategy = st.builds(
    lambda a, n, terr, topic, src, ex: Filters(a, a + dt.timedelta(days=n), tuple(terr), tuple(topic), tuple(src), tuple(ex)),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)), st.integers(0, 2000),
    st.lists(st.sampled_from(sorted(CHOICES.territories)), max_size=3),
    st.lists(st.sampled_from(sorted(CHOICES.topics)), max_size=2),
    st.lists(st.sampled_from(sorted(CHOICES.sources)), max_size=2),
    st.lists(st.sampled_from(sorted(CHOICES.executors)), max_size=3),
)


@settings(max_examples=examples(200), deadline=None)
@given(filters_strategy, st.sampled_from(["ru", "en"]))
def test_filters_round_trip_through_the_url(filters, lang):
    p = parse(to_params(filters, lang), CHOICES, TODAY)
    assert p.filters == filters and p.lang == lang and p.notices == []


@settings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(st.sampled_from(["from", "to", "territory", "topic", "source", "executor", "lang", "junk"]),
                       st.text(max_size=30)))
def test_any_parameters_parse_without_error(raw):
    p = parse(raw, CHOICES, TODAY)
    assert p.filters.date_from <= p.filters.date_to


def test_drill_narrows_each_dimension():
    f = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31), ("50708000",), (), ("vk",), ())
    assert drill(f, "territory", "koltsovo").territories == ("koltsovo",)
    assert drill(f, "topic", "roads").topics == ("roads",) and drill(f, "topic", "roads").sources == ("vk",)
    assert drill(f, "source", "pos").sources == ("pos",)
    assert drill(f, "executor", "3").executors == (3,)
    assert drill(f, "week", "2024-01-08") == f.narrowed(date_from=dt.date(2024, 1, 8), date_to=dt.date(2024, 1, 14))
    assert drill(f, "month", dt.date(2024, 2, 1)) == f.narrowed(date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 2, 29))
    assert drill(f, "day", "2024-03-05T00:00:00") == f.narrowed(date_from=dt.date(2024, 3, 5), date_to=dt.date(2024, 3, 5))
    # a bucket sticking out of the period is clipped to it
    g = f.narrowed(date_from=dt.date(2024, 1, 3))
    assert drill(g, "week", "2024-01-01") == g.narrowed(date_to=dt.date(2024, 1, 7))
    assert drill(g, "week", "2023-12-25") == g  # wholly outside the period: nothing to narrow


def test_partial_buckets_are_counted_in_days():
    """A week or month cut by the period's ends is partial: the days it has of its whole."""
    f = Filters(dt.date(2024, 2, 1), dt.date(2024, 3, 31))  # Thursday to Sunday
    assert bucket_days(f, "week", dt.date(2024, 1, 29)) == (4, 7)  # Thu 1 Feb .. Sun 4 Feb
    assert bucket_days(f, "week", dt.date(2024, 3, 25)) == (7, 7)
    g = f.narrowed(date_to=dt.date(2024, 3, 28))
    assert bucket_days(g, "week", "2024-03-25T00:00:00") == (4, 7)
    assert bucket_days(g, "month", dt.date(2024, 2, 1)) == (29, 29)  # a leap February
    assert bucket_days(g, "month", dt.date(2024, 3, 1)) == (28, 31)
    assert bucket_days(g, "day", dt.date(2024, 3, 5)) == (1, 1)


def test_grain_follows_period_length():
    assert grain_for(Filters(TODAY - dt.timedelta(days=29), TODAY)) == "day"
    assert grain_for(Filters(TODAY - dt.timedelta(days=89), TODAY)) == "week"
    assert grain_for(Filters(TODAY - dt.timedelta(days=364), TODAY)) == "month"
    assert bucket_range(dt.date(2024, 12, 1), "month") == (dt.date(2024, 12, 1), dt.date(2024, 12, 31))


def test_app_reads_and_writes_parameters(small_sqlite):
    """Parameters set the widgets; the app writes the canonical parameters back (explicit dates)."""
    url = small_sqlite.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, **{"from": "2021-03-01", "to": "2021-03-07", "territory": "50708000", "source": "vk"})
    assert at.session_state["f_terr"] == ["50708000"] and at.session_state["f_source"] == ["vk"]
    assert at.session_state["f_preset"] == "custom"
    assert at.session_state["f_dates"] == (dt.date(2021, 3, 1), dt.date(2021, 3, 7))
    at = run_page(url, SMALL_AS_OF, territory="50708000")
    today = (SMALL_AS_OF + dt.timedelta(hours=7)).date()
    assert at.query_params == {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat(),
                               "territory": "50708000"}
    assert at.session_state["f_preset"] == "30d"
    # changing a widget writes the parameters
    at.multiselect(key="f_source").set_value(["vk"]).run()
    assert at.query_params["source"] == "vk" and at.query_params["territory"] == "50708000"
    # and a changed URL (a pasted link, a drill-down) moves the widgets
    at.query_params["territory"] = "koltsovo"
    at.run()
    assert at.session_state["f_terr"] == ["koltsovo"]


def test_app_ignores_bad_parameters_visibly(small_sqlite):
    url = small_sqlite.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, territory="atlantis", **{"from": "notadate"})
    warnings = " ".join(w.value for w in at.warning)
    assert "atlantis" in warnings and "notadate" in warnings
    assert at.session_state["f_terr"] == []


@pytest.mark.parametrize("page", [None, "pages/topics.py", "pages/cases.py"])
def test_reset_filters_clears_every_filter_without_an_error(small_sqlite, page):
    url = small_sqlite.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, page, **{"from": "2021-03-01", "to": "2021-03-07", "territory": "50708000",
                                             "source": "vk"})
    next(b for b in at.sidebar.button if b.label == "Сбросить фильтры").click().run()
    assert not at.exception, [e.value for e in at.exception]
    today = (SMALL_AS_OF + dt.timedelta(hours=7)).date()
    assert at.query_params == {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()}
    assert at.session_state["f_terr"] == [] and at.session_state["f_source"] == []
    assert at.session_state["f_preset"] == "30d"
    assert any(b.label == "Выйти" for b in at.sidebar.button)  # the shell is whole


def test_back_to_the_list_closes_the_card_for_good(small_sqlite):
    url = small_sqlite.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", id="5", **{"from": "2021-03-01", "to": "2021-03-07"})
    assert any(t.value.startswith("Обращение №") for t in at.title)
    at.button(key="case_back").click().run()
    assert "id" not in at.query_params and not any(t.value.startswith("Обращение №") for t in at.title)
    at.multiselect(key="f_source").set_value(["vk"]).run()  # a changed filter does not reopen it
    assert "id" not in at.query_params and not any(t.value.startswith("Обращение №") for t in at.title)
