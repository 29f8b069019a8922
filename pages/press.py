"""Для СМИ: the press release of a month or a week, in the centres' style, with its chart for a
social-network post, its definitions and the as-of time (reports.press)."""
import datetime as dt

import streamlit as st

from dashboard import data, fmt
from dashboard.i18n import get_lang, t
from dashboard.shell import context, page_header
from queries import periods
from queries.filters import CENTRE_START
from queries.localtime import local_date

ctx = context()
page_header(ctx, "press")
if not ctx.viewer.sees_press_release:
    st.error(t("auth.denied"))
    st.stop()
st.caption(t("press.intro"))
lang = get_lang()
today = local_date(ctx.now)
left, right = st.columns([1, 2])
kind = left.radio(t("press.kind"), ["month", "week"], key="press_kind", horizontal=True,
                  format_func=lambda k: t(f"press.kind.{k}"))
if kind == "month":
    months = periods.months_between(CENTRE_START, today)
    choice = right.selectbox(t("filters.month"), months, index=1 if len(months) > 1 else 0, key="press_month",
                             format_func=lambda ym: periods.month_label(*ym, lang))
    d_from, d_to = periods.month_range(*choice)
else:
    last = periods.calendar_range("this_week", today)[0]
    weeks = [last - dt.timedelta(weeks=i) for i in range(0, 105) if last - dt.timedelta(weeks=i) >= CENTRE_START - dt.timedelta(days=6)]
    start = right.selectbox(t("press.week"), weeks, index=1 if len(weeks) > 1 else 0, key="press_week",
                            format_func=lambda d: periods.in_words(d, d + dt.timedelta(days=6), lang))
    d_from, d_to = start, start + dt.timedelta(days=6)
if d_to > today:
    st.info(t("press.incomplete", end=fmt.date(d_to)), icon=":material/schedule:")
release, png = data.press_release(ctx.url, ctx.viewer, d_from, d_to, ctx.now, lang)
st.subheader(t("press.text"))
st.code(release.text, language=None, wrap_lines=True)  # the block's copy button copies it as it is
text_col, img_col = st.columns([3, 2])
with text_col:
    st.markdown(f"**{t('press.definitions')}**")
    for line in release.definitions:
        st.markdown(f"- {fmt.plain(line)}")
    st.caption(t("asof", when=fmt.local(ctx.now)))
    name = f"press-{d_from.isoformat()}-{d_to.isoformat()}"
    body = release.text + "\n\n" + "\n".join(f"— {x}" for x in release.definitions) + "\n" + t("asof", when=fmt.local(ctx.now))
    st.download_button(t("press.download.text"), body.encode("utf-8"), f"{name}.txt", "text/plain",
                       key="press_txt", icon=":material/description:")
    st.download_button(t("press.download.png"), png, f"{name}.png", "image/png", key="press_png",
                       icon=":material/image:")
with img_col:
    st.image(png, caption=t("press.chart"), width="stretch")
