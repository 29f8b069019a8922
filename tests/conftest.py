"""Real databases for the tests: SQLite files and a PostgreSQL database created per session.

Without a reachable PostgreSQL the PostgreSQL tests skip with the reason, unless
REQUIRE_POSTGRES=1 (CI), which turns that into a failure.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from queries.config import normalise_url
from queries.db import make_engine
from seed.generator import Scenario
from seed.load import seed_database


@contextlib.contextmanager
def sent_statements(target=Engine):
    """The statements sent to the database while the block runs (by any engine, or by `target`)."""
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(target, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", listen)


ROOT = Path(__file__).resolve().parent.parent
# Hypothesis: "ci" runs every property test's full number of examples, "dev" (the default) a quarter
# of them; tests size their runs with examples(n).
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """A property test's number of examples under the current profile."""
    return n if PROFILE == "ci" else max(5, n // 4)


PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
UTC = dt.timezone.utc
LOCAL = dt.timezone(dt.timedelta(hours=7))

# The small fixed database most tests read: the first months of the centre, scaled down.
SMALL_AS_OF = dt.datetime(2021, 4, 15, tzinfo=LOCAL).astimezone(UTC)
SMALL_SCENARIO = Scenario(seed=7, as_of=SMALL_AS_OF, scale=0.4)


class PostgresServer:
    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        self.created: list[str] = []

    def create_database(self, prefix: str = "pulse_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as c:
            c.execute(text(f'create database "{name}"'))
        self.created.append(name)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self.admin.connect() as c:
            for name in self.created:
                c.execute(text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :n"), {"n": name})
                c.execute(text(f'drop database if exists "{name}"'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer(PG_ADMIN_URL)
        with server.admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # no server here
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    yield server
    server.drop_all()


@pytest.fixture
def pg_url(pg_server):
    """A new empty PostgreSQL database for one test."""
    return pg_server.create_database()


def _seeded(url: str, scenario: Scenario, summaries: bool = True):
    engine = make_engine(url, bulk=True)
    seed_database(engine, scenario, summaries=summaries)
    engine.dispose()
    return make_engine(url)


# Seeded SQLite files are built once for a version of the code that makes them (seed/, ingest/,
# queries/) and kept in .test-cache/: the parallel workers and later runs copy them. A file lock
# makes the first worker build while the others wait.
CACHE = Path(os.environ.get("PULSE_TEST_CACHE", ROOT / ".test-cache"))


def _code_version() -> str:
    digest = hashlib.sha256()
    for folder in ("seed", "ingest", "queries"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".csv", ".toml", ".geojson", ".ini", ".mako"):
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached_sqlite(name: str, scenario: Scenario, destination: Path, summaries: bool = True):
    """An engine on a copy of the seeded SQLite database `name`, built on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = f"{name}-{'s' if summaries else 'n'}-{_code_version()}"
    built = CACHE / f"{key}.sqlite"
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            for old in CACHE.glob(f"{name}-*.sqlite"):
                old.unlink()
            partial = CACHE / f"{key}.partial"
            partial.unlink(missing_ok=True)
            _seeded(f"sqlite:///{partial}", scenario, summaries).dispose()
            partial.rename(built)
    shutil.copyfile(built, destination)
    return make_engine(f"sqlite:///{destination}")


@pytest.fixture(scope="session")
def small_sqlite(tmp_path_factory):
    engine = cached_sqlite("small", SMALL_SCENARIO, tmp_path_factory.mktemp("small") / "small.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def small_postgres(pg_server):
    url = pg_server.create_database("pulse_small")
    engine = _seeded(url, SMALL_SCENARIO)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def small_db(request):
    """The small fixed database on each backend."""
    return request.getfixturevalue("small_sqlite" if request.param == "sqlite" else "small_postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def fresh_url(backend, tmp_path, request):
    """A new empty database of the current backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    return request.getfixturevalue("pg_server").create_database()


# More than a year of the centre, scaled down: what the spike alerts need (an earlier year's weeks).
HISTORY_AS_OF = dt.datetime(2022, 4, 1, tzinfo=LOCAL).astimezone(UTC)
HISTORY_SCENARIO = Scenario(seed=21, as_of=HISTORY_AS_OF, scale=0.15)


@pytest.fixture(scope="session")
def history_sqlite(tmp_path_factory):
    engine = cached_sqlite("history", HISTORY_SCENARIO, tmp_path_factory.mktemp("history") / "history.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def history_postgres(pg_server):
    engine = _seeded(pg_server.create_database("pulse_history"), HISTORY_SCENARIO)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def history_db(request):
    """Sixteen months of the centre on each backend."""
    return request.getfixturevalue("history_sqlite" if request.param == "sqlite" else "history_postgres")


# The default scenario up to mid-2024 (every calibration window lies before it; the months
# generated are the same as in a full run, since each month draws from the seeded stream in turn).
CALIBRATION_AS_OF = dt.datetime(2024, 7, 1, tzinfo=LOCAL).astimezone(UTC)


@pytest.fixture(scope="session")
def default_sqlite(tmp_path_factory):
    # the calibration reads the appeals themselves: no summary tables (they would take a minute)
    engine = cached_sqlite("default", Scenario(as_of=CALIBRATION_AS_OF),
                           tmp_path_factory.mktemp("default") / "default.sqlite", summaries=False)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def imported_sqlite(small_sqlite, tmp_path_factory):
    """The small database exported to CSV and imported into an empty one."""
    from ingest.export import export_csv
    from ingest.run import run_import
    from ingest.mapping import load_mapping
    from pathlib import Path
    folder = tmp_path_factory.mktemp("imported")
    with small_sqlite.connect() as conn, open(folder / "export.csv", "w", encoding="utf-8", newline="") as fh:
        export_csv(conn, fh)
    engine = make_engine(f"sqlite:///{folder / 'imported.sqlite'}")
    run_import(engine, folder / "export.csv",
               load_mapping(Path(__file__).resolve().parent.parent / "ingest" / "mappings" / "cur_export.toml"))
    yield engine
    engine.dispose()


@contextlib.contextmanager
def reader_role(engine):
    """The read-only app role of docs/access.md "Database roles" on `engine`'s PostgreSQL database, as the
    URL to connect with; dropped afterwards."""
    url = engine.url.render_as_string(hide_password=False)
    dbname = engine.url.database
    role = f"pulse_reader_{dbname[-6:]}"
    with engine.begin() as c:
        c.execute(text(f"drop role if exists {role}"))
        c.execute(text(f"create role {role} login password 'reader'"))
        for grant in (f"grant connect on database {dbname} to {role}", f"grant usage on schema public to {role}",
                      f"grant select on all tables in schema public to {role}",
                      f"grant insert on audit_log to {role}", f"grant usage on sequence audit_log_id_seq to {role}",
                      f"grant insert, update on user_sessions to {role}",
                      f"grant usage on sequence user_sessions_id_seq to {role}",
                      f"grant insert, delete on sign_in_failures to {role}",
                      f"grant usage on sequence sign_in_failures_id_seq to {role}"):
            c.execute(text(grant))
    from .pagetools import ANALYST, ensure_user
    ensure_user(url, ANALYST)  # the pages' default viewer, written by the owner (the reader cannot)
    reader_url = url.replace("postgres@", f"{role}:reader@", 1)
    assert reader_url != url, "the test database's URL names no postgres user to replace"
    try:
        yield reader_url
    finally:
        with engine.begin() as c:
            c.execute(text(f"drop owned by {role}"))
            c.execute(text(f"drop role {role}"))


POSTGRES_FIXTURES = {"pg_server", "pg_url", "small_postgres", "history_postgres"}


def pytest_collection_modifyitems(items):
    """Mark every test that reaches PostgreSQL `postgres` (pytest -m "not postgres" runs without it)."""
    for item in items:
        params = getattr(item, "callspec", None)
        if POSTGRES_FIXTURES & set(item.fixturenames) or (params and "postgresql" in params.params.values()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def cells_path(monkeypatch):
    """The summaries' cells for every cohort, however small: the test data are small enough that
    the planner would read most cohorts from their rows (kpis.RAW_ROWS), and the tests comparing
    the cells with the appeals would compare the appeals with themselves. The tests of the
    planner's own choice set the limits they test. Each test starts without the planner's
    volumes kept (kpis._volumes): a test that changes the cells in a transaction it rolls back
    would otherwise leave its volumes to the next tests for ten minutes."""
    from queries import kpis
    monkeypatch.setattr(kpis, "RAW_ROWS", {"sqlite": -1, "postgresql": -1})
    monkeypatch.setattr(kpis, "_volumes_cache", {})
