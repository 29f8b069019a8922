"""A user's own subscriptions from the app: made through the owner's connection (the app's may be
read-only), within the user's scope (reports.subscriptions says what may be ordered)."""
from __future__ import annotations

from sqlalchemy import text

from queries.config import ConfigError, resolve_admin_database
from queries.db import make_engine
from queries.viewer import Viewer
from reports.subscriptions import SubscriptionError, subscribe, unsubscribe


class Refused(Exception):
    """A subscription not made: the reason, in English (the page says its own sentence)."""


def add(viewer: Viewer, kind: str, every: str, email: str) -> int:
    try:
        engine = make_engine(resolve_admin_database().url, create_dirs=False)
    except ConfigError as exc:
        raise Refused(str(exc)) from None
    try:
        with engine.begin() as conn:
            return subscribe(conn, viewer.username, kind, every, email.strip())
    except SubscriptionError as exc:
        raise Refused(str(exc)) from None
    finally:
        engine.dispose()


def mine(viewer: Viewer) -> list[tuple]:
    """The user's active subscriptions: (id, kind, every, email)."""
    engine = make_engine(resolve_admin_database().url, create_dirs=False)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select id, kind, every, email from subscriptions where username = :u and active "
                                     "order by id"), {"u": viewer.username}).all()
    finally:
        engine.dispose()


def cancel(viewer: Viewer, sid: int) -> bool:
    """End one of the user's own subscriptions."""
    engine = make_engine(resolve_admin_database().url, create_dirs=False)
    try:
        with engine.begin() as conn:
            return unsubscribe(conn, sid, viewer.username)
    finally:
        engine.dispose()
