"""A crawl as each role: every page of the role's navigation, every control on it operated once
(each button, each select's first option, a table row, a chart point), and no exception anywhere.
Screenshots of every page at 1280 and 1440 px for each role go to tests/screenshots/crawl/.

Each action starts from the page freshly opened, so that one control's effect does not hide
another's failure; a failure names the role, the page and the control.
"""
import re
from urllib.parse import urlparse

import pytest

from .test_browser import QUERY, SHOTS, browser, open_page, server, settle  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]
ROLES = {"tester": "analyst", "reporter": "press", "head-user": "head", "exec-user": "executor"}
OUT = SHOTS / "crawl"
OPTION = "[role='option']:not([data-key='__select_all__'])"


def quick_settle(page) -> None:
    """settle() in shorter steps: the crawl waits after every control."""
    settle(page, 60, step_ms=250, steps=3)


def _changed(page, url: str) -> bool:
    """Whether the last control changed the view (its filters or an opened card)."""
    return sorted(page.url.split("?", 1)[-1].split("&")) != sorted(url.split("?", 1)[-1].split("&"))


def _no_exception(page, where: str) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, f"exception after {where}"
    assert page.get_by_text("Traceback").count() == 0, f"traceback after {where}"
    assert page.get_by_role("button", name="Выйти").count() == 1, f"the shell is gone after {where}"


PAGES_OF = {"analyst": 11, "press": 9, "head": 8, "executor": 6}  # the navigation each role gets


def _nav_paths(page, role: str) -> list[str]:
    links = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a")
    for _ in range(40):  # the sidebar may still be drawing its links
        if links.count() >= PAGES_OF[role]:
            break
        page.wait_for_timeout(250)
    assert links.count() == PAGES_OF[role], f"{role}: {links.count()} pages in the navigation"
    return [urlparse(links.nth(i).get_attribute("href")).path.rstrip("/").rsplit("/", 1)[-1]
            for i in range(links.count())]


def _actions(page) -> list[tuple[str, int]]:
    main = page.locator("[data-testid='stMain']")
    out = [("button", i) for i in range(main.locator("[data-testid='stButton'] button:not([disabled])").count())]
    # one download per page: what downloads serve is tested in test_browser and test_security
    out += [("download", 0)] if main.locator("[data-testid='stDownloadButton'] button").count() else []
    out += [("select", i) for i in range(main.locator("[data-testid='stSelectbox']").count())]
    out += [("radio", i) for i in range(main.locator("[data-testid='stRadio']").count())]
    out += [("table", i) for i in range(main.locator("[data-testid='stDataFrame']").count())]
    out += [("chart", i) for i in range(main.locator("[data-testid='stPlotlyChart']").count())]
    return out


def _pick(page, box, second: bool = False) -> None:
    """Open a select or multiselect and choose its first option (a selectbox: its second, the first
    being the current one)."""
    box.scroll_into_view_if_needed()
    box.click()
    options = page.locator(OPTION)
    try:
        options.first.wait_for(timeout=3_000)
    except Exception:  # near the window's edge the list opens from the keyboard
        page.keyboard.press("ArrowDown")
        options.first.wait_for(timeout=10_000)
    options.nth(min(1, options.count() - 1) if second else 0).click()


def _operate(page, kind: str, i: int) -> None:
    main = page.locator("[data-testid='stMain']")
    if kind == "button":
        main.locator("[data-testid='stButton'] button:not([disabled])").nth(i).click()
    elif kind == "download":
        with page.expect_download(timeout=30_000):
            main.locator("[data-testid='stDownloadButton'] button").nth(i).click()
    elif kind == "select":
        _pick(page, main.locator("[data-testid='stSelectbox']").nth(i), second=True)
    elif kind == "radio":
        labels = main.locator("[data-testid='stRadio']").nth(i).locator("label")
        labels.nth(labels.count() - 1).click()
    elif kind == "table":
        grid = main.locator("[data-testid='stDataFrame']").nth(i)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first data row's selection cell
    elif kind == "chart":
        chart = main.locator("[data-testid='stPlotlyChart']").nth(i)
        chart.scroll_into_view_if_needed()
        point = chart.locator("g.points path, g.trace.bars path, g.slice path, path.point").first
        if point.count():
            point.click(force=True)


@pytest.mark.parametrize("user", list(ROLES))
def test_crawl_every_page_and_control_as_each_role(server, browser, user):
    OUT.mkdir(parents=True, exist_ok=True)
    base = server
    page = open_page(browser, f"{base}/?{QUERY}", user, width=1440, height=1000)
    context = page.context
    paths = _nav_paths(page, ROLES[user])
    assert paths, "no navigation"
    # the shared sidebar: each filter's first option, then the reset, once per role
    for name in ("Территория", "Тема", "Источник", "Исполнитель"):
        _pick(page, page.get_by_role("combobox", name=name))
        page.keyboard.press("Escape")
        page.locator("h1").first.click()  # focus away: a focused select swallows the next click
        settle(page)
        _no_exception(page, f"{ROLES[user]}: filter {name}")
    page.get_by_role("button", name="Сбросить фильтры").click()
    settle(page)
    _no_exception(page, f"{ROLES[user]}: reset")
    assert "territory=" not in page.url
    for path in paths:
        url = f"{base}/{path}?{QUERY}"
        page.goto(url)
        settle(page)
        _no_exception(page, f"{ROLES[user]}: opening {path or 'overview'}")
        shot = re.sub(r"\W", "_", path or "overview")
        page.screenshot(path=str(OUT / f"{ROLES[user]}_{shot}_1440.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 1000})
        settle(page)
        page.screenshot(path=str(OUT / f"{ROLES[user]}_{shot}_1280.png"), full_page=True)
        page.set_viewport_size({"width": 1440, "height": 1000})
        for kind, i in _actions(page):
            if page.url.split("?")[0] != url.split("?")[0] or _changed(page, url):
                page.goto(url)  # back to the page as opened: the last control moved elsewhere
                quick_settle(page)
            try:
                _operate(page, kind, i)
            except Exception as exc:  # a control that could not be operated is a finding too
                pytest.fail(f"{ROLES[user]}: {path or 'overview'}: {kind} {i} could not be operated: {exc}")
            quick_settle(page)
            _no_exception(page, f"{ROLES[user]}: {path or 'overview'}: {kind} {i}")
    context.close()
