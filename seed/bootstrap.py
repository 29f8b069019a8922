"""`make run`'s first step: create or upgrade the schema; seed demo data on the first start only."""
from __future__ import annotations

import sys

from queries.config import ConfigError, mask_url, resolve_admin_database
from queries.db import check_connection
from queries.migrate import current_revision, head_revision, upgrade
from queries.dataset import info
from queries.users import ensure_demo_users
from seed.generator import Scenario
from ingest.progress import text_progress
from seed.load import SeedError, appeal_count, seed_database


def wants_demo_users(target, dataset_info: dict) -> bool:
    """Demo users (password `demo`) belong to the embedded demo database only."""
    return target.is_default and dataset_info.get("kind") == "demo"


def main() -> int:
    try:
        target = resolve_admin_database()
        engine = check_connection(target.url, bulk=True)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        before = current_revision(engine)
        if before != head_revision():
            print(f"Database {mask_url(target.url)}: schema {before or 'empty'} → {head_revision()}", file=sys.stderr)
            upgrade(engine)
        count = appeal_count(engine)
        if count == 0 and target.is_default:
            print("First start: generating the demo data of ЦУР НСО and its summary tables (2-3 minutes on a "
                  "2-core machine; each stage is shown)…", file=sys.stderr)
            result = seed_database(engine, Scenario(), progress=text_progress())
            print(f"Demo data ready: {result.appeals:,} appeals in {result.seconds:.0f} s.", file=sys.stderr)
        elif count == 0:
            print(f"The database {mask_url(target.url)} holds no appeals yet; load them with "
                  f"`python -m seed --db URL` (demo) or an import.", file=sys.stderr)
        else:
            print(f"Database {mask_url(target.url)}: {count:,} appeals.", file=sys.stderr)
        with engine.connect() as conn:
            ensure_demo = wants_demo_users(target, info(conn))
        if ensure_demo:  # the embedded demo database only: never for a PostgreSQL URL
            with engine.begin() as conn:
                if ensure_demo_users(conn):
                    print("Demo users created (password: demo): minister, press, head-berdsk, minzdrav.",
                          file=sys.stderr)
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
