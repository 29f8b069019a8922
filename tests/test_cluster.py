"""A real primary and hot standby (initdb, pg_basebackup: bench.cluster's, on ports of their own;
the shared server is untouched): the read/write split, the pages reading the standby, its lag
measured, a signed-in user reading on when the primary is away, and the harness in short (two
replicas behind nginx, a few sessions, one replica killed). Marked slow."""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.cluster import Cluster, _as_postgres, _pg_bin, seed, split_check
from queries.db import make_engine
from queries.replica import read_state
from queries.summaries.state import STATE_KEY
from queries.viewer import Viewer

from .conftest import REQUIRE_POSTGRES
from .pagetools import metric, number, run_page

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.postgres]
AS_OF = dt.datetime(2026, 11, 29, 5, tzinfo=dt.timezone.utc)
PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}


def _require_tools():
    missing = [t for t in ("initdb", "pg_basebackup", "pg_ctl") if not _available(t)]
    if missing:
        (pytest.fail if REQUIRE_POSTGRES else pytest.skip)(f"PostgreSQL server tools missing: {missing}")


def _available(tool: str) -> bool:
    try:
        _pg_bin(tool)
        return True
    except SystemExit:
        return False


@pytest.fixture(scope="module")
def cluster():
    _require_tools()
    # under /tmp itself: pytest's own folders are root's alone, and PostgreSQL runs as `postgres`
    folder = Path(tempfile.mkdtemp(prefix="pulse-test-cluster-"))
    c = Cluster(folder)
    try:
        c.start_databases()
        seed(c, 0.02)
        c.start_standby()
        _caught_up(c)
        yield c
    finally:
        c.stop_databases()
        shutil.rmtree(folder, ignore_errors=True)


def _caught_up(c: Cluster, seconds: float = 30) -> None:
    engine = make_engine(c.url("standby"))
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            with engine.connect() as conn:
                if read_state(conn).replayed_at is None:
                    return
            time.sleep(0.2)
    finally:
        engine.dispose()


def _replayed_a_commit(c: Cluster, seconds: float = 30) -> None:
    """A commit made on the primary and replayed on the standby: a standby started from a base
    backup has replayed no transaction, and its last replayed commit's time is unknown until it
    does (the lag test measures from it)."""
    primary, standby = make_engine(c.url()), make_engine(c.url("standby"))
    try:
        with primary.begin() as conn:
            conn.execute(text("update dataset_info set value = value where key = :k"), {"k": STATE_KEY})
            lsn = conn.execute(text("select pg_current_wal_lsn()::text")).scalar_one()
        deadline = time.time() + seconds
        while time.time() < deadline:
            with standby.connect() as conn:
                done = conn.execute(text(
                    "select pg_last_wal_replay_lsn() >= cast(:lsn as pg_lsn) "
                    "and pg_last_xact_replay_timestamp() is not null"), {"lsn": lsn}).scalar_one()
            if done:
                return
            time.sleep(0.2)
        raise AssertionError(f"the standby did not replay the primary's commit in {seconds:.0f} s")
    finally:
        primary.dispose()
        standby.dispose()


def _count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("select count(*) from appeals where received_at >= '2026-09-30 17:00+00' "
                              "and received_at < '2026-10-31 17:00+00'")).scalar_one()
    engine.dispose()
    return n


def test_a_write_through_the_standby_fails_and_through_the_primary_succeeds(cluster):
    out = split_check(cluster)
    assert out["write_standby"].startswith("refused") and "read-only" in out["write_standby"]
    assert out["write_primary"] == "accepted" and out["standby_in_recovery"] is True


