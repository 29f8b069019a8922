"""python -m reports press-release (--month YYYY-MM | --week YYYY-Www | --from D --to D)
                                  [--db URL] [--lang ru|en] [--png FILE] [--as-of ISO]
python -m reports briefing --from D --to D [--territory CODE] --out FILE.pdf [--db URL] [--as-of ISO]
python -m reports subscribe USER --kind briefing|press --every week|month --email ADDR [--territory CODE]
python -m reports unsubscribe ID
python -m reports send-due [--db URL] [--now ISO]      # cron or a systemd timer: what is due, exactly once
python -m reports spikes --from D --to D [--level category|topic] [--db URL]   # CSV on stdout

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
MINISTER = Viewer("briefing", "analyst")  # the minister's whole region


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


def moment(text: str | None) -> dt.datetime:
    """An --as-of/--now argument (ISO; UTC when it names no zone), or now; ValueError if unreadable."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


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
    br = sub.add_parser("briefing", help="the minister's briefing as a PDF")
    br.add_argument("--from", dest="date_from", required=True)
    br.add_argument("--to", dest="date_to", required=True)
    br.add_argument("--territory", metavar="CODE", help="one territory (its code)")
    br.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    br.add_argument("--db", metavar="URL")
    br.add_argument("--as-of", help="the moment the figures stand at (ISO; default: now)")
    br.set_defaults(month=None, week=None)  # period() reads them
    su = sub.add_parser("subscribe", help="a user's standing order of the briefing or the press release")
    su.add_argument("user")
    su.add_argument("--kind", choices=("briefing", "press"), required=True)
    su.add_argument("--every", choices=("week", "month"), required=True)
    su.add_argument("--email", required=True)
    su.add_argument("--territory", metavar="CODE")
    su.add_argument("--db", metavar="URL")
    un = sub.add_parser("unsubscribe", help="end a subscription")
    un.add_argument("id", type=int)
    un.add_argument("--db", metavar="URL")
    sd = sub.add_parser("send-due", help="send what is due, exactly once (cron or a systemd timer)")
    sd.add_argument("--db", metavar="URL")
    sd.add_argument("--now", help="the moment to act at (ISO; default: now)")
    sp = sub.add_parser("spikes", help="the weeks' spikes against the season, as CSV")
    sp.add_argument("--from", dest="date_from", required=True)
    sp.add_argument("--to", dest="date_to", required=True)
    sp.add_argument("--level", choices=("category", "topic"), default="category")
    sp.add_argument("--db", metavar="URL")
    sp.set_defaults(month=None, week=None)
    args = p.parse_args(argv)
    if args.command == "spikes":
        return spikes(args)
    if args.command == "briefing":
        return briefing(args)
    if args.command in ("subscribe", "unsubscribe", "send-due"):
        return subscriptions(args)
    try:
        d_from, d_to = period(args)
        now = moment(args.as_of)
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


def subscriptions(args) -> int:
    from queries.config import resolve_admin_database
    from queries.migrate import upgrade
    from reports.subscriptions import SubscriptionError, send_due, smtp_settings, subscribe, unsubscribe
    try:
        engine = check_connection(args.db or resolve_admin_database().url)  # writes: the owner's connection
        upgrade(engine)
        if args.command == "subscribe":
            with engine.begin() as conn:
                sid = subscribe(conn, args.user, args.kind, args.every, args.email, args.territory)
            print(f"{PROG}: subscription {sid}: {args.kind} every {args.every} to {args.email}", file=sys.stderr)
            return 0
        if args.command == "unsubscribe":
            with engine.begin() as conn:
                if not unsubscribe(conn, args.id):
                    raise SubscriptionError(f"no subscription {args.id}")
            print(f"{PROG}: subscription {args.id} ended", file=sys.stderr)
            return 0
        now = moment(args.now)
        out = send_due(engine, now, smtp_settings())
    except (ValueError, ConfigError, SubscriptionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if "engine" in locals():
            engine.dispose()
    for sid, start in out.sent:
        print(f"sent: subscription {sid}, period from {start}", file=sys.stderr)
    for sid, start, why in out.failed:
        print(f"not sent (retried on the next run): subscription {sid}, period from {start}: {why}", file=sys.stderr)
    for sid, start in out.skipped:
        print(f"skipped (older than the backlog): subscription {sid}, period from {start}", file=sys.stderr)
    for sid, start in out.unconfirmed:
        print(f"claimed by an earlier run that did not record its sending: subscription {sid}, period from {start}"
              " (check the mail server's log; not resent)", file=sys.stderr)
    return 1 if out.failed else 0


def spikes(args) -> int:
    try:
        d_from, d_to = period(args)
        engine = check_connection(args.db or resolve_database().url)
    except (ValueError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    from reports.spikes import spike_table, to_csv
    try:
        with engine.connect() as conn:
            table = spike_table(conn, d_from, d_to, MINISTER, args.level)
    finally:
        engine.dispose()
    sys.stdout.write(to_csv(table))
    return 0


def briefing(args) -> int:
    from queries.filters import Filters
    try:
        d_from, d_to = period(args)
        now = moment(args.as_of)
        engine = check_connection(args.db or resolve_database().url)
    except (ValueError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    from sqlalchemy import text
    from reports.briefing import make_briefing, render_pdf
    try:
        with engine.connect() as conn:
            names = dict(conn.execute(text("select code, name_ru from municipalities")).all())
            if args.territory and args.territory not in names:
                print(f"{PROG}: error: no territory with code {args.territory!r}", file=sys.stderr)
                return 2
            filters = Filters(d_from, d_to, territories=(args.territory,) if args.territory else ())
            b = make_briefing(conn, MINISTER, filters, now,
                              f"территория: {names[args.territory]}" if args.territory else "все территории и темы")
    finally:
        engine.dispose()
    args.out.write_bytes(render_pdf(b))
    print(f"{PROG}: briefing written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
