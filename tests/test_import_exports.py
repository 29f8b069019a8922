"""Real exports as a new user loads them, by writing a mapping: any year the production calendar
knows, fallbacks on unknown words and as [map] targets, a blank given a meaning, several columns in
one text, and file errors said as file errors. Each on both databases, with files made here."""
import csv
import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import pytest
from sqlalchemy import text

from ingest import run as importer
from ingest.mapping import MappingError, load_mapping
from queries.db import make_engine
from queries.migrate import upgrade
from queries.workcal import CALENDAR_FIRST

from .test_import import FOREIGN, GOOD, cli, write_foreign

ROOT = Path(__file__).resolve().parent.parent
NSK = ZoneInfo("Asia/Novosibirsk")


def engine_for(fresh_url):
    engine = make_engine(fresh_url)
    upgrade(engine)
    return engine


def appeals(engine) -> pd.DataFrame:
    with engine.connect() as c:
        return pd.read_sql(text("""select a.external_id, a.text, a.received_at, a.first_response_at,
                a.first_response_work_hours, o.code as executor, m.code as territory
            from appeals a join organizations o on o.id = a.organization_id
            join municipalities m on m.id = a.municipality_id order by a.external_id"""), c).set_index("external_id")


def working_hours(start: dt.datetime, end: dt.datetime) -> float:
    """Independently: 09:00–18:00 local on the days the `holidays` package calls working."""
    ru = holidays.country_holidays("RU", years=range(start.year, end.year + 1))
    total, day = 0.0, start.date()
    while day <= end.date():
        if ru.is_working_day(day):
            lo = max(start, dt.datetime.combine(day, dt.time(9), NSK))
            hi = min(end, dt.datetime.combine(day, dt.time(18), NSK))
            total += max((hi - lo).total_seconds(), 0) / 3600
        day += dt.timedelta(days=1)
    return total


def test_an_export_from_before_2020_loads_with_its_working_hours(backend, fresh_url, tmp_path):
    rows = [["Y-1", "28.12.2018 17:00", "старая заявка", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено",
             "09.01.2019 10:00", "10.01.2019 10:00", ""],
            ["Y-2", "29.12.1990 10:00", "до календаря", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""]]
    engine = engine_for(fresh_url)
    s = importer.run_import(engine, write_foreign(tmp_path / "old.csv", rows), FOREIGN)
    assert (s.inserted, s.rejected) == (1, 1)
    got = appeals(engine).loc["Y-1"]
    want = working_hours(dt.datetime(2018, 12, 28, 17, tzinfo=NSK), dt.datetime(2019, 1, 9, 10, tzinfo=NSK))
    # 28.12 17–18 h, the working Saturday 29.12.2018, 9.01.2019 9–10 h: the new-year holidays between
    assert got["first_response_work_hours"] == pytest.approx(want, abs=1e-3) and want == 11.0
    rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    assert rejects["reason_en"].iloc[0] == (f"date '29.12.1990 10:00' outside the working calendar "
                                            f"({CALENDAR_FIRST:%d.%m.%Y} to 31.12.{dt.date.today().year + 2})")


def mapping_with(tmp_path, extra: str) -> Path:
    base = (ROOT / "ingest" / "mappings" / "example_incident.toml").read_text(encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(base + "\n" + extra, encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))
    return path


def test_unknown_executor_words_take_the_fallback_and_a_map_may_name_it(backend, fresh_url, tmp_path):
    """@territory_admin applies to unknown words, not only to blanks; a [map.executor] word may
    name it too; a word mapped to "reject" is refused."""
    m = load_mapping(mapping_with(tmp_path, '[map.executor]\n"Управа" = "@territory_admin"\n"Спам" = "reject"\n'))
    rows = [[f"E-{i}", "01.03.2024 10:00", "текст", "ВКонтакте", "", terr, "Дороги", word, "Новое", "", "", ""]
            for i, (terr, word) in enumerate([("Бердск", "Неизвестное ведомство"), ("Обь", "Управа"),
                                              ("Бердск", "Минздрав"), ("Обь", ""), ("Бердск", "Спам")])]
    engine = engine_for(fresh_url)
    s = importer.run_import(engine, write_foreign(tmp_path / "in.csv", rows), m)
    assert (s.inserted, s.rejected) == (4, 1)
    with engine.connect() as c:
        admin = dict(c.execute(text("""select m.code, o.code from organizations o
            join municipalities m on m.id = o.municipality_id where o.code like 'admin.%'""")).all())
        name_of = dict(c.execute(text("select name_ru, code from municipalities")).all())
        health = c.execute(text("select code from organizations where short_name_ru = 'Минздрав' or name_ru = 'Минздрав'")).scalar()
    got = appeals(engine)["executor"].to_dict()
    assert got == {"E-0": admin[name_of["Бердск"]], "E-1": admin[name_of["Обь"]], "E-2": health,
                   "E-3": admin[name_of["Обь"]]}


