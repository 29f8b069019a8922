"""python -m ingest.export OUT.csv [--db URL]: appeals in the project's own CSV format (see
ingest/mappings/cur_export.toml), one row per appeal, codes for territories, topics and executors."""
from __future__ import annotations

import argparse
import csv
import sys

from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.formulas import guard
from queries.config import ConfigError, resolve_admin_database
from queries.db import check_connection

COLUMNS = ["external_id", "source", "source_url", "author_ref", "text", "received_at", "territory_code",
           "topic_code", "executor_code", "status", "response_due_at", "first_response_at", "closed_at",
           "escalated_at", "escalated_to_code", "citizen_feedback", "citizen_rating", "reopened_count", "reach",
           "comment_removed_at", "author_blocked_at", "response_measured"]
TIMES = {"received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at",
         "comment_removed_at", "author_blocked_at"}

SQL = """
select a.external_id, a.source, a.source_url, a.author_ref, a.text, a.received_at, m.code as territory_code,
       t.code as topic_code, o.code as executor_code, a.status, a.response_due_at, a.first_response_at,
       a.closed_at, a.escalated_at, e.code as escalated_to_code, a.citizen_feedback, a.citizen_rating,
       a.reopened_count, a.reach,
       (select min(x.at) from appeal_events x where x.appeal_id = a.id and x.kind = 'comment_removed') as comment_removed_at,
       (select min(x.at) from appeal_events x where x.appeal_id = a.id and x.kind = 'author_blocked') as author_blocked_at,
       a.response_measured
from appeals a
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
  join organizations o on o.id = a.organization_id
  left join organizations e on e.id = a.escalated_to_id
order by a.id
"""


def _iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite stores ISO UTC text already
        return value
    return value.astimezone(__import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def export_csv(conn: Connection, out) -> int:
    """Write every appeal to `out` (a text file); returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    result = conn.execution_options(stream_results=True).execute(text(SQL))
    for row in result:
        writer.writerow([_iso(v) if c in TIMES else ("" if v is None else guard(v)) for c, v in zip(COLUMNS, row)])
        n += 1
    return n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ingest.export", description=__doc__)
    p.add_argument("out", help="the CSV file to write")
    p.add_argument("--db", metavar="URL")
    args = p.parse_args(argv)
    try:
        engine = check_connection(args.db or resolve_admin_database().url)
    except ConfigError as exc:
        print(f"python -m ingest.export: error: {exc}", file=sys.stderr)
        return 2
    with engine.connect() as conn, open(args.out, "w", encoding="utf-8", newline="") as fh:
        n = export_csv(conn, fh)
    print(f"Exported {n:,} appeals to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
