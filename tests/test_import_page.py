"""The import page: an analyst checks, then loads, another system's export; every bad input is
explained in Russian and writes nothing; the page is the analyst's alone."""
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from ingest import readers, run as importer
from dashboard.i18n import M
from queries.db import make_engine

from .conftest import reader_role
from .pagetools import run_page, shown
from .test_import import FOREIGN, GOOD, write_foreign

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/imports.py"
AS_OF = dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc)
NEW = [
    ["N-1", "03.03.2024 10:00", "Не убран снег во дворе", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],
    ["N-2", "03.03.2024 11:00", "Нет отопления", "Госуслуги", "", "Обь", "Отопление", "", "Решено", "03.03.2024 12:00", "04.03.2024 09:00", "4"],
]
BAD = [
    ["", "03.03.2024 10:00", "без номера", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],
    ["N-4", "03.03.2024 10:00", "где это", "ВКонтакте", "", "Атлантида", "Дороги", "", "Новое", "", "", ""],
]


@pytest.fixture
def db(fresh_url, tmp_path):
    """A database of the current backend holding the three GOOD appeals, loaded by the importer."""
    engine = make_engine(fresh_url)
    importer.run_import(engine, write_foreign(tmp_path / "first.csv", GOOD), FOREIGN)
    yield fresh_url, engine
    engine.dispose()


def state(engine) -> tuple:
    with engine.connect() as c:
        appeals = sorted(c.execute(text("select external_id, status from appeals")).all())
        events = c.execute(text("select count(*) from appeal_events")).scalar_one()
    return appeals, events


def audit_rows(engine) -> list:
    with engine.connect() as c:
        return c.execute(text("select action, target, details from audit_log order by id")).all()


def submit(at, content: bytes, name: str, button: str, mapping: str = "example_incident", own: bytes | None = None):
    at.file_uploader(key="import_file").upload(name, content, "text/csv")
    at.selectbox(key="import_mapping").set_value("__own__" if own is not None else mapping)
    at.run()
    if own is not None:
        at.file_uploader(key="import_mapping_file").upload("mine.toml", own, "application/toml")
    at.button(key=button).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_check_writes_nothing_then_load_writes_and_is_audited(backend, db, tmp_path):
    url, engine = db
    content = write_foreign(tmp_path / "week.csv", NEW + BAD).read_bytes()
    before = state(engine)
    at = submit(run_page(url, AS_OF, PAGE), content, "week.csv", "import_check")
    assert state(engine) == before
    info = at.info[0].value
    assert "прочитано 4 = будет добавлено 2 + обновлено 0 + без изменений 0 + отклонено 2" in info, info
    rejects = at.dataframe[0].value
    assert list(rejects["Строка"]) == [4, 5]  # header 1, two good rows 2-3
    assert list(rejects["Столбец"]) == ["Номер", "Муниципалитет"]
    assert rejects["Причина"].iloc[1] == "неизвестное значение «Атлантида»"

    at = submit(at, content, "week.csv", "import_load")
    assert "прочитано 4 = добавлено 2 + обновлено 0 + без изменений 0 + отклонено 2" in at.success[0].value
    appeals, events = state(engine)
    assert appeals == sorted(before[0] + [("N-1", "new"), ("N-2", "resolved")])
    assert events > before[1]
    actions = [(a, target) for a, target, _ in audit_rows(engine)]
    assert actions == [("import_check", "week.csv"), ("import", "week.csv")]
    assert '"inserted": 2' in audit_rows(engine)[-1][2]

    at = submit(at, content, "week.csv", "import_load")  # the same file again: a no-op
    assert "добавлено 0 + обновлено 0 + без изменений 2 + отклонено 2" in at.success[0].value
    assert state(engine) == (appeals, events)


BROKEN_TOML = '[columns]\nexternal_id = "Номер"\nthis is not toml\n'.encode()
NO_REQUIRED = '[columns]\nexternal_id = "Номер"\n'.encode()


