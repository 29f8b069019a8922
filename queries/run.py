"""The one execution path for SQL: bound parameters in, a DataFrame out."""
from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from queries.filters import sql


def _clean(value):
    """Bound text cannot carry NUL characters (PostgreSQL rejects them); nothing else is changed."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def run(conn: Connection, statement: str, params: dict | None = None) -> pd.DataFrame:
    params = {k: _clean(v) for k, v in (params or {}).items()}
    result = conn.execute(sql(statement, params), params)
    columns = list(result.keys())
    # Plain tuples from the DB-API cursor: text() results carry no type processing, and pandas
    # builds a frame from tuples several times faster than from Row objects.
    return pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns)
