"""python -m seed: fill a database with the default demo scenario of ЦУР НСО."""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from queries.config import ConfigError, mask_url, resolve_admin_database
from queries.db import check_connection, describe_failure
from queries.localtime import LOCAL, local_date
from seed import scenario as sc
from seed.generator import Scenario
from ingest.progress import text_progress
from seed.load import SeedError, appeal_count, seed_database

LOCAL_TZ = LOCAL  # the region's (the demo scenario is Novosibirsk Oblast's)

EPILOG = """\
The scenario simulates ЦУР НСО from its start on 2020-11-26: monthly volumes per channel
(ПОС, VK, OK, Telegram, Instagram and Facebook until 2022-03-20, website), territories by
population and activity, topics by season (snow in winter, heating in autumn, COVID-19 in
2021), executors with their own speed and quality, the clinic → Минздрав escalation path,
citizen feedback, ratings, reopenings and rare comment removals. It reproduces the published
figures listed in docs/calibration.md. The same seed and --until give the same database.

The database URL comes from --db, else DATABASE_URL, else .streamlit/secrets.toml
[connections.appeals] url, else the embedded SQLite file data/appeals.sqlite.
"""


def parse_until(value: str) -> dt.datetime:
    """YYYY-MM-DD: data up to the end of that local day; YYYY-MM-DDTHH[:MM]: up to that local moment."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ) + dt.timedelta(days=1)
        else:
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (expected YYYY-MM-DD)") from None
    return moment.astimezone(dt.timezone.utc)


def parse_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not scale > 0 or scale != scale or scale == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return scale


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit status 2, as argparse does, minus the usage block
        self.exit(2, f"python -m seed: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m seed", description=__doc__, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", metavar="URL", help="database URL (postgresql://… or sqlite:///path)")
    p.add_argument("--seed", type=int, default=20201126, metavar="N", help="random seed (default: %(default)s)")
    p.add_argument("--until", type=parse_until, default=None, metavar="DATE",
                   help="last local day to simulate, YYYY-MM-DD (default: now, to the hour)")
    p.add_argument("--scale", type=parse_scale, default=1.0, metavar="F",
                   help="multiply all volumes by F, e.g. 10 for benchmarks (default: 1)")
    p.add_argument("--replace", action="store_true", help="delete existing appeals first (in the same transaction)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def existing_appeals(engine) -> int:
    from sqlalchemy import inspect
    if not inspect(engine).has_table("appeals"):
        return 0
    return appeal_count(engine)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    as_of = args.until or now
    if as_of > now:
        as_of = now
    if local_date(as_of) < sc.CENTRE_START:
        print(f"python -m seed: error: --until must not be before the centre's start date {sc.CENTRE_START}", file=sys.stderr)
        return 2
    try:
        url = args.db or resolve_admin_database().url
        engine = check_connection(url, bulk=True)
    except ConfigError as exc:
        print(f"python -m seed: error: {exc}", file=sys.stderr)
        return 2
    scenario = Scenario(seed=args.seed, as_of=as_of, scale=args.scale)
    existing = existing_appeals(engine)
    if existing and not args.replace:
        print(f"python -m seed: error: the database already holds {existing} appeals; "
              f"pass --replace to regenerate them", file=sys.stderr)
        engine.dispose()
        return 2
    print(f"Seeding {mask_url(url)}: seed {args.seed}, scale {args.scale:g}, data up to "
          f"{as_of.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} local time", file=sys.stderr)
    try:
        result = seed_database(engine, scenario, replace=args.replace,
                               progress=None if args.quiet else text_progress())
    except SeedError as exc:
        print(f"python -m seed: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database failure mid-way: the transaction has been rolled back
        print(f"python -m seed: error: {describe_failure(url, exc)} (nothing was written)", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Seeded {result.appeals:,} appeals and {result.events:,} events in {result.seconds:.1f} s "
          f"({result.rows_per_second:,.0f} rows/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
