"""What the database holds: totals, first and last appeal, generator facts. Grain: one row."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from queries.run import run
from queries.viewer import Viewer, scope


def has_schema(conn: Connection) -> bool:
    return inspect(conn).has_table("appeals")


def totals(conn: Connection, viewer: Viewer) -> pd.Series:
    """appeals, first_received, last_received (UTC), within the viewer's scope."""
    cond, params = scope(viewer, "aggregate")
    df = run(conn, f"""
select count(*) as appeals, min(received_at) as first_received, max(received_at) as last_received
from appeals a where {cond}""", params)
    row = df.iloc[0].copy()
    for col in ("first_received", "last_received"):
        row[col] = pd.to_datetime(row[col], utc=True) if row[col] is not None else None
    return row


def info(conn: Connection) -> dict[str, str]:
    return dict(run(conn, "select key, value from dataset_info").itertuples(index=False, name=None))
