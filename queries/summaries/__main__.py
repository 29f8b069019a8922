"""python -m queries.summaries: build, refresh or check the summary tables."""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from queries.summaries.build import refresh
from queries.summaries.state import is_ready
from queries.summaries.store import analyze


def main(argv=None) -> int:
    from queries.config import ConfigError, mask_url
    from queries.db import admin_connection

    p = argparse.ArgumentParser(prog="python -m queries.summaries",
                                description="Build or refresh the summary tables the dashboard reads.")
    p.add_argument("action", choices=("build", "refresh", "status"),
                   help="build: everything from the appeals; refresh: the given days; status: ready or not")
    p.add_argument("--db", help="database URL (default: DATABASE_URL, secrets, or the embedded SQLite file)")
    p.add_argument("--days", help="refresh: local days, YYYY-MM-DD[,YYYY-MM-DD…] or FROM..TO")
    args = p.parse_args(argv)
    try:
        url, engine = admin_connection(args.db)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with engine.connect() as conn:
        if args.action == "status":
            print("ready" if is_ready(conn) else "not built")
            return 0
    days = None
    if args.action == "refresh":
        if not args.days:
            print("error: refresh needs --days", file=sys.stderr)
            return 2
        try:
            days = parse_days(args.days)
        except ValueError as exc:
            print(f"error: --days: {exc}", file=sys.stderr)
            return 2
    with engine.begin() as conn:
        seconds = refresh(conn, days)
    analyze(engine)
    print(f"{mask_url(url)}: summaries {'built' if days is None else f'refreshed for {len(days)} days'}"
          f" in {seconds:.1f} s", file=sys.stderr)
    return 0


def parse_days(spec: str) -> list[dt.date]:
    out: list[dt.date] = []
    for part in spec.split(","):
        part = part.strip()
        if ".." in part:
            a, b = (dt.date.fromisoformat(x) for x in part.split(".."))
            if b < a:
                raise ValueError(f"{part}: the end is before the start")
            out.extend(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
        elif part:
            out.append(dt.date.fromisoformat(part))
    if not out:
        raise ValueError("no days given")
    return out
