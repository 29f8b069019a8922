"""The generator's CLI and its guarantees: determinism, one-line errors, all-or-nothing writes."""
import datetime as dt
import hashlib
import subprocess
import sys

import pytest
from sqlalchemy import text

from queries.db import make_engine
from seed.generator import Scenario
from seed.load import SeedError, seed_database

from .conftest import SMALL_AS_OF, SMALL_SCENARIO

TINY = dict(as_of=dt.datetime(2021, 1, 10, tzinfo=dt.timezone.utc), scale=0.3)


def fingerprint(engine) -> str:
    """A hash of every row of the fact and reference tables, in id order."""
    h = hashlib.sha256()
    with engine.connect() as c:
        for table in ("municipalities", "topics", "organizations", "appeals", "appeal_events", "dataset_info"):
            order = "key" if table == "dataset_info" else "id"
            for row in c.execute(text(f"select * from {table} order by {order}")):
                h.update(repr(tuple(str(v) for v in row)).encode())
    return h.hexdigest()


def seeded(url, **kw):
    engine = make_engine(url, bulk=True)
    seed_database(engine, Scenario(**{**TINY, **kw}))
    return engine


def test_same_seed_same_database(backend, tmp_path, request):
    if backend == "sqlite":
        a, b = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
    else:
        server = request.getfixturevalue("pg_server")
        a, b = server.create_database(), server.create_database()
    assert fingerprint(seeded(a, seed=11)) == fingerprint(seeded(b, seed=11))


def test_different_seeds_differ(tmp_path):
    a = seeded(f"sqlite:///{tmp_path / 'a.sqlite'}", seed=11)
    b = seeded(f"sqlite:///{tmp_path / 'b.sqlite'}", seed=12)
    assert fingerprint(a) != fingerprint(b)


def test_sqlite_and_postgres_hold_the_same_data(small_sqlite, small_postgres):
    query = """select count(*), sum(reopened_count), count(closed_at), count(escalated_at),
                      sum(coalesce(citizen_rating, 0)), count(distinct author_ref) from appeals"""
    with small_sqlite.connect() as s, small_postgres.connect() as p:
        assert tuple(s.execute(text(query)).one()) == tuple(p.execute(text(query)).one())
        ev = "select kind, count(*) from appeal_events group by kind order by kind"
        assert [tuple(r) for r in s.execute(text(ev))] == [tuple(r) for r in p.execute(text(ev))]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "seed", *args], capture_output=True, text=True, timeout=300)


def one_line_error(result):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_help_documents_the_options():
    out = run_cli("--help")
    assert out.returncode == 0
    for option in ("--db", "--seed", "--until", "--scale", "--replace"):
        assert option in out.stdout


def test_bad_url():
    line = one_line_error(run_cli("--db", "mysql://root@localhost/x"))
    assert "mysql://root@localhost/x" in line


def test_unparsable_url():
    one_line_error(run_cli("--db", "::not a url::"))


def test_unreachable_server_masks_password():
    line = one_line_error(run_cli("--db", "postgresql://u:sekret@127.0.0.1:9/x"))
    assert "127.0.0.1:9" in line and "sekret" not in line and "***" in line


def test_until_before_centre_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    line = one_line_error(run_cli("--db", url, "--until", "2020-11-01"))
    assert "2020-11-26" in line
    assert not (tmp_path / "x.sqlite").exists()


def test_negative_scale(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    line = one_line_error(run_cli("--db", url, "--scale", "-1"))
    assert "scale" in line
    assert not (tmp_path / "x.sqlite").exists()


def test_existing_data_needs_replace(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    engine = seeded(url, seed=3)
    before = fingerprint(engine)
    line = one_line_error(run_cli("--db", url, "--until", "2021-01-05", "--seed", "4", "--quiet"))
    assert "--replace" in line
    assert fingerprint(engine) == before


def test_failed_seed_leaves_database_as_it_was(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_server").create_database()
    engine = seeded(url, seed=5)
    before = fingerprint(engine)
    with pytest.raises(SeedError):
        seed_database(make_engine(url, bulk=True), Scenario(seed=6, as_of=SMALL_AS_OF, scale=0.3),
                      replace=True, fail_after_months=2)
    assert fingerprint(engine) == before


def test_cli_seeds_and_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    out = run_cli("--db", url, "--until", "2020-12-31", "--scale", "0.5", "--quiet")
    assert out.returncode == 0, out.stderr
    engine = make_engine(url)
    with engine.connect() as c:
        n = c.execute(text("select count(*) from appeals")).scalar_one()
        last = c.execute(text("select max(received_at) from appeals")).scalar_one()
    assert n > 0 and f"{n:,}" in out.stderr
    assert last < "2020-12-31T17:00:00"  # nothing after the end of the local day 2020-12-31


def test_seeding_says_each_stage_and_moves_forward(tmp_path):
    """The first start's progress names every stage (appeals by month, indexes, summaries by year,
    the commit) and never goes back: minutes of index and summary building are not silent."""
    import io

    from ingest.progress import text_progress
    heard: list[tuple[float, str]] = []
    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    seed_database(engine, SMALL_SCENARIO, progress=lambda f, label: heard.append((f, label)))
    stages = list(dict.fromkeys(label.split(" ")[0] for _, label in heard))
    assert stages == ["appeals", "indexes", "summaries", "committing", "done"]
    assert any(label.startswith("summaries 20") for _, label in heard)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    out = io.StringIO()
    report = text_progress(out)
    for f, label in heard:
        report(f, label)
    printed = out.getvalue()
    for stage in ("indexes", "summaries", "committing", "done"):
        assert f"% {stage}" in printed
