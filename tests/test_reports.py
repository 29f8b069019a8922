"""The press release and the periods people speak in: every number in the text against a plain
count of the appeals, on the default demo data (September 2021 gives 8,78 / 6,39 / 2,39 тыс.);
calendar presets across a year boundary and a leap year; the command line and its chart."""
import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from queries import periods
from queries.filters import Filters
from queries.viewer import Viewer
from reports.press import MONITORED, SOCIAL, press_release
from reports.typography import quote_number, quote_share

from .conftest import CALIBRATION_AS_OF, SMALL_AS_OF

ROOT = Path(__file__).resolve().parent.parent
PRESS = Viewer("press-test", "press")
NSK = dt.timezone(dt.timedelta(hours=7))


def test_numbers_are_said_as_the_centres_print_them():
    assert [quote_number(n) for n in (0, 431, 999, 1000, 6390, 8780, 12345, 123456, 1234567)] == [
        "0", "431", "999", "1\u00a0тыс.", "6,39\u00a0тыс.", "8,78\u00a0тыс.", "12,3\u00a0тыс.", "123\u00a0тыс.",
        "1,23\u00a0млн"]
    assert [quote_share(x) for x in (0.86, 0.045, 0.5)] == ["86\u00a0%", "4,5\u00a0%", "50\u00a0%"]
    assert quote_number(8780, "en") == "8.78k"


