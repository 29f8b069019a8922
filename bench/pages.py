"""Page data latency on the large databases: every page's queries, random filter combinations.

python -m bench.pages [--sqlite PATH] [--pg URL] [--combos N] [--baseline-combos K] [--seed S]

For each database: every page's data through the summary tables for N random filter
combinations (cache cold: these are the query functions under Streamlit's cache), and the
same figures by the plain approach — one GROUP BY over `appeals` per figure — for the first K
of them, in the same run after the N (the baseline is slow, hence the subset; its scans of the
whole table evict the summary tables from memory, so it does not run between them). Prints one
table per database (page, p50, p95 over N; baseline p95 over K; ratio = baseline p95 / p95
over the same K) and writes bench/results.json. Asserts nothing.

Before the timed combinations the database's files are read into the operating system's cache
(PostgreSQL: the summary tables and the appeals' indexes with pg_prewarm; SQLite: the file), as
on a server that has been answering for a while: at 10 M appeals the database (25 GB) is larger
than this machine's memory, and what an earlier run or the baseline left cached decided the
p95 more than the queries did. Streamlit's cache stays cold: every call runs its queries.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bench.columnar import Columnar
from dashboard.drill import grain_for
from queries import cases, kpis, league, speed, summaries, trend
from queries.db import make_engine
from queries.filters import CENTRE_START, Filters
from queries.viewer import Viewer

ANALYST = Viewer("bench", "analyst")
RESULTS = Path(__file__).with_name("results.json")


SEARCH_WORDS = ["пробка", "отопление", "мусор", "вакцинация", "яма", "снег", "автобус", "вода", "свет", "двор"]


def page_queries(conn, f: Filters, now: dt.datetime, sort: str = "newest", query: str = "пробка") -> dict:
    """The data each page reads for filters f (the same calls the pages make, without the cache);
    "cases" is the list's first page in `sort` order, "search" the first page for a text query."""
    g = grain_for(f)
    v = ANALYST
    before = f.previous()
    then = now - (f.date_from - before.date_from)  # the previous period at the same age (like for like)
    return {
        "overview": lambda: (kpis.kpi_frame(conn, f, v, now), kpis.kpi_as_of(conn, before, v, then),
                             trend.received_closed(conn, f, v, g),
                             *(kpis.kpi_frame(conn, period, v, now, group, percentiles=False)
                               for period, group in ((f, "source"), (f, "topic"), (f, "municipality"),
                                                     (f.previous(), "municipality"), (f.previous(), "topic")))),
        "topics": lambda: (kpis.kpi_frame(conn, f, v, now, "topic"), trend.kpi_trend(conn, f, v, g, now, "topic")),
        "territories": lambda: (league.territory_league(conn, f, v, now),
                                kpis.kpi_frame(conn, f.narrowed(territories=()), v, now)),
        "executors": lambda: (league.executor_league(conn, f, v, now), speed.escalation_flow(conn, f, v)),
        "speed": lambda: (kpis.kpi_frame(conn, f, v, now), kpis.kpi_as_of(conn, before, v, then),
                          speed.response_histogram(conn, f, v), trend.kpi_trend(conn, f, v, g, now),
                          speed.overdue_now(conn, f, v, now)),
        "cases": lambda: cases.case_list(conn, f, v, now, sort=sort),
        "search": lambda: cases.case_list(conn, f, v, now, query=query),
    }


def random_filters(rng: random.Random, today: dt.date, codes: dict) -> Filters:
    days = rng.choice([7, 30, 30, 90, 365, None])
    end = today - dt.timedelta(days=rng.choice([0, 0, 0, 30, 200, 700]))
    start = CENTRE_START if days is None else end - dt.timedelta(days=days - 1)
    pick = lambda pool, most: tuple(rng.sample(pool, rng.choice(range(most + 1))))  # noqa: E731
    return Filters(start, end, pick(codes["territories"], 2) if rng.random() < 0.5 else (),
                   pick(codes["topics"], 2) if rng.random() < 0.4 else (),
                   pick(codes["sources"], 1) if rng.random() < 0.3 else (),
                   pick(codes["executors"], 1) if rng.random() < 0.2 else ())


def p95(ts: list[float]) -> float:
    ts = sorted(ts)
    return ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))]


def filter_pool(engine) -> tuple[dict, dt.datetime, dt.date]:
    """The codes random filters draw from, `now` (an hour after the last appeal) and its local day."""
    with engine.connect() as conn:
        codes = {
            "territories": [r[0] for r in conn.execute(text("select code from municipalities"))],
            "topics": [r[0] for r in conn.execute(text("select code from topics"))],
            "sources": ["vk", "ok", "telegram", "pos"],
            "executors": [r[0] for r in conn.execute(text("select id from organizations"))],
        }
        last = conn.execute(text("select max(received_at) from appeals")).scalar()
    last = dt.datetime.fromisoformat(str(last).replace(" ", "T")[:19]).replace(tzinfo=dt.timezone.utc)
    now = last + dt.timedelta(hours=1)
    return codes, now, (now + dt.timedelta(hours=7)).date()


