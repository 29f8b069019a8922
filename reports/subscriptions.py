"""Delivered without asking: a user's standing order of the weekly or monthly briefing or press
release, sent by e-mail when its period has ended, exactly once.

`python -m reports send-due` (cron or a systemd timer; docs/reports.md) finds, for each active
subscription, the whole periods (Mon–Sun weeks, months) that ended since it was made and were not
delivered, claims each by inserting its (subscription, period) row — the primary key lets one
claim through however many runs overlap — builds the attachment in the subscriber's own scope,
sends it and records the sending. A failed sending gives its claim back, so the next run retries
it; a run that dies after the SMTP server accepted the message and before the record leaves the
claim unconfirmed: it is reported, never sent twice on its own. After a long stop the last
BACKLOG periods of each subscription are sent, the older ones said and skipped.
"""
from __future__ import annotations

import datetime as dt
import os
import smtplib
import tomllib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from queries import periods, schema
from queries.config import SECRETS_PATH
from queries.filters import Filters
from queries.localtime import local_date
from queries.users import viewer_for
from queries.viewer import Viewer

BACKLOG = 4  # periods of one subscription sent after a stop; older ones are reported, not sent


class SubscriptionError(ValueError):
    """A subscription that cannot be made or served: one English sentence."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "pulse@localhost"
    starttls: bool = False


def smtp_settings(secrets_path=SECRETS_PATH) -> Smtp:
    """PULSE_SMTP_HOST/PORT/USER/PASSWORD/FROM/STARTTLS, else secrets.toml [smtp]; never the repo."""
    raw: dict = {}
    if secrets_path.exists():
        raw = tomllib.loads(secrets_path.read_text(encoding="utf-8")).get("smtp", {})
    env = lambda k, d=None: os.environ.get(f"PULSE_SMTP_{k.upper()}") or raw.get(k, d)  # noqa: E731
    host = env("host")
    if not host:
        raise SubscriptionError("no SMTP server: set PULSE_SMTP_HOST (or [smtp] host in .streamlit/secrets.toml)")
    return Smtp(str(host), int(env("port", 25)), env("user"), env("password"), str(env("from", "pulse@localhost")),
                str(env("starttls", "0")).lower() in ("1", "true", "yes"))


def subscribe(conn: Connection, username: str, kind: str, every: str, email: str, territory: str | None = None,
              now: dt.datetime | None = None) -> int:
    """A new subscription; the press release is region-wide (analyst and press roles only), a
    territory must lie within the user's scope."""
    user = conn.execute(select(schema.users).where(schema.users.c.username == username)).first()
    if user is None or user.disabled:
        raise SubscriptionError(f"no active user {username!r}")
    if kind not in ("briefing", "press") or every not in ("week", "month"):
        raise SubscriptionError("kind is briefing or press; every is week or month")
    if "@" not in email or any(c in email for c in " \r\n,;<>"):
        raise SubscriptionError(f"{email!r} is not one e-mail address")
    viewer = viewer_for(conn, user)
    if kind == "press" and not viewer.sees_press_release:
        raise SubscriptionError(f"the press release is region-wide: not for the {viewer.role} role")
    if territory:
        if viewer.role == "executor" or (viewer.territories and territory not in _within(conn, viewer.territories)):
            raise SubscriptionError(f"territory {territory} lies outside {username}'s scope")
        if conn.execute(select(schema.municipalities.c.id).where(schema.municipalities.c.code == territory)).first() is None:
            raise SubscriptionError(f"no territory with code {territory!r}")
    now = now or dt.datetime.now(dt.timezone.utc)
    return int(conn.execute(insert(schema.subscriptions).values(
        username=username, kind=kind, every=every, email=email, territory_code=territory,
        created_at=now.replace(microsecond=0), active=True)).inserted_primary_key[0])


def unsubscribe(conn: Connection, sid: int, username: str | None = None) -> bool:
    """End a subscription (its deliveries stay on record); `username`: only the user's own."""
    s = schema.subscriptions
    cond = s.c.id == sid if username is None else and_(s.c.id == sid, s.c.username == username)
    return conn.execute(update(s).where(cond).values(active=False)).rowcount > 0


def _within(conn: Connection, codes: tuple[str, ...]) -> set[str]:
    """The codes of territories and their city districts."""
    m = schema.municipalities
    ids = select(m.c.id).where(m.c.code.in_(codes))
    return set(conn.execute(select(m.c.code).where(m.c.code.in_(codes) | m.c.parent_id.in_(ids))).scalars())


