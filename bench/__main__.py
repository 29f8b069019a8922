"""python -m bench: the large databases (built once, then reused), then every benchmark.

1. SQLite with the default scenario (1.0 M appeals) at data/bench-1m.sqlite and PostgreSQL with
   `--scale 10` (10 M appeals) in database pulse_bench_10m: seeded with their summaries when
   missing (the PostgreSQL one takes about half an hour), reused otherwise.
2. Page data: every page's queries for random filter combinations through the summaries, the
   plain GROUP BY baseline side by side (bench.pages); one table per database.
3. Refresh: a day of appeals added (a copy of the last day, one day later), then the summaries
   brought up to date by a delta (what an import does), timed, and rolled back; then the same
   again with the day's months recomputed (the refresh command).
4. Concurrent users: 20 scripted sessions against a running Streamlit server on the PostgreSQL
   database (bench.server): every page's p50/p95 under that load, and the server's peak memory.
5. Seeding speed and peak memory at scales 1, 10 and 20 (bench.seed; from 10 on PostgreSQL only, in a
   temporary database, where the disk holds it) and the import speed (bench.importer).
6. A summary: every goal's numbers side by side.
Everything is written to bench/results.json. Asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

from bench import figures, importer, pages, seed, server
from queries import summaries
from queries.config import normalise_url
from queries.dataset import info as dataset_info
from queries.db import make_engine
from queries.dialect import dialect_of
from queries.migrate import upgrade
from seed.generator import Scenario
from seed.load import appeal_count, seed_database

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.datetime(2026, 11, 29, tzinfo=dt.timezone(dt.timedelta(hours=7))).astimezone(dt.timezone.utc)
# Not the tests' seed (the scenario's default): a claim must hold on data the code was not tuned on.
BENCH_SEED = seed.SEED


def fresh(module: str, *argv: str) -> None:
    """`python -m module argv` in a process of its own: what one benchmark leaves in memory (DuckDB's
    buffers, a large heap) must not weigh on the next one's timings."""
    subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, check=True)


