"""Сроки: first-response distribution against the norm, on-time share over time, overdue now."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.drill import drill, grain_for
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.urlstate import to_params
from queries.metrics import share
from queries.speed import MAX_BIN

ctx = context()
page_header(ctx, "speed")
f = ctx.filters
cur = data.kpi(ctx.url, ctx.viewer, f, ctx.now).iloc[0]
prev = data.kpi_previous(ctx.url, ctx.viewer, f, ctx.now).iloc[0]  # like for like: at the same age
ui.kpi_cards(cur, prev, ["on_time_share", "first_response_median", "first_response_p90", "overdue_now", "close_time_median"], ctx)
if ui.empty_notice(int(cur["received"])):
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader(t("speed.distribution"), help=t("metric.first_response_median.help"))
    hist = data.histogram(ctx.url, ctx.viewer, f)
    fig = go.Figure()
    for urgent, label, color in ((False, "8", "#1f5fa8"), (True, "4", "#e07b00")):
        part = hist[hist["urgent"] == urgent]
        fig.add_bar(x=part["bin"], y=part["appeals"], name=t("speed.norm", hours=label), marker_color=color)
    for hours, color in ((4, "#e07b00"), (8, "#1f5fa8")):
        fig.add_vline(x=hours, line_dash="dash", line_color=color)
    fig.update_layout(barmode="stack")
    ticks = list(range(0, MAX_BIN + 1, 2))
    fig.update_xaxes(title=t("speed.bin"), tickvals=ticks, ticktext=[f"{h}+" if h == MAX_BIN else str(h) for h in ticks])
    ui.chart(fig, "histogram", select=False)
with right:
    st.subheader(t("speed.on_time_trend"), help=t("metric.on_time_share.help"))
    grain = grain_for(f)
    tr = data.kpi_trend(ctx.url, ctx.viewer, f, grain, ctx.now)
    tr = tr[tr["on_time_base"] > 0].copy()
    tr["share"] = share(tr["on_time"], tr["on_time_base"]) * 100
    # a bucket with answers still due (deadlines ahead) is not yet comparable with the settled ones:
    # its share counts only what is already answered or overdue, so it is drawn apart, hollow
    open_ = (tr["received"] - tr["on_time_base"]) > 0
    fig = go.Figure(go.Scatter(x=tr["bucket"], y=tr["share"].where(~open_), mode="lines+markers",
                               line=dict(color="#1f5fa8"), customdata=tr["on_time_base"],
                               name=t("speed.trend.settled"),
                               hovertemplate="%{x}<br>%{y:.1f}\u00a0% (n = %{customdata})<extra></extra>"))
    if open_.any():
        fig.add_scatter(x=tr.loc[open_, "bucket"], y=tr.loc[open_, "share"], mode="markers",
                        marker=dict(symbol="circle-open", size=10, color="#888"), name=t("speed.trend.open"),
                        customdata=tr.loc[open_, "on_time_base"],
                        hovertemplate="%{x}<br>%{y:.1f}\u00a0% (n = %{customdata})<extra></extra>")
    fig.update_yaxes(title="%", range=[0, 100])
    fig.update_xaxes(tickformat="%d.%m.%Y" if ctx.lang == "ru" else "%Y-%m-%d")
    points = ui.chart(fig, "on_time_trend")
    if points:
        ui.go_to(ctx, drill(f, grain, points[0]["x"]))

SHOWN = 1000  # rows in the on-screen list; the counts and the export hold every overdue appeal
st.subheader(t("speed.overdue"), help=t("metric.overdue_now.help"))
od = data.overdue(ctx.url, ctx.viewer, f, ctx.now)
if od.empty:
    st.success(fmt.count(0, "appeal"))
else:
    by_exec = od.groupby(["executor_id", "executor"]).agg(n=("id", "size"), oldest=("overdue_hours", "max")).reset_index()
    by_exec = by_exec.sort_values("n", ascending=False)
    c1, c2 = st.columns([2, 3])
    with c1:
        st.markdown(f"**{t('speed.overdue.by_executor')}**")
        # the counts first: a long executor's name pushed them out of the narrow column
        shown = pd.DataFrame({t("col.count"): by_exec["n"], t("col.overdue_hours"): by_exec["oldest"].round(1),
                              t("col.executor"): [ctx.executor_name(int(i)) for i in by_exec["executor_id"]]})
        row = ui.table(shown, None, "overdue_by_executor", t("speed.overdue.by_executor"), ctx, "od_exec")
        if row is not None:
            ui.go_to(ctx, drill(f, "executor", int(by_exec.iloc[row]["executor_id"])))
    with c2:
        def listed(rows: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame({
                t("col.id"): rows["id"], t("col.due"): [fmt.local(x) for x in rows["response_due_at"]],
                t("col.overdue_hours"): rows["overdue_hours"].round(1), t("col.executor"): rows["executor"],
                t("col.territory"): rows["territory"], t("col.topic"): rows["topic"],
            })
        if len(od) > SHOWN:
            st.caption(t("speed.overdue.first", shown=fmt.number(SHOWN), total=fmt.number(len(od))))
        row = ui.table(listed(od.head(SHOWN)), lambda: listed(od), "overdue_now", t("speed.overdue"), ctx, "od_list",
                       export_rows=len(od))
        if row is not None:
            st.switch_page(ctx.pages["cases"], query_params={**to_params(f, ctx.lang), "id": str(int(od.iloc[row]["id"]))})
