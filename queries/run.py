"""The one execution path for SQL: bound parameters in, a DataFrame out."""
from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from queries.filters import sql


def run(conn: Connection, statement: str, params: dict | None = None) -> pd.DataFrame:
    result = conn.execute(sql(statement, params or {}), params or {})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
