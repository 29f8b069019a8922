"""Import speed: the demo data exported in the project's CSV format, imported into an empty database;
the same file again (a no-op); then a week's newer export (the open appeals answered and closed, a
week of new appeals) on top.

python -m bench.importer [--rows N] [--pg ADMIN_URL]   (prints a table; asserts nothing)
"""
from __future__ import annotations

import argparse
import json
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from queries.config import normalise_url
from queries.db import make_engine
from ingest.export import export_csv
from seed.generator import Scenario
from ingest.run import run_import
from seed.load import seed_database
from ingest.mapping import load_mapping

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "import_results.json"
TIMES = ["received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at", "comment_removed_at",
         "author_blocked_at"]


def newer_export(path: Path, out: Path, days: int = 7) -> tuple[int, int]:
    """A week later's export of the same system: every open appeal answered (if it was not) and
    resolved, and the last week's appeals again as new ones, a week later. (rows changed, rows added)"""
    import pandas as pd
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    iso = "%Y-%m-%dT%H:%M:%S"
    received = pd.to_datetime(df["received_at"])
    fresh = df[received > received.max() - pd.Timedelta(days=days)].copy()
    open_ = df["closed_at"] == ""
    unanswered = open_ & (df["first_response_at"] == "")
    df.loc[unanswered, "first_response_at"] = (received[unanswered] + pd.Timedelta(hours=30)).dt.strftime(iso)
    df.loc[open_, "closed_at"] = (pd.to_datetime(df.loc[open_, "first_response_at"]) + pd.Timedelta(hours=10)).dt.strftime(iso)
    df.loc[open_, "status"] = "resolved"
    fresh["external_id"] = fresh["external_id"] + "-w2"
    for c in TIMES:
        filled = fresh[c] != ""
        fresh.loc[filled, c] = (pd.to_datetime(fresh.loc[filled, c]) + pd.Timedelta(days=days)).dt.strftime(iso)
    pd.concat([df, fresh]).to_csv(out, index=False)
    return int(open_.sum()), len(fresh)


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
    print(f"export: {rows:,} appeals", file=sys.stderr)
    mapping = load_mapping(ROOT / "ingest" / "mappings" / "cur_export.toml")
    admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
    results = []
    newer = tmp / "newer.csv"
    changed, added = newer_export(csv_path, newer)
    print(f"newer export: {changed:,} appeals changed, {added:,} added", file=sys.stderr)
    for backend in ("sqlite", "postgresql"):
        for label in ("first load", "re-import (no-op)", "a week later's export"):
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
            s = run_import(engine, newer if label.startswith("a week") else csv_path, mapping)
            secs = time.perf_counter() - started
            results.append((backend, label, s.read, s.events, secs, s))
            print(f"{backend:<10} {label:<22} {s.line()}", file=sys.stderr)
        engine.dispose()
        if backend == "postgresql":
            with admin.connect() as c:
                c.execute(text(f'drop database if exists "{name}" with (force)'))
    print("\n| backend | run | input rows | inserted | updated | unchanged | events written | seconds | input rows/s |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for b, label, r, ev, secs, s in results:
        print(f"| {b} | {label} | {r:,} | {s.inserted:,} | {s.updated:,} | {s.unchanged:,} | {ev:,} | {secs:.1f} | "
              f"{r / secs:,.0f} |")
    RESULTS.write_text(json.dumps([
        {"backend": b, "run": label, "read": r, "inserted": s.inserted, "updated": s.updated, "unchanged": s.unchanged,
         "rejected": s.rejected, "events": ev, "seconds": round(secs, 1), "rows_per_s": round(r / secs)}
        for b, label, r, ev, secs, s in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
