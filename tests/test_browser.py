"""The app in a real browser: Playwright driving Debian's Chromium against a running server.

Opens every page, checks that no exception is shown, clicks a league-table row through to that
territory's cases, changes a filter and sees it in the URL, and saves a screenshot of each page
in tests/screenshots/.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from .conftest import REQUIRE_POSTGRES, SMALL_AS_OF

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
SHOTS.mkdir(exist_ok=True)
PAGES = ["", "topics", "territories", "executors", "speed", "spikes", "cases", "methodology", "audit"]
QUERY = "from=2021-02-01&to=2021-03-31"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one server, one worker
# an appeal's text as an attacker would write it: a heading, a tracking pixel, a link
MARKDOWN = ("# Заголовок-ловушка\n![пиксель](http://127.0.0.1:9/pixel.png) [Войдите снова](https://evil.example) "
            "<img src='http://127.0.0.1:9/raw.png'> конец")


def _require_chromium():
    if not Path(CHROMIUM).exists():
        if REQUIRE_POSTGRES:  # CI installs chromium (.ci/run)
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests skipped")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright not installed")


@pytest.fixture(scope="module")
def server(small_sqlite, tmp_path_factory):
    _require_chromium()
    db = Path(small_sqlite.url.database)
    copy = tmp_path_factory.mktemp("browser") / "app.sqlite"
    shutil.copy(db, copy)
    from queries.db import make_engine
    from queries.migrate import upgrade
    from queries.users import add_user
    engine = make_engine(f"sqlite:///{copy}")
    upgrade(engine)
    with engine.begin() as conn:
        add_user(conn, "tester", "secret-pass", "analyst")
        add_user(conn, "reporter", "secret-pass", "press")
        add_user(conn, "head-user", "secret-pass", "head", territory="50708000")
        add_user(conn, "exec-user", "secret-pass", "executor", executor="minzdrav")
        conn.execute(text("update appeals set text = :t where id = (select min(id) from appeals)"), {"t": MARKDOWN})
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{copy}", PULSE_AS_OF=SMALL_AS_OF.isoformat())
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"), "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def settle(page, timeout_s: float = 90, step_ms: int = 500, steps: int = 4) -> None:
    """Wait until the app has finished its run: no run is going and the page's elements have not
    changed for `steps` checks `step_ms` apart (the crawl checks more often, fewer times, after a
    control). Two quiet seconds after opening a page: with 1.2 s the crawl now and then clicked a
    download while a run was still under way, and the file never came."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    last, stable = None, 0
    while time.time() < deadline and stable < steps:
        page.wait_for_timeout(step_ms)
        running = page.locator("[data-testid='stStatusWidget']").count()
        now = page.evaluate("document.querySelectorAll('[data-testid]').length")
        stable = stable + 1 if (now == last and not running) else 0
        last = now


def sign_in(page, user: str = "tester", password: str = "secret-pass") -> None:
    """Fill the sign-in form on the page and wait for the app."""
    page.get_by_label("Имя пользователя").fill(user)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    settle(page)


def open_page(browser, url: str, user: str = "tester", width: int = 1500, height: int = 1200):
    """A tab of a new browser context (its own cookies; downloads accepted) on `url`, signed in
    through the sign-in form; page.context is the context."""
    page = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True).new_page()
    page.goto(url)
    settle(page)
    if page.get_by_label("Имя пользователя").count():
        sign_in(page, user)
    return page


def test_sign_in_is_required(server, browser):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{server}/cases?{QUERY}")
    settle(page)
    assert page.get_by_label("Пароль").count() == 1
    assert page.get_by_text("Найдено:").count() == 0
    sign_in(page, "tester", "wrong")
    assert page.get_by_text("Неверное имя пользователя или пароль").count() == 1
    page.screenshot(path=str(SHOTS / "sign_in.png"))
    page.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_exception(server, browser, path):
    SHOTS.mkdir(exist_ok=True)
    page = open_page(browser, f"{server}/{path}?{QUERY}")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("h1").count() >= 1
    page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)
    page.close()


