"""Periods people speak in: calendar weeks (Mon–Sun), months, quarters and years, the same period a
year earlier, and a period said in words («в сентябре 2021 года», «с 28 октября по 3 ноября 2024
года»). Pure functions of dates, in Russian or English (`lang`)."""
from __future__ import annotations

import datetime as dt

# calendar presets: (unit, offset) — offset 0 is the current one up to today, -1 the previous whole one
CALENDAR = {"this_week": ("week", 0), "last_week": ("week", -1), "this_month": ("month", 0),
            "last_month": ("month", -1), "this_quarter": ("quarter", 0), "last_quarter": ("quarter", -1),
            "ytd": ("year", 0), "last_year": ("year", -1)}

MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
              "ноября", "декабря")
MONTHS_PREP = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре",
               "ноябре", "декабре")
MONTHS_NOM = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
              "ноябрь", "декабрь")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
QUARTERS_RU = ("I", "II", "III", "IV")


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _unit_start(unit: str, day: dt.date) -> dt.date:
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def _unit_end(unit: str, start: dt.date) -> dt.date:
    if unit == "week":
        return start + dt.timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    m = start.month - 1 + months
    return dt.date(start.year + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def calendar_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """A calendar preset's dates: the current unit up to today, or the previous whole unit."""
    unit, offset = CALENDAR[preset]
    start = _unit_start(unit, today)
    if offset == 0:
        return start, today
    prev = _unit_start(unit, start - dt.timedelta(days=1))
    return prev, _unit_end(unit, prev)


def year_earlier(d_from: dt.date, d_to: dt.date) -> tuple[dt.date, dt.date]:
    """The same days a year earlier (29 February becomes the 28th)."""
    def back(d: dt.date) -> dt.date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)
    return back(d_from), back(d_to)


def unit_of(d_from: dt.date, d_to: dt.date) -> str | None:
    """"week", "month", "quarter" or "year" when the period is exactly one such calendar unit."""
    for unit in ("week", "month", "quarter", "year"):
        if _unit_start(unit, d_from) == d_from and _unit_end(unit, d_from) == d_to:
            return unit
    return None


def previous(d_from: dt.date, d_to: dt.date) -> tuple[dt.date, dt.date]:
    """The period before: the previous calendar unit when the period is one, else as many days."""
    unit = unit_of(d_from, d_to)
    if unit:
        start = _unit_start(unit, d_from - dt.timedelta(days=1))
        return start, _unit_end(unit, start)
    days = (d_to - d_from).days + 1
    return d_from - dt.timedelta(days=days), d_from - dt.timedelta(days=1)


def _day_ru(d: dt.date, year: bool = True) -> str:
    return f"{d.day} {MONTHS_GEN[d.month - 1]}" + (f" {d.year} года" if year else "")


def in_words(d_from: dt.date, d_to: dt.date, lang: str = "ru") -> str:
    """The period as a sentence says it: «в сентябре 2021 года», «в III квартале 2024 года»,
    «в 2023 году», «с 28 октября по 3 ноября 2024 года», «1 марта 2024 года»."""
    ru = lang == "ru"
    unit = unit_of(d_from, d_to)
    if unit == "month":
        return f"в {MONTHS_PREP[d_from.month - 1]} {d_from.year} года" if ru else \
            f"in {MONTHS_EN[d_from.month - 1]} {d_from.year}"
    if unit == "quarter":
        q = (d_from.month - 1) // 3
        return f"в {QUARTERS_RU[q]} квартале {d_from.year} года" if ru else f"in Q{q + 1} {d_from.year}"
    if unit == "year":
        return f"в {d_from.year} году" if ru else f"in {d_from.year}"
    if d_from == d_to:
        return _day_ru(d_from) if ru else f"on {d_from.day} {MONTHS_EN[d_from.month - 1]} {d_from.year}"
    if ru:
        if (d_from.year, d_from.month) == (d_to.year, d_to.month):  # «с 8 по 14 января 2024 года»
            return f"с {d_from.day} по {_day_ru(d_to)}"
        same_year = d_from.year == d_to.year
        return f"с {_day_ru(d_from, year=not same_year)} по {_day_ru(d_to)}"
    return (f"from {d_from.day} {MONTHS_EN[d_from.month - 1]}{'' if d_from.year == d_to.year else f' {d_from.year}'}"
            f" to {d_to.day} {MONTHS_EN[d_to.month - 1]} {d_to.year}")


def month_label(year: int, month: int, lang: str = "ru") -> str:
    """«сентябрь 2021» for the month picker."""
    return f"{MONTHS_NOM[month - 1]} {year}" if lang == "ru" else f"{MONTHS_EN[month - 1]} {year}"


def months_between(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """(year, month) from `last`'s month back to `first`'s: the month picker's choices, newest first."""
    out, y, m = [], last.year, last.month
    while (y, m) >= (first.year, first.month):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out
