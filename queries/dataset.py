"""What the database holds: totals, first and last appeal, generator facts. Grain: one row."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from queries.run import run


def has_schema(conn: Connection) -> bool:
    return inspect(conn).has_table("appeals")


def totals(conn: Connection) -> pd.Series:
    """appeals, events, first_received, last_received (UTC)."""
    df = run(conn, """
select (select count(*) from appeals) as appeals,
       (select count(*) from appeal_events) as events,
       (select min(received_at) from appeals) as first_received,
       (select max(received_at) from appeals) as last_received""")
    row = df.iloc[0].copy()
    for col in ("first_received", "last_received"):
        row[col] = pd.to_datetime(row[col], utc=True) if row[col] is not None else None
    return row


def info(conn: Connection) -> dict[str, str]:
    return dict(run(conn, "select key, value from dataset_info").itertuples(index=False, name=None))
