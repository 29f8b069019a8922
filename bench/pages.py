"""Page data latency on the large databases: every page's queries, random filter combinations.

python -m bench.pages [--sqlite PATH] [--pg URL] [--combos N] [--seed S]

Prints one table (page, p50, p95, baseline p95, ratio) per database and writes
bench/results.json. The baseline is the plain approach — one GROUP BY over `appeals` per
figure — which is what the query layer does today, so the ratio is 1.0 until the summary
tables of the scale issue exist; the harness is here so that both are measured side by side.
Asserts nothing.
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

from dashboard.drill import grain_for
from queries import cases, kpis, league, speed, trend
from queries.db import make_engine
from queries.filters import CENTRE_START, Filters
from queries.viewer import Viewer

ANALYST = Viewer("bench", "analyst")
RESULTS = Path(__file__).with_name("results.json")


def page_queries(conn, f: Filters, now: dt.datetime) -> dict:
    """The data each page reads for filters f (the same calls the pages make, without the cache)."""
    g = grain_for(f)
    v = ANALYST
    return {
        "overview": lambda: (kpis.kpi_frame(conn, f, v, now), kpis.kpi_frame(conn, f.previous(), v, now),
                             trend.received_closed(conn, f, v, g), kpis.kpi_frame(conn, f, v, now, "source"),
                             kpis.kpi_frame(conn, f, v, now, "topic"), kpis.kpi_frame(conn, f, v, now, "municipality"),
                             kpis.kpi_frame(conn, f.previous(), v, now, "municipality"),
                             kpis.kpi_frame(conn, f.previous(), v, now, "topic")),
        "topics": lambda: (kpis.kpi_frame(conn, f, v, now, "topic"), trend.kpi_trend(conn, f, v, g, now, "topic")),
        "territories": lambda: (league.territory_league(conn, f, v, now),
                                kpis.kpi_frame(conn, f.narrowed(territories=()), v, now)),
        "executors": lambda: (league.executor_league(conn, f, v, now), speed.escalation_flow(conn, f, v)),
        "speed": lambda: (kpis.kpi_frame(conn, f, v, now), kpis.kpi_frame(conn, f.previous(), v, now),
                          speed.response_histogram(conn, f, v), trend.kpi_trend(conn, f, v, g, now),
                          speed.overdue_now(conn, f, v, now)),
        "cases": lambda: cases.case_list(conn, f, v, now),
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


def measure(url: str, combos: int, seed: int) -> list[dict]:
    engine = make_engine(url, statement_timeout_ms=60_000)
    rng = random.Random(seed)
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
    today = (now + dt.timedelta(hours=7)).date()
    timings: dict[str, list[float]] = {}
    for _ in range(combos):
        f = random_filters(rng, today, codes)
        with engine.connect() as conn:
            for page, fn in page_queries(conn, f, now).items():
                started = time.perf_counter()
                try:
                    fn()
                    timings.setdefault(page, []).append(time.perf_counter() - started)
                except Exception:  # a statement timeout counts as the timeout
                    timings.setdefault(page, []).append(60.0)
    engine.dispose()
    out = []
    for page, ts in timings.items():
        ts = sorted(ts)
        p95 = ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))]
        out.append({"page": page, "n": len(ts), "p50_ms": round(statistics.median(ts) * 1000),
                    "p95_ms": round(p95 * 1000), "baseline_p95_ms": round(p95 * 1000), "ratio": 1.0})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sqlite", default="data/appeals.sqlite", help="a seeded SQLite file (default: the demo)")
    p.add_argument("--pg", default=None, help="a seeded PostgreSQL URL, e.g. the --scale 10 database")
    p.add_argument("--combos", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    report = {"measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "databases": {}}
    targets = [("sqlite", f"sqlite:///{Path(args.sqlite).resolve()}")] if args.sqlite else []
    if args.pg:
        targets.append(("postgresql", args.pg))
    for name, url in targets:
        with make_engine(url).connect() as conn:
            n = conn.execute(text("select count(*) from appeals")).scalar_one()
        rows = measure(url, args.combos, args.seed)
        report["databases"][name] = {"appeals": n, "pages": rows}
        print(f"\n{name}: {n:,} appeals, {args.combos} random filter combinations per page")
        print("| page | p50, ms | p95, ms | baseline p95, ms | ratio |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['page']} | {r['p50_ms']:,} | {r['p95_ms']:,} | {r['baseline_p95_ms']:,} | {r['ratio']:.1f} |")
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nmemory (this process, max RSS): {report['max_rss_mb']} MB; written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
