"""Page building blocks: KPI cards with deltas and definitions, tables with CSV/XLSX export, charts."""
from __future__ import annotations

import io
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import fmt
from dashboard.quote import quote
from dashboard.context import Context
from dashboard.i18n import get_lang, t
from dashboard.urlstate import to_params
from queries.formulas import guard_frame, guard_sheet
from queries.filters import Filters
from queries.metrics import METRICS, Metric, delta

# no Plotly toolbar: its buttons are labelled in English only, and on a phone it covered the legends
PLOTLY_CONFIG = {"displaylogo": False, "displayModeBar": False, "locale": "ru"}


def format_metric(name: str, value) -> str:
    m = METRICS[name]
    if m.fmt == "share":
        return fmt.share(value)
    if m.fmt == "hours":
        return fmt.hours(value)
    if m.fmt == "days":
        return fmt.days(value)
    if m.fmt == "rate":
        return fmt.number(value, 1)
    return fmt.number(value)


OWN_ROW = "background-color: #fff1dc; font-weight: 600"  # the viewer's own territory or organization
NO_DELTA = {"overdue_now"}  # a snapshot of now: the previous cohort's "overdue now" is not comparable


def _delta_text(m: Metric, d: float | None) -> str | None:
    """Signed with an ASCII minus: st.metric reads the sign to choose the arrow."""
    if d is None:
        return None
    suffix = f"\u00a0{t('unit.pp')}" if m.is_share else "\u00a0%"
    return fmt.signed(d, 1, suffix).replace("−", "-")


RESPONSE_FIGURES = ("on_time_share", "first_response_median", "overdue_now")  # leave unmeasured appeals out