@pytest.mark.parametrize("case", ["toml", "required", "columns", "xlsx"])
def test_bad_inputs_are_explained_in_russian_and_write_nothing(db, tmp_path, case):
    url, engine = db
    good = write_foreign(tmp_path / "week.csv", NEW).read_bytes()
    before = state(engine)
    at = run_page(url, AS_OF, PAGE)
    if case == "toml":
        at = submit(at, good, "week.csv", "import_load", own=BROKEN_TOML)
        expected = "Файл соответствия — не TOML: ошибка в строке 3."
    elif case == "required":
        at = submit(at, good, "week.csv", "import_load", own=NO_REQUIRED)
        expected = "нет столбца или значения для обязательных полей: received_at, territory, topic, status, text"
    elif case == "columns":  # our own export format read with the foreign mapping
        at = submit(at, good, "week.csv", "import_load", mapping="cur_export")
        expected = "В файле нет столбцов, которые называет файл соответствия: «external_id», «source»"
        header = next(csv.reader(io.StringIO(good.decode("utf-8-sig"))))  # the file's own, as written
        expected_header = "Заголовок файла: " + ", ".join(f"«{h}»" for h in header[:12])
    else:
        at = submit(at, b"PK\x03\x04 not really a workbook", "week.xlsx", "import_load")
        expected = "Файл не читается как книга Excel (XLSX)."
    message = shown(at.error[0].value)
    assert expected in message and "В базу ничего не записано." in message, message
    if case == "columns":
        assert expected_header in message, message
    assert state(engine) == before
    assert [a for a, _, _ in audit_rows(engine)] == ["import_refused"]


@pytest.mark.parametrize("role", ["press", "head", "executor"])
def test_only_the_analyst_may_import(db, role):
    from queries.viewer import Viewer
    url, engine = db
    with engine.connect() as c:
        org = c.execute(text("select id from organizations where code = 'minzdrav'")).scalar_one()
    viewer = {"press": Viewer("p", "press"), "head": Viewer("h", "head", territories=("50708000",)),
              "executor": Viewer("e", "executor", executors=(org,))}[role]
    at = run_page(url, AS_OF, PAGE, viewer=viewer)
    assert shown(at.error[0].value) == M["auth.denied"][0]
    assert not at.get("file_uploader")
    links = [e.proto.page for e in at.get("page_link")]
    assert links and not any("imports" in link for link in links)


def test_the_import_page_shows_no_filters_and_keeps_them_for_the_other_pages(db):
    """The global filters do not apply to a load: the sidebar has none of their widgets there,
    and the period in the URL survives a visit to the page."""
    url, engine = db
    period = {"from": "2024-02-01", "to": "2024-02-10"}
    overview = run_page(url, AS_OF, None, **period)
    assert len(overview.sidebar.multiselect) == 4 and overview.sidebar.selectbox
    at = run_page(url, AS_OF, PAGE, **period)
    assert not at.sidebar.multiselect and not at.sidebar.selectbox
    assert at.get("file_uploader")
    assert {k: at.query_params.get(k) for k in period} in (period, {k: [v] for k, v in period.items()})


