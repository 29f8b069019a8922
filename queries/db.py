"""Engines for PostgreSQL and SQLite, and one clear sentence when a database cannot be reached."""
from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ArgumentError

from queries.config import ConfigError, mask_url, normalise_url, resolve_admin_database
from queries.dialect import register_sqlite_functions


def _sqlite_pragmas(dbapi_conn, _record, bulk: bool = False) -> None:
    cur = dbapi_conn.cursor()
    # Bulk loads write rows whose keys the writer has already checked; the invariant tests re-check.
    cur.execute(f"PRAGMA foreign_keys={'OFF' if bulk else 'ON'}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={'OFF' if bulk else 'NORMAL'}")
    if bulk:  # CHECK constraints double SQLite's insert cost; the generator and the tests enforce them
        cur.execute("PRAGMA ignore_check_constraints=ON")
    cur.execute("PRAGMA cache_size=-200000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()
    register_sqlite_functions(dbapi_conn)


def make_engine(url: str, *, create_dirs: bool = True, statement_timeout_ms: int | None = None,
                bulk: bool = False) -> Engine:
    """An engine for `url`; SQLite files get WAL and foreign keys, PostgreSQL a connect timeout."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and create_dirs:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", lambda c, r: _sqlite_pragmas(c, r, bulk))
        return engine
    # The dashboard's statements are short: JIT compilation cost more than it saved (about 50 ms
    # a statement), and the summary tables and indexes are read from memory, not spinning disks,
    # so an index seek is priced accordingly (a sequential scan of agg_hist was chosen otherwise).
    # With the default 4 MB a text search's bitmap of a frequent word went lossy and every row of
    # its pages was checked again (2.7 M rows for «мусор вывоз» at 10 M appeals).
    options = ["-c jit=off", "-c random_page_cost=1.1", "-c work_mem=64MB"]
    if statement_timeout_ms:
        options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    connect_args: dict = {"connect_timeout": 5, "application_name": "pulse-cur", "options": " ".join(options)}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args)


def describe_failure(url: str, exc: BaseException) -> str:
    """One sentence naming the (masked) URL and the reason it failed."""
    reason = getattr(exc, "orig", None) or exc
    first = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    return f"cannot connect to {mask_url(url)}: {first}"


def check_connection(url: str, **engine_options) -> Engine:
    """An engine that has answered `select 1`, or ConfigError with one sentence."""
    try:
        engine = make_engine(url, **engine_options)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"cannot use database URL {mask_url(url)}: {exc}") from exc
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cannot use database URL {mask_url(url)}: driver missing ({exc.name})") from exc
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise ConfigError(describe_failure(url, exc)) from exc
    return engine


def admin_connection(url: str | None = None) -> tuple[str, Engine]:
    """A command-line tool's database: `url` (its --db), else the owner's (resolve_admin_database),
    checked as check_connection checks it. Raises ConfigError with one sentence."""
    url = url or resolve_admin_database().url
    return url, check_connection(url)


def is_sqlite(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def copy_frame(conn: Connection, table: str, data) -> None:
    """COPY an Arrow table into `table` (by its column names) on PostgreSQL, as CSV written by
    Arrow at C speed: NULL is an unquoted empty field, an empty string a quoted one."""
    import pyarrow.csv as pacsv

    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    cur = conn.connection.driver_connection.cursor()
    # 1 MB reads from the buffer, not psycopg2's default 8 kB: fewer calls back into Python (and
    # into the GIL, which a COPY beside the caller's thread shares)
    cur.copy_expert(f"copy {table} ({', '.join(data.column_names)}) from stdin with (format csv, null '')", buf,
                    size=1 << 20)
    cur.close()


class Pipeline:
    """A connection's statements in order on one thread beside the caller's (when `threaded`:
    PostgreSQL), inline otherwise. psycopg2 leaves the GIL while the server works, so the server
    ingests one COPY while the caller computes the next rows. The caller must not use the
    connection itself while a statement is queued; leaving the block waits for every one (the
    first failure is raised there, or by its future's `result()`), so that none is in flight when
    the transaction ends."""

    def __init__(self, threaded: bool):
        from concurrent.futures import ThreadPoolExecutor
        self.pool = ThreadPoolExecutor(max_workers=1) if threaded else None
        self.pending: list = []

    def submit(self, fn, *args):
        from concurrent.futures import Future
        if self.pool is not None:
            future = self.pool.submit(fn, *args)
        else:
            future = Future()
            future.set_result(fn(*args))
        # a future done without failure is the caller's alone: held here, its result (a month of
        # appeals in a build) would stay in memory until the block ends
        self.pending = [f for f in self.pending if not (f.done() and f.exception() is None)] + [future]
        return future

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.pool is None:
            return
        self.pool.shutdown(wait=True)
        failures = [e for e in (f.exception() for f in self.pending) if e is not None]
        if kind is None and failures:
            raise failures[0]