def kpi_cards(cur: pd.Series, prev: pd.Series, names: list[str], ctx: Context | None = None) -> None:
    """Rows of st.metric cards: value, delta against the comparison period, the definition as help.
    At most four to a row, rows balanced (six: three and three): five or six cards in one row cut
    values to «71,…» at 1280 px."""
    per_row = -(-len(names) // -(-len(names) // 4))  # ceil(n / ceil(n / 4))
    cols = [c for start in range(0, len(names), per_row)
            for c in st.columns(per_row)[:len(names[start:start + per_row])]]
    for col, name in zip(cols, names):
        m = METRICS[name]
        low = bool(cur.get(f"{name}_low", False)) if m.is_share else False
        value = format_metric(name, cur[name])
        if low:
            value = f"{value} · {t('low_data')}"
        comparable = name not in NO_DELTA and not low and not (m.is_share and prev.get(f"{name}_low", False))
        d = delta(cur[name], prev[name], m) if comparable else None
        color = "off" if m.higher_is_better is None else ("normal" if m.higher_is_better else "inverse")
        help_text = t(f"metric.{name}.help")
        unmeasured = cur.get("unmeasured", 0)
        if name in RESPONSE_FIGURES and pd.notna(unmeasured) and unmeasured > 0:
            # the appeals without response times: said, not counted as late (docs/metrics.md)
            help_text += " " + t("metric.unmeasured.note", n=fmt.number(unmeasured))
            if pd.isna(cur[name]):
                value = t("no_data")
        if name == "first_response_median" and pd.notna(cur.get("first_response_median_calendar")):
            help_text += " " + t("hours.calendar", value=fmt.number(cur["first_response_median_calendar"], 1))
        col.metric(t(f"metric.{name}.label"), value, _delta_text(m, d), delta_color=color, help=help_text,
                   border=True)
    if ctx is not None:
        publish_box(ctx, cur, names)


def publish_box(ctx: Context, cur: pd.Series, names: list[str]) -> None:
    """«Для публикации»: every card of the row as a block to copy (dashboard.quote)."""
    scope = [(k, v) for k, v in filters_description(ctx) if k != t("filters.period")]
    base = _page_url()
    with st.popover(t("quote.button"), icon=":material/format_quote:"):
        st.caption(t("quote.help"))
        for name in names:
            st.code(quote(name, cur, ctx.filters, ctx.now, scope, base), language=None, wrap_lines=True)


def row_publish_box(ctx: Context, rows: pd.DataFrame, labels: list[str], names: list[str],
                    filters_of, key: str) -> None:
    """«Для публикации» under a table: one row, chosen by its name, with every figure of the row as a
    block to copy; the sentence names the row and the filters and link are the row's own view
    (`filters_of(position)`: the drill-down filters)."""
    if not len(rows):
        return
    base = _page_url()
    with st.popover(t("quote.button"), icon=":material/format_quote:"):
        st.caption(t("quote.row_help"))
        pos = st.selectbox(t("quote.row"), range(len(rows)), format_func=lambda i: labels[i], key=f"{key}_quote_row")
        row_filters = filters_of(pos)
        scope = [(k, v) for k, v in filters_description(ctx, row_filters) if k != t("filters.period")]
        for name in names:
            st.code(quote(name, rows.iloc[pos], row_filters, ctx.now, scope, base, subject=labels[pos]),
                    language=None, wrap_lines=True)


def _page_url() -> str | None:
    try:
        return st.context.url
    except Exception:  # outside a browser session (tests): a relative link
        return None


def filters_description(ctx: Context, filters: Filters | None = None) -> list[tuple[str, str]]:
    f = filters or ctx.filters
    everything = t("filters.all")
    return [
        (t("filters.period"), f"{fmt.date(f.date_from)} — {fmt.date(f.date_to)}"),
        (t("filters.territory"), ", ".join(ctx.territory_name(c) for c in f.territories) or everything),
        (t("filters.topic"), ", ".join(ctx.topic_name(c) for c in f.topics) or everything),
        (t("filters.source"), ", ".join(t(f"source.{s}") for s in f.sources) or everything),
        (t("filters.executor"), ", ".join(ctx.executor_name(e) for e in f.executors) or everything),
    ]


def file_stem(name: str, ctx: Context) -> str:
    """A download's file name without extension: the view, its period and its as-of moment, so that
    files of different views and days never overwrite each other (cases_2021-02-01_2021-03-31_на_2021-04-15_0700)."""
    f = ctx.filters
    asof = fmt.local(ctx.now)  # "15.04.2021 07:00" → 2021-04-15_0700
    day, clock = asof.split(" ") if " " in asof else (asof, "")
    stamp = "-".join(reversed(day.split("."))) + ("_" + clock.replace(":", "") if clock else "")
    return f"{name}_{f.date_from.isoformat()}_{f.date_to.isoformat()}_{t('export.asof_word')}_{stamp}"


def header_lines(title: str, ctx: Context) -> list[tuple[str, str]]:
    """What a file says about itself: its title, the filters (the period first) and the as-of moment."""
    return [(title, ""), *filters_description(ctx), (t("asof", when=fmt.local(ctx.now)), "")]


def to_csv(df: pd.DataFrame, title: str | None = None, ctx: Context | None = None) -> bytes:
    """Semicolon-separated UTF-8 with BOM: what Excel in a Russian locale opens correctly. CRLF line
    ends (RFC 4180), so that a text holding a carriage return is quoted rather than splitting its row.
    With a title and a context, a first comment line («# …») states the view, its filters and as-of."""
    body = guard_frame(df).to_csv(index=False, sep=";", decimal="," if get_lang() == "ru" else ".",
                                  lineterminator="\r\n")
    if title is not None and ctx is not None:
        about = " · ".join(f"{k}: {v}" if v else k for k, v in header_lines(title, ctx))
        body = "# " + about.replace("\r", " ").replace("\n", " ") + "\r\n" + body
    return body.encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, title: str, ctx: Context) -> bytes:
    """The table under a header block: title, the filters, the as-of moment."""
    buf = io.BytesIO()
    header = header_lines(title, ctx)
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        pd.DataFrame(header).to_excel(xl, index=False, header=False, sheet_name="data")
        df.to_excel(xl, index=False, sheet_name="data", startrow=len(header) + 1)
        sheet = xl.sheets["data"]
        guard_sheet(sheet)
        for i, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)]) + 2
            sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(width, 60)
    return buf.getvalue()


