"""The app shell: pages, navigation, the shared sidebar of global filters, database health."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from dashboard import auth, data, fmt
from dashboard.context import Context
from dashboard.i18n import set_lang, t
from dashboard.urlstate import PRESET_ORDER, Choices, parse, preset_of, preset_range, to_params
from queries.config import ConfigError, mask_url
from queries import periods
from queries.filters import CENTRE_START, Filters
from queries.localtime import local_date
from queries.schema import SOURCES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [  # key, file, url path (a public contract), icon; import and audit: analysts only
    ("overview", "pages/overview.py", "", ":material/dashboard:"),
    ("topics", "pages/topics.py", "topics", ":material/category:"),
    ("territories", "pages/territories.py", "territories", ":material/map:"),
    ("executors", "pages/executors.py", "executors", ":material/apartment:"),
    ("speed", "pages/speed.py", "speed", ":material/timer:"),
    ("spikes", "pages/spikes.py", "spikes", ":material/trending_up:"),
    ("cases", "pages/cases.py", "cases", ":material/list_alt:"),
    ("press", "pages/press.py", "press", ":material/campaign:"),
    ("methodology", "pages/methodology.py", "methodology", ":material/menu_book:"),
    ("import", "pages/imports.py", "import", ":material/upload_file:"),
    ("audit", "pages/audit.py", "audit", ":material/policy:"),
]
ICONS = {key: icon for key, _, _, icon in PAGES}
UNFILTERED = {"methodology", "import", "audit", "press", "spikes"}  # pages the global filters do not apply to: none shown
PAGE_PARAMS = ("id",)  # owned by a page (the case card), kept beside the filters
DB_ERRORS = (OperationalError, DBAPIError, ProgrammingError, ConfigError, ConnectionError)


def _lang_from_url() -> str:
    lang = st.query_params.get("lang", "ru")
    return lang if lang in ("ru", "en") else "ru"


def _pages() -> dict:
    return {key: st.Page(str(ROOT / path), title=t(f"nav.{key}"), url_path=url or None, icon=icon,
                         default=(key == "overview"))
            for key, path, url, icon in PAGES}


def database_error(exc: Exception) -> None:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    st.error(t("db.unavailable", reason=fmt.plain(f"{mask_url(data.database_url())} — {reason}")),
             icon=":material/cloud_off:")
    if st.button(t("db.retry")):
        st.cache_data.clear()
        st.rerun()
    st.stop()


def _choices(territories, topics, executors) -> Choices:
    return Choices(frozenset(territories["code"]), frozenset(topics["code"]), frozenset(SOURCES),
                   frozenset(int(x) for x in executors["id"]))


def _sync_widgets(filters: Filters, today: dt.date) -> None:
    ss = st.session_state
    ss["f_preset"] = preset_of(filters, today)
    if ss["f_preset"] == "month":
        ss["f_month"] = (filters.date_from.year, filters.date_from.month)
    ss["f_dates"] = (filters.date_from, filters.date_to)
    ss["f_terr"] = list(filters.territories)
    ss["f_topic"] = list(filters.topics)
    ss["f_source"] = list(filters.sources)
    ss["f_exec"] = list(filters.executors)


def _reset(today: dt.date, lang: str) -> None:
    filters = Filters(*preset_range("30d", today))
    _sync_widgets(filters, today)
    st.session_state["_synced"] = filters
    st.query_params.from_dict(to_params(filters, lang))


def sidebar(ctx_lists, today: dt.date, lang: str, shown: bool = True) -> tuple[Filters, list[tuple[str, str]]]:
    """The global filters: URL → widgets when the URL changed, widgets → URL otherwise.
    `shown=False` (a page they do not apply to): no widgets; the URL's filters are kept for the
    links to the other pages, whose widgets are set from them again."""
    territories, topics, executors = ctx_lists
    parsed = parse(st.query_params.to_dict(), _choices(territories, topics, executors), today)
    ss = st.session_state
    if not shown:
        ss.pop("_synced", None)  # Streamlit forgets the state of widgets a run did not draw
        return parsed.filters, parsed.notices
    if ss.get("_synced") != parsed.filters:
        _sync_widgets(parsed.filters, today)
    name = "name_en" if lang == "en" else "name_ru"
    terr_names = {r.code: ("· " if pd.notna(r.parent_id) else "") + getattr(r, name) for r in territories.itertuples()}
    topic_names = {r.code: (("· " if r.parent_code else "") + getattr(r, name)) for r in topics.itertuples()}
    exec_names = {int(r.id): (r.name_en if lang == "en" and isinstance(r.name_en, str) else r.name_ru)
                  for r in executors.itertuples()}
    with st.sidebar:
        st.subheader(t("filters.header"))
        preset = st.selectbox(t("filters.period"), PRESET_ORDER, key="f_preset",
                              format_func=lambda p: t(f"filters.preset.{p}"))
        month = None
        if preset == "month":  # the month picker: every month of the centre's history, newest first
            months = periods.months_between(CENTRE_START, today)
            if ss.get("f_month") not in months:
                ss["f_month"] = months[1] if len(months) > 1 else months[0]
            month = st.selectbox(t("filters.month"), months, key="f_month",
                                 format_func=lambda ym: periods.month_label(*ym, lang))
        if preset != "custom":
            ss["f_dates"] = preset_range(preset, today, month)
        dates = st.date_input(t("filters.dates"), key="f_dates", min_value=dt.date(2000, 1, 1),
                              max_value=dt.date(2100, 1, 1), format="DD.MM.YYYY" if lang == "ru" else "YYYY-MM-DD",
                              disabled=preset != "custom")
        # select_all=False: Streamlit's bulk option is labelled in English only
        st.multiselect(t("filters.territory"), list(terr_names), key="f_terr", format_func=terr_names.get,
                       placeholder=t("filters.all"), select_all=False)
        st.multiselect(t("filters.topic"), list(topic_names), key="f_topic", format_func=topic_names.get,
                       placeholder=t("filters.all"), select_all=False)
        st.multiselect(t("filters.source"), list(SOURCES), key="f_source", format_func=lambda s: t(f"source.{s}"),
                       placeholder=t("filters.all"), select_all=False)
        st.multiselect(t("filters.executor"), sorted(exec_names, key=exec_names.get), key="f_exec",
                       format_func=exec_names.get, placeholder=t("filters.all"), select_all=False)
        if isinstance(dates, (tuple, list)) and len(dates) == 2:
            d_from, d_to = dates
        elif isinstance(dates, (tuple, list)) and len(dates) == 1:
            d_from = d_to = dates[0]
        else:
            d_from, d_to = parsed.filters.date_from, parsed.filters.date_to
        filters = Filters(d_from, d_to, tuple(ss["f_terr"]), tuple(ss["f_topic"]), tuple(ss["f_source"]),
                          tuple(int(x) for x in ss["f_exec"]))
        # a callback: it runs before the next run draws the widgets, the only time their state may be set
        st.button(t("filters.reset"), icon=":material/filter_alt_off:", on_click=_reset, args=(today, lang))
    ss["_synced"] = filters
    params = to_params(filters, lang)
    params.update({k: v for k, v in st.query_params.to_dict().items() if k in PAGE_PARAMS})
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return filters, parsed.notices


def navigation_links(pages: dict, params: dict, where, viewer) -> None:
    with where:
        st.markdown(f"### {t('app.title')}")
        st.caption(t("app.subtitle"))
        for key, page in pages.items():
            if ((key == "audit" and not viewer.sees_audit) or (key == "import" and not viewer.may_import)
                    or (key == "press" and not viewer.sees_press_release)
                    or (key in ("territories", "spikes") and not viewer.sees_region_leagues)):
                continue
            st.page_link(page, label=t(f"nav.{key}"), icon=ICONS[key], query_params=params)
        st.divider()


def account_box(ctx_viewer, territories, after_filters: bool = True) -> None:
    with st.sidebar:
        if after_filters:  # else the navigation's divider is right above
            st.divider()
        st.caption(t("auth.signed_in", name=fmt.plain(ctx_viewer.username), role=t(f"role.{ctx_viewer.role}")))
        if ctx_viewer.role == "head":
            names = ", ".join(territories.set_index("code").loc[list(ctx_viewer.territories), "name_ru"])
            st.caption(t("auth.scope.head", names=fmt.plain(names)))
        elif ctx_viewer.role == "executor":
            st.caption(t("auth.scope.executor"))
        elif ctx_viewer.role == "press":
            st.caption(t("auth.scope.press"))
        if st.button(t("auth.sign_out"), key="sign_out", icon=":material/logout:"):
            auth.sign_out()
            st.rerun()


def language_switch(lang: str, params: dict) -> None:
    with st.sidebar:
        other = "en" if lang == "ru" else "ru"
        target = dict(params)
        if other == "ru":
            target.pop("lang", None)
        else:
            target["lang"] = "en"
        if st.button(t("filters.lang"), key="lang_switch", icon=":material/translate:"):
            st.query_params.from_dict(target)
            st.rerun()


def main() -> None:
    lang = _lang_from_url()
    set_lang(lang)
    st.set_page_config(page_title=t("app.title"), page_icon=":material/monitoring:", layout="wide")
    # a KPI card's label wraps instead of being cut («Время первой реа…» at 1280 px)
    st.html("<style>[data-testid='stMetricLabel'] p, [data-testid='stMetricLabel'] div "
            "{ white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }</style>")
    pages = _pages()
    current = st.navigation(list(pages.values()), position="hidden")
    now = data.now()
    today = local_date(now)
    try:
        url = data.database_url()
        if not data.schema_ready(url):
            st.warning(t("empty.database"))
            st.stop()
        viewer = auth.require_viewer()
        lists = (data.territories(url), data.topics(url), data.executors(url))
    except DB_ERRORS as exc:
        database_error(exc)
        return
    if viewer.role == "head" and not st.query_params.to_dict():
        # a head's home: a fresh visit opens on their own territory (the reset shows the region)
        st.query_params["territory"] = ",".join(viewer.territories)
    nav = st.sidebar.container()
    key = next((k for k, page in pages.items() if page.url_path == current.url_path), "overview")
    filtered = key not in UNFILTERED
    filters, notices = sidebar(lists, today, lang, shown=filtered)
    params = to_params(filters, lang)
    navigation_links(pages, params, nav, viewer)
    account_box(viewer, lists[0], after_filters=filtered)
    language_switch(lang, params)
    for param, value in notices:
        st.warning(t("filters.invalid", param=fmt.plain(param), value=fmt.plain(value)), icon=":material/link_off:")
    st.session_state["ctx"] = Context(url, filters, lang, now, *lists, pages, viewer)
    try:
        current.run()
    except DB_ERRORS as exc:
        database_error(exc)


def context() -> Context:
    """The current run's context, prepared by the shell before the page runs."""
    ctx = st.session_state["ctx"]
    set_lang(ctx.lang)
    return ctx


def page_header(ctx: Context, key: str) -> None:
    st.title(t(f"nav.{key}"))
    f = ctx.filters
    p = f.previous()
    parts = [t("asof", when=fmt.local(ctx.now))]
    if key not in UNFILTERED:
        parts.append(t("period.label", start=fmt.date(f.date_from), end=fmt.date(f.date_to),
                       days=fmt.count(f.days, "day"), pstart=fmt.date(p.date_from), pend=fmt.date(p.date_to)))
    st.caption(" · ".join(parts))
    _replica_notes()


def _replica_notes() -> None:
    """What a page must say when its data come from a standby: the primary away (read-only), or
    the standby's replay behind (the as-of of what is shown is the standby's)."""
    from dashboard.auth import primary_away
    if primary_away():
        st.warning(t("replica.read_only"), icon=":material/cloud_off:")
    if data.read_url() == data.database_url():
        return
    state = data.read_state(data.read_url())
    behind = state.behind(dt.datetime.now(dt.timezone.utc))
    if behind is not None:
        st.caption(t("replica.behind", when=fmt.local(state.replayed_at), lag=fmt.count(int(behind.total_seconds() // 60),
                                                                                       "minute")))

