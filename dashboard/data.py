"""Cached reads: one engine per URL, query results cached briefly so a shared view costs one query.

Cached functions take plain hashable values (the URL, a Filters value, the as-of minute) and
never read widgets.
"""
from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from queries import cases, dataset, kpis, league, reference, replica, speed, trend
from queries.config import resolve_admin_database, resolve_database, resolve_read_database
from queries.db import make_engine
from queries.filters import Filters
from queries.viewer import Viewer

TTL = 120
DB_ERRORS = (OperationalError, DBAPIError)


def _scope(viewer: Viewer) -> tuple:
    """A viewer as the cached reads see it: what they may read, not who asks (no query reads the
    user name), so that users of one role and scope share a result (dashboard.warm fills it)."""
    return viewer.role, viewer.territories, viewer.executors


BY_SCOPE = {Viewer: _scope}


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url, create_dirs=False, statement_timeout_ms=15_000)


def database_url() -> str:
    return resolve_database().url


def engine() -> Engine:
    return _engine(database_url())


def read_url() -> str:
    return resolve_read_database().url


def read_engine() -> Engine:
    """Where figures are read: READ_DATABASE_URL (a hot standby), else the app's database."""
    return _engine(read_url())


@st.cache_data(ttl=10, show_spinner=False)
def read_state(url: str):
    """Whether the figures come from a standby, and how far behind its replay is (queries.replica)."""
    with read_engine().connect() as conn:
        return replica.read_state(conn)


@st.cache_data(ttl=5, show_spinner=False)
def primary_reachable(url: str) -> bool:
    """The primary answers (for a page shown while it is away: read-only, said so)."""
    try:
        with engine().connect() as conn:
            conn.exec_driver_sql("select 1")
        return True
    except DB_ERRORS:
        return False


def owner_engine() -> Engine:
    """The owner's connection (ADMIN_DATABASE_URL, else the app's), for the app's few writes; one
    engine per process, as the reading one."""
    return _engine(resolve_admin_database().url)


def now() -> dt.datetime:
    """The as-of moment, to the minute (PULSE_AS_OF fixes it for tests and reproducible demos)."""
    fixed = os.environ.get("PULSE_AS_OF")
    if fixed:
        moment = dt.datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)


def _read(fn, *args, **kwargs):
    with read_engine().connect() as conn:
        return fn(conn, *args, **kwargs)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def schema_ready(url: str) -> bool:
    return _read(dataset.has_schema)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False, hash_funcs=BY_SCOPE)
def totals(url: str, viewer: Viewer) -> pd.Series:
    return _read(dataset.totals, viewer)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def territories(url: str) -> pd.DataFrame:
    return _read(reference.territories)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def topics(url: str) -> pd.DataFrame:
    return _read(reference.topics)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def executors(url: str) -> pd.DataFrame:
    return _read(reference.executors)


@st.cache_data(ttl=TTL, max_entries=512, show_spinner=False, hash_funcs=BY_SCOPE)
def kpi(url: str, viewer: Viewer, filters: Filters, at: dt.datetime, group: str | None = None,
        percentiles: bool = True) -> pd.DataFrame:
    return _read(kpis.kpi_frame, filters, viewer, at, group, percentiles=percentiles)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def kpi_previous(url: str, viewer: Viewer, filters: Filters, at: dt.datetime) -> pd.DataFrame:
    """The previous period's KPIs like for like: as they stood when that period was as old as
    `filters`' period is at `at` (kpis.kpi_as_of), for the deltas of the KPI cards."""
    previous = filters.previous()
    return _read(kpis.kpi_as_of, previous, viewer, at - (filters.date_from - previous.date_from))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False, hash_funcs=BY_SCOPE)
def press_release(url: str, viewer: Viewer, d_from: dt.date, d_to: dt.date, at: dt.datetime, lang: str):
    """The press release of a period (reports.press) and its chart (PNG bytes)."""
    from reports.charts import press_chart
    from reports.press import press_release as make
    release = _read(make, viewer, d_from, d_to, at, lang)
    return release, press_chart(release, lang)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False, hash_funcs=BY_SCOPE)
def spikes(url: str, viewer: Viewer, week: dt.date, level: str) -> pd.DataFrame:
    """The week's spikes with names, a head's own territories first (reports.spikes)."""
    from reports.spikes import spike_table
    return _read(spike_table, week, week + dt.timedelta(days=6), viewer, level)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False, hash_funcs=BY_SCOPE)
