"""Display and export frames built from KPI rows: Russian headers, formatted values, low-data marks."""
from __future__ import annotations

import pandas as pd

from dashboard import fmt
from dashboard.i18n import t
from dashboard.ui import format_metric
from queries.metrics import METRICS


def kpi_columns(df: pd.DataFrame, names: list[str], formatted: bool) -> pd.DataFrame:
    """One column per metric; shares with too little data get the low-data mark (ui.table explains it)."""
    out = pd.DataFrame(index=df.index)
    for name in names:
        label = t(f"metric.{name}.label")
        m = METRICS[name]
        if formatted:
            values = [format_metric(name, v) for v in df[name]]
            if m.is_share and m.numerator in df and f"{name}_n" in df:
                # the counts beside the share, as a press officer quotes it: «83,6 % (16 989 из 20 310)»
                values = [t("table.share_of", share=v, num=fmt.number(num), den=fmt.number(den))
                          if pd.notna(raw) and pd.notna(num) and pd.notna(den) else v
                          for v, raw, num, den in zip(values, df[name], df[m.numerator], df[f"{name}_n"])]
            if m.is_share:
                # a footnote mark, explained under the table: the words would not fit a narrow column
                # (an empty share, from no appeals at all, shows "—" alone)
                values = [f"{v}{t('low_data.mark')}" if low and pd.notna(raw) else v
                          for v, low, raw in zip(values, df[f"{name}_low"], df[name])]
            out[label] = values
        else:
            col = df[name]
            if m.is_share:
                col = (col * 100).round(1).where(~df[f"{name}_low"])
            elif m.fmt in ("hours", "days", "rate"):
                col = col.round(2)
            out[label + (", %" if m.is_share else "")] = col
            if m.is_share and m.numerator in df and f"{name}_n" in df:
                out[t("export.share_num", label=label)] = df[m.numerator].astype("Int64")
                out[t("export.share_den", label=label)] = df[f"{name}_n"].astype("Int64")
    return out


def league_frame(df: pd.DataFrame, name_col: str, names: list[str], peer_label, formatted: bool) -> pd.DataFrame:
    rank = df["rank"].astype("Int64")
    head = pd.DataFrame({
        t("metric.rank.label"): [("—" if pd.isna(v) else str(int(v))) for v in rank] if formatted else rank,
        t("col.name"): df[name_col],
        t("col.peer_group"): [peer_label(p) for p in df["peer_group"]],
    }, index=df.index)
    body = kpi_columns(df, names, formatted)
    score = df["score"].round(1)
    change = df["rank_change"].astype("Int64")
    tail = pd.DataFrame({
        t("metric.score.label"): [fmt.number(v, 1) for v in score] if formatted else score,
        t("metric.rank_change.label"): [("—" if pd.isna(v) else fmt.signed(v, 0)) for v in change] if formatted else change,
    }, index=df.index)
    # the score and its change beside the name: the columns a reader of a league comes for, in
    # view at 1280 px; the peer group and the measures behind the score follow
    return pd.concat([head.iloc[:, :2], tail, head.iloc[:, 2:], body], axis=1)


def pinned(*labels: str) -> dict:
    """Column settings that keep these columns in view while a wide table scrolls sideways."""
    import streamlit as st
    return {label: st.column_config.Column(pinned=True) for label in labels}
