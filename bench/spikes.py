"""The spike alerts measured: recall of the demo data's documented incidents, the alerts raised in
ordinary winter and summer weeks, and the time to compute every cell of a week.

python -m bench.spikes [--db URL] [--timing-db URL ...] [--weeks N]

- recall: each incident of seed.scenario.INCIDENTS that lies before the data's end, at the
  category and the topic level: found in its week, and its rank among the week's alerts;
- ordinary weeks: every week of January–February (snow) and of July–August of each year with an
  earlier year of history, the incident weeks left out: alerts per week (mean, max) and how many
  fell on the snow categories and topics;
- timing: for each --timing-db, N weeks computed through the summaries and, as the plain
  alternative in the same run, through a GROUP BY over the appeals (the same function with the
  summaries switched off): p50 and p95, and their ratio.

Prints the tables and writes bench/spikes_results.json. Asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

from queries import summaries
from queries.db import make_engine
from queries.spikes import spikes, week_start
from queries.viewer import Viewer
from reports.spikes import spike_table
from seed.scenario import INCIDENTS, SNOW_TOPICS

ROOT = Path(__file__).resolve().parent.parent
VIEWER = Viewer("bench-spikes", "analyst")
SNOW = {"roads", "landscaping", "housing", *SNOW_TOPICS}


def _span(conn) -> tuple[dt.date, dt.date]:
    lo, hi = conn.execute(text("select min(received_at), max(received_at) from appeals")).one()
    return dt.date.fromisoformat(str(lo)[:10]), dt.date.fromisoformat(str(hi)[:10])


def recall(conn) -> list[dict]:
    first, last = _span(conn)
    out = []
    for inc in INCIDENTS:
        if inc.week + dt.timedelta(days=6) > last:
            continue
        for level, code in (("category", inc.topic.split(".")[0]), ("topic", inc.topic)):
            table = spike_table(conn, inc.week, inc.week, VIEWER, level)
            hits = [i for i, (t, c) in enumerate(zip(table["territory_code"], table["topic_code"]))
                    if (t, c) == (inc.territory, code)]
            row = table.iloc[hits[0]] if hits else None
            out.append({"incident": inc.name, "level": level, "week": inc.week.isoformat(), "found": bool(hits),
                        "rank": hits[0] + 1 if hits else None, "alerts_that_week": len(table),
                        "received": int(row["received"]) if row is not None else None,
                        "expected": f"{row['expected_low']}–{row['expected_high']}" if row is not None else None})
    return out


def ordinary(conn, months: tuple[int, ...]) -> dict:
    first, last = _span(conn)
    incident_weeks = {inc.week for inc in INCIDENTS}
    weeks = []
    for year in range(first.year + 1, last.year + 1):
        for month in months:
            day = dt.date(year, month, 1)
            while day.month == month:
                w = week_start(day)
                if w not in weeks and w not in incident_weeks and w - dt.timedelta(days=365 + 63) >= first \
                        and w + dt.timedelta(days=6) <= last:
                    weeks.append(w)
                day += dt.timedelta(days=7)
    result = {}
    for level in ("category", "topic"):
        counts, snow = [], 0
        for w in weeks:
            table = spike_table(conn, w, w, VIEWER, level)
            counts.append(len(table))
            snow += int(table["topic_code"].isin(SNOW).sum())
        result[level] = {"weeks": len(weeks), "alerts_mean": round(statistics.mean(counts), 2) if counts else None,
                         "alerts_max": max(counts) if counts else None, "on_snow": snow}
    return result


def timing(url: str, n: int) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("select count(*) from appeals")).scalar_one()
        first, last = _span(conn)
    step = max(1, ((last - first).days - 400) // 7 // n)
    weeks = [week_start(last) - dt.timedelta(weeks=1 + i * step) for i in range(n)]
    out = {"url": url.split("@")[-1], "n_appeals": count}
    for label, plain in (("summaries", False), ("appeals", True)):
        times = []
        with engine.connect() as conn:
            spikes(conn, weeks[0], VIEWER)  # warm: the reference tables, the cache
            for w in weeks:
                started = time.perf_counter()
                if plain:
                    with summaries.disabled():
                        spikes(conn, w, VIEWER)
                else:
                    spikes(conn, w, VIEWER)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[label] = {"p50_ms": round(statistics.median(times)), "p95_ms": round(times[int(0.95 * (len(times) - 1))])}
    out["ratio_p95"] = round(out["appeals"]["p95_ms"] / max(out["summaries"]["p95_ms"], 1), 1)
    engine.dispose()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.spikes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=f"sqlite:///{ROOT / 'data' / 'appeals.sqlite'}",
                   help="the demo data (the default seed, with the documented incidents)")
    p.add_argument("--timing-db", action="append", default=[], help="databases to time (repeatable)")
    p.add_argument("--weeks", type=int, default=12)
    args = p.parse_args(argv)
    engine = make_engine(args.db)
    with engine.connect() as conn:
        found = recall(conn)
        winter = ordinary(conn, (1, 2))
        summer = ordinary(conn, (7, 8))
    engine.dispose()
    print("Recall of the documented incidents (seed.scenario.INCIDENTS)")
    print(f"{'incident':<10} {'level':<9} {'week':<11} {'found':<6} {'rank':<5} {'received':>8}  expected")
    for r in found:
        print(f"{r['incident']:<10} {r['level']:<9} {r['week']:<11} {str(r['found']):<6} {str(r['rank']):<5} "
              f"{str(r['received']):>8}  {r['expected']}")
    print("\nAlerts in ordinary weeks (incident weeks left out)")
    print(f"{'season':<8} {'level':<9} {'weeks':>5} {'mean':>6} {'max':>4} {'on snow':>8}")
    for season, res in (("winter", winter), ("summer", summer)):
        for level, r in res.items():
            print(f"{season:<8} {level:<9} {r['weeks']:>5} {r['alerts_mean']:>6} {r['alerts_max']:>4} {r['on_snow']:>8}")
    timings = [timing(url, args.weeks) for url in args.timing_db]
    if timings:
        print("\nEvery cell of one week (category level)")
        print(f"{'database':<40} {'appeals':>10} {'summaries p50/p95':>18} {'appeals p50/p95':>16} {'ratio':>6}")
        for t in timings:
            print(f"{t['url'][-40:]:<40} {t['n_appeals']:>10,} {t['summaries']['p50_ms']:>8}/{t['summaries']['p95_ms']:<8} ms "
                  f"{t['appeals']['p50_ms']:>6}/{t['appeals']['p95_ms']:<6} ms {t['ratio_p95']:>5}×")
    out = ROOT / "bench" / "spikes_results.json"
    out.write_text(json.dumps({"recall": found, "winter": winter, "summer": summer, "timing": timings},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
