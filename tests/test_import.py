"""Importing exports: round trip, re-import no-op, updates, every kind of bad row, all or nothing."""
import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import text

from ingest import readers, run as importer
from queries import summaries
from queries.db import make_engine
from queries.filters import Filters
from queries.kpis import kpi_frame
from queries.migrate import upgrade
from ingest.export import export_csv
from ingest.mapping import load_mapping

from .conftest import SMALL_AS_OF, examples
from .pagetools import ANALYST, expected_kpis, frame
from .test_seed import fingerprint
from .test_summaries import GROUPS, check_frame, read_raw, table_rows

ROOT = Path(__file__).resolve().parent.parent
OWN = load_mapping(ROOT / "ingest" / "mappings" / "cur_export.toml")
FOREIGN = load_mapping(ROOT / "ingest" / "mappings" / "example_incident.toml")


def export(engine, path: Path) -> Path:
    with engine.connect() as conn, open(path, "w", encoding="utf-8", newline="") as fh:
        export_csv(conn, fh)
    return path


def compared(engine) -> pd.DataFrame:
    with engine.connect() as c:
        df = pd.read_sql(text("""select a.*, m.code as mc, t.code as tc, o.code as oc from appeals a
            join municipalities m on m.id = a.municipality_id join topics t on t.id = a.topic_id
            join organizations o on o.id = a.organization_id order by a.external_id"""), c)
    # ids differ between databases; text_tsv is PostgreSQL's stored search vector of `text`
    df = df.drop(columns=["id", "municipality_id", "topic_id", "organization_id", "escalated_to_id", "text_tsv"],
                 errors="ignore")
    for col in ("received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df.reset_index(drop=True)


def test_round_trip_gives_identical_figures(small_db, fresh_url, tmp_path):
    csv_path = export(small_db, tmp_path / "export.csv")
    target = make_engine(fresh_url)
    s = importer.run_import(target, csv_path, OWN)
    n = frame(small_db).shape[0]
    assert (s.read, s.inserted, s.rejected) == (n, n, 0)
    a, b = compared(small_db), compared(target)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, atol=1e-3)
    f = Filters(dt.date(2020, 11, 26), dt.date(2021, 4, 15))
    with small_db.connect() as c1, target.connect() as c2:
        for group in (None, "territory", "topic", "executor", "source"):
            x = kpi_frame(c1, f, ANALYST, SMALL_AS_OF, group).drop(columns=["key"], errors="ignore")
            y = kpi_frame(c2, f, ANALYST, SMALL_AS_OF, group).drop(columns=["key"], errors="ignore")
            if group:
                x, y = x.sort_values(list(x.columns)).reset_index(drop=True), y.sort_values(list(y.columns)).reset_index(drop=True)
            pd.testing.assert_frame_equal(x, y, check_dtype=False, atol=1e-6)
    exp_a, exp_b = expected_kpis(frame(small_db), SMALL_AS_OF), expected_kpis(frame(target), SMALL_AS_OF)
    assert exp_a == pytest.approx(exp_b, nan_ok=True)
    assert frame(target)["removed"].sum() == frame(small_db)["removed"].sum()


def test_reimport_is_a_no_op(small_sqlite, tmp_path):
    csv_path = export(small_sqlite, tmp_path / "export.csv")
    target = make_engine(f"sqlite:///{tmp_path / 'target.sqlite'}")
    importer.run_import(target, csv_path, OWN)
    before = fingerprint(target)
    s = importer.run_import(target, csv_path, OWN)
    assert (s.inserted, s.updated, s.unchanged, s.rejected, s.events) == (0, 0, s.read, 0, 0)
    assert fingerprint(target) == before