def test_a_blank_may_be_given_a_value_and_otherwise_is_missing(backend, fresh_url, tmp_path):
    rows = [["B-1", "01.03.2024 10:00", "без территории", "ВКонтакте", "", "", "Дороги", "", "Новое", "", "", ""],
            ["B-2", "01.03.2024 11:00", "без рубрики", "ВКонтакте", "", "Бердск", "", "", "Новое", "", "", ""]]
    engine = engine_for(fresh_url)
    s = importer.run_import(engine, write_foreign(tmp_path / "in.csv", rows), FOREIGN, dry_run=True)
    assert s.rejected == 2  # no meaning given: a blank is a missing required field
    m = load_mapping(mapping_with(tmp_path, '[map.territory]\n"" = "Новосибирск"\n'))
    m.values["topic"][""] = "other.general"  # beside the shipped mapping's words
    s = importer.run_import(engine, write_foreign(tmp_path / "in.csv", rows), m)
    assert (s.inserted, s.rejected) == (2, 0)
    with engine.connect() as c:
        nsk = c.execute(text("select code from municipalities where name_ru = 'Новосибирск'")).scalar_one()
        topic = c.execute(text("select t.code from appeals a join topics t on t.id = a.topic_id "
                               "where a.external_id = 'B-2'")).scalar_one()
    assert appeals(engine).loc["B-1", "territory"] == nsk and topic == "other.general"


def test_a_template_joins_several_columns_into_the_text(backend, fresh_url, tmp_path):
    header = ["Номер", "Дата", "Категория", "Описание", "Район", "Статус"]
    rows = [["T-1", "01.03.2024 10:00", "Дороги", "Яма у школы №5", "Бердск", "Новое"],
            ["T-2", "01.03.2024 11:00", "Отопление", "", "Обь", "Новое"]]
    path = tmp_path / "t.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, *rows])
    mp = tmp_path / "t.toml"
    mp.write_text('[input]\ndate_format = "%d.%m.%Y %H:%M"\n[columns]\nexternal_id = "Номер"\nreceived_at = "Дата"\n'
                  'territory = "Район"\ntopic = "Категория"\nstatus = "Статус"\n[constants]\nsource = "pos"\n'
                  '[template]\ntext = "{Категория}: {Описание}"\n[map.topic]\n"Дороги" = "roads.repair"\n'
                  '"Отопление" = "housing.heating"\n[map.status]\n"Новое" = "new"\n'
                  '[fallback]\nexecutor = "@territory_admin"\n', encoding="utf-8")
    engine = engine_for(fresh_url)
    s = importer.run_import(engine, path, load_mapping(mp))
    assert (s.inserted, s.rejected) == (2, 0)
    assert appeals(engine)["text"].to_dict() == {"T-1": "Дороги: Яма у школы №5", "T-2": "Отопление:"}


def test_mapping_errors_name_the_place(tmp_path):
    for extra, key in (('[map.territory]\n"Ямы" = "nowhere"\n', "mapping_target"),
                       ('[template]\ntext = "без столбцов"\n', "mapping_template"),
                       ('[precision]\nclosed_at = "hour"\n', "mapping_precision")):
        base = (ROOT / "ingest" / "mappings" / "example_incident.toml").read_text(encoding="utf-8")
        path = tmp_path / f"{key}.toml"
        path.write_text(base + "\n" + extra, encoding="utf-8")
        with pytest.raises(MappingError) as err:
            m = load_mapping(path)
            engine = engine_for(f"sqlite:///{tmp_path / f'{key}.sqlite'}")
            importer.run_import(engine, write_foreign(tmp_path / "in.csv", GOOD), m, dry_run=True)
        assert err.value.key == key


def test_file_errors_are_file_errors_on_the_command_line(tmp_path):
    """A UTF-16 file and a pre-calendar date are said as what they are, with exit status 2 for the
    file and 0 for a load that rejected a row; never as a connection failure, never a traceback."""
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    mapping = str(ROOT / "ingest" / "mappings" / "example_incident.toml")
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes(write_foreign(tmp_path / "u8.csv", GOOD).read_text(encoding="utf-8").encode("utf-16"))
    out = cli(str(utf16), "--mapping", mapping, "--db", db, "--quiet")
    assert out.returncode == 2 and "UTF-16" in out.stderr and "cannot connect" not in out.stderr, out.stderr
    rows = [r[:] for r in GOOD]
    rows[0][1] = "01.01.1985 10:00"
    rows[1][2] = "нулевой\x00байт"
    out = cli(str(write_foreign(tmp_path / "old.csv", rows)), "--mapping", mapping, "--db", db, "--quiet")
    assert out.returncode == 0 and "inserted 2" in out.stderr and "rejected 1" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and "cannot connect" not in out.stderr


