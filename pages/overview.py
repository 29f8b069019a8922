"""Обзор: KPI cards with deltas, received vs closed, top topics, sources, top movers."""
import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, fmt, geomap, ui
from dashboard.drill import bucket_days, drill, grain_for
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.tables import pinned
from queries import periods
from queries.localtime import local_date
from queries.metrics import METRICS, OVERVIEW_CARDS, SMALL_N, changes
from queries.spikes import has_history, last_whole_week
from reports.spikes import sentence

ctx = context()
page_header(ctx, "overview")
f = ctx.filters
cur = data.kpi(ctx.url, ctx.viewer, f, ctx.now).iloc[0]
prev = data.kpi_previous(ctx.url, ctx.viewer, f, ctx.now).iloc[0]  # like for like: at the same age
if data.totals(ctx.url, ctx.viewer)["appeals"] == 0:
    st.warning(t("empty.database"))
    st.stop()
ui.kpi_cards(cur, prev, OVERVIEW_CARDS[:4])
ui.kpi_cards(cur, prev, OVERVIEW_CARDS[4:])
row = st.container(horizontal=True, gap="small")
with row:
    ui.publish_box(ctx, cur, OVERVIEW_CARDS)
    if ctx.viewer.role in ("analyst", "head"):  # within the viewer's scope; the press has its own page
        if st.button(t("briefing.make"), key="briefing_make", icon=":material/picture_as_pdf:"):
            scope = "; ".join(f"{k}: {v}" for k, v in ui.filters_description(ctx) if k != t("filters.period"))
            st.session_state["briefing_pdf"] = (f, data.briefing_pdf(ctx.url, ctx.viewer, f, ctx.now, scope))
        made = st.session_state.get("briefing_pdf")
        if made and made[0] == f:
            st.download_button(t("briefing.download"), made[1], f"briefing-{f.date_from}-{f.date_to}.pdf",
                               "application/pdf", key="briefing_pdf_file", icon=":material/download:")
    ui.subscription_box(ctx)
if ui.empty_notice(int(cur["received"])):
    st.stop()

grain = grain_for(f)
left, right = st.columns([3, 2])
with left:
    st.subheader(t("overview.flow"))
    fl = data.flow(ctx.url, ctx.viewer, f, grain)
    fig = go.Figure()
    days = [bucket_days(f, grain, b) for b in fl["bucket"]]
    partial = [inside < total for inside, total in days]
    whole = fl[[not p for p in partial]]
    # each bar as wide as its bucket's days (a date axis measures widths in ms): else each trace
    # would size its own bars from its own spacing
    width = [n * 86_400_000 * 0.8 for _, n in days]
    fig.add_bar(x=whole["bucket"], y=whole["received"], name=t("overview.flow.received"), marker_color="#1f5fa8",
                width=[w for w, p in zip(width, partial) if not p])
    if any(partial):  # its own trace: hatched, with its own legend entry
        cut = fl[partial]
        fig.add_bar(x=cut["bucket"], y=cut["received"], name=t(f"overview.flow.received.partial.{grain}"),
                    marker=dict(color="#8fb0d8", pattern_shape="/"), width=[w for w, p in zip(width, partial) if p],
                    hovertext=[t("overview.flow.partial.hover", inside=i, total=n) for (i, n), p in zip(days, partial) if p])
    fig.update_layout(barmode="overlay")  # the two bar traces share one slot per bucket
    fig.add_scatter(x=fl["bucket"], y=fl["closed"], name=t("overview.flow.closed"), mode="lines+markers",
                    line=dict(color="#e07b00"))
    fig.update_xaxes(tickformat="%d.%m.%Y" if ctx.lang == "ru" else "%Y-%m-%d")
    if len(fl):  # the buckets and no more (with explicit bar widths Plotly pads the range by a month)
        half = pd.to_timedelta([n / 2 for _, n in days], unit="D")
        starts = pd.to_datetime(fl["bucket"])
        fig.update_xaxes(range=[(starts - half).min(), (starts + half).max()])
    points = ui.chart(fig, "flow")
    if any(partial):
        st.caption(t(f"overview.flow.partial.{grain}"))
    if points:
        ui.go_to(ctx, drill(f, grain, points[0]["x"]))
with right:
    st.subheader(t("overview.sources"))
    src = data.kpi(ctx.url, ctx.viewer, f, ctx.now, "source", percentiles=False).sort_values("received", ascending=False)
    src["label"] = [t(f"source.{s}") for s in src["key"]]
    fig = go.Figure(go.Bar(x=src["received"], y=src["label"], orientation="h", customdata=src["key"],
                           marker_color="#5b8fd1", text=[fmt.number(v) for v in src["received"]],
                           # beside the bar, level: inside a short bar (Telegram's) Plotly turned it on its side
                           textposition="outside", textangle=0, cliponaxis=False))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, float(src["received"].max() or 1) * 1.18])  # room for the longest bar's label
    points = ui.chart(fig, "sources")
    if points:
        ui.go_to(ctx, drill(f, "source", points[0]["customdata"]))

