"""Local user store (argon2 password hashes) and the CLI to manage it.

python -m queries.users add NAME --role analyst|press|head|executor [--territory CODE] [--executor CODE]
python -m queries.users list | disable NAME | enable NAME | passwd NAME
The password is read from standard input (one line) or asked for on a terminal.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from queries import schema
from queries.viewer import ROLES, Viewer

_hasher = PasswordHasher()
DEMO_USERS = [  # the embedded demo database only; never with a PostgreSQL URL
    ("minister", "analyst", None, None, "Министр (демо)"),
    ("press", "press", None, None, "Пресс-служба (демо)"),
    ("head-berdsk", "head", "50708000", None, "Глава Бердска (демо)"),
    ("minzdrav", "executor", None, "minzdrav", "Минздрав (демо)"),
]


class UserError(Exception):
    """A user operation that cannot be done; one sentence."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_scope(conn: Connection, role: str, territory: str | None, executor: str | None) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "head":
        if not territory or conn.execute(select(schema.municipalities.c.id).where(
                schema.municipalities.c.code == territory)).first() is None:
            raise UserError(f"a head needs --territory with a known territory code, got {territory!r}")
    if role == "executor":
        if not executor or conn.execute(select(schema.organizations.c.id).where(
                schema.organizations.c.code == executor)).first() is None:
            raise UserError(f"an executor needs --executor with a known organization code, got {executor!r}")


def add_user(conn: Connection, username: str, password: str, role: str, territory: str | None = None,
             executor: str | None = None, display_name: str | None = None) -> None:
    if not username or not password:
        raise UserError("a user needs a name and a non-empty password")
    _check_scope(conn, role, territory, executor)
    if conn.execute(select(schema.users.c.id).where(schema.users.c.username == username)).first():
        raise UserError(f"user {username!r} already exists")
    conn.execute(insert(schema.users).values(
        username=username, password_hash=hash_password(password), role=role, territory_code=territory,
        executor_code=executor, display_name=display_name, disabled=False,
        created_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0)))


def viewer_for(conn: Connection, row) -> Viewer:
    executors: tuple[int, ...] = ()
    if row.executor_code:
        org = conn.execute(select(schema.organizations.c.id).where(
            schema.organizations.c.code == row.executor_code)).scalar_one()
        executors = (int(org),)
    return Viewer(row.username, row.role, (row.territory_code,) if row.territory_code else (), executors)


def spend(password: str) -> None:
    """The time of a password check, and no viewer (a throttled sign-in looks like a wrong one)."""
    _hasher.hash(password)
    return None


def authenticate(conn: Connection, username: str, password: str) -> Viewer | None:
    """The viewer for a correct name and password of an enabled user, else None."""
    row = conn.execute(select(schema.users).where(schema.users.c.username == username)).first()
    if row is None:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row.disabled:
        return None
    return viewer_for(conn, row)


def revoke_sessions(conn: Connection, username: str) -> int:
    """End every sign-in of a user (disabling, a new password)."""
    s = schema.user_sessions
    return conn.execute(update(s).where(s.c.username == username, s.c.revoked_at.is_(None))
                        .values(revoked_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0))).rowcount or 0


def ensure_demo_users(conn: Connection) -> int:
    """Create the demo users with the password `demo` where missing; returns how many were created."""
    made = 0
    for name, role, territory, executor, display in DEMO_USERS:
        if conn.execute(select(schema.users.c.id).where(schema.users.c.username == name)).first() is None:
            add_user(conn, name, "demo", role, territory, executor, display)
            made += 1
    return made


def main(argv=None) -> int:
    from queries.config import ConfigError, resolve_admin_database
    from queries.db import check_connection
    from queries.migrate import upgrade

    p = argparse.ArgumentParser(prog="python -m queries.users", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", metavar="URL", help="database URL (an administrative one: this writes)")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--territory", help="municipality code, for --role head")
    a.add_argument("--executor", help="organization code, for --role executor")
    a.add_argument("--name", help="display name")
    sub.add_parser("list")
    for cmd in ("disable", "enable", "passwd"):
        sub.add_parser(cmd).add_argument("username")
    args = p.parse_args(argv)
    try:
        engine = check_connection(args.db or resolve_admin_database().url)
        upgrade(engine)
        with engine.begin() as conn:
            if args.cmd == "list":
                for r in conn.execute(select(schema.users).order_by(schema.users.c.username)):
                    scope = r.territory_code or r.executor_code or ""
                    print(f"{r.username}\t{r.role}\t{scope}\t{'disabled' if r.disabled else 'active'}")
                return 0
            if args.cmd in ("disable", "enable"):
                n = conn.execute(update(schema.users).where(schema.users.c.username == args.username)
                                 .values(disabled=args.cmd == "disable")).rowcount
                if not n:
                    raise UserError(f"no user {args.username!r}")
                if args.cmd == "disable":  # open tabs notice on their next click; cookies stop working now
                    revoke_sessions(conn, args.username)
                return 0
            password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
            if args.cmd == "passwd":
                n = conn.execute(update(schema.users).where(schema.users.c.username == args.username)
                                 .values(password_hash=hash_password(password))).rowcount
                if not n or not password:
                    raise UserError(f"no user {args.username!r}, or an empty password")
                revoke_sessions(conn, args.username)
                return 0
            add_user(conn, args.username, password, args.role, args.territory, args.executor, args.name)
            print(f"user {args.username} ({args.role}) added", file=sys.stderr)
    except (UserError, ConfigError) as exc:
        print(f"python -m queries.users: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
