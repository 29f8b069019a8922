"""Every page in both languages: no word of the other language's alphabet in what the app itself
says (titles, captions, labels, buttons, options, table headers, chart titles, legends and axis
formats). Names of territories, topics and bodies and the appeals' texts are data, and not checked.
"""
import json
import re

import pytest

from .conftest import SMALL_AS_OF
from .pagetools import ANALYST, run_page, shown

PAGES = ["pages/overview.py", "pages/topics.py", "pages/territories.py", "pages/executors.py", "pages/speed.py",
         "pages/cases.py", "pages/methodology.py", "pages/imports.py", "pages/audit.py", "pages/spikes.py"]
PARAMS = {"from": "2021-02-01", "to": "2021-03-31"}
# brands and formats written the same in both languages
SAME = {"Instagram", "Facebook", "Telegram", "COVID", "CSV", "XLSX", "TOML", "PNG", "OpenStreetMap", "ODbL", "OIDC",
        "Excel", "URL", "ID", "UTC", "OSM", "seed", "python", "importer", "export", "cur_export", "toml", "ADMIN_DATABASE_URL",
        "utf", "cp", "auto", "iso", "strptime", "xlsx", "csv", "ДД", "ММ", "ГГГГ", "pulse", "ЦУР", "НСО", "ПОС", "МФЦ",
        "ЖКХ", "ТКО", "ЕЦП", "ВКонтакте", "Одноклассники", "Госуслуги",
        "English", "Русский",  # the language switch names the other language in its own words
        "UTF", "Windows", "holidays"}  # an encoding's and a package's names
LATIN = re.compile(r"[A-Za-z]{2,}")
CYRILLIC = re.compile(r"[А-Яа-яЁё]{2,}")


def _texts(at) -> list[str]:
    out = []
    for kind in ("title", "header", "subheader", "caption", "info", "warning", "error", "success"):
        out += [e.value for e in getattr(at, kind)]
    out += [m.value for m in at.markdown if not m.value.startswith(">")]  # a quoted appeal text is data
    for m in at.metric:
        out += [m.label, str(m.value), str(m.delta or "")]
    for w in (*at.button, *at.text_input, *at.selectbox, *at.multiselect, *at.date_input):
        out.append(w.label)
        for field in ("help", "placeholder"):  # from the element itself (its widget value is not read)
            out.append(getattr(w.proto, field, "") or "")
    for s in at.selectbox:
        out += [str(o) for o in s.options]  # as shown (AppTest gives the formatted options)
    for d in at.dataframe:
        out += [str(c) for c in d.value.columns]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec.get("layout", {})
        for trace in spec.get("data", []):
            if trace.get("showlegend", True) and trace.get("name"):
                out.append(trace["name"])
        for key, axis in layout.items():
            if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
                title = axis.get("title", {})
                out.append(title.get("text", "") if isinstance(title, dict) else str(title))
                # a number or date axis needs an explicit format: Plotly's defaults are English
                assert axis.get("type") == "log" or axis.get("tickformat") or "categoryorder" in axis \
                    or not _numeric_axis(spec, key), f"{key} without an explicit tick format"
        out += [a.get("text", "") for a in layout.get("annotations", [])]
    return [shown(x) for x in out if x]


def _numeric_axis(spec: dict, key: str) -> bool:
    letter = key[0]
    for trace in spec.get("data", []):
        values = trace.get(letter)
        if isinstance(values, list) and values and isinstance(values[0], (int, float)) and trace.get("type") != "sankey":
            return True
        if isinstance(values, dict):  # numpy arrays arrive typed
            return True
    return False


def _foreign(texts: list[str], lang: str, names: set[str]) -> list[str]:
    pattern = LATIN if lang == "ru" else CYRILLIC
    found = []
    for text in texts:
        clean = text
        for name in sorted(names, key=len, reverse=True):
            if name and name in clean:
                clean = clean.replace(name, " ")
        words = [w for w in pattern.findall(clean) if w not in SAME]
        if words:
            found.append(f"{words[:3]} in {text[:90]!r}")
    return found


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_no_word_of_the_other_language(small_sqlite, page, lang):
    from sqlalchemy import text
    url = small_sqlite.url.render_as_string(hide_password=False)
    params = dict(PARAMS, **({"lang": "en"} if lang == "en" else {}))
    if page == "pages/audit.py":  # a log with the kinds of events the app writes
        from queries import audit
        with small_sqlite.begin() as c:
            audit.record(c, "olga", "press", "export", "cases_2021-02-01_2021-03-31.csv",
                         {"filters": {"from": "2021-02-01", "to": "2021-03-31"}, "rows": 1410, "search": "№ 12"})
            audit.record(c, "olga", "-", "login_failed", None, {"client": "10.0.0.1", "throttled": True})
            audit.record(c, "olga", "press", "open_case_refused", "12")
    from dashboard.i18n import set_lang
    set_lang(lang)  # AppTest formats the widgets' values in this thread, with the app's format functions
    try:
        at = run_page(url, SMALL_AS_OF, page, viewer=ANALYST, **params)
    finally:
        set_lang("ru")
    names: set[str] = {ANALYST.username}
    with small_sqlite.connect() as c:
        for table in ("municipalities", "topics", "organizations"):
            for ru, en in c.execute(text(f"select name_ru, name_en from {table}")):
                names |= {ru or "", en or ""}
    texts = _texts(at)
    if page == "pages/audit.py":  # the log's words are the app's too (not its users' names or targets)
        log = at.dataframe[0].value
        texts += [str(v) for col in log.columns[2:4] for v in log[col]]
        texts += [re.sub(r"[\w.-]*\d[\w.-]*|[a-z_]+\.(csv|xlsx)", " ", str(v)) for v in log[log.columns[5]]]
    found = _foreign(texts, lang, names)
    assert not found, found
