"""The one execution path for SQL: bound parameters in, a DataFrame out."""
from __future__ import annotations

import functools
import operator
import re
import weakref

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from queries.filters import sql
from queries.viewer import Codes


def _clean(value):
    """Bound text cannot carry NUL characters (PostgreSQL rejects them); nothing else is changed."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# Codes resolved per engine (per database), code by code: the reference tables are written once,
# when the database is created (ingest.reference.load_reference), and no import or page changes
# them, so a code's ids stay what they were (a reference changed by another process is seen after
# a restart). Kept per code, the store is at most a table's codes whatever combinations the
# filters ask for; a code that finds nothing is asked again next time.
_RESOLVED: "weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], tuple[int, ...]]]" = weakref.WeakKeyDictionary()


def _ids(conn: Connection, value: Codes) -> list[int]:
    """The ids of Codes(table, codes): each code's row and its children's."""
    known = _RESOLVED.setdefault(conn.engine, {})
    codes = {_clean(c) for c in value.codes}
    missing = sorted(c for c in codes if (value.table, c) not in known)
    if missing:
        found: dict[str, list[int]] = {}
        for code, id_ in conn.execute(sql(f"""select p.code, x.id from {value.table} p join {value.table} x
            on x.id = p.id or x.parent_id = p.id where p.code in :codes""", {"codes": missing}), {"codes": missing}):
            found.setdefault(code, []).append(int(id_))
        for code, ids in found.items():
            known[(value.table, code)] = tuple(ids)
    return sorted({i for c in codes for i in known.get((value.table, c), ())})


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
    driver = _for_driver(statement, params, conn.dialect.paramstyle == "pyformat")
    result = conn.exec_driver_sql(*driver) if driver else conn.execute(sql(statement, params), params)
    return list(result.keys()), result.cursor.fetchall()


# text()'s bind syntax: `:name`, not `::type` and not an escaped `\:`
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def _for_driver(statement: str, params: dict, pyformat: bool) -> tuple[str, dict] | None:
    """The statement and its parameters as the driver takes them: `:name` in the driver's style
    (psycopg2's `%(name)s`, a literal `%` doubled; sqlite3 reads `:name` itself), a list's
    `:name` as `(:name_1, …)` with a parameter per item. What SQLAlchemy's text() compiles each
    time (about 60 µs a statement: more than a small cohort's GROUP BY), rendered once per
    statement and list sizes. It still runs through the connection: its transaction, events
    and error handling are SQLAlchemy's. None where text() must render it: an empty list (the
    empty set's own expression for each database) or a bind named like a list's items."""
    sizes, out = [], {}
    for name, v in params.items():
        if isinstance(v, (list, tuple)):
            if not v:
                return None
            sizes.append((name, len(v)))
            out.update((f"{name}_{i}", x) for i, x in enumerate(v, 1))
    if any(k in params for k in out):
        return None
    out.update((name, v) for name, v in params.items() if not isinstance(v, (list, tuple)))
    return _rendered(statement, tuple(sizes), pyformat), out


@functools.lru_cache(maxsize=1024)
def _rendered(statement: str, sizes: tuple[tuple[str, int], ...], pyformat: bool) -> str:
    lists = dict(sizes)
    mark = "%({})s".format if pyformat else ":{}".format

    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name in lists:
            return "(" + ", ".join(mark(f"{name}_{i}") for i in range(1, lists[name] + 1)) + ")"
        return mark(name)

    return _BIND.sub(replace, statement.replace("%", "%%") if pyformat else statement)


def rows_column(rows: list[tuple], i: int, dtype) -> np.ndarray:
    """The i-th value of each of fetch()'s tuples as an array (NULL: NaN in a float array):
    map with itemgetter, a third faster than a generator over the tuples."""
    return np.fromiter(map(operator.itemgetter(i), rows), dtype=dtype, count=len(rows))


def fetch_table(conn: Connection, statement: str, params: dict | None = None) -> np.ndarray:
    """fetch() as one object array, a row per result row (shape kept when there are none)."""
    columns, rows = fetch(conn, statement, params)
    return np.array(rows, dtype=object).reshape(len(rows), len(columns))
