"""The per-run context every page reads: filters, language, as-of moment, reference lists."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from dashboard.i18n import get_lang
from queries.filters import Filters
from queries.localtime import local_date
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
        return local_date(self.now)

    def name_col(self) -> str:
        return "name_en" if get_lang() == "en" else "name_ru"

    def _names(self, which: str) -> dict:
        """{code: name, id: name} of a reference list in the current language, built once per run
        (a page names every row of a league: a frame lookup per row cost a tenth of its run)."""
        lang = get_lang()
        cache = self.__dict__.setdefault("_name_cache", {})
        if (which, lang) not in cache:
            df = getattr(self, which)
            if which == "executors":  # an executor without an English name keeps its Russian one
                names = [e if lang == "en" and isinstance(e, str) else r for e, r in zip(df["name_en"], df["name_ru"])]
            else:
                names = [str(x) for x in df[self.name_col()]]
            out = {int(i): n for i, n in zip(df["id"], names)}
            if "code" in df.columns:
                out.update(zip(df["code"], names))
            cache[(which, lang)] = out
        return cache[(which, lang)]

    def _name(self, which: str, key) -> str:
        names = self._names(which)
        found = names.get(key if isinstance(key, str) else int(key))
        return str(key) if found is None else found

    def territory_name(self, key) -> str:
        return self._name("territories", key)

    def topic_name(self, key) -> str:
        return self._name("topics", key)

    def executor_name(self, key: int) -> str:
        return self._name("executors", int(key))