def warm(engine) -> float:
    """Read what the pages read into the OS cache (see the module docstring). Returns seconds."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("create extension if not exists pg_prewarm"))
            conn.execute(text("""select pg_prewarm(c.oid, 'read') from pg_class c
                where c.relname in ('agg_counts', 'agg_closed', 'agg_hist')
                   or c.oid in (select indexrelid from pg_index
                                where indrelid in ('appeals'::regclass, 'agg_counts'::regclass,
                                                   'agg_closed'::regclass, 'agg_hist'::regclass))"""))
            conn.commit()
    else:
        with open(engine.url.database, "rb") as fh:
            while fh.read(1 << 24):
                pass
    return time.perf_counter() - started


def measure(url: str, combos: int, seed: int, baseline_combos: int = 8) -> list[dict]:
    plain = make_engine(url)  # without the statement timeout: reading 13 GB from disk may take longer
    print(f"  database cache warmed in {warm(plain):.0f} s", file=sys.stderr)
    plain.dispose()
    engine = make_engine(url, statement_timeout_ms=60_000)
    rng = random.Random(seed)
    codes, now, today = filter_pool(engine)
    timings: dict[str, list[float]] = {}
    baseline: dict[str, list[float]] = {}
    duck: dict[str, list[float]] = {}
    errors: list[str] = []

    def timed(fn, conn) -> float:
        started = time.perf_counter()
        try:
            fn()
            return time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001 - a statement timeout counts as the timeout
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            conn.rollback()  # the next statements must not fail on the aborted transaction
            return 60.0

    drawn = [(random_filters(rng, today, codes), rng.choice(list(cases.SORTS)), rng.choice(SEARCH_WORDS))
             for _ in range(combos)]
    for f, sort, word in drawn:
        with engine.connect() as conn:
            for page, fn in page_queries(conn, f, now, sort, word).items():
                timings.setdefault(page, []).append(timed(fn, conn))
    # DuckDB over a Parquet copy computing each page's figures (bench.columnar.Columnar.page), after
    # the project's pages so that its reading the copy does not evict the database's pages first
    columnar = Columnar(engine, engine.dialect.name)
    for f, sort, word in drawn:
        for page in timings:
            started = time.perf_counter()
            columnar.page(page, f, now, grain_for(f), word, sort)
            duck.setdefault(page, []).append(time.perf_counter() - started)
    # the baseline after all of them: its scans of the whole appeals table (a minute each at 10 M)
    # evicted the summary tables from memory, and the combinations timed after one read from disk
    for f, sort, word in drawn[:baseline_combos]:
        with engine.connect() as conn, summaries.disabled():
            for page, fn in page_queries(conn, f, now, sort, word).items():
                baseline.setdefault(page, []).append(timed(fn, conn))
    engine.dispose()
    for e in sorted(set(errors)):
        print(f"  failed ({errors.count(e)}×, counted as 60 s): {e}", file=sys.stderr)
    out = []
    for page, ts in timings.items():
        base = baseline.get(page, [])
        same = ts[:len(base)]
        out.append({"page": page, "n": len(ts), "p50_ms": round(statistics.median(ts) * 1000, 1),
                    "p95_ms": round(p95(ts) * 1000, 1), "baseline_n": len(base),
                    "baseline_p95_ms": round(p95(base) * 1000) if base else None,
                    "ratio": round(p95(base) / p95(same), 1) if base and p95(same) > 0 else None,
                    "duckdb_p50_ms": round(statistics.median(duck[page]) * 1000, 1),
                    "duckdb_p95_ms": round(p95(duck[page]) * 1000, 1),
                    "duckdb_over_project_p95": round(p95(duck[page]) / p95(ts), 2)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sqlite", default="data/appeals.sqlite", help="a seeded SQLite file (default: the demo)")
    p.add_argument("--pg", default=None, help="a seeded PostgreSQL URL, e.g. the --scale 10 database")
    p.add_argument("--combos", type=int, default=200)
    p.add_argument("--baseline-combos", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    report = {"measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "databases": {}}
    targets = [("sqlite", f"sqlite:///{Path(args.sqlite).resolve()}")] if args.sqlite else []
    if args.pg:
        targets.append(("postgresql", args.pg))
    for name, url in targets:
        with make_engine(url).connect() as conn:
            n = conn.execute(text("select count(*) from appeals")).scalar_one()
        rows = measure(url, args.combos, args.seed, args.baseline_combos)
        report["databases"][name] = {"appeals": n, "pages": rows}
        print(f"\n{name}: {n:,} appeals, {args.combos} random filter combinations per page "
              f"(baseline: the first {args.baseline_combos})")
        print("| page | p50, ms | p95, ms | DuckDB p50, ms | DuckDB p95, ms | DuckDB ÷ project (p95) "
              "| baseline p95, ms | baseline ÷ project |\n|---|---|---|---|---|---|---|---|")
        for r in rows:
            base = f"{r['baseline_p95_ms']:,}" if r["baseline_p95_ms"] is not None else "—"
            ratio = f"{r['ratio']:,.0f}×" if r["ratio"] is not None else "—"
            print(f"| {r['page']} | {r['p50_ms']:,.1f} | {r['p95_ms']:,.1f} | {r['duckdb_p50_ms']:,.1f} | "
                  f"{r['duckdb_p95_ms']:,.1f} | {r['duckdb_over_project_p95']}× | {base} | {ratio} |")
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nmemory (this process, max RSS): {report['max_rss_mb']} MB; written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