def test_every_input_error_has_a_sentence_in_both_languages():
    keys = set()
    for path in (ROOT / "ingest").glob("*.py"):
        keys |= set(re.findall(r'"((?:mapping|input)_[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert {"mapping_toml", "input_columns", "input_xlsx"} <= keys
    for key in keys:
        ru, en = M[f"import.error.{key}"]
        assert ru and en and ru != en


def test_a_workbook_sheet_is_chosen_from_its_sheets(db, tmp_path):
    import openpyxl
    url, engine = db
    wb = openpyxl.Workbook()
    wb.active.title = "Сводка"
    wb.active.append(["Итого", 1])
    ws = wb.create_sheet("Выгрузка")
    ws.append(["Номер", "Дата регистрации", "Текст сообщения", "Площадка", "Ссылка", "Муниципалитет", "Рубрика",
               "Ответственный", "Статус", "Дата ответа", "Дата закрытия", "Оценка"])
    ws.append(["X-1", dt.datetime(2024, 3, 1, 10, 0), "Мусор не вывозят", "Одноклассники", None, "Обь", "Мусор",
               None, "Решено", "01.03.2024 12:00", dt.datetime(2024, 3, 3, 9, 0), 4])
    wb.save(tmp_path / "book.xlsx")
    at = run_page(url, AS_OF, PAGE)
    at.file_uploader(key="import_file").upload("book.xlsx", (tmp_path / "book.xlsx").read_bytes())
    at.selectbox(key="import_mapping").set_value("example_incident")
    at.run()
    assert at.selectbox(key="import_sheet").options == ["по файлу соответствия или первый", "Сводка", "Выгрузка"]
    at.selectbox(key="import_sheet").set_value("Выгрузка")
    at.button(key="import_load").click()
    at.run()
    assert "добавлено 1 + обновлено 0" in at.success[0].value, [e.value for e in at.error]
    with engine.connect() as c:
        assert c.execute(text("select status from appeals where external_id = 'X-1'")).scalar_one() == "resolved"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_read_only_app_imports_through_the_owners_connection(backend, db, tmp_path, monkeypatch):
    """docs/access.md "Database roles": the app reads as a reader; the page writes through ADMIN_DATABASE_URL,
    and without it says why it cannot, writing nothing."""
    url, engine = db
    content = write_foreign(tmp_path / "week.csv", NEW).read_bytes()
    before = state(engine)
    with reader_role(engine) as reader_url:
        monkeypatch.delenv("ADMIN_DATABASE_URL", raising=False)
        at = submit(run_page(reader_url, AS_OF, PAGE), content, "week.csv", "import_load")
        message = shown(at.error[0].value)
        assert "база данных не изменилась: permission denied" in message and "ADMIN_DATABASE_URL" in message, message
        assert state(engine) == before
        monkeypatch.setenv("ADMIN_DATABASE_URL", url)
        at = submit(run_page(reader_url, AS_OF, PAGE), content, "week.csv", "import_load")
        assert "добавлено 2 + обновлено 0" in at.success[0].value
        assert state(engine)[0] == sorted(before[0] + [("N-1", "new"), ("N-2", "resolved")])
        assert [a for a, _, _ in audit_rows(engine)] == ["import_refused", "import"]


def test_the_check_shows_each_fields_change_and_a_large_load_is_confirmed(backend, db, tmp_path):
    """Check: per field, how many stored appeals change, with examples in Russian (names, not
    codes); a load above the confirmation share is refused until the box is ticked, then writes
    exactly what was checked."""
    url, engine = db
    rows = [r[:] for r in GOOD]
    rows[0][11], rows[1][8], rows[1][10], rows[1][11] = "2", "Решено", "05.03.2024 09:00", "4"
    content = write_foreign(tmp_path / "second.csv", rows).read_bytes()
    before = state(engine)
    at = submit(run_page(url, AS_OF, PAGE), content, "second.csv", "import_check")
    plan = at.dataframe[-1].value  # no rejects here: the one table is the plan
    table = dict(zip(plan["Поле"], plan["Изменится обращений"]))
    assert table == {"Статус (статус)": 1, "Дата закрытия (дата закрытия)": 1, "Оценка (оценка)": 2}, table
    examples = dict(zip(plan["Поле"], plan["Примеры: номер, было → станет"]))
    assert examples["Статус (статус)"] == "A-2: в работе → решено"
    assert examples["Оценка (оценка)"] == "A-1: 5 → 2; A-2: пусто → 4"
    assert "Изменятся 2 из 3 сохранённых обращений (66,7" in at.markdown[-1].value or any(
        "Изменятся 2 из 3" in m.value for m in at.markdown)
    assert at.checkbox(key="import_confirm").value is False
    at.button(key="import_load").click()
    at.run()
    assert "изменила бы 2 из 3 сохранённых обращений" in at.error[0].value
    assert state(engine) == before
    at = submit(at, content, "second.csv", "import_check")
    at.checkbox(key="import_confirm").check()
    at.button(key="import_load").click()
    at.run()
    assert not at.exception and "обновлено 2" in at.success[0].value, [e.value for e in at.error]
    assert state(engine) != before
    with engine.connect() as c:
        assert c.execute(text("select citizen_rating from appeals where external_id = 'A-2'")).scalar_one() == 4