def export_data(build, fmt: str, file_name: str, title: str, ctx: Context, details: dict | None = None):
    """A download's deferred data: the file (`fmt` "csv" or "xlsx") made from `build()` when the
    button is pressed, and the export then written to the audit log as the page's viewer's, with
    the view's filters and `details`."""
    viewer, filters = ctx.viewer, to_params(ctx.filters, ctx.lang)
    write = to_csv if fmt == "csv" else to_xlsx

    def data() -> bytes:
        from dashboard import auth
        content = write(build(), title, ctx)
        if viewer is not None:
            auth.record_as(viewer, "export", file_name, {"filters": filters, **(details or {})})
        return content
    return data


def exports(df, name: str, title: str, ctx: Context, key: str, details: dict | None = None,
            rows: int | None = None) -> None:
    """CSV and XLSX downloads of `df` (a frame, or a function building it when a button is pressed:
    a full export is read only when asked for); each download is written to the audit log (with
    `details`, e.g. a search's term, beside the filters and the row count). A press does not rerun
    the page (on_click="ignore"): a rerun registers the file under a new id, and a browser whose
    request for the old one arrived after it got nothing (the browser tests on a busy machine)."""
    build = df if callable(df) else (lambda: df)
    details = {**(details or {}), "rows": rows if rows is not None or callable(df) else len(df)}
    stem = file_stem(name, ctx)
    # a row of buttons as wide as their labels, wrapping when the table's column is narrow
    # (fixed column shares cut the labels to «С…» beside another table)
    row = st.container(horizontal=True, wrap=True, gap="small")
    row.download_button(t("export.csv"), export_data(build, "csv", f"{stem}.csv", title, ctx, details), f"{stem}.csv",
                        "text/csv", key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    row.download_button(t("export.xlsx"), export_data(build, "xlsx", f"{stem}.xlsx", title, ctx, details),
                        f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")


def table(df: pd.DataFrame, export, name: str, title: str, ctx: Context, key: str,
          select: bool = True, height: int | str = "auto", column_config: dict | None = None,
          details: dict | None = None, export_rows: int | None = None,
          highlight: list[int] | None = None) -> int | None:
    """A table (selectable row → its position) with CSV and XLSX downloads of `export` (a frame or
    a function building one; df when None). `highlight`: positions of the viewer's own rows."""
    body = df
    if highlight:
        marked = set(highlight)
        body = df.style.apply(lambda r: [OWN_ROW if r.name in marked else ""] * len(r), axis=1)
    state = st.dataframe(body, hide_index=True, key=key, on_select="rerun" if select else "ignore",
                         selection_mode="single-row", height=height, column_config=column_config)
    if _has_low_data_mark(df):
        st.caption(t("low_data.note"))
    exports(export if export is not None else df, name, title, ctx, key, details, export_rows)
    rows = tuple(state.selection.rows) if select and state else ()
    return rows[0] if _new_selection(key, rows) else None


def _has_low_data_mark(df: pd.DataFrame) -> bool:
    """Whether a formatted table marks a share as computed from too few appeals (tables.kpi_columns)."""
    mark = t("low_data.mark")
    return any(df[c].astype(str).str.endswith(mark).any() for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]))


def _new_selection(key: str, selection: tuple) -> bool:
    """True once per new selection: a selection survives reruns, and acting on it again would loop."""
    memo = f"_handled_{key}"
    if not selection:
        st.session_state.pop(memo, None)
        return False
    if st.session_state.get(memo) == selection:
        return False
    st.session_state[memo] = selection
    return True


def _axis_kind(values: list) -> str | None:
    """'date', 'number' or None (text, or nothing): what the traces put on an axis."""
    import datetime as _dt

    import numpy as np
    for v in values:
        if v is None or len(v) == 0:
            continue
        first = v[0]
        if isinstance(first, (_dt.date, pd.Timestamp, np.datetime64)):
            return "date"
        if isinstance(first, str):
            return "date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", first) else None
        if isinstance(first, (int, float, np.integer, np.floating)):
            return "number"
    return None


def _log_axis(fig: go.Figure, axis: str) -> bool:
    layout_axis = fig.layout.xaxis if axis == "x" else fig.layout.yaxis
    return layout_axis.type == "log"


