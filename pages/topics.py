"""Темы: categories → topics with each topic's KPIs and its trend; a click narrows to the topic."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.drill import bucket_days, bucket_range, drill, grain_for
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.tables import kpi_columns
from queries.metrics import share

ctx = context()
page_header(ctx, "topics")
f = ctx.filters
by_topic = data.kpi(ctx.url, ctx.viewer, f, ctx.now, "topic")
if ui.empty_notice(int(by_topic["received"].sum()) if len(by_topic) else 0):
    st.stop()
topics = ctx.topics.set_index("id")
name = ctx.name_col()
by_topic["code"] = [topics.loc[int(k), "code"] for k in by_topic["key"]]
by_topic["topic"] = [topics.loc[int(k), name] for k in by_topic["key"]]
by_topic["category_code"] = [topics.loc[int(k), "parent_code"] for k in by_topic["key"]]
cat_names = ctx.topics.set_index("code")[name]
by_topic["category"] = [cat_names.get(c, c) for c in by_topic["category_code"]]
by_topic = by_topic.sort_values(["received"], ascending=False).reset_index(drop=True)

st.subheader(t("topics.treemap"))
# Built from explicit ids and parents: plotly.express derived the hierarchy with a pandas groupby
# per level, a tenth of the server's time under load. A category's (and the root's) colour is its
# own on-time share, on_time / on_time_base of its topics, as metrics.md defines the figure.
cats = by_topic.groupby("category_code", sort=False).agg(
    received=("received", "sum"), on_time=("on_time", "sum"), base=("on_time_base", "sum"), name=("category", "first"))


def _pct(on_time, base):
    return [None if pd.isna(v) else round(v * 100, 1) for v in np.atleast_1d(share(on_time, base))]


root = t("filters.all")
fig = go.Figure(go.Treemap(
    ids=["all", *(f"c:{c}" for c in cats.index), *(f"t:{c}" for c in by_topic["code"])],
    labels=[root, *cats["name"], *by_topic["topic"]],
    parents=["", *(["all"] * len(cats)), *(f"c:{c}" for c in by_topic["category_code"])],
    values=[int(cats["received"].sum()), *cats["received"].astype(int), *by_topic["received"].astype(int)],
    branchvalues="total",
    customdata=[["", ""], *([c, c] for c in cats.index), *zip(by_topic["code"], by_topic["category_code"])],
    marker=dict(colors=_pct([cats["on_time"].sum()], [cats["base"].sum()]) + _pct(cats["on_time"], cats["base"])
                + _pct(by_topic["on_time"], by_topic["on_time_base"]),
                colorscale="RdYlGn", cmin=60, cmax=100, showscale=True,
                colorbar=dict(title=t("metric.on_time_share.label") + ", %")),
    texttemplate="%{label}<br>%{value:,}", textinfo="label+value",
    hovertemplate="%{label}<br>" + t("metric.received.label") + ": %{value:,}<br>"
                  + t("metric.on_time_share.label") + ": %{color:.1f}\u00a0%<extra></extra>"))
points = ui.chart(fig, "treemap", height=460)
if points:
    p = points[0]
    label = p.get("label")
    row = by_topic[by_topic["topic"] == label]
    if len(row):
        ui.go_to(ctx, drill(f, "topic", row.iloc[0]["code"]))
    cat = ctx.topics[(ctx.topics[name] == label) & ctx.topics["parent_id"].isna()]
    if len(cat):
        ui.go_to(ctx, drill(f, "topic", cat.iloc[0]["code"]))

st.subheader(t("topics.table"))
st.caption(t("drill.hint"))
metrics = ["received", "resolved_share", "on_time_share", "first_response_median", "confirmed_share",
           "satisfaction", "escalated_share", "overdue_now"]
level = ui.topic_level("topics_level")
if level == "category":  # the categories' own figures (their topics pooled), as published
    rows = data.kpi(ctx.url, ctx.viewer, f, ctx.now, "category").sort_values("received", ascending=False)
    rows = rows.reset_index(drop=True)
    rows["code"] = [topics.loc[int(k), "code"] for k in rows["key"]]
    head = pd.DataFrame({t("col.category"): [topics.loc[int(k), name] for k in rows["key"]]})
else:
    rows = by_topic
    head = pd.DataFrame({t("col.category"): by_topic["category"], t("col.topic"): by_topic["topic"]})
shown = pd.concat([head, kpi_columns(rows, metrics, formatted=True)], axis=1)
export = pd.concat([head, kpi_columns(rows, metrics, formatted=False)], axis=1)
row = ui.table(shown, export, "topics" if level == "topic" else "categories", t("topics.table"), ctx, "topics_table")
row_labels = [" / ".join(str(v) for v in r) for r in head.itertuples(index=False)]
ui.row_publish_box(ctx, rows, row_labels, metrics, lambda i: drill(f, "topic", rows.iloc[i]["code"]), "topics_table")
if row is not None:
    ui.go_to(ctx, drill(f, "topic", rows.iloc[row]["code"]))

st.subheader(t("topics.trend"))
grain = grain_for(f)
trend = data.kpi_trend(ctx.url, ctx.viewer, f, grain, ctx.now, level)
if len(trend):
    leaders = (rows if level == "category" else by_topic)["key"].head(8).astype(int).tolist()
    trend = trend[trend["key"].astype(int).isin(leaders)]
    trend["topic"] = [topics.loc[int(k), name] for k in trend["key"]]
    fig = go.Figure()
    for topic_name, part in trend.groupby("topic", sort=False):
        fig.add_scatter(x=part["bucket"], y=part["received"], name=topic_name, mode="lines+markers")
    fig.update_xaxes(tickformat="%d.%m.%Y" if ctx.lang == "ru" else "%Y-%m-%d")
    fig.update_yaxes(title=t("metric.received.label"))
    # a bucket the period cuts (a week begun before it or not yet over) holds fewer days: shaded and
    # said, as on the overview, so that its lower count does not read as a drop
    starts = sorted(set(pd.to_datetime(trend["bucket"]).dt.date))
    partial = [b for b in starts if bucket_days(f, grain, b)[0] < bucket_days(f, grain, b)[1]]
    for b in partial:
        lo, hi = bucket_range(b, grain)
        fig.add_vrect(x0=pd.Timestamp(lo) - pd.Timedelta(hours=12), x1=pd.Timestamp(hi) + pd.Timedelta(hours=12),
                      fillcolor="#999", opacity=0.15, line_width=0)
    ui.chart(fig, "topic_trend", select=False)
    if partial and grain != "day":
        st.caption(t(f"overview.flow.partial.{grain}"))
    st.caption(f"{fmt.count(int(by_topic['received'].sum()), 'appeal')}")