def test_pages_read_the_standby_and_its_lag_is_measured(cluster, monkeypatch):
    """Replay paused on the standby, appeals added on the primary: the page shows the standby's
    count, not the primary's; the standby knows it is behind, from its last replayed commit."""
    _replayed_a_commit(cluster)
    standby = make_engine(cluster.url("standby"))
    primary = make_engine(cluster.url())
    with standby.connect() as conn:
        conn.execute(text("select pg_wal_replay_pause()"))
    try:
        before = _count(cluster.url("standby"))
        with primary.begin() as conn:
            cols = [r[0] for r in conn.execute(text(
                "select column_name from information_schema.columns where table_name = 'appeals' "
                "and column_name not in ('id', 'external_id', 'text_tsv') and is_generated = 'NEVER'"))]
            conn.execute(text(f"insert into appeals (id, external_id, {', '.join(cols)}) "
                              f"select id + 10000000, 'lag-' || id, {', '.join(cols)} from appeals "
                              "where received_at >= '2026-09-30 17:00+00' and received_at < '2026-10-31 17:00+00' "
                              "order by id limit 25"))
            # the summaries marked stale on the primary: read there, the page would count the
            # appeals themselves (before + 25); the standby has not replayed the mark either
            conn.execute(text("update dataset_info set value = 'stale' where key = :k"), {"k": STATE_KEY})
        assert _count(cluster.url()) == before + 25
        deadline = time.time() + 10
        while time.time() < deadline:  # the standby has received the insert but not replayed it
            with standby.connect() as conn:
                state = read_state(conn)
            if state.replayed_at is not None:
                break
            time.sleep(0.2)
        assert state.standby and state.replayed_at is not None
        assert state.behind(state.replayed_at + dt.timedelta(minutes=5)) == dt.timedelta(minutes=5)
        monkeypatch.setenv("READ_DATABASE_URL", cluster.url("standby"))
        at = run_page(cluster.url(), AS_OF, "pages/overview.py", viewer=Viewer("lag-reader", "analyst"), **PERIOD)
        assert number(metric(at, "Поступило")) == before  # the summaries on the standby: as replicated
    finally:
        with standby.connect() as conn:
            conn.execute(text("select pg_wal_replay_resume()"))
        with primary.begin() as conn:
            conn.execute(text("delete from appeals where external_id like 'lag-%'"))
            conn.execute(text("update dataset_info set value = 'ready' where key = :k"), {"k": STATE_KEY})
        standby.dispose()
        primary.dispose()
        _caught_up(cluster)


def test_a_signed_in_user_reads_on_when_the_primary_is_away(cluster, monkeypatch):
    monkeypatch.setenv("READ_DATABASE_URL", cluster.url("standby"))
    viewer = Viewer("away-reader", "analyst")
    at = run_page(cluster.url(), AS_OF, "pages/overview.py", viewer=viewer, **PERIOD)  # writes the user: primary up
    assert not [w for w in at.warning if "только на чтение" in w.value]
    _caught_up(cluster)
    expected = number(metric(at, "Поступило"))
    subprocess.run([_pg_bin("pg_ctl"), "-D", str(cluster.folder / "primary"), "-m", "fast", "-w", "stop"],
                   check=True, capture_output=True, **_as_postgres())
    try:
        from streamlit.testing.v1 import AppTest
        from .pagetools import APP
        os.environ["PULSE_AS_OF"] = AS_OF.isoformat()
        os.environ["DATABASE_URL"] = cluster.url()
        import streamlit as st
        st.cache_data.clear()  # the figures must come from the standby now, not from the last run
        away = AppTest.from_file(APP, default_timeout=180)
        away.session_state["viewer"] = viewer
        for k, v in PERIOD.items():
            away.query_params[k] = v
        away.run()
        assert not away.exception, [e.value for e in away.exception]
        assert [w for w in away.warning if "только на чтение" in w.value]
        assert number(metric(away, "Поступило")) == expected
    finally:
        subprocess.run([_pg_bin("pg_ctl"), "-D", str(cluster.folder / "primary"), "-l",
                        str(cluster.folder / "primary.log"), "-w", "start"], check=True, capture_output=True,
                       **_as_postgres())


def test_the_harness_in_short_recovers_every_session_of_a_killed_replica(tmp_path):
    _require_tools()
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        (pytest.fail if REQUIRE_POSTGRES else pytest.skip)("nginx not installed (apt-get install nginx; .ci/run does)")
    out = tmp_path / "cluster.json"
    run = subprocess.run([sys.executable, "-m", "bench.cluster", "--scale", "0.02", "--sessions", "6", "--replicas", "2",
                          "--rounds", "2", "--think", "0.5-1", "--kill-after", "3", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["split"]["write_standby"].startswith("refused")
    assert [r["failed"] for r in result["runs"]] == [0]
    rec = result["recovery"]
    assert rec["dropped"] >= 1 and rec["recovered"] == rec["dropped"] and rec["lost"] == 0, rec
