"""Территории: the league table (peer groups, score, rank, rank change), funnel plot, per-capita
rates; a row opens the territory's profile."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, fmt, geomap, ui
from dashboard.drill import drill, grain_for
from dashboard.i18n import t
from dashboard.shell import context, page_header
from dashboard.tables import kpi_columns, league_frame, pinned
from dashboard.urlstate import to_params
from queries.league import funnel_limits
from queries.metrics import LEAGUE_COLUMNS, SMALL_N

ctx = context()
page_header(ctx, "territories")
if not ctx.viewer.sees_region_leagues:
    st.error(t("auth.denied"))
    st.stop()
f = ctx.filters
name = ctx.name_col()

# ---- the profile of one selected territory -------------------------------------------------
if len(f.territories) == 1:
    code = f.territories[0]
    terr_name = ctx.territory_name(code)
    st.header(t("territories.profile", name=fmt.plain(terr_name)))
    mine = data.kpi(ctx.url, ctx.viewer, f, ctx.now).iloc[0]
    region = data.kpi(ctx.url, ctx.viewer, f.narrowed(territories=()), ctx.now).iloc[0]
    st.caption(t("territories.profile.vs_region"))
    ui.kpi_cards(mine, data.kpi_previous(ctx.url, ctx.viewer, f, ctx.now).iloc[0],
                 ["received", "resolved_share", "on_time_share", "first_response_median", "overdue_now", "satisfaction"],
                 ctx)
    # where it stands: its rank in its peer group and its per-capita rank in the region
    standing = data.territory_league(ctx.url, ctx.viewer, f, ctx.now)
    own = standing[standing["code"] == code]
    peers = standing[standing["peer_group"] == own["peer_group"].iloc[0]] if len(own) else standing.iloc[:0]
    if len(own):
        row_ = own.iloc[0]
        ranked = peers[peers["rank"].notna()]
        lines = []
        if pd.notna(row_["rank"]):
            lines.append(t("territories.rank.group", rank=int(row_["rank"]), n=len(ranked),
                           group=t(f"peer.of.{row_['peer_group']}")))
        else:
            lines.append(t("territories.rank.none"))
        # among the region's territories (a city once, not with its districts); a district among districts
        district = row_["peer_group"] == "city_district"
        per = standing[standing["per_10k"].notna() & (standing["received"] > 0)
                       & ((standing["peer_group"] == "city_district") == district)]
        if pd.notna(row_["per_10k"]) and len(per):
            place = int((per["per_10k"] > row_["per_10k"]).sum()) + 1
            lines.append(t("territories.rank.per_10k", rank=place, n=len(per)))
        st.markdown(" · ".join(f"**{x}**" for x in lines))
    shown_metrics = [m for m in LEAGUE_COLUMNS if m != "per_10k"]
    compare = pd.DataFrame({
        t("col.name"): [t(f"metric.{m}.label") for m in shown_metrics],
        terr_name: [ui.format_metric(m, mine[m]) for m in shown_metrics],
        # the peer group's average: the mean over its territories (each counts once, as in the league)
        t("territories.profile.peers"): [ui.format_metric(m, pd.to_numeric(peers[m]).mean()) if len(peers) else "—"
                                         for m in shown_metrics],
        t("territories.profile.region"): [ui.format_metric(m, region[m]) for m in shown_metrics],
    })
    ui.table(compare, None, f"profile_{code}", t("territories.profile.vs_region"), ctx, "profile_compare", select=False)
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(t("territories.profile.topics"))
        mix = data.kpi(ctx.url, ctx.viewer, f, ctx.now, "category").sort_values("received", ascending=False)
        mix["label"] = [ctx.topic_name(int(k)) for k in mix["key"]]
        fig = go.Figure(go.Bar(x=mix["received"], y=mix["label"], orientation="h", marker_color="#1f5fa8"))
        fig.update_yaxes(autorange="reversed")
        ui.chart(fig, "profile_topics", select=False)
    with c2:
        st.subheader(t("territories.profile.trend"))
        fl = data.flow(ctx.url, ctx.viewer, f, grain_for(f))
        fig = go.Figure()
        fig.add_bar(x=fl["bucket"], y=fl["received"], name=t("overview.flow.received"), marker_color="#1f5fa8")
        fig.add_scatter(x=fl["bucket"], y=fl["closed"], name=t("overview.flow.closed"), line=dict(color="#e07b00"))
        ui.chart(fig, "profile_trend", select=False)
    st.subheader(t("territories.profile.executors"))
    ex = data.kpi(ctx.url, ctx.viewer, f, ctx.now, "executor").sort_values("received", ascending=False)
    ex_shown = pd.concat([pd.DataFrame({t("col.executor"): [ctx.executor_name(int(k)) for k in ex["key"]]}, index=ex.index),
                          kpi_columns(ex, ["received", "on_time_share", "first_response_median", "resolved_share", "overdue_now"], True)], axis=1)
    ex_export = pd.concat([pd.DataFrame({t("col.executor"): [ctx.executor_name(int(k)) for k in ex["key"]]}, index=ex.index),
                           kpi_columns(ex, ["received", "on_time_share", "first_response_median", "resolved_share", "overdue_now"], False)], axis=1)
    row = ui.table(ex_shown, ex_export, f"executors_{code}", t("territories.profile.executors"), ctx, "profile_exec")
    ui.row_publish_box(ctx, ex, list(ex_shown[t("col.executor")]),
                       ["received", "on_time_share", "first_response_median", "resolved_share", "overdue_now"],
                       lambda i: drill(f, "executor", int(ex.iloc[i]["key"])), f"profile_exec_{code}")
    if row is not None:
        ui.go_to(ctx, drill(f, "executor", int(ex.iloc[row]["key"])), page="executors")
    st.subheader(t("territories.profile.overdue"))
    od = data.overdue(ctx.url, ctx.viewer, f, ctx.now)
    def od_listed(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            t("col.id"): rows["id"], t("col.received_at"): [fmt.local(x) for x in rows["received_at"]],
            t("col.due"): [fmt.local(x) for x in rows["response_due_at"]],
            t("col.overdue_hours"): rows["overdue_hours"].round(1), t("col.executor"): rows["executor"],
            t("col.topic"): rows["topic"], t("col.text"): rows["text"],
        })
    row = ui.table(od_listed(od.head(1000)), lambda: od_listed(od), f"overdue_{code}", t("territories.profile.overdue"),
                   ctx, "profile_overdue", export_rows=len(od))
    if row is not None:
        st.switch_page(ctx.pages["cases"], query_params={**to_params(f, ctx.lang), "id": str(int(od.iloc[row]["id"]))})
    st.page_link(ctx.pages["cases"], label=t("drill.open_cases"), icon=":material/list_alt:",
                 query_params=to_params(f, ctx.lang))
    st.divider()

# ---- the map and the league table --------------------------------------------------------
league = data.territory_league(ctx.url, ctx.viewer, f, ctx.now)
if ui.empty_notice(int(league["received"].sum())):
    st.stop()
st.subheader(t("map.title"), help=t("map.help"))
geomap.territory_map(ctx, league, "terr")
st.subheader(t("territories.league"), help=t("territories.league.help"))
st.caption(t("metric.score.help") + " " + t("drill.hint"))
league["display_name"] = league[name]
shown = league_frame(league, "display_name", LEAGUE_COLUMNS, lambda p: t(f"peer.{p}"), formatted=True)
export = league_frame(league, "display_name", LEAGUE_COLUMNS, lambda p: t(f"peer.{p}"), formatted=False)
row = ui.table(shown, export, "territories_league", t("territories.league"), ctx, "league", height=560,
               column_config=pinned(t("metric.rank.label"), t("col.name")),
               highlight=[i for i, c in enumerate(league["code"]) if c in ctx.viewer.territories])
ui.row_publish_box(ctx, league, list(league["display_name"]), LEAGUE_COLUMNS,
                   lambda i: drill(f, "territory", league.iloc[i]["code"]), "league")
if row is not None:
    ui.go_to(ctx, drill(f, "territory", league.iloc[row]["code"]))

# ---- funnel plot -------------------------------------------------------------------------
st.subheader(t("territories.funnel"), help=t("territories.funnel.help"))
region = data.kpi(ctx.url, ctx.viewer, f.narrowed(territories=()), ctx.now).iloc[0]
p = float(region["on_time_share"]) if pd.notna(region["on_time_share"]) else None
pts = league[league["on_time_share_n"] > 0]
if p is not None and len(pts):
    lim = funnel_limits(p, int(pts["on_time_share_n"].max()))
    fig = go.Figure()
    for lo, hi, dash, label in (("lo95", "hi95", "dash", "95\u00a0%"), ("lo998", "hi998", "dot", f"{fmt.number(99.8, 1)}\u00a0%")):
        fig.add_scatter(x=lim["n"], y=lim[lo] * 100, mode="lines", line=dict(color="#888", dash=dash), name=label)
        fig.add_scatter(x=lim["n"], y=lim[hi] * 100, mode="lines", line=dict(color="#888", dash=dash), showlegend=False)
    fig.add_hline(y=p * 100, line_color="#1f5fa8", annotation_text=t("territories.funnel.region"))
    # names on the points that lie outside the 95 % limits, and on the viewer's own territory
    band = funnel_limits(p, int(pts["on_time_share_n"].max()))
    lo_at = np.interp(pts["on_time_share_n"], band["n"], band["lo95"])
    hi_at = np.interp(pts["on_time_share_n"], band["n"], band["hi95"])
    named = (pts["on_time_share"] < lo_at) | (pts["on_time_share"] > hi_at) | pts["code"].isin(ctx.viewer.territories)
    fig.add_scatter(x=pts["on_time_share_n"], y=pts["on_time_share"] * 100, mode="markers+text",
                    text=[n if k else "" for n, k in zip(pts[name], named)], textposition="top center",
                    textfont=dict(size=10), customdata=list(zip(pts["code"], pts[name])),
                    marker=dict(size=9, color=["#c0392b" if c in ctx.viewer.territories else "#e07b00"
                                               for c in pts["code"]]),
                    name=t("col.territory"),
                    hovertemplate="%{customdata[1]}<br>n = %{x:,}<br>%{y:.1f}\u00a0%<extra></extra>")
    ticks = [v for v in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
             if v <= 2 * int(pts["on_time_share_n"].max())]
    fig.update_xaxes(type="log", title=t("metric.on_time_share.label") + ": n",
                     tickvals=ticks, ticktext=[fmt.number(v) for v in ticks])
    fig.update_yaxes(title=t("metric.on_time_share.label") + ", %")
    points = ui.chart(fig, "funnel", height=420)
    if points and "customdata" in points[0]:
        chosen = points[0]["customdata"]
        ui.go_to(ctx, drill(f, "territory", chosen[0] if isinstance(chosen, (list, tuple)) else chosen))

# ---- per capita ----------------------------------------------------------------------------
st.subheader(t("territories.per_capita"), help=t("metric.per_10k.help"))
# horizontal bars, largest on top: 45 names read across, not as rotated labels; the viewer's own
# territory (a head's) in another colour
pc = league[league["received"] > 0].sort_values("per_10k", ascending=True)
own = set(ctx.viewer.territories)
fig = go.Figure(go.Bar(y=pc[name], x=pc["per_10k"], orientation="h", customdata=pc["code"],
                       marker_color=["#e07b00" if c in own else "#5b8fd1" for c in pc["code"]],
                       text=[fmt.number(v, 1) for v in pc["per_10k"]], textposition="outside", cliponaxis=False))
fig.update_yaxes(categoryorder="array", categoryarray=list(pc[name]))
points = ui.chart(fig, "per_capita", height=max(420, 18 * len(pc) + 60))
if points:
    ui.go_to(ctx, drill(f, "territory", points[0]["customdata"]))
if (league["received"] < SMALL_N).any():
    st.caption(t("method.small"))
