"""The planner's choice measured: each figure of random cohorts computed both ways, from its rows
and from the summaries' cells, beside the plain GROUP BY.

python -m bench.planner --db URL [--combos N] [--seed S]

For every combination and each of bench.figures' sixteen figures: the project forced to its
rows' path (kpis.RAW_ROWS set above any cohort), forced to the cells (below any), as it chooses,
and the plain query; each the best of three. Beside them what the planner knows before choosing
(kpis._rows_to_read: the rows one GROUP BY reads; cells_to_read: the cells the summaries' path
scans, estimated here). Prints where
each way won and how often the planner's choice was slower than the plain query, and writes
bench/planner_results.json (every measurement, for fitting the planner's costs). Asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from bench.figures import GROUPINGS, MEASURES, plain_frame, project_frame
from bench.pages import filter_pool, random_filters, warm
from queries import kpis
from queries.db import make_engine
from queries.dialect import dialect_of
from queries.filters import Filters
from queries.measures import PERCENTILES
from queries.summaries.read import day_cells_plan
from queries.summaries.lattice import (DAY_NODES, DIMS, FULL, YEAR_HIST_NODES, day_hist_metrics, edge_plan, month_end,
                                       node_for, pieces, stored_node)

RESULTS = Path(__file__).with_name("planner_results.json")
FORCED = {"rows": {"sqlite": 1e15, "postgresql": 1e15}, "cells": {"sqlite": -1, "postgresql": -1}}


# the order of the cells' keys after the period: the primary key's, and on PostgreSQL the full
# node's own index (schema.FULL_NODE_ORDER)
_KEY_ORDER = ("municipality_id", "topic_id", "source", "organization_id")
_FULL_ORDER_PG = ("topic_id", "source", "organization_id", "municipality_id")


def cells_to_read(conn, filters: Filters, group: str | None, hist: bool) -> dict[str, float]:
    """What the summaries' path reads for this cohort, estimated before reading it: the cells its
    seeks scan (`cells`: per piece of the period, the cells that hold the appeals within the
    filtered leading keys, as many as those appeals where the keys are many), the edge days'
    appeals read from the table where the node keeps no day cells (`edge_rows`), and the union's
    arms (`arms`). `hist`: the histogram cells of a percentile rather than the counts."""
    vol = kpis._volumes(conn)
    shares = kpis._shares(conn, filters)
    node = stored_node(node_for(filters, group))
    order = _FULL_ORDER_PG if node == FULL and dialect_of(conn).pg else _KEY_ORDER
    dims = [c for c in order if node & DIMS[c]]
    prefix, keys = 1.0, 2.0 if hist else 1.0  # a histogram cell per urgency
    leading = True
    for c in dims:
        leading = leading and c in shares
        if leading:
            prefix *= shares[c][0]
        keys *= shares[c][1] if c in shares else max(len(vol["share"][c]), 1)
    p = pieces(filters.date_from, filters.date_to, years=not hist or node in YEAR_HIST_NODES)
    edge_rows = 0.0
    day_cells = node in DAY_NODES and (not hist or 1 in day_hist_metrics(node))
    minus: list = []
    if p.days and not day_cells:
        p, add, subtract = edge_plan(p)
        least = min((s for s, _ in shares.values()), default=1.0)
        edge_rows = least * sum(kpis._period_appeals(vol, a, b) for a, b in (*add, *subtract))
    elif p.days and not hist:  # the counts read a month less its other days (read.day_cells_plan)
        p, minus = day_cells_plan(p)

    def occupied(appeals: float, per_cell: float) -> float:
        """The cells that hold `appeals` of the whole (before the filters) spread over `per_cell` keys."""
        n = appeals * prefix
        return per_cell * -np.expm1(-n / per_cell) if per_cell else 0.0

    # each piece's appeals from its own months (kpis._period_appeals), as the planner estimates
    spans = [(y, dt.date(y.year, 12, 31)) for y in p.years] + [(m, month_end(m)) for m in p.months]
    cells = sum(occupied(kpis._period_appeals(vol, a, b), keys) for a, b in spans)
    for a, b in (*p.days, *minus):  # a day cell per day
        days = (b - a).days + 1
        cells += occupied(kpis._period_appeals(vol, a, b) / days, keys) * days
    return {"cells": cells, "edge_rows": edge_rows, "arms": float(len(p.years) > 0) + float(len(p.months) > 0)
            + len(p.days) + len(minus), "node": float(node)}


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure(url: str, combos: int, seed: int) -> list[dict]:
    engine = make_engine(url, statement_timeout_ms=120_000)
    print(f"  database cache warmed in {warm(engine):.0f} s", file=sys.stderr)
    rng = random.Random(seed)
    codes, now, today = filter_pool(engine)
    chosen = dict(kpis.RAW_ROWS)
    out = []
    for i in range(combos):
        f = random_filters(rng, today, codes)
        for measure_ in MEASURES:
            for group in GROUPINGS:
                row = {"filters": str(f), "figure": measure_, "by": group or "—"}
                with engine.connect() as conn:
                    row.update(rows=kpis._rows_to_read(conn, f), **cells_to_read(conn, f, group, measure_ in PERCENTILES))
                    for way in ("rows", "cells", "chosen"):
                        kpis.RAW_ROWS.update(FORCED.get(way, chosen))
                        try:
                            row[f"{way}_ms"] = round(_best(lambda: project_frame(conn, f, now, measure_, group)), 3)
                        finally:
                            kpis.RAW_ROWS.update(chosen)
                    row["plain_ms"] = round(_best(lambda: plain_frame(conn, f, now, measure_, group)), 3)
                out.append(row)
        print(f"  {i + 1}/{combos}", file=sys.stderr)
    engine.dispose()
    return out


def report(rows: list[dict]) -> None:
    """Where each way won, and the losses to the plain query split by the way the planner chose
    (rows: the same GROUP BY as the plain query's plus the figure's definition and Python's frame;
    cells: the summaries)."""
    for r in rows:
        r["best_ms"] = min(r["rows_ms"], r["cells_ms"])
        r["path"] = "rows" if abs(r["chosen_ms"] - r["rows_ms"]) <= abs(r["chosen_ms"] - r["cells_ms"]) else "cells"
    n = len(rows)
    print(f"\n{n} figures: rows faster than cells in {sum(r['rows_ms'] <= r['cells_ms'] for r in rows)}; the "
          f"planner's choice more than 1.2x the better way in {sum(r['chosen_ms'] > 1.2 * r['best_ms'] for r in rows)}")
    print(f"slower than the plain query: the planner's choice in {sum(r['chosen_ms'] > r['plain_ms'] for r in rows)}, "
          f"the better of the two ways in {sum(r['best_ms'] > r['plain_ms'] for r in rows)}")
    print("\n| way taken | figures | slower than plain | median project ÷ plain | losses where plain ≤ 2 ms |\n"
          "|---|---|---|---|---|")
    for path in ("rows", "cells"):
        part = [r for r in rows if r["path"] == path]
        lost = [r for r in part if r["chosen_ms"] > r["plain_ms"]]
        ratio = float(np.median([r["chosen_ms"] / r["plain_ms"] for r in part])) if part else float("nan")
        print(f"| {path} | {len(part)} | {len(lost)} | {ratio:.2f} | {sum(r['plain_ms'] <= 2 for r in lost)} |")
    print("\n| figure | by | rows est. | cells est. | rows ms | cells ms | chosen ms | plain ms | filters |\n"
          "|---|---|---|---|---|---|---|---|---|")
    lost = [r for r in rows if r["chosen_ms"] > r["plain_ms"]]
    for r in sorted(lost, key=lambda r: r["plain_ms"] - r["chosen_ms"])[:15]:
        print(f"| {r['figure']} | {r['by']} | {r['rows']:,.0f} | {r['cells']:,.0f} | {r['rows_ms']} | {r['cells_ms']} | "
              f"{r['chosen_ms']} | {r['plain_ms']} | {r['filters'][8:140]} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.planner", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--combos", type=int, default=30)
    p.add_argument("--seed", type=int, default=4242)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    rows = measure(args.db, args.combos, args.seed)
    report(rows)
    args.out.write_text(json.dumps({"db": args.db.rsplit("/", 1)[-1], "seed": args.seed, "rows": rows}, indent=1,
                                   ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
