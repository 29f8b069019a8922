"""The press release: the centres' weekly or monthly text, from the dashboard's own figures.

«В сентябре 2021 года ЦУР Новосибирской области зафиксировал 8,78 тыс. обращений: 6,39 тыс. через
платформу «Госуслуги. Решаем вместе», 2,39 тыс. — в социальных сетях: «ВКонтакте» (1,81 тыс.),
Instagram (431) и «Одноклассники» (151). Больше всего — о COVID-19 и вакцинации (3,72 тыс.), о
дорогах (1,34 тыс.) и о благоустройстве (645)…» Every number is queries.kpis' (one definition per
figure); changes are said only where the earlier period lies wholly within the centre's history,
and the resolved share of an earlier period as it stood at the same age (like for like). A chart for a social-network post comes with it (reports.charts).
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
from sqlalchemy.engine import Connection

from queries import periods
from queries.filters import CENTRE_START, Filters
from queries.kpis import kpi_as_of, kpi_frame
from queries.region import REGION
from queries.viewer import Viewer
from reports.typography import mid_sentence, quote_number, quote_share

SOCIAL = ("vk", "ok", "telegram", "instagram", "facebook")  # the social networks, as the centres count them
MONITORED = ("pos", *SOCIAL)  # what a release's first number counts
# how a release names a channel: Russian brand names in «quotes», Latin ones as they are
CHANNEL_RU = {"vk": "«ВКонтакте»", "ok": "«Одноклассники»", "telegram": "Telegram", "instagram": "Instagram",
              "facebook": "Facebook", "website": "сайт", "other": "другие каналы"}
CHANNEL_EN = {"vk": "VK", "ok": "Odnoklassniki", "telegram": "Telegram", "instagram": "Instagram",
              "facebook": "Facebook", "website": "the website", "other": "other channels"}
LEADING = 3  # categories named


def _and(items: list[str], lang: str) -> str:
    word = " и " if lang == "ru" else " and "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + word + items[-1]


@lru_cache(maxsize=1)
def _abouts() -> dict[str, str]:
    """The rubricator's "о чём" phrase per category (topics.csv's about_ru)."""
    path = REGION.dir / "topics.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["code"]: r.get("about_ru") or "" for r in csv.DictReader(fh)}


@dataclass
class Release:
    d_from: dt.date
    d_to: dt.date
    as_of: dt.datetime
    text: str
    figures: dict[str, float] = field(default_factory=dict)     # every number the text says, by name
    channels: pd.Series | None = None                           # received by source
    categories: pd.DataFrame | None = None                      # code, name, received (leading first)
    definitions: list[str] = field(default_factory=list)


def _received(conn: Connection, f: Filters, viewer: Viewer, now: dt.datetime) -> int:
    return int(kpi_frame(conn, f, viewer, now, figures=["received"]).iloc[0]["received"])


def _change(cur: int, prev: int, label: str, lang: str) -> str | None:
    if not prev:
        return None
    pct = (cur - prev) / prev
    if lang == "ru":
        way = "больше" if pct > 0 else "меньше"
        return f"на {quote_share(abs(pct), lang)} {way}, чем {label}" if round(abs(pct) * 100) else f"столько же, сколько {label}"
    way = "more" if pct > 0 else "fewer"
    return f"{quote_share(abs(pct), lang)} {way} than {label}" if round(abs(pct) * 100) else f"as many as {label}"


def _than(d_from: dt.date, d_to: dt.date, label: str, lang: str) -> str:
    """The earlier period after «чем»: «в августе 2021 года»; a week: «неделей ранее», «за ту же
    неделю год назад»; other periods by their dates."""
    if periods.unit_of(d_from, d_to) == "week":
        if lang == "ru":
            return "неделей ранее" if label == "previous" else "за ту же неделю год назад"
        return "the week before" if label == "previous" else "in the same week a year earlier"
    words = periods.in_words(d_from, d_to, lang)
    return words


def press_release(conn: Connection, viewer: Viewer, d_from: dt.date, d_to: dt.date, now: dt.datetime,
                  lang: str = "ru") -> Release:
    f = Filters(d_from, d_to)
    total = kpi_frame(conn, f, viewer, now, figures=["received", "resolved", "resolved_share", "satisfaction",
                                                       "confirmed_share"]).iloc[0]
    by_source = kpi_frame(conn, f, viewer, now, "source", figures=["received"]).set_index("key")["received"]
    by_source = by_source[by_source > 0].astype(int).sort_values(ascending=False)
    cats = kpi_frame(conn, f, viewer, now, "category", figures=["received"])
    topics = pd.read_sql("select id, code, name_ru, name_en from topics", conn).set_index("id")
    cats = cats.join(topics, on="key").sort_values(["received", "code"], ascending=[False, True])
    cats = cats[cats["received"] > 0]
    received = int(total["received"])
    pos = int(by_source.get("pos", 0))
    social = by_source[[s for s in by_source.index if s in SOCIAL]]
    monitored = pos + int(social.sum())  # the centres' published count: the platform and the networks
    rest = received - monitored
    figures: dict[str, float] = {"received": received, "monitored": monitored, "pos": pos,
                                 "social": int(social.sum()), **{f"source.{k}": int(v) for k, v in by_source.items()}}
    ru = lang == "ru"
    when = periods.in_words(d_from, d_to, lang)
    region = REGION.name_genitive_ru if ru else REGION.name_en
    q = lambda n: quote_number(n, lang)  # noqa: E731
    names = CHANNEL_RU if ru else CHANNEL_EN
    parts = []
    if ru:
        head = (f"{when[0].upper()}{when[1:]} ЦУР {region} зафиксировал {q(monitored)} {appeals_word(monitored)} "
                "на платформе обратной связи «Госуслуги» и в социальных сетях")
    else:
        head = (f"{when[0].upper()}{when[1:]}, the Regional Management Centre of {region} registered {q(monitored)} "
                "appeals on the Gosuslugi feedback platform and on social networks")
    channels = []
    if pos:
        channels.append(f"{q(pos)} — через платформу" if ru else f"{q(pos)} through the platform")
    if len(social):
        nets = _and([f"{names[s]} ({q(n)})" for s, n in social.items()], lang)
        channels.append(f"{q(social.sum())} — в соцсетях: {nets}" if ru else f"{q(social.sum())} on social networks: {nets}")
    parts.append(head + (": " + "; ".join(channels) if channels else "") + ".")
    if rest > 0:
        parts.append(f"Ещё {q(rest)} {appeals_word(rest)} поступили через сайт и другие каналы." if ru else
                     f"Another {q(rest)} came through the website and other channels.")
    lead = cats.head(LEADING)
    if len(lead):
        abouts = _abouts()
        said = []
        for r in lead.itertuples():
            name = (abouts.get(r.code) or f"по теме «{r.name_ru}»") if ru else mid_sentence(r.name_en)
            said.append(f"{name} ({q(r.received)})")
            figures[f"category.{r.code}"] = int(r.received)
        parts.append(("Больше всего обращений — " if ru else "Most were about ") + _and(said, lang) + ".")
    if received:
        resolved = int(total["resolved"])
        figures["resolved"] = resolved
        parts.append(f"Решено {q(resolved)} {appeals_word(resolved, 'gen')} ({quote_share(total['resolved_share'], lang)})." if ru
                     else f"{q(resolved)} were resolved ({quote_share(total['resolved_share'], lang)}).")
        if pd.notna(total.get("satisfaction")) and not total.get("satisfaction_low", False):
            figures["satisfaction"] = float(total["satisfaction"])
            parts.append(f"Результатом довольны {quote_share(total['satisfaction'], lang)} оценивших жителей." if ru
                         else f"{quote_share(total['satisfaction'], lang)} of the residents who rated it were satisfied.")
    # the earlier periods said only where comparable: wholly within the centre's history
    earlier = [(label, p_from, p_to) for label, (p_from, p_to) in (("previous", periods.previous(d_from, d_to)),
                                                                   ("year", periods.year_earlier(d_from, d_to)))
               if p_from >= CENTRE_START]
    if received and not total.get("resolved_share_low", False):
        # a maturing share, like for like: the earlier period as it stood at the same age
        then = []
        for label, p_from, p_to in earlier:
            old = kpi_as_of(conn, Filters(p_from, p_to), viewer, now - (d_from - p_from)).iloc[0]
            if pd.isna(old["resolved_share"]) or old.get("resolved_share_low", False):
                continue
            figures[f"resolved_share.{label}"] = float(old["resolved_share"])
            then.append((_than(p_from, p_to, label, lang), quote_share(old["resolved_share"], lang)))
        if then:
            if ru:
                first, *more = then
                parts.append(f"На тот же срок {first[0]} было решено {first[1]}"
                             + "".join(f", {w} — {v}" for w, v in more) + ".")
            else:
                parts.append("At the same age, " + _and([f"{v} were resolved {w}" for w, v in then], lang) + ".")
    changes = []
    for label, p_from, p_to in earlier:
        prev = _received(conn, Filters(p_from, p_to, sources=MONITORED), viewer, now)
        figures[f"received.{label}"] = prev
        said = _change(monitored, prev, _than(p_from, p_to, label, lang), lang)
        if said:
            changes.append(said)
    if changes:
        parts.append(("Это " if ru else "That is ") + _and(changes, lang) + ".")
    definitions = [
        "Обращения — сообщения жителей, зарегистрированные ЦУР в период (по дате регистрации, по местному времени); "
        "в первом числе — поступившие через платформу «Госуслуги» и из социальных сетей, как их публикуют центры."
        if ru else "Appeals: residents' messages the centre registered in the period (by registration date, local "
        "time); the first number counts those from the Gosuslugi platform and social networks, as the centres publish it.",
        "Решено — обращения в статусе «решено» на момент выгрузки; доля — от поступивших за период."
        if ru else "Resolved: appeals in status 'resolved' when the data was read; the share is of those received.",
        "Довольны — оценка 4 или 5 из 5, среди оценивших." if ru else "Satisfied: a rating of 4 or 5 of 5, of those who rated.",
    ]
    return Release(d_from, d_to, now, " ".join(parts), figures, by_source,
                   cats[["code", "name_ru", "name_en", "received"]].reset_index(drop=True), definitions)


def appeals_word(n: int, case: str = "acc", abbreviated: bool = True) -> str:
    """«обращение / обращения / обращений» by the count (an abbreviated count, тыс./млн, takes the
    genitive plural)."""
    if n >= 1000 and abbreviated:
        return "обращений"
    if n % 10 == 1 and n % 100 != 11:
        return "обращение"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "обращения"
    return "обращений"