st.subheader(t("overview.top_topics"))
level = ui.topic_level("ov_topic_level")
top = data.kpi(ctx.url, ctx.viewer, f, ctx.now, level, percentiles=False).sort_values("received", ascending=False).head(10)
top["label"] = [ctx.topic_name(int(k)) for k in top["key"]]
top["code"] = [ctx.topics.set_index("id").loc[int(k), "code"] for k in top["key"]]
fig = go.Figure(go.Bar(x=top["received"], y=top["label"], orientation="h", customdata=top["code"],
                       marker_color="#1f5fa8", text=[fmt.number(v) for v in top["received"]]))
fig.update_yaxes(autorange="reversed")
points = ui.chart(fig, "top_topics", height=380)
if points:
    ui.go_to(ctx, drill(f, "topic", points[0]["customdata"]))


def movers(group: str, names) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """The groups whose number of appeals changed most against the previous period: shown, exported, keys."""
    now_df = data.kpi(ctx.url, ctx.viewer, f, ctx.now, group, percentiles=False).set_index("key")
    was_df = data.kpi(ctx.url, ctx.viewer, f.previous(), ctx.now, group, percentiles=False).set_index("key")
    df = now_df[["received", "on_time_share", "on_time_share_n"]].merge(
        was_df[["received", "on_time_share", "on_time_share_n"]], left_index=True, right_index=True, suffixes=("", "_prev"), how="outer").fillna(
        {"received": 0, "received_prev": 0})
    df = df[(df["received"] >= SMALL_N) | (df["received_prev"] >= SMALL_N)]
    df["change_pct"] = changes(df["received"], df["received_prev"], METRICS["received"])
    ok = (df["on_time_share_n"] >= SMALL_N) & (df["on_time_share_n_prev"] >= SMALL_N)
    df["on_time_change"] = pd.Series(changes(df["on_time_share"], df["on_time_share_prev"], METRICS["on_time_share"]),
                                     index=df.index).where(ok)
    # ordered by a column the reader sees: the change in the number of appeals, largest either way
    df["change"] = df["received"] - df["received_prev"]
    df = df.reindex(df["change"].abs().sort_values(ascending=False).index).head(8).reset_index()
    pp = f"\u00a0{t('unit.pp')}"
    shown = pd.DataFrame({
        t("col.name"): [names(k) for k in df["key"]],
        t("metric.received.label"): [fmt.number(v) for v in df["received"]],
        t("col.change"): [fmt.signed(v, 0) for v in df["change"]],
        t("col.change_pct"): [fmt.signed(v, 1, "\u00a0%") for v in df["change_pct"]],
        t("col.on_time_change"): [fmt.signed(v, 1, pp) for v in df["on_time_change"]],
    })
    export = pd.DataFrame({
        t("col.name"): shown[t("col.name")], t("metric.received.label"): df["received"].astype(int),
        t("col.previous"): df["received_prev"].astype(int), t("col.change"): df["change"].astype(int),
        t("col.change_pct"): df["change_pct"].round(1), t("col.on_time_change"): df["on_time_change"].round(1),
    })
    return shown, export, df["key"].tolist()


st.subheader(t("overview.movers"), help=t("overview.movers.help"))
st.caption(t("overview.movers.order"))
MOVERS = [  # (kpi group, drill dimension, reference list, name of a key, title, widget key)
    ("municipality", "territory", ctx.territories, ctx.territory_name, "overview.movers.territories", "mv_terr"),
    ("topic", "topic", ctx.topics, ctx.topic_name, "overview.movers.topics", "mv_topic"),
]
for column, (group, dimension, ref, name_of, title, key) in zip(st.columns(2), MOVERS):
    with column:
        st.markdown(f"**{t(title)}**")
        table, export, keys = movers(group, lambda k: name_of(int(k)))
        row = ui.table(table, export, f"movers_{dimension}", t("overview.movers"), ctx, key,
                       column_config=pinned(t("col.name")))
        if row is not None:
            ui.go_to(ctx, drill(f, dimension, ref.set_index("id").loc[int(keys[row]), "code"]))

if ctx.viewer.sees_region_leagues:
    # where the oblast stands and what is unusual: the map of the league's measures, and the last
    # whole week's spikes against the season (the page «Всплески» holds them all)
    st.subheader(t("map.title"), help=t("map.help"))
    geomap.territory_map(ctx, data.territory_league(ctx.url, ctx.viewer, f, ctx.now), "ov")
    st.subheader(t("spikes.overview"), help=t("spikes.intro"))
    today = local_date(ctx.now)
    week = last_whole_week(today)
    found = data.spikes(ctx.url, ctx.viewer, week, "category")
    st.caption(periods.in_words(week, week + dt.timedelta(days=6), ctx.lang))
    if not has_history(week):
        st.info(t("spikes.no_history"), icon=":material/history:")
    elif found.empty:
        st.success(t("spikes.none"), icon=":material/check_circle:")
    else:
        for _, r in found.head(5).iterrows():
            st.markdown(("**" if r["own"] else "") + fmt.plain(sentence(r, ctx.lang)) + ("**" if r["own"] else ""))
    st.page_link(ctx.pages["spikes"], label=t("spikes.overview.more"), icon=":material/trending_up:")
