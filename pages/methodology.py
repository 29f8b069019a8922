"""Методика: every definition, the working-hours calendar, the score formula, the data's as-of time."""
import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, fmt
from dashboard.i18n import t
from dashboard.shell import context, page_header
from queries.metrics import METRICS
from queries.workcal import default_calendar
from ingest.reference import NORM_HOURS, URGENT_NORM_HOURS

ctx = context()
page_header(ctx, "methodology")
st.markdown(t("method.intro"))

st.subheader(t("method.definitions"))
defs = pd.DataFrame({
    t("col.name"): [t(f"metric.{m}.label") for m in METRICS],
    "": [t(f"metric.{m}.help") for m in METRICS],
})
st.dataframe(defs, hide_index=True)
st.caption(t("method.small"))
st.markdown(t("method.like_for_like"))

st.subheader(t("method.score"))
st.markdown(t("method.score.text"))
st.latex(r"\text{Балл} = \frac{1}{k}\sum_{i \in S} 100 \cdot \text{доля}_i,\quad S \subseteq \{\text{В срок},\ "
         r"\text{Доля решённых},\ \text{Подтверждено},\ \text{Удовлетворённость}\},\ n_i \geq 30")

st.subheader(t("method.calendar"))
st.markdown(t("method.calendar.text", norm=fmt.number(NORM_HOURS), urgent=fmt.number(URGENT_NORM_HOURS)))
year = ctx.today.year
cal = default_calendar(ctx.today)
special = []
d = dt.date(year, 1, 1)
while d.year == year:
    working = cal.is_working_day(d)
    if working != (d.weekday() < 5):
        special.append((fmt.date(d), t("method.working_day") if working else t("method.day_off")))
    d += dt.timedelta(days=1)
st.markdown(f"**{t('method.calendar.days_off', year=year)}**")
st.dataframe(pd.DataFrame(special, columns=[t("col.date"), ""]), hide_index=True)

st.subheader(t("method.data"))
tot = data.totals(ctx.url, ctx.viewer)
st.markdown(t("asof", when=fmt.local(ctx.now)) + " · " + fmt.count(int(tot["appeals"]), "appeal") + " · " +
            t("asof.data", first=fmt.local(tot["first_received"]), last=fmt.local(tot["last_received"])))
st.caption(t("method.attribution"))