NOT_MEASURED = [
    ["M-1", "01.03.2024 10:00", "закрыто без ответа", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено", "", "05.03.2024 10:00", ""],
    ["M-2", "01.03.2024 11:00", "закрыто без ответа", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено", "", "01.03.2024 12:00", ""],
    ["M-3", "01.03.2024 12:00", "ещё открыто", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],
]


@pytest.mark.parametrize("declared", [False, True])
def test_an_export_without_response_times_is_not_measured_not_late(backend, fresh_url, tmp_path, declared):
    """A mapping that reads no response times: those appeals are neither on time, late nor
    overdue (the on-time share has no base at all); declaring that the closing is the first
    response measures them by their closings. Figures against a plain count of the rows."""
    from queries.filters import Filters
    from queries.kpis import kpi_frame

    from .pagetools import ANALYST
    columns = {f: c for f, c in FOREIGN.columns.items() if f != "first_response_at"}
    m = replace(FOREIGN, columns=columns, first_response="closing" if declared else "column")
    engine = engine_for(fresh_url)
    s = importer.run_import(engine, write_foreign(tmp_path / "in.csv", NOT_MEASURED), m)
    assert (s.inserted, s.rejected) == (3, 0)
    now = dt.datetime(2024, 3, 20, tzinfo=dt.timezone.utc)
    with engine.connect() as c:
        rows = pd.read_sql(text("select first_response_at, response_due_at, status, response_measured from appeals"), c)
        got = kpi_frame(c, Filters(dt.date(2024, 3, 1), dt.date(2024, 3, 31)), ANALYST, now).iloc[0]
    for col in ("first_response_at", "response_due_at"):
        rows[col] = pd.to_datetime(rows[col], utc=True, format="ISO8601")
    measured = rows[rows["response_measured"] == 1]
    answered = measured["first_response_at"].notna()
    on_time = int((answered & (measured["first_response_at"] <= measured["response_due_at"])).sum())
    late = int((answered & (measured["first_response_at"] > measured["response_due_at"])).sum())
    overdue = int((~answered & (measured["response_due_at"] < now)).sum())
    assert len(measured) == (3 if declared else 0)
    assert (got["on_time"], got["late"], got["no_response_overdue"]) == (on_time, late, overdue)
    if declared:  # M-2 answered by its closing within the norm, M-1 late, M-3 overdue
        assert (on_time, late, overdue) == (1, 1, 1)
        assert got["on_time_share"] == pytest.approx(1 / 3)
    else:
        assert pd.isna(got["on_time_share"]) and got["overdue_now"] == 0


def test_the_overview_says_how_many_appeals_the_response_figures_leave_out(backend, fresh_url, tmp_path):
    """Three appeals without response times, one with a response known to the day only: the
    on-time card says «нет данных» (no appeal is measured), and its definition how many are left
    out, counted independently from the rows."""
    from .pagetools import run_page
    columns = {f: c for f, c in FOREIGN.columns.items() if f != "first_response_at"}
    engine = engine_for(fresh_url)
    importer.run_import(engine, write_foreign(tmp_path / "a.csv", NOT_MEASURED), replace(FOREIGN, columns=columns))
    day = [["M-4", "02.03.2024 10:00", "ответ без времени", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено",
            "04.03.2024", "04.03.2024 12:00", ""]]
    s = importer.run_import(engine, write_foreign(tmp_path / "b.csv", day), replace(FOREIGN, precision={"first_response_at": "day"}))
    assert (s.inserted, s.rejected) == (1, 0)
    with engine.connect() as c:
        left_out = c.execute(text("select count(*) from appeals where response_measured = 0")).scalar_one()
        hours = c.execute(text("select first_response_work_hours from appeals where external_id = 'M-4'")).scalar_one()
    assert left_out == 4 and hours is None
    at = run_page(fresh_url, dt.datetime(2024, 3, 20, tzinfo=dt.timezone.utc), "pages/overview.py",
                  **{"from": "2024-03-01", "to": "2024-03-31"})
    assert not at.exception, [e.value for e in at.exception]
    card = next(m for m in at.metric if m.label == "В срок")
    assert card.value == "нет данных"
    assert f"Без данных о сроке ответа: {left_out} обращ." in card.help