def due(every: str, created: dt.date, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole periods that ended before `today`, from the one in which the subscription was
    made (oldest first)."""
    unit = "week" if every == "week" else "month"
    start = periods.calendar_range(f"this_{unit}", created)[0]
    out = []
    while True:
        end = (start + dt.timedelta(days=6)) if unit == "week" else periods.month_range(start.year, start.month)[1]
        if end >= today:
            return out
        out.append((start, end))
        start = end + dt.timedelta(days=1)


@dataclass
class Outcome:
    sent: list[tuple[int, dt.date]]
    failed: list[tuple[int, dt.date, str]]
    skipped: list[tuple[int, dt.date]]       # older than the backlog
    unconfirmed: list[tuple[int, dt.date]]   # claimed by a run that did not record its sending


def _subject(words: str) -> str:
    """A Cyrillic subject with no-break spaces: a mail reader drops the folding space between two
    encoded words (RFC 2047), so a subject folded at a space would read «11апреля»."""
    return words.replace(" ", "\u00a0")


def _message(conn: Connection, sub, viewer: Viewer, d_from: dt.date, d_to: dt.date, now: dt.datetime,
             smtp: Smtp) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = smtp.sender, sub.email
    when = periods.in_words(d_from, d_to)
    if sub.kind == "press":
        from reports.charts import press_chart
        from reports.press import press_release
        release = press_release(conn, viewer, d_from, d_to, now)
        msg["Subject"] = _subject(f"Пресс-релиз ЦУР: {when}")
        msg.set_content(release.text + "\n\n" + "\n".join(f"— {x}" for x in release.definitions)
                        + f"\nДанные на {local_date(now):%d.%m.%Y}.")
        msg.add_attachment(press_chart(release), maintype="image", subtype="png",
                           filename=f"press-{d_from}-{d_to}.png")
    else:
        from reports.briefing import make_briefing, render_pdf
        territories = (sub.territory_code,) if sub.territory_code else ()
        m = schema.municipalities
        names = dict(conn.execute(select(m.c.code, m.c.name_ru)).all())
        codes = territories or viewer.territories
        scope = ("территория: " + ", ".join(names.get(c, c) for c in codes)) if codes else "все территории и темы"
        b = make_briefing(conn, viewer, Filters(d_from, d_to, territories=territories), now, scope)
        msg["Subject"] = _subject(f"Справка ЦУР: {when}")
        # the period's spikes against the season in the same scope (reports.spikes)
        from reports.spikes import sentence, spike_table
        found = spike_table(conn, d_from, d_to, viewer, within=tuple(codes))
        unusual = ("Необычное за период (всплески против сезона):\n" + "\n".join(
            f"— {sentence(r)}" for _, r in found.head(10).iterrows()) if len(found)
            else "Необычных всплесков за период нет.")
        msg.set_content(f"Справка по обращениям жителей {when} — во вложении (PDF).\n\n{unusual}\n\n"
                        f"Данные на {local_date(now):%d.%m.%Y}. Подписка № {sub.id}.")
        msg.add_attachment(render_pdf(b), maintype="application", subtype="pdf",
                           filename=f"briefing-{d_from}-{d_to}.pdf")
    return msg


def send_due(engine: Engine, now: dt.datetime, smtp: Smtp) -> Outcome:
    out = Outcome([], [], [], [])
    today = local_date(now)
    with engine.connect() as conn:
        subs = conn.execute(select(schema.subscriptions).where(schema.subscriptions.c.active)).all()
    d = schema.deliveries
    for sub in subs:
        with engine.connect() as conn:
            done = {r.period_start: r.sent_at for r in conn.execute(select(d).where(d.c.subscription_id == sub.id))}
        created = sub.created_at if sub.created_at.tzinfo else sub.created_at.replace(tzinfo=dt.timezone.utc)
        # never behind the latest period already claimed: what the backlog skipped stays skipped
        last = max(done, default=None)
        owed = [p for p in due(sub.every, local_date(created), today) if last is None or p[0] > last]
        out.unconfirmed += [(sub.id, start) for start, sent in done.items() if sent is None]
        out.skipped += [(sub.id, p[0]) for p in owed[:-BACKLOG]]
        for d_from, d_to in owed[-BACKLOG:]:
            try:
                with engine.begin() as conn:  # the claim: one row per (subscription, period)
                    conn.execute(insert(d).values(subscription_id=sub.id, period_start=d_from, period_end=d_to,
                                                  claimed_at=now))
            except IntegrityError:  # another run claimed it first
                continue
            try:
                with engine.connect() as conn:
                    user = conn.execute(select(schema.users).where(schema.users.c.username == sub.username)).first()
                    if user is None or user.disabled:
                        raise SubscriptionError(f"user {sub.username!r} is no longer active")
                    msg = _message(conn, sub, viewer_for(conn, user), d_from, d_to, now, smtp)
                with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as server:
                    if smtp.starttls:
                        server.starttls()
                    if smtp.user:
                        server.login(smtp.user, smtp.password or "")
                    server.send_message(msg)
            except Exception as exc:  # not sent: the claim goes back for the next run
                with engine.begin() as conn:
                    conn.execute(delete(d).where(and_(d.c.subscription_id == sub.id, d.c.period_start == d_from)))
                out.failed.append((sub.id, d_from, f"{type(exc).__name__}: {exc}"))
                continue
            with engine.begin() as conn:
                conn.execute(update(d).where(and_(d.c.subscription_id == sub.id, d.c.period_start == d_from))
                             .values(sent_at=now))
            out.sent.append((sub.id, d_from))
    return out
