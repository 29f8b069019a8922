"""Import speed: the demo data exported in the project's CSV format, imported into an empty database.

python -m bench.importer [--rows N] [--pg ADMIN_URL]   (prints a table; asserts nothing)
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from queries.config import normalise_url
from queries.db import make_engine
from seed.export import export_csv
from seed.generator import Scenario
from seed.importer import run_import
from seed.load import seed_database
from seed.mapping import load_mapping

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.importer", description=__doc__)
    p.add_argument("--until", default="2023-12-31", help="simulate the demo data up to this day (default: %(default)s)")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="pulse-import-"))
    source = make_engine(f"sqlite:///{tmp / 'source.sqlite'}", bulk=True)
    day = dt.date.fromisoformat(args.until)
    as_of = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone(dt.timedelta(hours=7))) + dt.timedelta(days=1)
    seed_database(source, Scenario(as_of=as_of.astimezone(dt.timezone.utc)))
    csv_path = tmp / "export.csv"
    with source.connect() as conn, open(csv_path, "w", encoding="utf-8", newline="") as fh:
        rows = export_csv(conn, fh)
    mapping = load_mapping(ROOT / "seed" / "mappings" / "cur_export.toml")
    admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
    results = []
    for backend in ("sqlite", "postgresql"):
        for label in ("first load", "re-import (no-op)"):
            if label == "first load":
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / 'target.sqlite'}"
                else:
                    name = f"pulse_import_{uuid.uuid4().hex[:8]}"
                    with admin.connect() as c:
                        c.execute(text(f'create database "{name}"'))
                    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
                engine = make_engine(url)
            started = time.perf_counter()
            s = run_import(engine, csv_path, mapping)
            secs = time.perf_counter() - started
            results.append((backend, label, rows, s.events, secs))
            print(f"{backend:<10} {label:<18} {rows:>9,} rows {secs:7.1f} s {rows / secs:9,.0f} rows/s", file=sys.stderr)
        engine.dispose()
        if backend == "postgresql":
            with admin.connect() as c:
                c.execute(text(f'drop database if exists "{name}" with (force)'))
    print("\n| backend | run | input rows | events written | seconds | input rows/s |\n|---|---|---|---|---|---|")
    for b, label, r, ev, secs in results:
        print(f"| {b} | {label} | {r:,} | {ev:,} | {secs:.1f} | {r / secs:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
