"""The oblast's map: a choropleth of the territories from the region's shipped boundaries (©
OpenStreetMap contributors, ODbL, credited on the map), coloured by one of the league's measures
with the value and rank on hover; the city's districts, which have no boundaries, as bars beside
it. Drawn without a tile server or Plotly's world outlines (the boundaries are the base), so it
works offline. Clicking a territory opens its profile with the filters kept."""
from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import fmt, ui
from dashboard.context import Context
from dashboard.drill import drill
from queries.metrics import METRICS
from queries.region import REGION
from dashboard.i18n import t

# the measures a map can show: (league column, diverging around the region's value or zero)
MAP_METRICS = {"per_10k": False, "on_time_share": True, "overdue_now": False, "satisfaction": True,
               "received_change": True}
SEQUENTIAL = "Blues"
OWN_LINE = "#c0392b"


@lru_cache(maxsize=1)
def boundaries() -> dict | None:
    """The region's GeoJSON with each feature's territory code as `properties.code` (matched by its
    Russian name to the reference table, as shipped); None when the region has no boundaries."""
    if REGION.boundaries is None:
        return None
    import csv
    with open(REGION.boundaries, encoding="utf-8") as fh:
        gj = json.load(fh)
    with open(REGION.dir / "municipalities.csv", encoding="utf-8", newline="") as fh:
        # the reference table's code: OKTMO, else the slug (ingest.reference)
        codes = {r["name_ru"]: (r["code"].strip() or r["slug"].strip()) for r in csv.DictReader(fh)}
    for feature in gj["features"]:
        feature["properties"]["code"] = codes.get(feature["properties"].get("name_ru"))
        _rewind(feature["geometry"])
    gj["features"] = [f for f in gj["features"] if f["properties"]["code"]]
    return gj


def _signed_area(ring: list) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1])) / 2


def _rewind(geometry: dict) -> None:
    """Rings as Plotly's spherical geometry reads them: the outer ring clockwise, holes counter-
    clockwise. GeoJSON (RFC 7946) winds the other way, and Plotly then fills the whole globe but
    the territory."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else \
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else []
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            if (_signed_area(ring) > 0) == (i == 0):  # counter-clockwise outer, or clockwise hole
                ring.reverse()


def map_values(league: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The map's rows: the league's territories with boundaries (the city as a whole, not its
    districts), the metric's value as the league has it, and its rank among them."""
    gj = boundaries()
    shapes = {f["properties"]["code"] for f in gj["features"]} if gj else set()
    rows = league[league["code"].isin(shapes)].copy()
    rows["value"] = pd.to_numeric(rows[metric], errors="coerce")
    better_high = METRICS[metric].higher_is_better if metric in METRICS else None
    rows["place"] = rows["value"].rank(ascending=not (better_high is not False), method="min")
    return rows


def metric_label(metric: str) -> str:
    return t("map.metric.received_change") if metric == "received_change" else t(f"metric.{metric}.label")


def formatted(metric: str, value) -> str:
    if metric == "received_change":
        return fmt.signed(value, 1, "\u00a0%") if pd.notna(value) else "—"
    return ui.format_metric(metric, value)


def territory_map(ctx: Context, league: pd.DataFrame, key: str) -> None:
    """The metric's chooser, the map and the city's districts; a click opens the territory's profile."""
    gj = boundaries()
    if gj is None:
        return
    metric = st.segmented_control(t("map.metric"), list(MAP_METRICS), default="per_10k", key=f"{key}_metric",
                                  format_func=metric_label) or "per_10k"
    rows = map_values(league, metric)
    values = rows["value"] * (100 if METRICS.get(metric) and METRICS[metric].is_share else 1)
    own = set(ctx.viewer.territories)
    diverging = MAP_METRICS[metric]
    scale, centre = SEQUENTIAL, None
    if diverging:
        # the middle of the scale: no change, or the territories' median (each counts once)
        centre = 0.0 if metric == "received_change" else float(values.median()) if values.notna().any() else 0.0
        # red is worse: a share below the middle; more appeals than before
        scale = "RdBu" if metric != "received_change" else "RdBu_r"
    n_ranked = int(rows["place"].notna().sum())
    hover = [t("map.hover", name=n, value=formatted(metric, v), place=int(p) if pd.notna(p) else "—", n=n_ranked)
             for n, v, p in zip(rows[ctx.name_col()], rows["value"], rows["place"])]
    trace = go.Choropleth(
        geojson=gj, featureidkey="properties.code", locationmode="geojson-id", locations=rows["code"], z=values,
        customdata=rows["code"], text=hover, hovertemplate="%{text}<extra></extra>",
        colorscale=scale, zmid=centre,
        marker=dict(line=dict(color=[OWN_LINE if c in own else "#ffffff" for c in rows["code"]],
                              width=[3 if c in own else 0.6 for c in rows["code"]])),
        colorbar=dict(title=dict(text=metric_label(metric) + (", %" if metric == "received_change" or
                                                               (METRICS.get(metric) and METRICS[metric].is_share) else ""),
                                 side="right"), thickness=12, len=0.8),
    )
    fig = go.Figure(trace)
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.add_annotation(text=t("map.attribution"), xref="paper", yref="paper", x=0, y=0, showarrow=False,
                       font=dict(size=10, color="#555"), xanchor="left", yanchor="bottom")
    left, right = st.columns([3, 1])
    with left:
        points = ui.chart(fig, f"{key}_map", height=520)
    with right:
        city = league[league["peer_group"] == "city_district"].copy()
        if len(city):
            parent = league[league["id"] == city["parent_id"].iloc[0]]
            city_name = parent[ctx.name_col()].iloc[0] if len(parent) else ""
            st.markdown(f"**{t('map.city_districts', city=city_name)}**")
            city["value"] = pd.to_numeric(city[metric], errors="coerce")
            city = city.sort_values("value", ascending=True)
            shown = city["value"] * (100 if METRICS.get(metric) and METRICS[metric].is_share else 1)
            # «Дзержинский», not «Дзержинский район»: the title says they are districts, and the
            # long names were cut in the narrow column
            labels = city[ctx.name_col()].str.replace(r"\s+(район|District)$", "", regex=True)
            bars = go.Figure(go.Bar(x=shown, y=labels, orientation="h", customdata=city["code"],
                                    marker_color=[OWN_LINE if c in own else "#5b8fd1" for c in city["code"]],
                                    text=[formatted(metric, v) for v in city["value"]], textposition="auto",
                                    hovertemplate="%{y}: %{text}<extra></extra>"))
            bars.update_layout(showlegend=False)
            picked = ui.chart(bars, f"{key}_districts", height=520)
            if picked:
                ui.go_to(ctx, drill(ctx.filters, "territory", picked[0]["customdata"]), page="territories")
    if points:
        code = points[0].get("customdata") or points[0].get("location")
        if isinstance(code, (list, tuple)):
            code = code[0]
        if code:
            ui.go_to(ctx, drill(ctx.filters, "territory", code), page="territories")
