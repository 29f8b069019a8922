"""Every SQL difference between PostgreSQL and SQLite: time zones, buckets, intervals, percentiles."""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache

from sqlalchemy.engine import Connection

from queries import fts
from queries.localtime import LOCAL_OFFSET, TIME_ZONE

TZ = TIME_ZONE
SQLITE_SHIFT = f"'{LOCAL_OFFSET.total_seconds() / 3600:+g} hours'"  # SQLite's modifier to local time


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer
    return snowballstemmer.stemmer("russian")


WORD = re.compile(r"\w+")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def query_stems(query: str) -> list[str]:
    """The Snowball (Russian) stems of a query's words, as PostgreSQL's 'russian' configuration makes them."""
    return [_stem(w) for w in WORD.findall(query.lower())]


def _ru_match(text, stems) -> int:
    """SQLite function: 1 when every stem occurs among the stems of the text's words."""
    if not isinstance(text, str) or not stems:
        return 0
    have = {_stem(w) for w in WORD.findall(text.lower())}
    return int(all(s in have for s in stems.split()))


class Dialect:
    """SQL fragments for one database; expressions take column SQL and return SQL."""

    def __init__(self, name: str):
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported dialect {name}")
        self.name = name

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def ts_param(self, moment: dt.datetime):
        """A UTC moment as a bound value comparable with stored timestamps."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        moment = moment.astimezone(dt.timezone.utc)
        if self.pg:
            return moment
        return moment.strftime("%Y-%m-%dT%H:%M:%S")

    def local_date(self, col: str) -> str:
        if self.pg:
            return f"(({col}) at time zone '{TZ}')::date"
        return f"date({col}, {SQLITE_SHIFT})"

    def bucket(self, col: str, grain: str) -> str:
        """The local day, ISO week (its Monday) or month (its first day) of a timestamp."""
        if grain == "day":
            return self.local_date(col)
        if grain == "week":
            if self.pg:
                return f"date_trunc('week', ({col}) at time zone '{TZ}')::date"
            return f"date({col}, {SQLITE_SHIFT}, 'weekday 0', '-6 days')"
        if grain == "month":
            if self.pg:
                return f"date_trunc('month', ({col}) at time zone '{TZ}')::date"
            return f"strftime('%Y-%m-01', {col}, {SQLITE_SHIFT})"
        raise ValueError(f"unknown grain {grain}")

    def date_bucket(self, col: str, grain: str) -> str:
        """The day, ISO week (its Monday) or month (its first day) of a stored local date."""
        if grain == "day":
            return col
        if grain == "week":
            return f"date_trunc('week', {col}::timestamp)::date" if self.pg else f"date({col}, 'weekday 0', '-6 days')"
        if grain == "month":
            return f"date_trunc('month', {col}::timestamp)::date" if self.pg else f"strftime('%Y-%m-01', {col})"
        raise ValueError(f"unknown grain {grain}")

    def indexed_by(self, index: str) -> str:
        """A hint after a table name: SQLite's planner is told the index (PostgreSQL's chooses well)."""
        return "" if self.pg else f" indexed by {index}"

    def hours_between(self, start: str, end: str) -> str:
        if self.pg:
            return f"(extract(epoch from ({end}) - ({start})) / 3600.0)"
        return f"((julianday({end}) - julianday({start})) * 24.0)"

    def days_between(self, start: str, end: str) -> str:
        if self.pg:
            return f"(extract(epoch from ({end}) - ({start})) / 86400.0)"
        return f"(julianday({end}) - julianday({start}))"

    def percentile(self, expr: str, q: float) -> str:
        """Linear-interpolated percentile (percentile_cont) as an aggregate; NULLs are ignored."""
        q = float(q)
        if self.pg:
            return f"percentile_cont({q}) within group (order by {expr})"
        return f"percentile_cont({expr}, {q})"

    def text_match(self, col: str, query: str, params: dict, guard: str = "") -> str:
        """A condition: the text contains every word of `query`, in any grammatical form (Russian).

        PostgreSQL: the 'russian' text-search configuration (GIN index ix_appeals_text_fts).
        SQLite: the FTS5 index appeals_fts, then each word's Snowball stem, so «пробка» finds «пробки».
        `guard`, the query's other conditions, is tested before a text is stemmed (SQLite).
        """
        if self.pg:  # the stored vector of `text` (appeals.text_tsv), beside it in the same table
            params["q_fts"] = query
            vector = col.rsplit(".", 1)[0] + ".text_tsv" if "." in col else "text_tsv"
            return f"{vector} @@ plainto_tsquery('russian', :q_fts)"
        stems = query_stems(query)
        if not stems:
            return "1=0"
        # the FTS5 index (queries/fts.py) finds the words that begin with each stem; the exact
        # word-form test then keeps those whose stems match
        params["q_fts"] = fts.prefix_query(stems)
        params["q_stems"] = " ".join(stems)
        row_id = col.rsplit(".", 1)[0] + ".id" if "." in col else "id"
        guarded = f" and ({guard})" if guard else ""  # `and` is evaluated left to right
        return (f"({row_id} in (select rowid from {fts.TABLE} where {fts.TABLE} match :q_fts){guarded}"
                f" and ru_match({col}, :q_stems) = 1)")

    def floor(self, expr: str) -> str:
        """Floor of a non-negative number."""
        return f"floor({expr})" if self.pg else f"cast({expr} as integer)"


def dialect_of(conn: Connection) -> Dialect:
    return Dialect(conn.dialect.name)


class PercentileCont:
    """SQLite aggregate percentile_cont(value, q), the same interpolation as PostgreSQL's."""

    def __init__(self):
        self.values: list[float] = []
        self.q = 0.5

    def step(self, value, q):
        if value is not None:
            self.values.append(float(value))
            self.q = float(q)

    def finalize(self):
        return percentile_cont(self.values, self.q)


def percentile_cont(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    pos = q * (len(values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def register_sqlite_functions(dbapi_conn) -> None:
    dbapi_conn.create_aggregate("percentile_cont", 2, PercentileCont)
    dbapi_conn.create_function("ru_match", 2, _ru_match, deterministic=True)
