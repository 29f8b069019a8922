"""The minister's briefing: one or two A4 pages in Russian, as a PDF.

The headline KPIs with like-for-like changes (the cards' own comparison: kpis.kpi_as_of), what
changed most (territories and topics by volume, each with one sentence), the oldest overdue cases
by executor, the league's leaders and laggards, the flow of appeals as the overview draws it, and
the definitions in the footer; the period, as-of time and filters in the header. ReportLab lays the
pages out (a maintained PDF library, pure Python); the chart is matplotlib's (reports.charts).
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries import periods
from queries.filters import Filters
from queries.kpis import kpi_as_of, kpi_frame
from queries.league import territory_league
from queries.localtime import LOCAL
from queries.metrics import METRICS, delta
from queries.region import REGION
from queries.speed import overdue_now
from queries.trend import received_closed
from queries.viewer import Viewer
from reports.press import appeals_word
from reports.typography import exact_number, quote_metric, quote_share

HEADLINE = ["received", "resolved_share", "on_time_share", "first_response_median", "overdue_now", "satisfaction"]
LABELS = {"received": "Поступило", "resolved_share": "Решено", "on_time_share": "Ответ в срок",
          "first_response_median": "Первый ответ (медиана, рабочие часы)", "overdue_now": "Просрочено сейчас",
          "satisfaction": "Довольны результатом"}
DEFINITIONS = {
    "received": "обращения, поступившие в период (по дате регистрации, по местному времени)",
    "resolved_share": "доля обращений в статусе «решено» среди поступивших",
    "on_time_share": "ответ не позже нормативного срока среди обращений, срок ответа которых наступил; "
                     "обращения без данных о сроке ответа не входят",
    "first_response_median": "медиана рабочих часов от поступления до первого ответа",
    "overdue_now": "открытые обращения без ответа, срок ответа которых прошёл",
    "satisfaction": "оценка 4 или 5 из 5 среди оценивших",
}
CHANGED = 3   # territories and topics named under "what changed"
OVERDUE = 8   # executors named with their oldest overdue case
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # DejaVu Sans: Cyrillic


@dataclass
class Briefing:
    d_from: dt.date
    d_to: dt.date
    as_of: dt.datetime
    headline: pd.DataFrame      # metric, label, value, previous, change (text)
    changed: list[str]          # sentences: what changed most
    overdue: pd.DataFrame       # executor, overdue, oldest_due, oldest_id
    leaders: pd.DataFrame       # territory, score
    laggards: pd.DataFrame
    flow: pd.DataFrame          # bucket, received, closed
    filters_text: str


def _value(name: str, v) -> str:
    return quote_metric(name, v, exact=True) or "нет данных"


def _change(name: str, cur, prev) -> str:
    """The cards' change (queries.metrics.delta): percentage points for shares, per cent else."""
    d = None if name == "overdue_now" else delta(cur, prev, METRICS[name])  # a snapshot of now: no change
    if d is None:
        return "—"
    if METRICS[name].is_share:
        return f"{d:+.1f}".replace(".", ",").replace("-", "−") + "\u00a0п.\u00a0п."
    return f"{d:+.0f}".replace("-", "−") + "\u00a0%"


def _names(conn: Connection, table: str) -> dict[int, str]:
    return dict(conn.execute(text(f"select id, name_ru from {table}")).all())


def _moved(cur: pd.DataFrame, prev: pd.DataFrame, names: dict[int, str], what: str) -> list[str]:
    """The groups whose volume grew most against the previous period, one sentence each."""
    both = cur.set_index("key")[["received"]].join(
        prev.set_index("key")[["received"]].rename(columns={"received": "received_prev"}), how="outer")
    both = both.fillna(0)
    both["delta"] = both["received"] - both["received_prev"]
    out = []
    for key, r in both.sort_values(["delta", "received"], ascending=False).head(CHANGED).iterrows():
        if r["delta"] <= 0:
            break
        name = names.get(int(key), str(key))
        if r["received_prev"]:
            pct = r["delta"] / r["received_prev"]
            out.append(f"{what} «{name}»: {exact_number(r['received'])} {appeals_word(int(r['received']), abbreviated=False)}, на {quote_share(pct)} больше, "
                       f"чем в предыдущий период ({exact_number(r['received_prev'])}).")
        else:
            out.append(f"{what} «{name}»: {exact_number(r['received'])} {appeals_word(int(r['received']), abbreviated=False)}; в предыдущий "
                       "период их не было.")
    return out


def make_briefing(conn: Connection, viewer: Viewer, filters: Filters, now: dt.datetime,
                  filters_text: str = "все территории и темы") -> Briefing:
    prev_f = filters.previous()
    cur = kpi_frame(conn, filters, viewer, now).iloc[0]
    prev = kpi_as_of(conn, prev_f, viewer, now - (filters.date_from - prev_f.date_from)).iloc[0]
    headline = pd.DataFrame([{"metric": n, "label": LABELS[n], "value": _value(n, cur.get(n)),
                              "previous": _value(n, prev.get(n)) if n != "overdue_now" else "—",
                              "change": _change(n, cur.get(n), prev.get(n))} for n in HEADLINE])
    changed = []
    for group, table, what in (("territory", "municipalities", "Территория"), ("category", "topics", "Тема")):
        a = kpi_frame(conn, filters, viewer, now, group, figures=["received"])
        b = kpi_frame(conn, prev_f, viewer, now, group, figures=["received"])
        changed += _moved(a, b, _names(conn, table), what)
    late = overdue_now(conn, filters, viewer, now)
    if len(late):
        late = (late.groupby("executor").agg(overdue=("id", "size"), oldest_due=("response_due_at", "min"),
                                             oldest_id=("id", "first"))
                .sort_values(["oldest_due", "overdue"], ascending=[True, False]).head(OVERDUE).reset_index())
    league = territory_league(conn, filters, viewer, now) if viewer.sees_region_leagues and not filters.territories \
        else pd.DataFrame()
    ranked = league[league["rank"].notna()].sort_values("score", ascending=False) if len(league) else league
    name_col = "name_ru" if "name_ru" in ranked.columns else "territory"
    leaders = ranked.head(3)[[name_col, "score"]].rename(columns={name_col: "territory"}) if len(ranked) else ranked
    laggards = ranked.tail(3).iloc[::-1][[name_col, "score"]].rename(columns={name_col: "territory"}) if len(ranked) \
        else ranked
    grain = "day" if filters.days <= 62 else "week" if filters.days <= 400 else "month"
    flow = received_closed(conn, filters, viewer, grain)
    return Briefing(filters.date_from, filters.date_to, now, headline, changed, late, leaders, laggards, flow,
                    filters_text)


