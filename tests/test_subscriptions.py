"""Subscriptions: the briefing and the press release by e-mail, exactly once, in the subscriber's
scope, through a real SMTP server started here (aiosmtpd), on both databases."""
import datetime as dt
import email
import email.policy
import re
import subprocess

import pytest
from sqlalchemy import text

from queries.db import make_engine
from queries.migrate import upgrade
from queries.users import add_user
from reports.press import press_release
from reports.subscriptions import Smtp, SubscriptionError, due, send_due, subscribe

from .conftest import SMALL_AS_OF

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    import socket
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield Smtp("127.0.0.1", port, sender="pulse@test"), inbox
    controller.stop()


@pytest.fixture
def db(small_db, tmp_path):
    """A copy of the small demo database with two users (a head of Бердск, the minister)."""
    if small_db.dialect.name == "sqlite":
        import shutil
        path = tmp_path / "subs.sqlite"
        shutil.copy(small_db.url.database, path)
        engine = make_engine(f"sqlite:///{path}")
    else:
        engine = small_db  # PostgreSQL: the session's database; the test's rows are removed after
    upgrade(engine)
    with engine.begin() as c:
        for u in ("sub-head", "sub-minister", "sub-press"):
            c.execute(text("delete from deliveries where subscription_id in (select id from subscriptions where username = :u)"), {"u": u})
            c.execute(text("delete from subscriptions where username = :u"), {"u": u})
            c.execute(text("delete from users where username = :u"), {"u": u})
        add_user(c, "sub-head", "secret-pass", "head", territory="50708000")
        add_user(c, "sub-minister", "secret-pass", "analyst")
        add_user(c, "sub-press", "secret-pass", "press")
    yield engine
    with engine.begin() as c:
        c.execute(text("delete from deliveries where subscription_id in (select id from subscriptions where "
                       "username like 'sub-%')"))
        c.execute(text("delete from subscriptions where username like 'sub-%'"))
        c.execute(text("delete from users where username like 'sub-%'"))


def test_due_periods_are_whole_weeks_and_months_since_the_subscription():
    assert due("week", dt.date(2021, 3, 3), dt.date(2021, 3, 16)) == [
        (dt.date(2021, 3, 1), dt.date(2021, 3, 7)), (dt.date(2021, 3, 8), dt.date(2021, 3, 14))]
    assert due("month", dt.date(2021, 1, 20), dt.date(2021, 3, 1)) == [
        (dt.date(2021, 1, 1), dt.date(2021, 1, 31)), (dt.date(2021, 2, 1), dt.date(2021, 2, 28))]


