"""The one execution path for SQL: bound parameters in, a DataFrame out."""
from __future__ import annotations

import operator
import weakref

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from queries.filters import sql
from queries.viewer import Codes


def _clean(value):
    """Bound text cannot carry NUL characters (PostgreSQL rejects them); nothing else is changed."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# Codes resolved on a connection, while it is checked out: a figure's statements share them.
_RESOLVED: "weakref.WeakKeyDictionary[Connection, dict[Codes, list[int]]]" = weakref.WeakKeyDictionary()


def _ids(conn: Connection, value: Codes) -> list[int]:
    known = _RESOLVED.setdefault(conn, {})
    if value not in known:
        codes = [_clean(c) for c in value.codes]
        found = conn.execute(sql(f"""select id from {value.table} where code in :codes
            or parent_id in (select id from {value.table} where code in :codes)""", {"codes": codes}),
            {"codes": codes})
        known[value] = sorted(int(r[0]) for r in found)
    return known[value]


def bind(conn: Connection, params: dict | None) -> dict:
    """The parameters as the driver takes them: text cleaned, each Codes resolved to its ids."""
    return {name: _ids(conn, value) if isinstance(value, Codes) else _clean(value)
            for name, value in (params or {}).items()}


def run(conn: Connection, statement: str, params: dict | None = None) -> pd.DataFrame:
    # Plain tuples from the DB-API cursor: text() results carry no type processing, and pandas
    # builds a frame from tuples several times faster than from Row objects.
    columns, rows = fetch(conn, statement, params)
    return pd.DataFrame.from_records(rows, columns=columns)


def fetch(conn: Connection, statement: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
    """run() without the frame: column names and plain tuples, for a caller that makes arrays of
    a few rows (a frame costs more than the statement there)."""
    params = bind(conn, params)
    result = conn.execute(sql(statement, params), params)
    return list(result.keys()), result.cursor.fetchall()


def rows_column(rows: list[tuple], i: int, dtype) -> np.ndarray:
    """The i-th value of each of fetch()'s tuples as an array (NULL: NaN in a float array):
    map with itemgetter, a third faster than a generator over the tuples."""
    return np.fromiter(map(operator.itemgetter(i), rows), dtype=dtype, count=len(rows))


def fetch_table(conn: Connection, statement: str, params: dict | None = None) -> np.ndarray:
    """fetch() as one object array, a row per result row (shape kept when there are none)."""
    columns, rows = fetch(conn, statement, params)
    return np.array(rows, dtype=object).reshape(len(rows), len(columns))
