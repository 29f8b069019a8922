"""Bulk loading of generated chunks: executemany on SQLite, COPY on PostgreSQL, one transaction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ForeignKeyConstraint, text
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlalchemy.engine import Connection

from queries import fts, schema
from queries.db import copy_frame

FTS = fts.TABLE  # in drop_fact_indexes' list: SQLite's full-text index, suspended
NEVER_THRESHOLD = np.iinfo(np.int64).max // 8

APPEAL_COLUMNS = [c.name for c in schema.appeals.columns]
EVENT_COLUMNS = [c.name for c in schema.appeal_events.columns]
TIME_COLUMNS = {"received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at", "at",
                "comment_removed_at", "author_blocked_at"}
ZERO_IS_NULL = {"escalated_to_id", "citizen_rating", "organization_id"}
NEGATIVE_IS_NULL = {"reach"}


def _nulls(values: np.ndarray, name: str) -> np.ndarray | None:
    """Which values of column `name` are NULL: the one rule both writers follow (None in an
    object column is NULL by itself)."""
    if name in TIME_COLUMNS:
        return values >= NEVER_THRESHOLD
    if values.dtype.kind in "iu":
        if name in ZERO_IS_NULL:
            return values == 0
        if name in NEGATIVE_IS_NULL:
            return values < 0
    if values.dtype.kind == "f":
        return np.isnan(values)
    return None


def _column(df: pd.DataFrame, name: str) -> list:
    """A column as Python values for SQLite: times as ISO text, NULLs as None."""
    values = df[name].to_numpy()
    if name in TIME_COLUMNS:
        values = np.asarray(values, dtype=np.int64)
    nulls = _nulls(values, name)
    if nulls is None:
        return values.tolist()
    if name in TIME_COLUMNS:
        out = np.datetime_as_string(np.where(nulls, 0, values).astype("datetime64[s]"), unit="s").astype(object)
    else:
        out = values.astype(object)
    out[nulls] = None
    return out.tolist()


def insert_sqlite(conn: Connection, table: str, columns: list[str], df: pd.DataFrame) -> None:
    cols = [_column(df, c) for c in columns]
    raw = conn.connection.driver_connection
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    raw.executemany(sql, zip(*cols))


def _arrow_column(df: pd.DataFrame, name: str) -> pa.Array:
    """A column as Arrow for COPY (Arrow writes CSV at C speed), with the NULLs of _nulls."""
    if isinstance(df[name].dtype, pd.StringDtype) and df[name].dtype.storage == "pyarrow":
        return pa.array(df[name].array)  # Arrow-backed text as it is (no NULLs: "" stays "")
    values = df[name].to_numpy()
    if name in TIME_COLUMNS:  # as text with the offset spelled out: Arrow writes zoned timestamps 20x slower
        values = np.asarray(values, dtype=np.int64)
        nulls = _nulls(values, name)
        naive = pa.array(np.where(nulls, 0, values).astype("datetime64[s]"), mask=nulls)
        return pc.binary_join_element_wise(naive.cast(pa.string()), "+00", "")  # NULL stays NULL
    if values.dtype.kind in "iufb":
        return pa.array(values, mask=_nulls(values, name))
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)  # None is NULL; "" stays ""
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not text: let Arrow infer
        return pa.array(values, from_pandas=True)


def copy_postgres(conn: Connection, table: str, columns: list[str], df: pd.DataFrame) -> None:
    copy_frame(conn, table, pa.table({c: _arrow_column(df, c) for c in columns}))


def write_chunk(conn: Connection, appeals: pd.DataFrame, events: pd.DataFrame) -> None:
    load = insert_sqlite if conn.dialect.name == "sqlite" else copy_postgres
    # a column the generator does not write (response_measured) takes its server default
    load(conn, "appeals", [c for c in APPEAL_COLUMNS if c in appeals.columns], appeals)
    load(conn, "appeal_events", EVENT_COLUMNS, events)


def drop_fact_indexes(conn: Connection) -> list:
    """Drop the fact tables' non-unique indexes and, on PostgreSQL, their foreign keys.

    Rebuilding them after a bulk load is several times faster than maintaining them row by row;
    re-adding a foreign key validates every row at once. SQLite's full-text index is refilled. All of it inside the load's transaction.
    """
    dropped: list = []
    for table in (schema.appeals, schema.appeal_events):
        for index in table.indexes:  # by name: reflection cannot see SQLite's expression indexes
            conn.execute(text(f"drop index if exists {index.name}"))
            dropped.append(index)
    if conn.dialect.name == "postgresql":
        for table in (schema.appeal_events, schema.appeals):
            for fk in table.foreign_key_constraints:
                conn.execute(DropConstraint(fk))
                dropped.append(fk)
    else:  # the full-text index's triggers: the index is filled once at the end
        fts.suspend(conn)
        dropped.append(FTS)
    return dropped


def create_indexes(conn: Connection, dropped: list) -> None:
    for item in dropped:
        if item is FTS:
            fts.resume(conn)
        elif isinstance(item, ForeignKeyConstraint):
            conn.execute(AddConstraint(item))
        else:
            item.create(conn)


def reset_sequences(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("appeals", "appeal_events"):
            conn.execute(text(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), coalesce((select max(id) from {table}), 0) + 1, false)"
            ))
