"""Writing cells: bulk writes (COPY on PostgreSQL), the empty tables of a full build and their
swap, the deletion of refreshed months, and a delta's merge into the stored cells."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries import schema
from queries.db import copy_frame
from queries.dialect import Dialect, dialect_of
from queries.filters import sql
from queries.measures import COUNT_NAMES, HIST_METRICS
from queries.run import bind, run
from queries.summaries.codec import GRAINS, KEY, SOURCE_CODES, bytea_text, coded, decode_hist, encode_hist, group_sum
from queries.summaries.lattice import YEAR_TABLES, month_end


TABLES = {t.name: t for t in (schema.agg_counts, schema.agg_closed, schema.agg_hist)}


COUNT_TABLE_COLUMNS = ["dims", *KEY, *COUNT_NAMES]


CLOSED_TABLE_COLUMNS = ["dims", *KEY, "closed"]


HIST_TABLE_COLUMNS = ["dims", "metric", *KEY, "urgent", "n", "hist"]


TABLE_COLUMNS = {"agg_counts": COUNT_TABLE_COLUMNS, "agg_closed": CLOSED_TABLE_COLUMNS, "agg_hist": HIST_TABLE_COLUMNS}


def period_value(d: Dialect, day: dt.date):
    return day if d.pg else day.isoformat()


def execute(conn: Connection, statement: str, params: dict | None = None) -> None:
    params = bind(conn, params)
    conn.execute(sql(statement, params), params)


WRITE_ROWS = 200_000  # rows converted and sent at a time: a full build's writes stay small in memory


def write(conn: Connection, table: str, frames: list[pd.DataFrame], columns: list[str]) -> int:
    frames = [f for f in frames if len(f)]
    if not frames:
        return 0
    df = frames[0][columns] if len(frames) == 1 else pd.concat(frames, ignore_index=True)[columns]
    for start in range(0, len(df), WRITE_ROWS):
        _write_rows(conn, table, df.iloc[start:start + WRITE_ROWS], columns)
    return len(df)


def _write_rows(conn: Connection, table: str, df: pd.DataFrame, columns: list[str]) -> None:
    period = df["period"].to_numpy().astype("datetime64[D]")
    source = SOURCE_CODES[df["source"].to_numpy()]
    grain = np.array(GRAINS, dtype=object)[df["grain"].to_numpy()]
    if conn.dialect.name == "sqlite":
        values = {"period": np.datetime_as_string(period, unit="D").tolist(), "source": source.tolist(),
                  "grain": grain.tolist()}
        raw = conn.connection.driver_connection
        raw.executemany(f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                        zip(*[values[c] if c in values else df[c].tolist() for c in columns]))
    else:
        import pyarrow as pa

        # no column is nullable: the empty source of a node without it is written as ""
        arrays = {c: pa.array(df[c].to_numpy(), from_pandas=True) for c in columns
                  if c not in ("period", "hist", "source", "grain")}
        if "hist" in columns:
            arrays["hist"] = bytea_text(df["hist"])
        arrays.update(period=pa.array(period), source=pa.array(source), grain=pa.array(grain))
        copy_frame(conn, table, pa.table({c: arrays[c] for c in columns}))


def new_tables(conn: Connection, d: Dialect) -> dict[str, str]:
    """Empty summary tables for a full build, as {summary table: table to write}; swap_in
    finishes each.

    SQLite: the tables themselves, emptied. PostgreSQL: new tables without their primary key,
    indexed once when filled (the key, then the schema's other indexes) and swapped in with the
    old tables' grants. COPY into a table whose key is maintained row by row (and full of the
    rows just deleted) took four times as long. Readers keep the old tables until the build
    commits; a failure leaves the swap undone, and the transaction rolls back."""
    if not d.pg:
        for name in TABLES:
            execute(conn, f"delete from {name}")
        return {name: name for name in TABLES}
    names = {name: f"{name}__build" for name in TABLES}
    for name, new in names.items():
        execute(conn, f"drop table if exists {new}")
        execute(conn, f"create table {new} (like {name} including defaults)")
    return names


def swap_in(conn: Connection, d: Dialect, name: str, new: str) -> None:
    """The filled table `new` indexed and put in place of summary table `name` (PostgreSQL)."""
    if not d.pg:
        return
    table = TABLES[name]
    key = ", ".join(c.name for c in table.primary_key.columns)
    pk = table.primary_key.name
    execute(conn, f"alter table {new} add constraint {pk}__build primary key ({key})")
    grants = conn.execute(text("""select grantee, privilege_type from information_schema.role_table_grants
        where table_schema = current_schema() and table_name = :t and grantee <> current_user"""), {"t": name})
    for grantee, privilege in grants.all():  # the app's read-only role keeps reading (docs/access.md)
        to = "public" if grantee == "PUBLIC" else f'"{grantee}"'
        execute(conn, f"grant {privilege} on {new} to {to}")
    execute(conn, f"drop table {name}")
    execute(conn, f"alter table {new} rename to {name}")
    execute(conn, f"alter table {name} rename constraint {pk}__build to {pk}")
    for index in table.indexes:  # the old table's went with it (schema: the full node's order)
        index.create(conn)


def delete_months(conn: Connection, d: Dialect, months: list[dt.date]) -> None:
    for table in TABLES:
        # the primary key starts with dims (and metric): naming them all lets the delete seek
        key = f"dims in ({', '.join(map(str, range(16)))})"
        if table == "agg_hist":
            key += f" and metric in ({', '.join(map(str, HIST_METRICS))})"
        days = [period_value(d, m + dt.timedelta(days=i)) for m in months for i in range((month_end(m) - m).days + 1)]
        execute(conn, f"delete from {table} where {key} and grain = 'd' and period in :r_days", {"r_days": days})
        execute(conn, f"delete from {table} where {key} and grain = 'm' and period in :r_m",
             {"r_m": [period_value(d, m) for m in months]})
        if table in YEAR_TABLES:
            execute(conn, f"delete from {table} where {key} and grain = 'y' and period in :r_y",
                 {"r_y": sorted({period_value(d, dt.date(m.year, 1, 1)) for m in months})})


DELTA_TABLE = "summary_delta"


class OutOfStep(RuntimeError):
    """The stored cells do not match the appeals a delta was read from (something wrote appeals
    without keeping the summaries current): `python -m queries.summaries build` rebuilds them."""


def merge(conn: Connection, table: str, cells: list[pd.DataFrame], measures: list[str]) -> int:
    """Add delta cells (build codes, signed measures) to the stored cells of `table`: the stored
    cells of the delta's keys are read, summed with it, deleted, and written again where not zero.
    Returns the cells written."""
    d = dialect_of(conn)
    hist = table == "agg_hist"
    keys = [c.name for c in TABLES[table].primary_key.columns]
    group = keys + (["bucket"] if hist else [])
    cells = [c for c in cells if len(c)]
    if not cells:
        return 0
    delta = group_sum(pd.concat(cells, ignore_index=True), group, measures)
    delta = delta[(delta[measures] != 0).any(axis=1)]
    if delta.empty:
        return 0
    execute(conn, f"drop table if exists {DELTA_TABLE}")
    execute(conn, f"create temp table {DELTA_TABLE} as select {', '.join(keys)} from {table} where 1 = 0")
    write(conn, DELTA_TABLE, [delta[keys].drop_duplicates()], keys)
    if d.pg:
        execute(conn, f"analyze {DELTA_TABLE}")  # a few thousand keys: index seeks, not a scan of the table
    match = " and ".join(f"t.{k} = k.{k}" for k in keys)
    stored = run(conn, f"select {', '.join('t.' + c for c in keys + (['hist'] if hist else measures))} "
                       f"from {DELTA_TABLE} k join {table} t on {match}")
    if len(stored):
        stored = coded(stored)
        if hist:
            stored = decode_hist(stored, keys)
        merged = group_sum(pd.concat([stored[group + measures], delta[group + measures]], ignore_index=True),
                            group, measures)
        if d.pg:
            execute(conn, f"delete from {table} t using {DELTA_TABLE} k where {match}")
        else:
            execute(conn, f"delete from {table} where ({', '.join(keys)}) in (select {', '.join(keys)} from {DELTA_TABLE})")
    else:
        merged = delta
    if (merged[measures] < 0).any(axis=None):
        raise OutOfStep(f"{table}: a cell would fall below zero")
    merged = merged[(merged[measures] != 0).any(axis=1)]
    return write(conn, table, [encode_hist(merged) if hist else merged], TABLE_COLUMNS[table])


def analyze(engine) -> None:
    """Fresh planner statistics after a large change (outside any transaction on PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("analyze agg_counts; analyze agg_closed; analyze agg_hist"))
    else:
        with engine.begin() as c:
            c.execute(text("analyze"))
