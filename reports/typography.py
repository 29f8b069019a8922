"""Figures in Russian typographic style, as the centres print them: 8,78 тыс.; 86 %; 1 ч 20 мин."""
from __future__ import annotations

from queries.metrics import METRICS

NBSP = "\u00a0"
THIN = "\u202f"  # between thousands of an exact count: 16 989


def quote_number(n: float, lang: str = "ru") -> str:
    """A count as the centres print it: 431; 8,78 тыс.; 12,3 тыс.; 1,23 млн (three significant
    digits from a thousand up)."""
    n = int(round(n))
    if abs(n) < 1000:
        return str(n)
    value, unit = (n / 1_000_000, "млн" if lang == "ru" else "M") if abs(n) >= 1_000_000 else \
        (n / 1000, "тыс." if lang == "ru" else "k")
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return (text.replace(".", ",") + NBSP + unit) if lang == "ru" else (text + unit)


def quote_share(x: float, lang: str = "ru") -> str:
    """A share as a whole per cent: 86 % (one decimal below 10 %: 4,5 %)."""
    pct = x * 100
    text = f"{pct:.1f}" if pct < 10 else f"{pct:.0f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(".", ",") + NBSP + "%" if lang == "ru" else text + "%"


def exact_number(n: float, lang: str = "ru") -> str:
    """An exact count: 16 989 (a narrow no-break space between thousands), 16,989 in English."""
    text = f"{int(round(n)):,}"
    return text.replace(",", THIN) if lang == "ru" else text


def quote_hours(h: float, lang: str = "ru") -> str:
    """A duration in hours: 1 ч 20 мин; 40 мин; 26 ч."""
    minutes = int(round(h * 60))
    hours, rest = divmod(minutes, 60)
    unit_h, unit_m = ("ч", "мин") if lang == "ru" else ("h", "min")
    if not hours:
        return f"{rest}{NBSP}{unit_m}"
    if not rest or hours >= 24:
        return f"{hours}{NBSP}{unit_h}"
    return f"{hours}{NBSP}{unit_h} {rest}{NBSP}{unit_m}"


def quote_days(d: float, lang: str = "ru") -> str:
    """A duration in days: 2,5 дн.; 3 дн."""
    text = f"{d:.1f}".rstrip("0").rstrip(".")
    return (text.replace(".", ",") + NBSP + "дн.") if lang == "ru" else f"{text} days"


def quote_metric(name: str, value, lang: str = "ru", exact: bool = False) -> str | None:
    """A KPI's value in this style by its kind (queries.metrics); None when there is none.
    `exact`: a count in full (16 232, a table's cell), else abbreviated (16,2 тыс., a sentence)."""
    if value is None or value != value:  # NaN
        return None
    kind = METRICS[name].fmt
    if kind == "share":
        return quote_share(float(value), lang)
    if kind == "hours":
        return quote_hours(float(value), lang)
    if kind == "days":
        return quote_days(float(value), lang)
    if kind == "rate":
        text = f"{float(value):.1f}"
        return text.replace(".", ",") if lang == "ru" else text
    return exact_number(float(value), lang) if exact else quote_number(float(value), lang)


def mid_sentence(name: str) -> str:
    """A category's name inside a sentence: lower case, but an acronym kept («ЖКХ», "COVID-19")."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]
