"""The per-run context every page reads: filters, language, as-of moment, reference lists."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from dashboard.i18n import get_lang
from queries.filters import Filters
from queries.viewer import Viewer


@dataclass
class Context:
    url: str
    filters: Filters
    lang: str
    now: dt.datetime
    territories: pd.DataFrame
    topics: pd.DataFrame
    executors: pd.DataFrame
    pages: dict
    viewer: Viewer | None = None

    @property
    def today(self) -> dt.date:
        return (self.now + dt.timedelta(hours=7)).date()

    def name_col(self) -> str:
        return "name_en" if get_lang() == "en" else "name_ru"

    def territory_name(self, key) -> str:
        df = self.territories
        row = df[df["code"] == key] if isinstance(key, str) else df[df["id"] == key]
        return str(row.iloc[0][self.name_col()]) if len(row) else str(key)

    def topic_name(self, key) -> str:
        df = self.topics
        row = df[df["code"] == key] if isinstance(key, str) else df[df["id"] == key]
        return str(row.iloc[0][self.name_col()]) if len(row) else str(key)

    def executor_name(self, key: int) -> str:
        df = self.executors
        row = df[df["id"] == int(key)]
        if not len(row):
            return str(key)
        r = row.iloc[0]
        if get_lang() == "en" and isinstance(r.get("name_en"), str):
            return r["name_en"]
        return r["name_ru"]
