"""Sign-in sessions that survive a reload, and throttling of failed sign-ins across sessions.

A session is a random token held by the browser in an HttpOnly cookie (dashboard/gate.py sets it)
and stored here as its SHA-256 only. It lives while the user is active (idle limit, default 8 h)
and at most an absolute time (default 7 days); signing out, disabling the user or changing the
password revokes it. Every page run checks the session and the user's current status and role
(`current`), so that a disabled user or a changed role takes effect on the next click.

Failed sign-ins are counted per user name and per client address across browser sessions: past
MAX_PER_NAME (or MAX_PER_CLIENT) failures in WINDOW, sign-in is refused for the rest of the
window, with the same message and time for existing and unknown names.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from queries import schema
from queries.users import viewer_for
from queries.viewer import Viewer

COOKIE = "pulse_session"
TICKET_TTL = dt.timedelta(minutes=2)
TOUCH_EVERY = dt.timedelta(minutes=1)   # last_seen_at is written at most this often per session
WINDOW = dt.timedelta(minutes=15)
MAX_PER_NAME = 5
MAX_PER_CLIENT = 20                     # an office behind one address has several users


def idle_limit() -> dt.timedelta:
    return dt.timedelta(hours=float(os.environ.get("PULSE_SESSION_IDLE_HOURS", "8")))


def absolute_limit() -> dt.timedelta:
    return dt.timedelta(days=float(os.environ.get("PULSE_SESSION_MAX_DAYS", "7")))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    id: int
    username: str
    last_seen_at: dt.datetime | None = field(default=None, compare=False)

    @property
    def stale(self) -> bool:
        """Whether its activity should be written down again (at most once a TOUCH_EVERY)."""
        return self.last_seen_at is None or self.last_seen_at + TOUCH_EVERY <= _now()


def touch(conn: Connection, session: Session) -> None:
    """Record activity: the idle limit counts from here. Its own short transaction, apart from the
    reads: on SQLite a read that turns into a write fails at once when another writer came between."""
    conn.execute(update(schema.user_sessions).where(schema.user_sessions.c.id == session.id)
                 .values(last_seen_at=_now()))


def start(conn: Connection, username: str, client: str | None = None) -> tuple[Session, str]:
    """A new session for a user who has just proved who they are, and the single-use ticket
    the browser exchanges for the session's cookie (exchange)."""
    now = _now()
    ticket = secrets.token_urlsafe(32)
    sid = conn.execute(insert(schema.user_sessions).values(
        username=username, ticket_hash=digest(ticket), created_at=now, last_seen_at=now,
        expires_at=now + absolute_limit(), client=(client or "")[:100] or None).returning(schema.user_sessions.c.id)
    ).scalar_one()
    return Session(int(sid), username), ticket


def exchange(conn: Connection, ticket: str) -> tuple[str, dt.timedelta] | None:
    """The session token for a fresh, unused ticket (and how long the cookie may live), else None."""
    s = schema.user_sessions
    now = _now()
    row = conn.execute(select(s.c.id, s.c.created_at, s.c.expires_at).where(
        s.c.ticket_hash == digest(ticket), s.c.token_hash.is_(None), s.c.revoked_at.is_(None))).first()
    if row is None or _utc(row.created_at) + TICKET_TTL < now:
        return None
    token = secrets.token_urlsafe(32)
    conn.execute(update(s).where(s.c.id == row.id).values(token_hash=digest(token), ticket_hash=None))
    return token, _utc(row.expires_at) - now


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _live(conn: Connection, condition) -> tuple[Session, Viewer] | None:
    s, u = schema.user_sessions, schema.users
    row = conn.execute(
        select(s.c.id.label("session_id"), s.c.last_seen_at, s.c.expires_at, u)
        .join(u, u.c.username == s.c.username)
        .where(condition, s.c.revoked_at.is_(None), u.c.disabled.is_(False))).first()
    now = _now()
    if row is None or _utc(row.expires_at) <= now or _utc(row.last_seen_at) + idle_limit() <= now:
        return None
    try:
        return Session(int(row.session_id), row.username, _utc(row.last_seen_at)), viewer_for(conn, row)
    except ValueError:  # a role without its scope: nobody to show
        return None


def resume(conn: Connection, token: str) -> tuple[Session, Viewer] | None:
    """The session and the user's current viewer for a cookie's token, if it is still live (read only)."""
    return _live(conn, schema.user_sessions.c.token_hash == digest(token))


def resume_session(conn: Connection, session: Session) -> tuple[Session, Viewer] | None:
    """A live session as stored now (its last activity) and its user's current viewer, else None."""
    return _live(conn, schema.user_sessions.c.id == session.id)


def current(conn: Connection, session: Session) -> Viewer | None:
    """The viewer of a live session now (its user's current role and scope), else None."""
    return None if (found := resume_session(conn, session)) is None else found[1]


def user_now(conn: Connection, username: str) -> Viewer | None:
    """The enabled user's current viewer (a sign-in this process made without a cookie), else None."""
    u = schema.users
    row = conn.execute(select(u).where(u.c.username == username, u.c.disabled.is_(False))).first()
    try:
        return None if row is None else viewer_for(conn, row)
    except ValueError:
        return None


def revoke(conn: Connection, session_id: int) -> int:
    """Revoke one session (signing out); users.revoke_sessions revokes every session of a user."""
    s = schema.user_sessions
    return conn.execute(update(s).where(s.c.id == session_id, s.c.revoked_at.is_(None))
                        .values(revoked_at=_now())).rowcount or 0


def token_viewer(conn: Connection, token: str | None) -> Viewer | None:
    """Who a request's cookie belongs to (the gate's check of downloads and uploads)."""
    if not token:
        return None
    found = resume(conn, token)
    return None if found is None else found[1]


# ---- throttling ------------------------------------------------------------------------------

def locked(conn: Connection, username: str, client: str | None) -> bool:
    """Whether sign-in is refused for this name or this client address right now."""
    f = schema.sign_in_failures
    since = _now() - WINDOW
    by_name = conn.execute(select(func.count()).where(f.c.username == username, f.c.at > since)).scalar_one()
    by_client = conn.execute(select(func.count()).where(f.c.client == client, f.c.at > since)).scalar_one() \
        if client else 0
    return by_name >= MAX_PER_NAME or by_client >= MAX_PER_CLIENT


def failed(conn: Connection, username: str, client: str | None) -> None:
    conn.execute(insert(schema.sign_in_failures).values(at=_now(), username=username[:100],
                                                        client=(client or "")[:100] or None))


def succeeded(conn: Connection, username: str) -> None:
    """A correct password clears the name's failures (the client's stay: another name may be guessed)."""
    f = schema.sign_in_failures
    conn.execute(delete(f).where(and_(f.c.username == username)))