def test_league_row_leads_to_the_territorys_cases(server, browser):
    page = open_page(browser, f"{server}/territories?{QUERY}")
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("canvas").first.wait_for(state="visible", timeout=30_000)
    for attempt in range(4):  # the grid may still be laying out: click again until the URL moves
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first data row's selection cell
        try:
            page.wait_for_url("**territory=*", timeout=8_000)
            break
        except Exception:
            settle(page)
    else:
        pytest.fail("clicking a league-table row did not open the territory")
    settle(page)
    code = parse_qs(urlparse(page.url).query)["territory"][0]
    assert page.get_by_text("Профиль территории").count() >= 1
    page.screenshot(path=str(SHOTS / "territory_profile.png"), full_page=True)
    page.get_by_role("link", name="Открыть обращения").click()
    page.wait_for_url("**/cases?**", timeout=30_000)
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["territory"] == [code]
    assert page.get_by_text("Найдено:").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "territory_cases.png"), full_page=True)
    page.close()


def test_changing_a_filter_writes_the_url(server, browser):
    page = open_page(browser, f"{server}/?{QUERY}")
    page.get_by_role("combobox", name="Источник").click()
    page.get_by_role("option", name="ВКонтакте").click()
    page.keyboard.press("Escape")
    page.wait_for_url("**source=vk*", timeout=30_000)
    settle(page)
    assert "from=2021-02-01" in page.url
    page.close()