def _flow_png(b: Briefing) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.2, 2.2), dpi=150)
    x = pd.to_datetime(b.flow["bucket"]) if len(b.flow) else []
    ax.plot(x, b.flow.get("received", []), color="#1f5fa8", label="Поступило", linewidth=1.8)
    ax.plot(x, b.flow.get("closed", []), color="#8a97a8", label="Закрыто", linewidth=1.8)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0, 1.18), ncol=2)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    months = periods.MONTHS_GEN
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: (lambda d: f"{d.day} {months[d.month - 1][:3]}")(matplotlib.dates.num2date(v))))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def render_pdf(b: Briefing) -> bytes:
    """The briefing as A4 pages (ReportLab platypus), Cyrillic in DejaVu Sans."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(FONT / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONT / "DejaVuSans-Bold.ttf")))
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444"))
    h1 = ParagraphStyle("h1", parent=body, fontName="DejaVu-Bold", fontSize=15, leading=19)
    h2 = ParagraphStyle("h2", parent=body, fontName="DejaVu-Bold", fontSize=11, leading=14, spaceBefore=8, spaceAfter=3)
    p = lambda s, st=body: Paragraph(escape(s), st)  # noqa: E731
    when = periods.in_words(b.d_from, b.d_to)
    as_of = b.as_of.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M")
    story = [p(f"Справка: обращения жителей {REGION.name_genitive_ru}", h1),
             p(f"{when[0].upper()}{when[1:]} ({b.d_from:%d.%m.%Y}–{b.d_to:%d.%m.%Y}); данные на {as_of} "
               f"(местное время); фильтры: {b.filters_text}.", small), Spacer(1, 4 * mm),
             p("Главное", h2)]
    rows = [["Показатель", "За период", "Период ранее", "Изменение"]] + \
        [[r.label, r.value, r.previous, r.change] for r in b.headline.itertuples()]
    table = Table(rows, colWidths=[68 * mm, 32 * mm, 36 * mm, 32 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "DejaVu", 9), ("FONT", (0, 0), (-1, 0), "DejaVu-Bold", 9),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                               ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
                               ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    story += [table, Spacer(1, 2 * mm),
              p("Сравнение с предыдущим периодом — «как на тот же день»: показатели, которые дозревают со временем, "
                "взяты на тот же возраст периода.", small),
              Image(io.BytesIO(_flow_png(b)), width=170 * mm, height=52 * mm)]
    story.append(p("Что изменилось больше всего", h2))
    story += [p("• " + s) for s in b.changed] or [p("Заметных роста обращений по территориям и темам нет.")]
    story.append(p("Самые старые просрочки по исполнителям", h2))
    if len(b.overdue):
        rows = [["Исполнитель", "Просрочено", "Ранний срок", "Обращение"]] + [
            [Paragraph(escape(str(r.executor)), body), exact_number(r.overdue),
             pd.Timestamp(r.oldest_due).tz_convert(LOCAL).strftime("%d.%m.%Y"), f"№ {r.oldest_id}"]
            for r in b.overdue.itertuples()]
        t2 = Table(rows, colWidths=[84 * mm, 26 * mm, 30 * mm, 28 * mm])
        t2.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "DejaVu", 9), ("FONT", (0, 0), (-1, 0), "DejaVu-Bold", 9),
                                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(t2)
    else:
        story.append(p("Просроченных обращений без ответа нет."))
    if len(b.leaders):
        story.append(p("Рейтинг территорий: лидеры и отстающие", h2))
        lead = ", ".join(f"{r.territory} ({r.score:.0f})" for r in b.leaders.itertuples())
        lag = ", ".join(f"{r.territory} ({r.score:.0f})" for r in b.laggards.itertuples())
        story += [p(f"Лидеры: {lead}."), p(f"Отстают: {lag}."),
                  p("Балл 0–100 — среднее долей «в срок», «решено», «подтверждено жителем» и «довольны»; места — "
                    "внутри групп сопоставимых территорий, при 30 и более обращениях.", small)]
    story.append(Spacer(1, 4 * mm))
    story.append(p("Определения: " + "; ".join(f"{LABELS[n].lower()} — {DEFINITIONS[n]}" for n in HEADLINE) + ".",
                   small))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Справка ЦУР {when}", author="Пульс ЦУР")
    doc.build(story, onFirstPage=_footer(as_of), onLaterPages=_footer(as_of))
    return out.getvalue()


def _footer(as_of: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont("DejaVu", 7)
        canvas.drawString(18 * 2.83465, 10 * 2.83465, f"Пульс ЦУР · данные на {as_of} · стр. {doc.page}")
        canvas.restoreState()
    return draw

