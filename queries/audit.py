"""The audit log: who opened which case card, who exported what, who signed in. Grain: one event."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from queries import schema
from queries.run import run
from queries.viewer import AccessDenied, Viewer


def record(conn: Connection, username: str, role: str, action: str, target: str | None = None,
           details: dict | None = None) -> None:
    conn.execute(insert(schema.audit_log).values(
        at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0), username=username, role=role, action=action,
        target=target, details=json.dumps(details, ensure_ascii=False, default=str) if details else None))


def entries(conn: Connection, viewer: Viewer, limit: int = 500) -> pd.DataFrame:
    """The latest audit events, newest first (the analyst role only)."""
    if not viewer.sees_audit:
        raise AccessDenied("the audit log is for the minister/analyst role")
    df = run(conn, "select at, username, role, action, target, details from audit_log order by at desc, id desc limit :n",
             {"n": int(limit)})
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return df
