"""Whether the summaries may answer: built (dataset_info.summaries = ready), not switched off
for a benchmark's baseline, and the viewer's scope a summary dimension."""
from __future__ import annotations

import contextlib
import contextvars

from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.viewer import Viewer


STATE_KEY = "summaries"


def is_ready(conn: Connection) -> bool:
    row = conn.execute(text("select value from dataset_info where key = :k"), {"k": STATE_KEY}).first()
    return bool(row) and row[0] == "ready"


# is_ready as a column of a statement that reads the cells: the same answer without a statement
# of its own (a small figure's cells cost about as much as one)
READY_COLUMN = f"(select value from dataset_info where key = '{STATE_KEY}') as summaries_state"


_DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("summaries_disabled", default=False)


@contextlib.contextmanager
def disabled():
    """Within this block every query reads the appeals table (the benchmark's baseline)."""
    token = _DISABLED.set(True)
    try:
        yield
    finally:
        _DISABLED.reset(token)


def usable(conn: Connection, viewer: Viewer) -> bool:
    """The summaries answer for this viewer: they are built, and the viewer's scope is a dimension.

    An executor sees appeals assigned *or escalated* to it; escalation is not a summary dimension,
    so an executor's figures are read from the appeals (they are few).
    """
    return eligible(viewer) and is_ready(conn)


def eligible(viewer: Viewer) -> bool:
    """usable() without reading the state: not switched off, and the viewer's scope a dimension."""
    return not _DISABLED.get() and viewer.role != "executor"


def set_state(conn: Connection, value: str) -> None:
    conn.execute(text("delete from dataset_info where key = :k"), {"k": STATE_KEY})
    conn.execute(text("insert into dataset_info (key, value) values (:k, :v)"), {"k": STATE_KEY, "v": value})
