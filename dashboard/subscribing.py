"""A user's own subscriptions from the app: made through the owner's connection (the app's may be
read-only), within the user's scope (reports.subscriptions says what may be ordered)."""
from __future__ import annotations

from sqlalchemy import text

from dashboard.data import owner_engine
from queries.config import ConfigError
from queries.viewer import Viewer
from reports.subscriptions import SubscriptionError, subscribe, unsubscribe


class Refused(Exception):
    """A subscription not made: the reason, in English (the page says its own sentence)."""


def add(viewer: Viewer, kind: str, every: str, email: str) -> int:
    try:
        with owner_engine().begin() as conn:
            return subscribe(conn, viewer.username, kind, every, email.strip())
    except (SubscriptionError, ConfigError) as exc:
        raise Refused(str(exc)) from None


def mine(viewer: Viewer) -> list[tuple]:
    """The user's active subscriptions: (id, kind, every, email). Read on every overview run,
    through the one cached engine (not a new one each time)."""
    with owner_engine().connect() as conn:
        return conn.execute(text("select id, kind, every, email from subscriptions where username = :u and active "
                                 "order by id"), {"u": viewer.username}).all()


def cancel(viewer: Viewer, sid: int) -> bool:
    """End one of the user's own subscriptions."""
    with owner_engine().begin() as conn:
        return unsubscribe(conn, sid, viewer.username)
