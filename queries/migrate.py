"""Create or upgrade the schema with Alembic; the same code path for PostgreSQL and SQLite.

python -m queries.migrate status | upgrade | stamp REVISION [--db URL]   (docs/migrations.md)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The revisions squashed into the baseline: a database at the last of them has the baseline's
# schema and is stamped; one at an earlier one needs a release from before the squash first.
SQUASHED_HEAD = "0015"
SQUASHED = {f"{i:04d}" for i in range(1, 16)}


class MigrationError(RuntimeError):
    """A database this release cannot bring up to date."""


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == SQUASHED_HEAD:  # made by the migrations the baseline replaced: same schema
            command.stamp(alembic_config(conn), "baseline", purge=True)
        elif current in SQUASHED:
            raise MigrationError(f"the database is at revision {current}, from before the migrations were squashed: "
                                 "upgrade it to 0015 with an earlier release first (docs/migrations.md)")
        command.upgrade(alembic_config(conn), revision)


def stamp(engine: Engine, revision: str) -> None:
    """Record `revision` as the database's, without running anything (alembic stamp --purge)."""
    with engine.begin() as conn:
        command.stamp(alembic_config(conn), revision, purge=True)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def main(argv=None) -> int:
    from queries.config import ConfigError, mask_url
    from queries.db import admin_connection

    p = argparse.ArgumentParser(prog="python -m queries.migrate", description="The schema's Alembic revision.")
    p.add_argument("action", choices=("status", "upgrade", "stamp"))
    p.add_argument("revision", nargs="?", help="stamp: the revision to record (e.g. baseline)")
    p.add_argument("--db", help="database URL (default: ADMIN_DATABASE_URL, DATABASE_URL, secrets, the SQLite file)")
    args = p.parse_args(argv)
    if args.action == "stamp" and not args.revision:
        p.error("stamp needs a revision")
    try:
        url, engine = admin_connection(args.db)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "upgrade":
            upgrade(engine)
        elif args.action == "stamp":
            stamp(engine, args.revision)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{mask_url(url)}: at {current_revision(engine) or 'no revision'}, head {head_revision()}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
