"""Исполнители: the executor league table and the escalation flow (who escalates to whom)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, fmt, ui
from dashboard.drill import drill
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.tables import league_frame, pinned

ctx = context()
page_header(ctx, "executors")
f = ctx.filters
COLUMNS = ["received", "on_time_share", "first_response_median", "resolved_share", "confirmed_share",
           "false_closure_share", "satisfaction", "escalated_share", "overdue_now", "removed"]

if ctx.viewer.role == "executor":
    # one organization: its figures beside the average of organizations of its kind, not a league
    # of the region built from its own cases
    both = data.peer_average(ctx.url, ctx.viewer, f, ctx.now)
    st.subheader(t("executors.own"), help=t("executors.own.help"))
    if both.empty:
        st.info(t("empty.period"))
    else:
        own, peers = both.iloc[0], both.iloc[1]
        st.caption(t("executors.own.peers", n=fmt.number(int(peers["peers"]))))
        compare = pd.DataFrame({
            t("col.name"): [t(f"metric.{m}.label") for m in COLUMNS],
            ctx.executor_name(ctx.viewer.executors[0]): [ui.format_metric(m, own[m]) for m in COLUMNS],
            t("executors.own.average"): [ui.format_metric(m, peers[m]) if int(peers["peers"]) else "—"
                                         for m in COLUMNS],
        })
        ui.table(compare, None, "executor_vs_peers", t("executors.own"), ctx, "exec_vs_peers", select=False)
    league = None
else:
    league = data.executor_league(ctx.url, ctx.viewer, f, ctx.now)


def show_league(league) -> None:
    if ui.empty_notice(int(league["received"].sum()) if len(league) else 0):
        st.stop()
    league["display_name"] = [ctx.executor_name(int(i)) for i in league["id"]]
    st.subheader(t("executors.league"), help=t("executors.league.help"))
    st.caption(t("metric.score.help") + " " + t("drill.hint"))
    shown = league_frame(league, "display_name", COLUMNS, lambda p: t(f"peer.{p}"), formatted=True)
    export = league_frame(league, "display_name", COLUMNS, lambda p: t(f"peer.{p}"), formatted=False)
    row = ui.table(shown, export, "executors_league", t("executors.league"), ctx, "exec_league", height=560,
                   column_config=pinned(t("metric.rank.label"), t("col.name")),
                   highlight=[i for i, x in enumerate(league["id"]) if int(x) in ctx.viewer.executors])
    ui.row_publish_box(ctx, league, list(league["display_name"]), COLUMNS,
                       lambda i: drill(f, "executor", int(league.iloc[i]["id"])), "exec_league")
    if row is not None:
        ui.go_to(ctx, drill(f, "executor", int(league.iloc[row]["id"])), page="cases")


if league is not None:
    show_league(league)

st.subheader(t("executors.escalations"), help=t("metric.time_before_escalation.help"))
flow = data.escalations(ctx.url, ctx.viewer, f)
if flow.empty:
    st.info(t("empty.period"))
else:
    flow["from_label"] = [ctx.executor_name(int(i)) for i in flow["from_id"]]
    flow["to_label"] = [ctx.executor_name(int(i)) for i in flow["to_id"]]
    top = flow.head(30)
    nodes = list(dict.fromkeys(list(top["from_label"]) + list(top["to_label"])))
    fig = go.Figure(go.Sankey(
        node=dict(label=nodes, pad=12, thickness=14, color="#5b8fd1"),
        textfont=dict(color="#111", size=12),  # dark labels: Plotly's default grey was faint over the flows
        link=dict(source=[nodes.index(x) for x in top["from_label"]], target=[nodes.index(x) for x in top["to_label"]],
                  value=top["escalations"], color="rgba(224,123,0,0.35)")))
    ui.chart(fig, "sankey", select=False, height=max(360, 18 * len(nodes)))
    shown = pd.DataFrame({
        t("col.from"): flow["from_label"], t("col.to"): flow["to_label"],
        t("col.count"): [fmt.number(v) for v in flow["escalations"]],
        t("col.median_hours"): [fmt.number(v, 1) for v in flow["median_hours"]],
    })
    export = pd.DataFrame({
        t("col.from"): flow["from_label"], t("col.to"): flow["to_label"],
        t("col.count"): flow["escalations"], t("col.median_hours"): flow["median_hours"].round(2),
    })
    row = ui.table(shown, export, "escalations", t("executors.escalations"), ctx, "esc_table")
    if row is not None:
        ui.go_to(ctx, drill(f, "executor", int(flow.iloc[row]["from_id"])), page="cases")