def test_newer_export_updates_and_appends_events(backend, fresh_url, small_sqlite, tmp_path):
    csv_path = export(small_sqlite, tmp_path / "export.csv")
    target = make_engine(fresh_url)
    importer.run_import(target, csv_path, OWN)
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    open_rows = df.index[df["status"].isin(["new", "assigned"]) & (df["first_response_at"] == "")][:3]
    progress_rows = df.index[(df["status"] == "in_progress")][:3]
    assert len(open_rows) and len(progress_rows)
    for i in open_rows:  # answered and resolved since the last export
        rec = pd.Timestamp(df.at[i, "received_at"])
        df.at[i, "first_response_at"] = (rec + pd.Timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S")
        df.at[i, "closed_at"] = (rec + pd.Timedelta(hours=40)).strftime("%Y-%m-%dT%H:%M:%S")
        df.at[i, "status"] = "resolved"
        df.at[i, "citizen_feedback"] = "confirmed"
    for i in progress_rows:
        df.at[i, "closed_at"] = (pd.Timestamp(df.at[i, "first_response_at"]) + pd.Timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
        df.at[i, "status"] = "explained"
    newer = tmp_path / "newer.csv"
    df.to_csv(newer, index=False)
    with target.connect() as c:
        events_before = c.execute(text("select count(*) from appeal_events")).scalar_one()
    s = importer.run_import(target, newer, OWN)
    assert s.updated == len(open_rows) + len(progress_rows) and s.inserted == 0 and s.rejected == 0
    assert s.read == s.inserted + s.updated + s.unchanged + s.rejected
    with target.connect() as c:
        events_after = c.execute(text("select count(*) from appeal_events")).scalar_one()
        for i in open_rows:
            ext = df.at[i, "external_id"]
            kinds = [r[0] for r in c.execute(text("""select e.kind from appeal_events e join appeals a on a.id = e.appeal_id
                where a.external_id = :x order by e.at, e.id"""), {"x": ext})]
            assert kinds[-3:] == ["response", "closed", "citizen_confirmed"]
            status = c.execute(text("select status from appeals where external_id = :x"), {"x": ext}).scalar_one()
            assert status == "resolved"
    assert events_after - events_before == 3 * len(open_rows) + len(progress_rows) == s.events
    # the summary tables were built by the first import and brought up to date by this one's delta:
    # they equal a rebuild
    with target.connect() as c:
        raw = read_raw(c)
        for group in GROUPS:
            check_frame(c, raw, Filters(dt.date(2020, 11, 20), dt.date(2021, 4, 20)), SMALL_AS_OF, group)
    assert_summaries_equal_a_rebuild(target)



def test_search_follows_imported_texts(backend, fresh_url, small_sqlite, tmp_path):
    """The text index follows a first load, an update of a text and a new appeal (SQLite's FTS5
    table through its bulk fill and its triggers; PostgreSQL's generated vector)."""
    from queries.cases import case_list
    df = pd.read_csv(export(small_sqlite, tmp_path / "export.csv"), dtype=str, keep_default_na=False)
    df.at[0, "text"] = "Зюзюка в подъезде, помогите"
    df.to_csv(tmp_path / "first.csv", index=False)
    target = make_engine(fresh_url)
    importer.run_import(target, tmp_path / "first.csv", OWN)
    everything = Filters(dt.date(2019, 1, 1), dt.date(2030, 1, 1))

    def found(word: str) -> set[str]:
        with target.connect() as c:
            cases, total = case_list(c, everything, ANALYST, SMALL_AS_OF, query=word, page_size=100)
        assert total == len(cases)
        return set(cases["external_id"])

    first, second = df.at[0, "external_id"], df.at[1, "external_id"]
    assert found("зюзюки") == {first}
    df.at[0, "text"] = "Ёлку во дворе так и не убрали"
    new = df.iloc[[1]].assign(external_id="NEW-1", text="Зюзюкой и пробками забит проезд")
    pd.concat([df, new]).to_csv(tmp_path / "newer.csv", index=False)
    s = importer.run_import(target, tmp_path / "newer.csv", OWN)
    assert (s.inserted, s.updated) == (1, 1)
    assert found("зюзюка") == {"NEW-1"}  # the old text is gone from the index, the new appeal is in it
    assert found("ёлки") == found("елка") == {first}  # ё and е are one letter to the stemmer
    assert second not in found("зюзюка пробка")
    assert_summaries_equal_a_rebuild(target)  # the delta of an inserted and an updated appeal


def assert_summaries_equal_a_rebuild(engine) -> None:
    with engine.connect() as c:
        trans = c.begin()
        cells = {t: table_rows(c, t) for t in ("agg_counts", "agg_closed", "agg_hist")}
        summaries.build(c)
        for t, stored in cells.items():
            assert table_rows(c, t) == stored, t
        trans.rollback()


def write_foreign(path: Path, rows: list[list[str]], encoding="utf-8", tail: bytes = b"") -> Path:
    header = ["Номер", "Дата регистрации", "Текст сообщения", "Площадка", "Ссылка", "Муниципалитет", "Рубрика",
              "Ответственный", "Статус", "Дата ответа", "Дата закрытия", "Оценка"]
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        w.writerows(rows)
    if tail:
        with open(path, "ab") as fh:
            fh.write(tail)
    return path


GOOD = [
    ["A-1", "01.03.2024 10:00", "Яма на дороге;\nопасно", "ВКонтакте", "https://vk.com/wall-1_1", "Бердск", "Дороги", "", "Решено", "01.03.2024 12:00", "02.03.2024 10:00", "5"],
    ["A-2", "01.03.2024 11:00", "Холодно в квартире", "Госуслуги", "", "Новосибирский район", "Отопление", "", "В работе", "01.03.2024 15:00", "", ""],
    ["A-3", "02.03.2024 09:00", "Прочий вопрос", "Телеграм", "", "Новосибирск", "Неизвестная рубрика", "Минздрав", "Новое", "", "", ""],
]


def test_foreign_export_with_every_kind_of_bad_row(backend, fresh_url, tmp_path):
    bad = [
        ["", "01.03.2024 10:00", "без номера", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],          # missing id
        ["B-2", "31.02.2024 10:00", "плохая дата", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],     # bad date
        ["B-3", "05.03.2024 10:00", "закрыто раньше", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено", "", "04.03.2024 10:00", ""],  # closed before received
        ["B-4", "05.03.2024 10:00", "где это", "ВКонтакте", "", "Атлантида", "Дороги", "", "Новое", "", "", ""],       # unknown territory
        ["A-1", "06.03.2024 10:00", "повтор", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],           # duplicate id
    ]
    path = write_foreign(tmp_path / "in.csv", GOOD + bad)
    with open(path, "ab") as fh:  # a row in Windows-1251 inside a UTF-8 file, then a truncated last line
        fh.write("B-6;01.03.2024 10:00;Текст в другой кодировке;ВКонтакте;;Бердск;Дороги;;Новое;;;\r\n".encode("cp1251"))
        fh.write('B-7;01.03.2024 10:00;"обрезанная строка'.encode("utf-8"))
    target = make_engine(fresh_url)
    upgrade(target)
    s = importer.run_import(target, path, FOREIGN)
    assert (s.read, s.inserted, s.rejected) == (10, 3, 7)
    rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    got = sorted(zip(rejects["line"].astype(int), rejects["column"], rejects["reason_en"]))
    # lines: header 1; A-1 2-3 (a newline inside quotes); A-2 4; A-3 5; bad rows 6..10; cp1251 row 11; truncated 12
    assert got == sorted([
        (6, "Номер", "required field is empty"),
        (7, "Дата регистрации", "cannot read date '31.02.2024 10:00' in the mapping's date_format %d.%m.%Y %H:%M"),
        (8, "Дата закрытия", "date before the received date"),
        (9, "Муниципалитет", "unknown value 'Атлантида'"),
        (10, "Номер", "duplicate id in the file (first on line 2)"),
        (11, "*", "wrong text encoding"),
        (12, "*", "truncated line or broken quoting"),
    ])
    assert rejects["reason_ru"].str.len().min() > 5
    with target.connect() as c:
        rows = {r[0]: r[1:] for r in c.execute(text("""select a.external_id, t.code, o.code, a.status, a.source
            from appeals a join topics t on t.id = a.topic_id join organizations o on o.id = a.organization_id"""))}
    assert rows["A-1"] == ("roads.repair", "admin.berdsk", "resolved", "vk")
    assert rows["A-2"] == ("housing.heating", "admin.novosibirsky_district", "in_progress", "pos")
    assert rows["A-3"] == ("other.general", "minzdrav", "new", "telegram")  # unknown topic → the fallback
    with target.connect() as c:  # local time → UTC
        assert str(c.execute(text("select received_at from appeals where external_id = 'A-1'")).scalar_one())[:16].replace(" ", "T") == "2024-03-01T03:00"


def test_windows_1251_and_xlsx_inputs(tmp_path):
    target = make_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
    s = importer.run_import(target, write_foreign(tmp_path / "in1251.csv", GOOD, encoding="cp1251"), FOREIGN)
    assert (s.inserted, s.rejected) == (3, 0)
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Выгрузка"
    ws.append(["Номер", "Дата регистрации", "Текст сообщения", "Площадка", "Ссылка", "Муниципалитет", "Рубрика",
               "Ответственный", "Статус", "Дата ответа", "Дата закрытия", "Оценка"])
    ws.append(["X-1", dt.datetime(2024, 3, 1, 10, 0), "Мусор не вывозят", "Одноклассники", None, "Обь", "Мусор",
               None, "Решено", "01.03.2024 12:00", dt.datetime(2024, 3, 3, 9, 0), 4])
    wb.save(tmp_path / "in.xlsx")
    s = importer.run_import(target, tmp_path / "in.xlsx", FOREIGN, sheet="Выгрузка")
    assert (s.inserted, s.rejected) == (1, 0)
    with target.connect() as c:
        row = c.execute(text("select status, citizen_rating, closed_at from appeals where external_id = 'X-1'")).one()
    assert row[0] == "resolved" and row[1] == 4 and row[2].startswith("2024-03-03T02:00")


def test_interrupted_import_changes_nothing(backend, fresh_url, small_sqlite, tmp_path, monkeypatch):
    csv_path = export(small_sqlite, tmp_path / "export.csv")
    target = make_engine(fresh_url)
    importer.run_import(target, write_foreign(tmp_path / "seed.csv", GOOD), FOREIGN)
    before = fingerprint(target)
    monkeypatch.setattr(readers, "CHUNK", 1000)
    with pytest.raises(importer.ImportError_):
        importer.run_import(target, csv_path, OWN, fail_after_chunks=3)
    assert fingerprint(target) == before


def test_summaries_out_of_step_refuse_an_update_and_change_nothing(backend, fresh_url, small_sqlite, tmp_path):
    """Cells deleted behind the importer's back: the delta of the next update would fall below
    zero, so the import is refused with its own message and the database stays as it was."""
    csv_path = export(small_sqlite, tmp_path / "export.csv")
    target = make_engine(fresh_url)
    importer.run_import(target, csv_path, OWN)
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    i = df.index[df["status"] == "in_progress"][0]
    df.at[i, "closed_at"] = (pd.Timestamp(df.at[i, "first_response_at"]) + pd.Timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    df.at[i, "status"] = "explained"
    df.to_csv(tmp_path / "newer.csv", index=False)
    with target.begin() as c:
        c.execute(text("delete from agg_counts"))
    before = fingerprint(target)
    with pytest.raises(importer.ImportError_) as exc:
        importer.run_import(target, tmp_path / "newer.csv", OWN)
    assert exc.value.key == "input_summaries"
    assert fingerprint(target) == before


def test_dry_run_writes_nothing(small_sqlite, tmp_path):
    csv_path = export(small_sqlite, tmp_path / "export.csv")
    target = make_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
    upgrade(target)
    s = importer.run_import(target, csv_path, OWN, dry_run=True)
    assert s.inserted == s.read > 0
    with target.connect() as c:
        assert c.execute(text("select count(*) from appeals")).scalar_one() == 0


def cli(*args, module="ingest"):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300)


def test_cli_summary_and_errors(tmp_path):
    path = write_foreign(tmp_path / "in.csv", GOOD + [["", "x", "", "", "", "", "", "", "", "", "", ""]])
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    out = cli(str(path), "--mapping", str(ROOT / "ingest/mappings/example_incident.toml"), "--db", db, "--quiet")
    assert out.returncode == 0, out.stderr
    assert "read 4 = inserted 3 + updated 0 + unchanged 0 + rejected 1" in out.stderr
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text('[columns]\nexternal_id = "Номер"\nnonsense = "x"\n')
    for args in (["--mapping", str(bad_mapping)], ["--mapping", str(tmp_path / "missing.toml")]):
        out = cli(str(path), *args, "--db", db)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    out = cli(str(tmp_path / "nope.csv"), "--mapping", str(ROOT / "ingest/mappings/example_incident.toml"), "--db", db)
    assert out.returncode == 2 and "not found" in out.stderr


def test_the_former_command_still_imports_and_says_it_is_an_alias(tmp_path):
    path = write_foreign(tmp_path / "in.csv", GOOD)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    out = cli(str(path), "--mapping", str(ROOT / "ingest/mappings/example_incident.toml"), "--db", db, "--quiet",
              module="seed.importer")
    assert out.returncode == 0, out.stderr
    assert "python -m ingest" in out.stderr and "read 3 = inserted 3" in out.stderr
    with make_engine(db).connect() as c:
        assert c.execute(text("select count(*) from appeals")).scalar_one() == 3


def _read_all(reader, path: Path) -> tuple[list[int], list[list[str]]]:
    lines, rows = [], []
    for batch in reader(path, FOREIGN):
        lines += batch.lines.tolist()
        rows += [batch.row(i) for i in range(len(batch))]
    return lines, rows


@pytest.mark.parametrize("variant", ["lf", "crlf", "bom", "cp1251", "no_final_newline", "trailing_blank_lines"])
def test_fast_reader_places_every_record_on_the_exact_readers_line(tmp_path, variant, monkeypatch):
    path = write_foreign(tmp_path / "in.csv", GOOD + [GOOD[0][:2] + ["три\nстроки\nтекста"] + GOOD[0][3:]] + GOOD[1:],
                         encoding="cp1251" if variant == "cp1251" else "utf-8")
    data = path.read_bytes()
    if variant == "lf":
        data = data.replace(b"\r\n", b"\n")
    elif variant == "bom":
        data = "\ufeff".encode() + data
    elif variant == "no_final_newline":
        data = data.rstrip(b"\r\n")
    elif variant == "trailing_blank_lines":
        data += b"\r\n\r\n"
    path.write_bytes(data)
    monkeypatch.setattr(readers, "CHUNK", 2)  # records split across chunks
    fast, exact = _read_all(readers.read_csv_fast, path), _read_all(readers.read_csv, path)
    assert fast == exact
    # header 1; A-1 2-3; A-2 4; A-3 5; the copy of A-1 6-8; A-2 9; A-3 10
    assert fast[0] == [2, 4, 5, 6, 9, 10]


@pytest.mark.parametrize("damage", [b"\r\n\r\n", b"\r\n   \r\n", b"\r\nlonely;field\r\n"])
def test_a_file_the_fast_reader_cannot_place_is_read_exactly(tmp_path, damage):
    path = write_foreign(tmp_path / "in.csv", GOOD)
    data = path.read_bytes()
    cut = data.index(b"A-2") - 2  # before the line of A-2 (line 4)
    path.write_bytes(data[:cut] + damage + data[cut + 2:])
    with pytest.raises(readers.NotPlain):
        _read_all(readers.read_csv_fast, path)
    target = make_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
    s = importer.run_import(target, path, FOREIGN)
    assert (s.read, s.inserted) == (3 + (damage.count(b";") > 0), 3)
    if s.rejected:
        rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
        assert rejects["line"].astype(int).tolist() == [4] and rejects["reason_en"].iloc[0].startswith("wrong number")
    with target.connect() as c:
        got = c.execute(text("select count(*) from appeals where external_id in ('A-1', 'A-2', 'A-3')")).scalar_one()
    assert got == 3


def test_broken_quoting_is_read_exactly_and_rejected(tmp_path):
    """`"Яма"на дороге` is not CSV: Arrow would load «Ямана дороге»; the file is read exactly and
    the row rejected. An escaped quote ("") inside a quoted field is fine and stays on the fast path."""
    fine = write_foreign(tmp_path / "fine.csv", [GOOD[0][:2] + ['Яма ""глубокая""; опасно'] + GOOD[0][3:]])
    assert [b.row(0)[2] for b in readers.read_csv_fast(fine, FOREIGN)] == ['Яма ""глубокая""; опасно']
    path = write_foreign(tmp_path / "in.csv", GOOD)
    with open(path, "ab") as fh:
        fh.write('B-1;01.03.2024 10:00;"Яма"на дороге;ВКонтакте;;Бердск;Дороги;;Новое;;;\r\n'.encode())
    with pytest.raises(readers.NotPlain):
        _read_all(readers.read_csv_fast, path)
    s = importer.run_import(make_engine(f"sqlite:///{tmp_path / 't.sqlite'}"), path, FOREIGN)
    assert (s.read, s.inserted, s.rejected) == (4, 3, 1)
    rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    assert rejects[["line", "reason_en"]].values.tolist() == [["6", "truncated line or broken quoting"]]


# ---- formats are contracts; control characters (issue 24) ------------------------------------------

FORMATS = ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y %I:%M %p"]


@settings(max_examples=examples(60), deadline=None)
@given(moment=st.datetimes(min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2040, 12, 31)),  # no DST here
       written=st.sampled_from(FORMATS), declared=st.sampled_from(FORMATS))
def test_a_date_is_read_only_in_the_declared_format(moment, written, declared):
    """A value is accepted exactly when it reads back in the declared format to what was written
    (the same text in both formats, e.g. a day without a time in a format without one); anything
    else is refused, never read in some other format."""
    from dataclasses import replace

    from ingest.validate import parse_dates

    moment = moment.replace(second=0, microsecond=0)
    value = moment.strftime(written)
    m = replace(FOREIGN, date_format=declared)
    secs, bad, _ = parse_dates(pd.Series([value], dtype="str"), m)
    try:
        fits = dt.datetime.strptime(value, declared).strftime(declared) == value
    except ValueError:
        fits = False
    assert bool(bad.iloc[0]) == (not fits), (value, declared)
    if fits:  # and then the moment it says, in the mapping's zone
        want = pd.Timestamp(dt.datetime.strptime(value, declared)).tz_localize(m.tz).tz_convert("UTC")
        assert secs[0] == want.timestamp()


def test_day_only_dates_under_a_time_format_are_refused_not_midnight(backend, fresh_url, tmp_path):
    """A second export whose dates carry only the day, while the mapping declares minutes: every
    such value refused with its line, column and reason, and what is stored stays as it was."""
    target = make_engine(fresh_url)
    upgrade(target)
    importer.run_import(target, write_foreign(tmp_path / "first.csv", GOOD), FOREIGN)
    with target.connect() as c:
        before = c.execute(text("select external_id, received_at, first_response_at, closed_at from appeals "
                                "order by external_id")).all()
    poorer = [[r[0], r[1][:10], *r[2:9], r[9][:10], r[10][:10], r[11]] for r in GOOD]
    s = importer.run_import(target, write_foreign(tmp_path / "second.csv", poorer), FOREIGN)
    assert (s.read, s.updated, s.rejected) == (3, 0, 3)
    rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    assert sorted(zip(rejects["line"].astype(int), rejects["column"])) == [
        (2, "Дата регистрации"), (4, "Дата регистрации"), (5, "Дата регистрации")]  # A-1 spans lines 2-3
    assert rejects["reason_en"].str.contains("in the mapping's date_format %d.%m.%Y %H:%M", regex=False).all()
    assert rejects["reason_ru"].str.contains("не читается в формате").all()
    with target.connect() as c:
        assert c.execute(text("select external_id, received_at, first_response_at, closed_at from appeals "
                              "order by external_id")).all() == before


def test_control_characters_are_handled_the_same_on_both_databases(backend, fresh_url, tmp_path):
    """NUL and other control characters: taken out of a text, a row refused for one in any other
    field (with its reason); the file's other rows load, on either database."""
    rows = [
        ["C-1", "01.03.2024 10:00", "Текст\x00 с нулём\x07 и\tтабуляцией", "ВКонтакте", "", "Бердск", "Дороги", "",
         "Новое", "", "", ""],
        ["C-\x002", "01.03.2024 11:00", "номер с нулём", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое", "", "", ""],
        ["C-3", "01.03.2024 12:00", "обычный текст", "ВКонтакте", "", "Берд\x1bск", "Дороги", "", "Новое", "", "", ""],
        *GOOD,
    ]
    target = make_engine(fresh_url)
    upgrade(target)
    s = importer.run_import(target, write_foreign(tmp_path / "in.csv", rows), FOREIGN)
    assert (s.read, s.inserted, s.rejected) == (6, 4, 2)
    rejects = pd.read_csv(s.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    assert sorted(zip(rejects["line"].astype(int), rejects["column"])) == [(3, "Номер"), (4, "Муниципалитет")]
    assert rejects["reason_en"].str.startswith("a control character").all()
    with target.connect() as c:
        assert c.execute(text("select text from appeals where external_id = 'C-1'")).scalar_one() == \
            "Текст с нулём и\tтабуляцией"
