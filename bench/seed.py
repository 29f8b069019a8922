"""Seeding speed, rows per second, for SQLite and PostgreSQL at the default scale and at --scale 10.

python -m bench.seed [--scales 1,10] [--pg postgresql://postgres@127.0.0.1/postgres] [--keep DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from queries.config import normalise_url
from queries.db import make_engine
from seed.generator import Scenario
from seed.load import seed_database

RESULTS = Path(__file__).with_name("seed_results.json")
AS_OF = dt.datetime(2026, 11, 29, tzinfo=dt.timezone(dt.timedelta(hours=7))).astimezone(dt.timezone.utc)


def bench_one(url: str, scale: float) -> dict:
    engine = make_engine(url, bulk=True)
    result = seed_database(engine, Scenario(as_of=AS_OF, scale=scale))
    engine.dispose()
    return {"appeals": result.appeals, "events": result.events, "seconds": round(result.seconds, 1),
            "rows_per_s": round(result.rows_per_second)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    p.add_argument("--scales", default="1,10")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="an admin URL; a temporary database is created and dropped")
    p.add_argument("--backends", default="sqlite,postgresql")
    args = p.parse_args(argv)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="pulse-bench-"))
    admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
    for scale in [float(s) for s in args.scales.split(",")]:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                path = tmp / f"seed-{scale:g}.sqlite"
                r = bench_one(f"sqlite:///{path}", scale)
                path.unlink()
                for extra in tmp.glob(f"{path.name}-*"):
                    extra.unlink()
            else:
                name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as c:
                    c.execute(text(f'create database "{name}"'))
                try:
                    r = bench_one(args.pg.rsplit("/", 1)[0] + f"/{name}", scale)
                finally:
                    with admin.connect() as c:
                        c.execute(text(f'drop database if exists "{name}" with (force)'))
            rows.append({"backend": backend, "scale": scale, **r})
            print(f"{backend:<11} scale {scale:>4g}: {r['appeals']:>11,} appeals {r['events']:>11,} events "
                  f"{r['seconds']:>7.1f} s {r['rows_per_s']:>9,} rows/s", file=sys.stderr)
    print("\n| backend | scale | appeals | events | seconds | rows/s |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['scale']:g} | {r['appeals']:,} | {r['events']:,} | {r['seconds']} | {r['rows_per_s']:,} |")
    RESULTS.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
