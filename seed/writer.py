"""Bulk loading of generated chunks: executemany on SQLite, COPY on PostgreSQL, one transaction."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import ForeignKeyConstraint, text
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlalchemy.engine import Connection

from queries import schema
from queries.db import copy_frame

NEVER_THRESHOLD = np.iinfo(np.int64).max // 8

APPEAL_COLUMNS = [c.name for c in schema.appeals.columns]
EVENT_COLUMNS = [c.name for c in schema.appeal_events.columns]
TIME_COLUMNS = {"received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at", "at",
                "comment_removed_at", "author_blocked_at"}
ZERO_IS_NULL = {"escalated_to_id", "citizen_rating", "organization_id"}
NEGATIVE_IS_NULL = {"reach"}


def _timestamps(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    missing = values >= NEVER_THRESHOLD
    out = np.datetime_as_string(np.where(missing, 0, values).astype("datetime64[s]"), unit="s").astype(object)
    out[missing] = None
    return out


def _column(df: pd.DataFrame, name: str) -> list:
    col = df[name]
    if name in TIME_COLUMNS:
        return _timestamps(col.to_numpy()).tolist()
    values = col.to_numpy()
    if name in ZERO_IS_NULL and values.dtype.kind in "iu":
        obj = values.astype(object)
        obj[values == 0] = None
        return obj.tolist()
    if name in NEGATIVE_IS_NULL:
        obj = values.astype(object)
        obj[values < 0] = None
        return obj.tolist()
    if values.dtype.kind == "f":
        obj = values.astype(object)
        obj[np.isnan(values)] = None
        return obj.tolist()
    return values.tolist()


def _rows(df: pd.DataFrame, columns: list[str]) -> list[list]:
    return [_column(df, c) for c in columns]


def insert_sqlite(conn: Connection, table: str, columns: list[str], df: pd.DataFrame) -> None:
    cols = _rows(df, columns)
    raw = conn.connection.driver_connection
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    raw.executemany(sql, zip(*cols))


def _arrow_column(df: pd.DataFrame, name: str) -> pa.Array:
    """A column as Arrow, with the NULL conventions of _column (Arrow writes CSV at C speed)."""
    values = df[name].to_numpy()
    if name in TIME_COLUMNS:
        values = np.asarray(values, dtype=np.int64)
        missing = values >= NEVER_THRESHOLD
        return pa.array(np.where(missing, 0, values).astype("datetime64[s]"), mask=missing).cast(
            pa.timestamp("s", tz="UTC"))
    if values.dtype.kind in "iu":
        if name in ZERO_IS_NULL:
            return pa.array(values, mask=values == 0)
        if name in NEGATIVE_IS_NULL:
            return pa.array(values, mask=values < 0)
        return pa.array(values)
    if values.dtype.kind == "f":
        return pa.array(values, from_pandas=True)  # NaN is NULL
    if values.dtype.kind == "b":
        return pa.array(values)
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)  # None is NULL; "" stays ""
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not text: let Arrow infer
        return pa.array(values, from_pandas=True)


def copy_postgres(conn: Connection, table: str, columns: list[str], df: pd.DataFrame) -> None:
    copy_frame(conn, table, pa.table({c: _arrow_column(df, c) for c in columns}))


def write_chunk(conn: Connection, appeals: pd.DataFrame, events: pd.DataFrame) -> None:
    load = insert_sqlite if conn.dialect.name == "sqlite" else copy_postgres
    load(conn, "appeals", APPEAL_COLUMNS, appeals)
    load(conn, "appeal_events", EVENT_COLUMNS, events)


def drop_fact_indexes(conn: Connection) -> list:
    """Drop the fact tables' non-unique indexes and, on PostgreSQL, their foreign keys.

    Rebuilding them after a bulk load is several times faster than maintaining them row by row;
    re-adding a foreign key validates every row at once. All of it inside the load's transaction.
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
    return dropped


def create_indexes(conn: Connection, dropped: list) -> None:
    for item in dropped:
        if isinstance(item, ForeignKeyConstraint):
            conn.execute(AddConstraint(item))
        else:
            item.create(conn)


def reset_sequences(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("appeals", "appeal_events"):
            conn.execute(text(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), coalesce((select max(id) from {table}), 0) + 1, false)"
            ))