def spike_series(url: str, viewer: Viewer, cells: tuple, week: dt.date, weeks: int, level: str) -> dict:
    from queries.spikes import series
    return _read(series, list(cells), week, weeks, viewer, level)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False, hash_funcs=BY_SCOPE)
def briefing_pdf(url: str, viewer: Viewer, filters: Filters, at: dt.datetime, filters_text: str) -> bytes:
    """The minister's briefing of the view (reports.briefing), as PDF bytes."""
    from reports.briefing import make_briefing, render_pdf
    return render_pdf(_read(make_briefing, viewer, filters, at, filters_text))


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False, hash_funcs=BY_SCOPE)
def flow(url: str, viewer: Viewer, filters: Filters, grain: str) -> pd.DataFrame:
    return _read(trend.received_closed, filters, viewer, grain)


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False, hash_funcs=BY_SCOPE)
def kpi_trend(url: str, viewer: Viewer, filters: Filters, grain: str, at: dt.datetime, by: str | None = None) -> pd.DataFrame:
    return _read(trend.kpi_trend, filters, viewer, grain, at, by)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def territory_league(url: str, viewer: Viewer, filters: Filters, at: dt.datetime) -> pd.DataFrame:
    return _read(league.territory_league, filters, viewer, at)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def executor_league(url: str, viewer: Viewer, filters: Filters, at: dt.datetime) -> pd.DataFrame:
    return _read(league.executor_league, filters, viewer, at)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def peer_average(url: str, viewer: Viewer, filters: Filters, at: dt.datetime) -> pd.DataFrame:
    return _read(league.peer_average, filters, viewer, at)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def histogram(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _read(speed.response_histogram, filters, viewer)


@st.cache_data(ttl=60, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def overdue(url: str, viewer: Viewer, filters: Filters, at: dt.datetime) -> pd.DataFrame:
    """Every overdue appeal of the view, oldest deadline first (up to cases.EXPORT_CAP): the tables
    show the first thousand, the counts by executor and the exports hold them all."""
    return _read(speed.overdue_now, filters, viewer, at, limit=cases.EXPORT_CAP)


@st.cache_data(ttl=TTL, max_entries=128, show_spinner=False, hash_funcs=BY_SCOPE)
def escalations(url: str, viewer: Viewer, filters: Filters) -> pd.DataFrame:
    return _read(speed.escalation_flow, filters, viewer)


@st.cache_data(ttl=60, max_entries=256, show_spinner=False, hash_funcs=BY_SCOPE)
def case_page(url: str, viewer: Viewer, filters: Filters, at: dt.datetime, query: str, sort: str, page: int,
              after: tuple[str, int] | None = None, escalated_to_me: bool = False) -> tuple[pd.DataFrame, int]:
    return _read(cases.case_list, filters, viewer, at, query, sort, page, after=after, escalated_to_me=escalated_to_me)


def case_export(url: str, viewer: Viewer, filters: Filters, at: dt.datetime, query: str, sort: str,
                escalated_to_me: bool = False) -> pd.DataFrame:
    """Every case of the view (up to cases.EXPORT_CAP, in the view's order) with full texts: read
    when an export is asked for, never cached (it may be large)."""
    rows, _ = _read(cases.case_list, filters, viewer, at, query, sort, 1, page_size=cases.EXPORT_CAP, full_text=True,
                    escalated_to_me=escalated_to_me)
    return rows


def appeal_exists(url: str, appeal_id: int) -> bool:
    """Whether an appeal exists at all (the audit tells a refused case from a missing one)."""
    return _read(cases.exists, appeal_id)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False, hash_funcs=BY_SCOPE)
def outside_case_scope(url: str, viewer: Viewer, codes: tuple[str, ...]) -> list[str]:
    """The filter's territories whose cases the viewer may not read (queries.reference)."""
    return _read(reference.outside_case_scope, viewer, codes)


@st.cache_data(ttl=60, max_entries=256, show_spinner=False, hash_funcs=BY_SCOPE)
def case(url: str, viewer: Viewer, appeal_id: int) -> tuple[pd.Series | None, pd.DataFrame]:
    card = _read(cases.case_card, viewer, appeal_id)
    events = _read(cases.case_events, viewer, appeal_id) if card is not None else pd.DataFrame()
    return card, events
