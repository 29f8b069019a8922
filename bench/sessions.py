"""Concurrent sessions against the data layer: N threads, each a user clicking through the pages.

python -m bench.sessions --db URL [--sessions 20] [--rounds 5]

Each session visits every page in turn with its own random filters, as a user would (the cache
is cold: every visit runs the page's queries). Prints per-page p50/p95 under that load and
the process's peak memory. This measures the query layer under concurrency on one process's
connection pool; it does not drive Streamlit's websocket protocol or render anything.
Asserts nothing.
"""
from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import threading
import time

from bench.pages import filter_pool, page_queries, p95, random_filters
from queries.db import make_engine


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sessions", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    engine = make_engine(args.db, statement_timeout_ms=60_000)
    # the app's own pool (5 + 5 overflow): sessions beyond it wait for a connection, as in the app
    codes, now, today = filter_pool(engine)
    timings: dict[str, list[float]] = {}
    lock = threading.Lock()

    def session(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(args.rounds):
            f = random_filters(rng, today, codes)
            with engine.connect() as conn:
                for page, fn in page_queries(conn, f, now).items():
                    started = time.perf_counter()
                    fn()
                    with lock:
                        timings.setdefault(page, []).append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(args.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    print(f"\n{args.sessions} concurrent sessions × {args.rounds} rounds of every page, {wall:.0f} s")
    print("| page | visits | p50, ms | p95, ms |\n|---|---|---|---|")
    for page, ts in timings.items():
        print(f"| {page} | {len(ts)} | {statistics.median(ts) * 1000:,.0f} | {p95(ts) * 1000:,.0f} |")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