def test_each_period_is_sent_once_in_the_subscribers_scope(db, smtp, tmp_path):
    server, inbox = smtp
    created = dt.datetime(2021, 3, 1, 3, tzinfo=dt.timezone.utc)
    with db.begin() as c:
        head = subscribe(c, "sub-head", "briefing", "week", "head@test", now=created)
        press = subscribe(c, "sub-press", "press", "month", "press@test", now=created)
        with pytest.raises(SubscriptionError):  # region-wide text: not for a head
            subscribe(c, "sub-head", "press", "week", "x@test", now=created)
        with pytest.raises(SubscriptionError):  # another territory than the head's
            subscribe(c, "sub-head", "briefing", "week", "x@test", territory="50701000", now=created)
    now = SMALL_AS_OF  # 15 April 2021: weeks 1 Mar … 5 Apr ended, March ended
    out = send_due(db, now, server)
    weeks = due("week", dt.date(2021, 3, 1), dt.date(2021, 4, 15))
    assert not out.failed, out.failed
    assert sorted(out.sent) == sorted([(head, w[0]) for w in weeks[-4:]] + [(press, dt.date(2021, 3, 1))])
    assert out.skipped == [(head, w[0]) for w in weeks[:-4]] and not out.failed
    assert len(inbox.messages) == len(out.sent)
    # run twice: nothing more
    again = send_due(db, now, server)
    assert not again.sent and len(inbox.messages) == len(out.sent)
    # the press release is the dashboard's text; its chart is attached
    msg = next(m for m in inbox.messages if m["To"] == "press@test")
    from queries.viewer import Viewer
    with db.connect() as c:
        want = press_release(c, Viewer("sub-press", "press"), dt.date(2021, 3, 1), dt.date(2021, 3, 31), now)
    assert msg["Subject"].replace("\u00a0", " ") == "Пресс-релиз ЦУР: в марте 2021 года"
    assert msg.get_body(("plain",)).get_content().startswith(want.text)
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["image/png"]
    # the head's briefing: a PDF holding their territory's figures and no other's
    head_msg = next(m for m in inbox.messages if m["To"] == "head@test")
    pdf = next(head_msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf.get_content())
    import shutil
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (Debian's poppler-utils; .ci/run installs it)")
    body = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    with db.connect() as c:
        name = c.execute(text("select name_ru from municipalities where code = '50708000'")).scalar_one()
    assert f"территория: {name}" in body  # the head's scope (the league compares it with its peers, as the app)
    cases = [int(x) for x in re.findall(r"№ (\d+)", body)]
    with db.connect() as c:
        outside = c.execute(text("""select count(*) from appeals a join municipalities m on m.id = a.municipality_id
            where a.id in :ids and m.code <> '50708000'""").bindparams(
            __import__("sqlalchemy").bindparam("ids", expanding=True)), {"ids": cases or [-1]}).scalar_one()
    assert outside == 0


def test_a_failed_sending_is_retried_and_a_missed_run_catches_up(db, smtp):
    server, inbox = smtp
    with db.begin() as c:
        sid = subscribe(c, "sub-minister", "press", "week", "m@test", now=dt.datetime(2021, 3, 29, tzinfo=dt.timezone.utc))
    down = Smtp("127.0.0.1", 1, sender="pulse@test")  # nothing listens on port 1
    first = dt.datetime(2021, 4, 6, 3, tzinfo=dt.timezone.utc)  # the week of 29 March has ended
    out = send_due(db, first, down)
    assert out.failed and not out.sent and not inbox.messages
    with db.connect() as c:
        assert c.execute(text("select count(*) from deliveries where subscription_id = :s"), {"s": sid}).scalar_one() == 0
    later = dt.datetime(2021, 4, 14, 3, tzinfo=dt.timezone.utc)  # a run missed in between: two weeks owed
    out = send_due(db, later, server)
    assert out.sent == [(sid, dt.date(2021, 3, 29)), (sid, dt.date(2021, 4, 5))]
    assert [m["Subject"].replace("\u00a0", " ") for m in inbox.messages] == ["Пресс-релиз ЦУР: с 29 марта по 4 апреля 2021 года",
                                                      "Пресс-релиз ЦУР: с 5 по 11 апреля 2021 года"]


def test_a_user_subscribes_from_the_overview(db):
    from queries.viewer import Viewer

    from .pagetools import run_page
    url = db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/overview.py", viewer=Viewer("sub-head", "head", ("50708000",)))
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="subscribe_kind").options == ["Справку (файл ПДФ) в пределах моих прав"]  # no press release
    at.radio(key="subscribe_every").set_value("month")
    at.text_input(key="subscribe_email").input("head@example.org")
    at.button[[b.label for b in at.button].index("Подписаться")].click().run()
    assert at.success and "оформлена" in at.success[0].value
    with db.connect() as c:
        rows = c.execute(text("select kind, every, email from subscriptions where username = 'sub-head'")).all()
    assert [tuple(r) for r in rows] == [("briefing", "month", "head@example.org")]
    at.text_input(key="subscribe_email").input("not an address")
    at.button[[b.label for b in at.button].index("Подписаться")].click().run()
    assert at.error and "не оформлена" in at.error[0].value
    # the user's own subscription is listed and ended from the same box
    with db.connect() as c:
        sid = c.execute(text("select id from subscriptions where username = 'sub-head'")).scalar_one()
    at.button(key=f"subscribe_cancel_{sid}").click().run()
    with db.connect() as c:
        assert c.execute(text("select active from subscriptions where id = :i"), {"i": sid}).scalar_one() in (False, 0)
