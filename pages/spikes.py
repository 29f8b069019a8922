"""Всплески: the territory × topic cells of a week above the range their own history expects
(queries.spikes), each as a sentence with its weeks as a sparkline and a link to its cases; a
head's own territories first."""
import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.i18n import get_lang, t
from dashboard.shell import context, page_header
from dashboard.urlstate import to_params
from queries import periods
from queries.filters import CENTRE_START, Filters
from queries.localtime import local_date
from queries.spikes import has_history
from reports.spikes import CSV_COLUMNS, sentence

WEEKS_SHOWN = 26

ctx = context()
page_header(ctx, "spikes")
if not ctx.viewer.sees_region_leagues:
    st.error(t("auth.denied"))
    st.stop()
st.caption(t("spikes.intro"))
lang = get_lang()
today = local_date(ctx.now)
this_week = today - dt.timedelta(days=today.weekday())
weeks = [this_week - dt.timedelta(weeks=i) for i in range(0, 105)
         if this_week - dt.timedelta(weeks=i) >= CENTRE_START - dt.timedelta(days=6)]


def week_label(d: dt.date) -> str:
    words = periods.in_words(d, d + dt.timedelta(days=6), lang)
    return t("spikes.week.open", when=words) if d == this_week else words


left, right = st.columns([2, 1])
week = left.selectbox(t("spikes.week"), weeks, index=1 if len(weeks) > 1 else 0, key="spikes_week",
                      format_func=week_label)
with right:
    level = ui.topic_level("spikes_level")
if not has_history(week):
    st.info(t("spikes.no_history"), icon=":material/history:")
    st.stop()
found = data.spikes(ctx.url, ctx.viewer, week, level)
if found.empty:
    st.success(t("spikes.none"), icon=":material/check_circle:")
    st.stop()
st.markdown(f"**{t('spikes.found', n=fmt.number(len(found)))}**"
            + (f" · {t('spikes.own_first')}" if found["own"].any() else ""))
cells = tuple((int(m), int(tp)) for m, tp in zip(found["municipality_id"], found["topic_id"]))
history = data.spike_series(ctx.url, ctx.viewer, cells, week, WEEKS_SHOWN, level)


def cases_filters(row) -> Filters:
    end = min(row["week_start"] + dt.timedelta(days=6), today)
    return Filters(row["week_start"], end, territories=(row["territory_code"],), topics=(row["topic_code"],))


links = ["cases?" + "&".join(f"{k}={v}" for k, v in to_params(cases_filters(r), lang).items())
         for _, r in found.iterrows()]
shown = pd.DataFrame({
    t("spikes.col.what"): [sentence(r, lang) for _, r in found.iterrows()],
    t("spikes.col.received"): [fmt.number(v) for v in found["received"]],
    t("spikes.col.expected"): [f"{lo}–{hi}" for lo, hi in zip(found["expected_low"], found["expected_high"])],
    t("spikes.col.score"): [fmt.number(v, 1) for v in found["score"]],
    t("spikes.col.weeks"): [history[c] for c in cells],
    t("spikes.col.cases"): links,
})
export = found[CSV_COLUMNS].copy()
export.insert(1, t("col.territory"), found["territory_ru" if lang == "ru" else "territory_en"])
export.insert(3, t("col.topic"), found["topic_ru" if lang == "ru" else "topic_en"])
config = {
    t("spikes.col.weeks"): st.column_config.LineChartColumn(t("spikes.col.weeks"), y_min=0, width="small"),
    t("spikes.col.cases"): st.column_config.LinkColumn(t("spikes.col.cases"), display_text=t("spikes.open_cases"),
                                                      width="small"),
    t("spikes.col.score"): st.column_config.Column(help=t("spikes.score.help")),
    t("spikes.col.what"): st.column_config.Column(width="medium"),
}
row = ui.table(shown, export, "spikes", t("nav.spikes"), ctx, "spikes_table", column_config=config,
               highlight=[i for i, own in enumerate(found["own"]) if own])
if row is not None:
    ui.go_to(ctx, cases_filters(found.iloc[row]), page="cases")