def make_room(admin_url: str, name: str, scale: float) -> None:
    """Drop the benchmark database `name` when a seeding at `scale` would not fit on the disk beside
    it (bench.seed.room): the seeding's peak memory at every scale is one of the goals, and the
    database is built again by the next run (half an hour at 10 M)."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    if seed.room("postgresql", scale, seed.pg_data_directory(admin)):
        print(f"dropping {name} to make room for the seeding at scale {scale:g}", file=sys.stderr)
        with admin.connect() as c:
            c.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def ensure_database(url: str, scale: float) -> None:
    """The benchmark database at `url`: seeded with BENCH_SEED at `scale` once, reused after; a
    database seeded otherwise is refused (its timings would not be comparable)."""
    engine = make_engine(url, bulk=True)
    upgrade(engine)
    if appeal_count(engine) == 0:
        print(f"building {url} (scale {scale:g}, seed {BENCH_SEED}) …", file=sys.stderr)
        seed_database(engine, Scenario(as_of=AS_OF, scale=scale, seed=BENCH_SEED))
    with engine.connect() as conn:
        seeded = dataset_info(conn).get("seed")
    if seeded != str(BENCH_SEED):
        engine.dispose()
        raise SystemExit(f"{url} was seeded with seed {seeded}, not {BENCH_SEED}: drop it, and the benchmark rebuilds it")
    with engine.connect() as conn:
        ready = summaries.is_ready(conn)
    if not ready:
        with engine.begin() as conn:
            summaries.build(conn)
        summaries.analyze(engine)
    engine.dispose()


def ensure_postgres(admin_url: str, name: str) -> str:
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).first():
            c.execute(text(f'create database "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def refresh_after_a_day(url: str) -> dict:
    """Copy the last local day's appeals one day later and bring the summaries up to date: by a
    delta of the new appeals (what an import does), then, in a second go, by recomputing the
    day's months (the refresh command). Timed; both rolled back."""
    engine = make_engine(url)
    with engine.connect() as conn:
        d = dialect_of(conn)
        last = conn.execute(text(f"select max({d.local_date('received_at')}) from appeals")).scalar()
        last = dt.date.fromisoformat(str(last)[:10])
        top = conn.execute(text("select max(id) from appeals")).scalar()
        conn.rollback()  # the reads began a transaction; each timed part runs in its own
        shift = "+ interval '1 day'" if d.pg else None
        cols = ("source", "text", "municipality_id", "topic_id", "organization_id", "status", "reopened_count",
                "first_response_work_hours", "escalation_work_hours")
        times = ("received_at", "response_due_at", "first_response_at", "closed_at")
        moved = [f"{t} {shift}" if d.pg else f"strftime('%Y-%m-%dT%H:%M:%S', {t}, '+1 day')" for t in times]

        def add_day() -> tuple[int, float]:
            started = time.perf_counter()
            n = conn.execute(text(f"""
insert into appeals (external_id, {', '.join(cols)}, {', '.join(times)})
select 'bench-' || id, {', '.join(cols)}, {', '.join(moved)} from appeals
where {d.local_date('received_at')} = :day"""), {"day": last if d.pg else last.isoformat()}).rowcount
            return n, time.perf_counter() - started

        new_day = last + dt.timedelta(days=1)
        with conn.begin() as trans:
            added, inserted = add_day()
            started = time.perf_counter()
            summaries.apply_delta(conn, pd.DataFrame(), summaries.appeal_rows(conn, "a.id > :top", {"top": top}))
            delta = time.perf_counter() - started
            trans.rollback()
        with conn.begin() as trans:
            add_day()
            seconds = summaries.refresh(conn, [new_day, new_day + dt.timedelta(days=1)])
            trans.rollback()
    engine.dispose()
    return {"appeals_added": added, "insert_s": round(inserted, 2), "delta_s": round(delta, 2),
            "refresh_s": round(seconds, 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--pg-name", default="pulse_bench_10m")
    p.add_argument("--pg-scale", type=float, default=10)
    p.add_argument("--sqlite", default=str(ROOT / "data" / "bench-1m.sqlite"))
    p.add_argument("--combos", type=int, default=60)
    p.add_argument("--baseline-combos", type=int, default=1)
    p.add_argument("--figure-combos", type=int, default=20, help="combinations of bench.figures")
    p.add_argument("--sessions", type=int, default=20, help="concurrent sessions against the server")
    p.add_argument("--seed-scales", default="1,10,20",
                   help="bench.seed's scales (10 and more on PostgreSQL only; a scale the disk cannot hold is said)")
    p.add_argument("--quick", action="store_true", help="page data, refresh and sessions only (no seeding or import runs)")
    p.add_argument("--make-room", action="store_true",
                   help="drop the PostgreSQL benchmark database before the seedings when the largest scale's "
                        "database would not fit beside it (the next run builds it again)")
    args = p.parse_args(argv)
    sqlite_url = f"sqlite:///{Path(args.sqlite).resolve()}"
    ensure_database(sqlite_url, 1)
    pg_url = ensure_postgres(args.pg_admin, args.pg_name)
    ensure_database(pg_url, args.pg_scale)
    fresh("bench.pages", "--sqlite", args.sqlite, "--pg", pg_url, "--combos", str(args.combos),
          "--baseline-combos", str(args.baseline_combos))
    report = json.loads(pages.RESULTS.read_text())
    fresh("bench.figures", "--sqlite", args.sqlite, "--pg", pg_url, "--combos", str(args.figure_combos))
    report["figures"] = json.loads(figures.RESULTS.read_text())
    report["seed"] = BENCH_SEED
    report["refresh_after_a_day"] = {}
    print("\n| database | a day of appeals added | insert, s | summary delta, s | month refresh, s |\n|---|---|---|---|---|")
    for name, url in (("sqlite", sqlite_url), ("postgresql", pg_url)):
        r = refresh_after_a_day(url)
        report["refresh_after_a_day"][name] = r
        print(f"| {name} | {r['appeals_added']:,} | {r['insert_s']} | {r['delta_s']} | {r['refresh_s']} |")
    server.main(["--db", pg_url, "--sessions", str(args.sessions)])
    report["server"] = json.loads(server.RESULTS.read_text())
    report["machine"] = figures.machine(pg_url)  # before --make-room may drop the database it asks
    if not args.quick:
        if args.make_room:
            make_room(args.pg_admin, args.pg_name, max(float(x) for x in args.seed_scales.split(",")))
        seed.main(["--scales", args.seed_scales])
        importer.main([])
        report["seeding"] = json.loads(seed.RESULTS.read_text())
        report["import"] = json.loads(importer.RESULTS.read_text())
    pages.RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    summary(report)
    return 0


def summary(report: dict) -> None:
    """The run's goals side by side: per page the project's p95 and DuckDB's ÷ the project's; per
    figure the plain GROUP BY's and DuckDB's p95 ÷ the project's and the combinations the project
    lost; the first page after sign-in; the seeding's peak memory."""
    m = report["machine"]
    print(f"\n## Summary (seed {report['seed']}; {m['cores']} cores, {m.get('memory_gb')} GB; PostgreSQL "
          f"{m.get('postgresql', {}).get('server_version')}, shared_buffers {m.get('postgresql', {}).get('shared_buffers')})")
    dbs = report["databases"]
    names = list(dbs)
    print("\n| page | " + " | ".join(f"{n} {dbs[n]['appeals']:,}: project p95, ms | DuckDB ÷ project" for n in names)
          + " |\n|---|" + "---|---|" * len(names))
    for i, row in enumerate(dbs[names[0]]["pages"]):
        cells = [f"{dbs[n]['pages'][i]['p95_ms']:,.0f} | {dbs[n]['pages'][i]['duckdb_over_project_p95']}×" for n in names]
        print(f"| {row['page']} | " + " | ".join(cells) + " |")
    figs = report["figures"]["databases"]
    # "plain > itself": the same statement timed against itself by the same protocol, the floor
    # under "project > plain" (bench.figures)
    print("\n| figure | by | " + " | ".join(f"{n}: plain ÷ project | DuckDB ÷ project | project > plain | plain > itself"
                                            for n in figs) + " |\n|---|---|" + "---|---|---|---|" * len(figs))
    for i, row in enumerate(figs[list(figs)[0]]["figures"]):
        cells = [f"{r['plain_over_project_p95']}× | {r['duckdb_over_project_p95']}× | "
                 f"{r['project_slower_than_plain']} of {figs[n]['combos']} | {r.get('plain_slower_than_itself', '—')}"
                 for n in figs for r in [figs[n]['figures'][i]]]
        print(f"| {row['figure']} | {row['by']} | " + " | ".join(cells) + " |")
    for n in figs:
        print(f"{n}: project slower than plain in {figs[n]['loss_count']} of {16 * figs[n]['combos']} figure-"
              f"combinations; the plain query slower than itself in {figs[n].get('plain_self_loss_count', '—')}")
    first = report["server"].get("first_page_after_sign_in", {})
    if first:
        print(f"\nFirst page after sign-in (PostgreSQL): {first.get('first_page_after_warm_up_ms')} ms after the "
              f"warm-up ({first.get('warm_up_s')} s), {first.get('first_page_ms')} ms arriving 3 s after the start")
    for r in report.get("seeding", []):
        what = f"not measured ({r['skipped']})" if "skipped" in r else f"peak {r['peak_rss_mb']:,} MB, {r['seconds']} s"
        print(f"Seeding {r['backend']} scale {r['scale']:g}: {what}")


if __name__ == "__main__":
    sys.exit(main())