@pytest.mark.parametrize("today, preset, want", [
    (dt.date(2025, 1, 2), "last_week", (dt.date(2024, 12, 23), dt.date(2024, 12, 29))),
    (dt.date(2025, 1, 2), "this_week", (dt.date(2024, 12, 30), dt.date(2025, 1, 2))),
    (dt.date(2025, 1, 2), "last_month", (dt.date(2024, 12, 1), dt.date(2024, 12, 31))),
    (dt.date(2025, 1, 2), "last_quarter", (dt.date(2024, 10, 1), dt.date(2024, 12, 31))),
    (dt.date(2025, 1, 2), "ytd", (dt.date(2025, 1, 1), dt.date(2025, 1, 2))),
    (dt.date(2025, 1, 2), "last_year", (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
    (dt.date(2024, 3, 10), "last_month", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
    (dt.date(2024, 3, 10), "this_quarter", (dt.date(2024, 1, 1), dt.date(2024, 3, 10))),
])
def test_calendar_presets_across_a_year_boundary_and_a_leap_year(today, preset, want):
    assert periods.calendar_range(preset, today) == want


def test_comparison_periods_are_the_previous_unit_and_the_same_days_a_year_earlier():
    assert periods.previous(dt.date(2021, 9, 1), dt.date(2021, 9, 30)) == (dt.date(2021, 8, 1), dt.date(2021, 8, 31))
    assert periods.previous(dt.date(2024, 3, 1), dt.date(2024, 3, 31)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert periods.previous(dt.date(2024, 12, 30), dt.date(2025, 1, 5)) == (dt.date(2024, 12, 23), dt.date(2024, 12, 29))
    assert periods.previous(dt.date(2024, 3, 5), dt.date(2024, 3, 14)) == (dt.date(2024, 2, 24), dt.date(2024, 3, 4))
    assert periods.year_earlier(dt.date(2024, 2, 1), dt.date(2024, 2, 29)) == (dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    assert periods.in_words(dt.date(2021, 9, 1), dt.date(2021, 9, 30)) == "в сентябре 2021 года"
    assert periods.in_words(dt.date(2024, 10, 28), dt.date(2024, 11, 3)) == "с 28 октября по 3 ноября 2024 года"
    assert periods.in_words(dt.date(2024, 7, 1), dt.date(2024, 9, 30)) == "в III квартале 2024 года"
    assert periods.in_words(dt.date(2023, 1, 1), dt.date(2023, 12, 31)) == "в 2023 году"
    assert periods.in_words(dt.date(2024, 12, 30), dt.date(2025, 1, 5)) == "с 30 декабря 2024 года по 5 января 2025 года"


def plain_counts(engine, d_from: dt.date, d_to: dt.date) -> dict:
    """Independently: the period's appeals by source and category, resolved and rated, by a plain
    SQL count over local-time bounds."""
    lo = dt.datetime.combine(d_from, dt.time(), NSK).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    hi = dt.datetime.combine(d_to + dt.timedelta(days=1), dt.time(), NSK).astimezone(dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S")
    with engine.connect() as c:
        src = dict(c.execute(text("select source, count(*) from appeals where received_at >= :lo and received_at < :hi "
                                  "group by source"), {"lo": lo, "hi": hi}).all())
        cats = c.execute(text("""select coalesce(p.code, t.code), count(*) from appeals a join topics t on t.id = a.topic_id
            left join topics p on p.id = t.parent_id where a.received_at >= :lo and a.received_at < :hi
            group by 1 order by 2 desc, 1"""), {"lo": lo, "hi": hi}).all()
        resolved, satisfied, rated = c.execute(text("""select sum(status = 'resolved'), sum(citizen_rating >= 4),
            count(citizen_rating) from appeals where received_at >= :lo and received_at < :hi"""), {"lo": lo, "hi": hi}).one()
    return {"source": src, "categories": cats, "resolved": resolved, "satisfied": satisfied, "rated": rated}


PERIODS = [(dt.date(2021, 9, 1), dt.date(2021, 9, 30)), (dt.date(2022, 12, 1), dt.date(2022, 12, 31)),
           (dt.date(2024, 2, 1), dt.date(2024, 2, 29)), (dt.date(2024, 1, 8), dt.date(2024, 1, 14)),
           (dt.date(2023, 10, 30), dt.date(2023, 11, 5))]


@pytest.mark.parametrize("d_from, d_to", PERIODS, ids=lambda d: d.isoformat())
def test_every_number_of_the_press_release_is_a_plain_count(default_sqlite, d_from, d_to):
    with default_sqlite.connect() as conn:
        r = press_release(conn, PRESS, d_from, d_to, CALIBRATION_AS_OF)
    want = plain_counts(default_sqlite, d_from, d_to)
    src = want["source"]
    monitored = sum(n for s, n in src.items() if s in MONITORED)
    assert r.figures["monitored"] == monitored and r.figures["pos"] == src.get("pos", 0)
    assert r.figures["social"] == sum(n for s, n in src.items() if s in SOCIAL)
    assert r.figures["received"] == sum(src.values()) and r.figures["resolved"] == want["resolved"]
    for s, n in src.items():
        assert r.figures[f"source.{s}"] == n
    lead = want["categories"][:3]
    assert [(k.removeprefix("category."), v) for k, v in r.figures.items() if k.startswith("category.")] == \
        [(code, n) for code, n in lead]
    assert r.figures["satisfaction"] == pytest.approx(want["satisfied"] / want["rated"])
    said = r.text
    assert f"зафиксировал {quote_number(monitored)} обращений" in said
    assert f"Решено {quote_number(want['resolved'])} " in said
    for code, n in lead:
        assert f"({quote_number(n)})" in said
    assert periods.in_words(d_from, d_to) in said.lower()
    if periods.previous(d_from, d_to)[0] >= dt.date(2020, 11, 26):
        prev = plain_counts(default_sqlite, *periods.previous(d_from, d_to))["source"]
        prev_n = sum(n for s, n in prev.items() if s in MONITORED)
        assert r.figures["received.previous"] == prev_n
        change = quote_share(abs(monitored - prev_n) / prev_n)
        assert f"на {change} {'больше' if monitored > prev_n else 'меньше'}, чем" in said


def test_september_2021_reads_as_the_centre_published_it(default_sqlite):
    with default_sqlite.connect() as conn:
        r = press_release(conn, PRESS, dt.date(2021, 9, 1), dt.date(2021, 9, 30), CALIBRATION_AS_OF)
    assert r.text.startswith("В сентябре 2021 года ЦУР Новосибирской области зафиксировал 8,78\u00a0тыс. обращений")
    assert "6,39\u00a0тыс. — через платформу; 2,39\u00a0тыс. — в соцсетях: «ВКонтакте»" in r.text
    assert "в сентябре 2020" not in r.text  # the centre opened in November 2020: no year-earlier change
    assert not re.search(r"[A-Za-z]{3,}", r.text.replace("Instagram", "").replace("Facebook", "").replace(
        "Telegram", "").replace("COVID", ""))


def test_the_command_line_prints_the_release_and_draws_the_chart(default_sqlite, tmp_path):
    from PIL import Image
    url = f"sqlite:///{default_sqlite.url.database}"
    run = lambda *a: subprocess.run([sys.executable, "-m", "reports", "press-release", *a], capture_output=True,  # noqa: E731
                                    text=True, cwd=ROOT, timeout=300)
    out = run("--month", "2021-09", "--db", url, "--png", str(tmp_path / "p.png"), "--as-of", CALIBRATION_AS_OF.isoformat())
    assert out.returncode == 0, out.stderr
    assert "8,78\u00a0тыс." in out.stdout and "Данные на 01.07.2024" in out.stdout
    with Image.open(io.BytesIO((tmp_path / "p.png").read_bytes())) as img:
        assert img.size[0] == 1080
    for bad in (["--month", "2021-13"], ["--week", "2024-W60"], ["--month", "2019-01"]):
        out = run(*bad, "--db", url)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize("role", ["press", "analyst", "head"])
def test_the_press_page_shows_the_release_to_the_press_and_the_minister(small_db, role):
    from .conftest import SMALL_AS_OF
    from .pagetools import run_page
    viewer = Viewer(f"press-page-{role}", role, territories=("50708000",) if role == "head" else ())
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/press.py", viewer=viewer)
    assert not at.exception, [e.value for e in at.exception]
    if role == "head":  # a territory's scope would make a region-wide text of a part of it
        assert at.error and not at.code
        return
    with small_db.connect() as conn:  # the default: the last whole month before the data's day (March 2021)
        want = press_release(conn, viewer, dt.date(2021, 3, 1), dt.date(2021, 3, 31), SMALL_AS_OF)
    assert at.code[0].value == want.text
    at.radio(key="press_kind").set_value("week").run()
    start = at.selectbox(key="press_week").value
    with small_db.connect() as conn:
        week = press_release(conn, viewer, start, start + dt.timedelta(days=6), SMALL_AS_OF)
    assert at.code[0].value == week.text and week.text.startswith("С ")


@pytest.mark.parametrize("role", ["press", "analyst"])
def test_every_overview_card_has_a_quote_with_its_counts_definition_and_link(small_db, role):
    """«Для публикации»: one block per card — a sentence with the period in words, the value in
    typographic style with the absolute counts beside a share (against pandas), the definition,
    the as-of time, the filters and a link to the same view."""
    from .conftest import SMALL_AS_OF
    from .pagetools import expected_kpis, frame, run_page
    from reports.typography import exact_number
    viewer = Viewer(f"quote-{role}", role)
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/overview.py", viewer=viewer, **{"from": "2021-03-01", "to": "2021-03-31"})
    assert not at.exception, [e.value for e in at.exception]
    blocks = [c.value for c in at.code]
    df = frame(small_db)
    march = df[(df["local_date"] >= dt.date(2021, 3, 1)) & (df["local_date"] <= dt.date(2021, 3, 31))]
    want = expected_kpis(march, SMALL_AS_OF)
    resolved = next(b for b in blocks if "доля решённых" in b.lower().split("\n")[0])
    first = resolved.split("\n")[0]
    assert first.startswith("В марте 2021 года — ")
    n_resolved = int((march["status"] == "resolved").sum())
    assert f"{quote_share(want['resolved_share'])} ({exact_number(n_resolved)} из {exact_number(len(march))})" in first
    lines = resolved.split("\n")
    assert lines[1].startswith("Определение: ") and lines[2].startswith("По состоянию на ")
    assert lines[3].startswith("Фильтры: ")
    assert "Ссылка: ?from=2021-03-01&to=2021-03-31" in resolved
    received = next(b for b in blocks if b.split("\n")[0].lower().startswith("в марте 2021 года — поступило"))
    assert quote_number(len(march)) in received.split("\n")[0]


def _pdftotext(path: Path) -> str:
    import shutil
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (Debian's poppler-utils; .ci/run installs it)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_briefing_pdf_says_the_dashboards_numbers(default_sqlite, tmp_path):
    """The briefing for May 2024 and for one territory: the PDF read back as text (pdftotext) holds
    the received count and the overdue cases of a plain SQL count, and stays within two pages."""
    url = f"sqlite:///{default_sqlite.url.database}"
    now = CALIBRATION_AS_OF - dt.timedelta(days=1)
    for territory in (None, "50708000"):
        out = tmp_path / f"b-{territory}.pdf"
        args = [sys.executable, "-m", "reports", "briefing", "--from", "2024-05-01", "--to", "2024-05-31", "--out",
                str(out), "--db", url, "--as-of", now.isoformat()] + (["--territory", territory] if territory else [])
        run = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert run.returncode == 0, run.stderr
        body = _pdftotext(out)
        lo = dt.datetime(2024, 5, 1, tzinfo=NSK).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        hi = dt.datetime(2024, 6, 1, tzinfo=NSK).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        scope = ("and a.municipality_id in (select id from municipalities where code = :t or parent_id = "
                 "(select id from municipalities where code = :t))") if territory else ""
        with default_sqlite.connect() as c:
            n = c.execute(text(f"select count(*) from appeals a where received_at >= :lo and received_at < :hi {scope}"),
                          {"lo": lo, "hi": hi, "t": territory}).scalar_one()
            late = c.execute(text(f"""select count(*) from appeals a where received_at >= :lo and received_at < :hi
                and first_response_at is null and response_measured = 1 and response_due_at < :now
                and status in ('new', 'assigned', 'in_progress') {scope}"""),
                             {"lo": lo, "hi": hi, "now": now.strftime("%Y-%m-%dT%H:%M:%S"), "t": territory}).scalar_one()
        row = re.search(r"Поступило\s+([\d\u202f ]+?)\s{2,}", body)
        assert row and int(re.sub(r"\D", "", row.group(1))) == n, body[:800]
        overdue = re.search(r"Просрочено сейчас\s+(\d[\d\u202f ]*?)\s{2,}", body)
        assert overdue and int(re.sub(r"\D", "", overdue.group(1))) == late
        assert ("Рейтинг территорий" in body) == (territory is None)
        pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) <= 2
        png = subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
                             capture_output=True)
        assert png.returncode == 0 and list(tmp_path.glob("p*.png"))


def test_the_overview_makes_the_briefing_for_the_minister_not_the_press(small_db):
    from .conftest import SMALL_AS_OF
    from .pagetools import run_page
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/overview.py", viewer=Viewer("brief-analyst", "analyst"))
    at.button(key="briefing_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("download_button")  # the PDF is ready to download
    press = run_page(url, SMALL_AS_OF, "pages/overview.py", viewer=Viewer("brief-press", "press"))
    assert not [b for b in press.button if b.key == "briefing_make"]


def test_the_english_release_keeps_an_acronyms_capitals(default_sqlite):
    with default_sqlite.connect() as conn:
        r = press_release(conn, PRESS, dt.date(2021, 9, 1), dt.date(2021, 9, 30), CALIBRATION_AS_OF, "en")
    assert "Most were about COVID-19 and vaccination (" in r.text and "covid" not in r.text


def test_the_releases_resolved_share_is_compared_like_for_like(small_db):
    """The earlier period's resolved share as it stood at the same age (the cards' rule), against the
    pandas computation from the appeals' times of tests/test_like_for_like."""
    from .test_like_for_like import expected_as_of
    d_from, d_to = dt.date(2021, 3, 1), dt.date(2021, 3, 31)
    with small_db.connect() as conn:
        r = press_release(conn, PRESS, d_from, d_to, SMALL_AS_OF)
    p_from, p_to = periods.previous(d_from, d_to)
    want = expected_as_of(small_db, Filters(p_from, p_to), SMALL_AS_OF - (d_from - p_from))["resolved_share"]
    assert r.figures["resolved_share.previous"] == pytest.approx(want)
    assert f"На тот же срок в феврале 2021 года было решено {quote_share(want)}" in r.text
    assert "resolved_share.year" not in r.figures  # March 2020: before the centre, not compared


@pytest.mark.parametrize("role", ["press", "analyst"])
def test_every_league_row_has_a_quote_and_its_shares_carry_their_counts(small_db, role):
    """The territories' league: each share cell says its counts («86,0 % (135 из 157)»), and
    «Для публикации» under the table quotes a chosen row — its name, its figures against pandas,
    the row's own filters and link."""
    from .pagetools import expected_kpis, frame, run_page, select
    from reports.typography import exact_number
    viewer = Viewer(f"rowquote-{role}", role)
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/territories.py", viewer=viewer, **{"from": "2021-03-01", "to": "2021-03-31"})
    league = at.dataframe(key="league").value
    df = frame(small_db)
    name = league.iloc[0]["Название"]
    with small_db.connect() as c:
        code = c.execute(text("select code from municipalities where name_ru = :n"), {"n": name}).scalar_one()
    rows = select(df, dt.date(2021, 3, 1), dt.date(2021, 3, 31), territory=code)
    want = expected_kpis(rows, SMALL_AS_OF)
    n_resolved = int((rows["status"] == "resolved").sum())
    assert league.iloc[0]["Доля решённых"].startswith(f"{want['resolved_share'] * 100:.1f}".replace(".", ","))
    assert league.iloc[0]["Доля решённых"].split("(")[1].rstrip(")¹*") == \
        f"{exact_number(n_resolved)} из {exact_number(len(rows))}".replace("\u202f", "\u00a0")
    chooser = at.selectbox(key="league_quote_row")
    chooser.set_value(0).run()
    blocks = [b.value for b in at.code if b.value.startswith(f"{name}, в марте 2021 года")]
    resolved = next(b for b in blocks if "доля решённых" in b.split("\n")[0])
    assert f"{quote_share(want['resolved_share'])} ({exact_number(n_resolved)} из {exact_number(len(rows))})" in resolved
    assert f"Территория: {name}" in resolved and f"territory={code}" in resolved
    received = next(b for b in blocks if "— поступило" in b.split("\n")[0])
    assert f": {quote_number(len(rows))}" in received.split("\n")[0]
