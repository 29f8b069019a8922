"""python -m reports press-release (--month YYYY-MM | --week YYYY-Www | --from D --to D)
                                  [--db URL] [--lang ru|en] [--png FILE] [--as-of ISO]

The centres' press release from the dashboard's own figures: the text, then its definitions and
the as-of time; --png writes the chart for a social-network post (1080 px wide).
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from queries.config import ConfigError, resolve_database
from queries.db import check_connection
from queries.filters import CENTRE_START
from queries.localtime import local_date
from queries.periods import month_range
from queries.viewer import Viewer

PROG = "python -m reports"
PRESS = Viewer("press-release", "press")  # aggregates only; the press role's scope


def period(args) -> tuple[dt.date, dt.date]:
    """The period the arguments name; ValueError with the reason."""
    if args.month:
        m = re.fullmatch(r"(\d{4})-(\d{2})", args.month)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"--month {args.month!r}: expected YYYY-MM")
        return month_range(int(m.group(1)), int(m.group(2)))
    if args.week:
        m = re.fullmatch(r"(\d{4})-W(\d{2})", args.week)
        try:
            start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1) if m else None
        except ValueError:
            start = None
        if start is None:
            raise ValueError(f"--week {args.week!r}: expected an ISO week, YYYY-Www (e.g. 2024-W45)")
        return start, start + dt.timedelta(days=6)
    if args.date_from and args.date_to:
        try:
            d_from, d_to = dt.date.fromisoformat(args.date_from), dt.date.fromisoformat(args.date_to)
        except ValueError:
            raise ValueError("--from and --to: expected YYYY-MM-DD") from None
        if d_to < d_from:
            raise ValueError("--to is before --from")
        return d_from, d_to
    raise ValueError("name the period: --month YYYY-MM, --week YYYY-Www, or --from D --to D")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("press-release", help="the press release for a month, a week or a period")
    pr.add_argument("--month")
    pr.add_argument("--week")
    pr.add_argument("--from", dest="date_from")
    pr.add_argument("--to", dest="date_to")
    pr.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL, secrets.toml, data/appeals.sqlite)")
    pr.add_argument("--lang", choices=("ru", "en"), default="ru")
    pr.add_argument("--png", type=Path, help="write the chart for a social-network post here")
    pr.add_argument("--as-of", help="the moment the figures stand at (ISO; default: now)")
    args = p.parse_args(argv)
    try:
        d_from, d_to = period(args)
        now = (dt.datetime.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(dt.timezone.utc))
        now = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
        if d_to < CENTRE_START or d_from > local_date(now):
            raise ValueError(f"the period {d_from}..{d_to} lies outside the centre's history "
                             f"({CENTRE_START}..{local_date(now)})")
        engine = check_connection(args.db or resolve_database().url)
    except (ValueError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    from reports.press import press_release
    try:
        with engine.connect() as conn:
            release = press_release(conn, PRESS, d_from, d_to, now, args.lang)
    finally:
        engine.dispose()
    print(release.text)
    print()
    for line in release.definitions:
        print(f"— {line}")
    as_of = local_date(now).strftime("%d.%m.%Y") if args.lang == "ru" else local_date(now).isoformat()
    print(("Данные на " if args.lang == "ru" else "Data as of ") + as_of)
    if args.png:
        from reports.charts import press_chart
        args.png.write_bytes(press_chart(release, args.lang))
        print(f"{PROG}: chart written to {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