def chart(fig: go.Figure, key: str, select: bool = True, height: int = 360):
    """A Plotly chart in the app's style; returns the selected points (list of dicts) or []."""
    sep = ", " if get_lang() == "ru" else ".,"
    # explicit formats: Plotly's own are English ("5k", "Nov 8 2026"), and its locale files are not
    # loaded by Streamlit. Numbers in full with the language's separators, dates as numbers.
    numbers = dict(separatethousands=True, tickformat=",~r", hoverformat=",~r", exponentformat="none")
    dates = dict(tickformat="%d.%m.%Y" if get_lang() == "ru" else "%Y-%m-%d",
                 hoverformat="%d.%m.%Y" if get_lang() == "ru" else "%Y-%m-%d")
    for axis, values in (("x", [getattr(tr, "x", None) for tr in fig.data]),
                         ("y", [getattr(tr, "y", None) for tr in fig.data])):
        kind = _axis_kind(values)
        update = fig.update_xaxes if axis == "x" else fig.update_yaxes
        if kind == "date":
            update(**dates)
        elif kind == "number" and not _log_axis(fig, axis):
            update(**numbers)
    fig.update_layout(separators=sep, height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    config = dict(PLOTLY_CONFIG, locale=get_lang())
    if any(tr.type in ("choropleth", "scattergeo") for tr in fig.data):
        from dashboard.gate import gate_path
        config["topojsonURL"] = gate_path("geo") + "/"  # the empty world outline: no CDN (dashboard.gate)
    state = st.plotly_chart(fig, key=key, on_select="rerun" if select else "ignore",
                            selection_mode=("points",), config=config)
    points = list(state.selection.points) if select and state and state.selection else []
    signature = tuple(sorted(str(p.get("point_index", p)) + str(p.get("curve_number", "")) for p in points))
    return points if _new_selection(key, signature) else []


def go_to(ctx: Context, filters: Filters, page: str | None = None, extra: dict | None = None) -> None:
    """Apply narrower filters: on this page (rerun) or on another page (switch)."""
    params = to_params(filters, ctx.lang)
    params.update(extra or {})
    if page:
        st.switch_page(ctx.pages[page], query_params=params)
    st.query_params.from_dict(params)
    st.rerun()


def topic_level(key: str) -> str:
    """«Категории | Темы»: which level a topic view shows ("category" or "topic"). The published
    figures are by category (roads, ЖКХ, благоустройство); the topics are their detail."""
    choice = st.segmented_control(t("topics.level"), ["category", "topic"], key=key, default="category",
                                  format_func=lambda v: t(f"topics.level.{v}"), label_visibility="collapsed")
    return choice or "category"


def empty_notice(received: int) -> bool:
    if received == 0:
        st.info(t("empty.period"))
        return True
    return False


def subscription_box(ctx: Context) -> None:
    """«Подписка»: the weekly or monthly briefing (or the press release) by e-mail, in the user's scope."""
    from dashboard import subscribing
    kinds = ["briefing"] + (["press"] if ctx.viewer.sees_press_release else [])
    if ctx.viewer.role == "executor":
        return
    with st.popover(t("subscribe.button"), icon=":material/mail:"):
        with st.form("subscribe_form", border=False):
            kind = st.radio(t("subscribe.kind"), kinds, key="subscribe_kind", format_func=lambda k: t(f"subscribe.kind.{k}"))
            every = st.radio(t("subscribe.every"), ["week", "month"], key="subscribe_every", horizontal=True,
                             format_func=lambda e: t(f"subscribe.every.{e}"))
            address = st.text_input(t("subscribe.email"), key="subscribe_email")
            if st.form_submit_button(t("subscribe.submit")):
                try:
                    sid = subscribing.add(ctx.viewer, kind, every, address)
                except subscribing.Refused:
                    st.error(t("subscribe.refused"))
                else:
                    st.success(t("subscribe.done", id=sid))
        for sid, kind, every, address in subscribing.mine(ctx.viewer):
            line = st.container(horizontal=True, gap="small")
            line.caption(t("subscribe.mine", id=sid, kind=t(f"subscribe.kind.{kind}"), every=t(f"subscribe.every.{every}"),
                           email=fmt.plain(address)))
            if line.button(t("subscribe.cancel"), key=f"subscribe_cancel_{sid}"):
                subscribing.cancel(ctx.viewer, sid)
                st.rerun()
        st.caption(t("subscribe.note"))