def test_sign_in_survives_a_reload_and_a_new_tab_until_sign_out(server, browser):
    page = open_page(browser, f"{server}/cases?{QUERY}", width=1280, height=900)
    context = page.context
    cookie = next(c for c in context.cookies() if c["name"] == "pulse_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("pulse_session") < 0  # not readable by scripts
    page.reload()
    settle(page)
    assert page.get_by_label("Пароль").count() == 0 and page.get_by_text("Найдено:").count() >= 1
    tab = context.new_page()
    tab.goto(f"{server}/territories?{QUERY}")
    settle(tab)
    assert tab.get_by_label("Пароль").count() == 0 and tab.locator("h1").count() >= 1
    tab.get_by_role("button", name="Выйти").click()
    settle(tab)
    page.reload()
    settle(page)
    assert page.get_by_label("Пароль").count() == 1 and page.get_by_text("Найдено:").count() == 0
    context.close()


def test_markdown_in_texts_and_links_renders_as_plain_text(server, browser):
    requests = []
    page = open_page(browser, f"{server}/cases?{QUERY}")
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server}/cases?{QUERY}&territory=[Войдите снова](https://evil.example)")
    settle(page)
    assert page.get_by_text("не распознан").count() >= 1
    assert page.locator("a[href*='evil.example']").count() == 0
    with page.expect_navigation():
        page.goto(f"{server}/cases?{QUERY}&id=1")
    settle(page)
    assert page.get_by_text("Заголовок-ловушка").count() >= 1  # shown, as text
    assert page.locator("h1:has-text('Заголовок-ловушка'), h2:has-text('Заголовок-ловушка')").count() == 0
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("img[src*='pixel.png'], img[src*='raw.png']").count() == 0
    assert not [u for u in requests if "pixel.png" in u or "raw.png" in u]
    page.screenshot(path=str(SHOTS / "card_markdown.png"), full_page=True)
    page.close()


def test_exports_uploads_and_metrics_need_a_live_session(server, browser):
    page = open_page(browser, f"{server}/topics?{QUERY}", width=1440, height=1000)
    context = page.context
    with page.expect_download() as info:
        page.get_by_role("button", name="Скачать CSV").first.click()
    media = info.value.url
    assert "/media/" in media
    assert context.request.get(media).status == 200
    assert context.request.get(f"{server}/_stcore/metrics").status == 200  # the analyst's
    stranger = browser.new_context()
    assert stranger.request.get(media).status == 403
    assert stranger.request.get(f"{server}/_stcore/metrics").status == 403
    upload = stranger.request.put(f"{server}/_stcore/upload_file/any-session/any-file",
                                  multipart={"file": {"name": "big.csv", "mimeType": "text/csv", "buffer": b"x" * 2**20}})
    assert upload.status == 403
    stranger.close()
    page.get_by_role("button", name="Выйти").click()
    settle(page)
    assert context.request.get(media).status == 403  # the export died with its session
    context.close()


def test_the_press_cannot_upload(server, browser):
    page = open_page(browser, f"{server}/?{QUERY}", user="reporter")
    response = page.context.request.put(f"{server}/_stcore/upload_file/any-session/any-file",
                                        multipart={"file": {"name": "a.csv", "mimeType": "text/csv", "buffer": b"x"}})
    assert response.status == 403
    page.close()


def test_the_file_box_speaks_russian(server, browser):
    """Streamlit draws its file box in English; the import page says it in Russian instead."""
    import re
    page = open_page(browser, f"{server}/import")
    box = page.locator("[data-testid='stFileUploader']").first
    box.wait_for(timeout=30_000)
    shown = box.evaluate("""e => { const out = [];
        const walk = n => { if (n.nodeType === 3) { const p = n.parentElement;
            if (p.closest('[data-testid=stIconMaterial]') === null && getComputedStyle(p).display !== 'none')
                out.push(n.textContent); } else n.childNodes.forEach(walk); };
        walk(e);
        e.querySelectorAll('*').forEach(x => { const c = getComputedStyle(x, '::before').content
            + getComputedStyle(x, '::after').content; if (c && c !== 'nonenone') out.push(c); });
        return out.join(' '); }""")
    assert "Перетащите файл сюда" in shown and "Выбрать файл" in shown
    assert not [w for w in re.findall(r"[A-Za-z]{2,}", shown) if w not in ("CSV", "XLSX", "none", "normal")], shown
    page.close()


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_check_shows_what_the_load_changes_in_russian(server, browser, small_sqlite, tmp_path, width):
    """An analyst checks a second export of five appeals, one rating changed and the links left
    empty: the plan table says it in Russian, names the kept values, and nothing is written."""
    import csv
    import io
    import re

    from ingest.export import export_csv
    with small_sqlite.connect() as conn:
        buf = io.StringIO()
        export_csv(conn, buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    header = rows[0]
    body = [r for r in rows[1:] if r[header.index("source_url")]][:5]
    rating = header.index("citizen_rating")
    body[0][rating] = "1" if body[0][rating] != "1" else "2"
    for r in body:
        r[header.index("source_url")] = ""
    path = tmp_path / "second.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    page = open_page(browser, f"{server}/import", width=width)
    page.locator("[data-testid='stFileUploader'] input[type=file]").first.set_input_files(str(path))
    settle(page)
    page.get_by_role("button", name="Проверить без записи").click()
    settle(page)
    page.get_by_text("Что изменится в базе").wait_for(timeout=30_000)
    shot = SHOTS / f"import_plan_{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    body_text = page.locator("[data-testid='stMain']").inner_text()
    assert "Изменятся 1 из" in body_text and "Не изменятся" not in body_text
    grid = page.locator("[data-testid='stDataFrame']").last
    assert grid.is_visible()
    assert "Проверка «second.csv»" in body_text
    plan = body_text.split("Что изменится в базе", 1)[1]  # the rest of the page: the crawl's
    english = [w for w in re.findall(r"[A-Za-z]{3,}", plan) if w not in ("CSV",)]
    assert not english, english
    page.close()


def test_the_map_draws_offline_and_a_click_opens_the_territory(server, browser):
    """The oblast's map asks nothing of Plotly's CDN (the gate serves the empty world outline), draws
    every territory, and clicking one opens its profile with the period kept."""
    page = open_page(browser, f"{server}/territories?{QUERY}", width=1280)
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    page.reload()
    settle(page)
    shapes = page.locator(".choroplethlocation")
    shapes.first.wait_for(state="attached", timeout=30_000)
    assert shapes.count() == 35
    assert not [u for u in asked if "plot.ly" in u], asked
    page.locator("[data-testid='stPlotlyChart']").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "map.png"))
    for attempt in range(4):
        box = shapes.nth(attempt * 7).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_url("**territory=*", timeout=8_000)
            break
        except Exception:
            settle(page)
    else:
        pytest.fail("clicking the map did not open a territory")
    settle(page)
    assert "from=2021-02-01" in page.url and page.get_by_text("Профиль территории").count() >= 1
    page.close()
