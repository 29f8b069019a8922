"""«Для публикации»: a card's figure as a press officer quotes it — in typographic style, in one
sentence with the period in words, the absolute counts beside a share, the definition, the as-of
time, the filters and a permanent link (the same view)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode, urlsplit, urlunsplit

import pandas as pd

from dashboard import fmt
from dashboard.i18n import get_lang, t
from dashboard.urlstate import to_params
from queries import periods
from queries.filters import Filters
from queries.metrics import METRICS
from reports.typography import exact_number, quote_metric


def permalink(base: str | None, filters: Filters, lang: str) -> str:
    """The view's address: this page with exactly these filters (to_params: explicit dates)."""
    query = urlencode(to_params(filters, lang), safe=",")
    if not base:
        return "?" + query
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def quote(name: str, cur: pd.Series, filters: Filters, as_of: dt.datetime, scope: list[tuple[str, str]],
          base_url: str | None, subject: str | None = None) -> str:
    """The quotable block of one card, or of one table row's figure (`subject`: the row's name, which
    leads the sentence): a sentence, then the definition, as-of, filters and link."""
    lang = get_lang()
    m = METRICS[name]
    when = periods.in_words(filters.date_from, filters.date_to, lang)
    value = quote_metric(name, cur.get(name), lang) or t("no_data")
    counts = ""
    if m.is_share and pd.notna(cur.get(name)) and pd.notna(cur.get(f"{name}_n")) and m.numerator in cur:
        counts = t("quote.of", num=exact_number(cur[m.numerator], lang), den=exact_number(cur[f"{name}_n"], lang))
    elif m.fmt == "count" and pd.notna(cur.get(name)) and float(cur[name]) >= 1000:
        counts = t("quote.exact", n=exact_number(cur[name], lang))
    label = t(f"metric.{name}.label").lower()
    if subject:
        sentence = t("quote.sentence_of", subject=subject, when=when, label=label, value=value, counts=counts)
    else:
        sentence = t("quote.sentence", when=when[0].upper() + when[1:], label=label, value=value, counts=counts)
    lines = [sentence, t("quote.definition", text=t(f"metric.{name}.help")), t("asof", when=fmt.local(as_of)),
             t("quote.filters", text="; ".join(f"{k}: {v}" for k, v in scope)),
             t("quote.link", url=permalink(base_url, filters, lang))]
    return "\n".join(lines)
