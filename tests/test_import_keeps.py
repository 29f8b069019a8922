"""An import never degrades what is stored, and shows what it will change before it does:
day-precision and empty values keep the better stored ones unless the mapping names the field
authoritative; the dry run's plan is what the load writes; a large change is confirmed first;
daylight-saving hours follow one rule. Each on both databases, with files made here."""
import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import text

from ingest import run as importer
from ingest.mapping import InputError
from ingest.plan import CONFIRM_SHARE
from queries.db import make_engine
from queries.migrate import upgrade

from .test_import import FOREIGN, GOOD, assert_summaries_equal_a_rebuild, cli, write_foreign

NSK = ZoneInfo("Asia/Novosibirsk")
DAY = replace(FOREIGN, precision={"received_at": "day", "first_response_at": "day", "closed_at": "day"})
STORED = ["external_id", "received_at", "source_url", "organization_id", "status", "response_due_at",
          "first_response_at", "closed_at", "citizen_rating", "first_response_work_hours"]


def stored(engine) -> pd.DataFrame:
    with engine.connect() as c:
        df = pd.read_sql(text(f"select {', '.join(STORED)} from appeals order by external_id"), c)
    for col in ("received_at", "response_due_at", "first_response_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df.set_index("external_id")


def loaded(fresh_url, tmp_path):
    engine = make_engine(fresh_url)
    upgrade(engine)
    importer.run_import(engine, write_foreign(tmp_path / "first.csv", GOOD), FOREIGN)
    return engine


def poorer_rows() -> list[list[str]]:
    """The same three appeals, dates without times, the link, rating and executor left empty."""
    return [[r[0], r[1][:10], r[2], r[3], "", r[5], r[6], "", r[8], r[9][:10], r[10][:10], ""] for r in GOOD]


def expected_kept(before: pd.DataFrame, rows: list[list[str]]) -> dict[str, dict[str, int]]:
    """Independently: a day the stored time falls on keeps it; an empty value keeps a filled one."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        a = before.loc[r[0]]
        for f, i in (("received_at", 1), ("first_response_at", 9), ("closed_at", 10)):
            if r[i] and not pd.isna(a[f]) and a[f].tz_convert(NSK).strftime("%d.%m.%Y") == r[i]:
                out.setdefault(f, {}).setdefault("day", 0)
                out[f]["day"] += 1
        for f, i, col in (("source_url", 4, "source_url"), ("citizen_rating", 11, "citizen_rating")):
            if r[i] == "" and not pd.isna(a[col]):
                out.setdefault(f, {}).setdefault("empty", 0)
                out[f]["empty"] += 1
    return out


def test_a_poorer_second_export_changes_nothing_that_was_better(backend, fresh_url, tmp_path):
    engine = loaded(fresh_url, tmp_path)
    before = stored(engine)
    rows = poorer_rows()
    s = importer.run_import(engine, write_foreign(tmp_path / "second.csv", rows), DAY)
    assert (s.read, s.updated, s.unchanged, s.rejected) == (3, 0, 3, 0)
    pd.testing.assert_frame_equal(stored(engine), before)
    kept = {f.field: f.kept for f in s.plan.fields}
    want = expected_kept(before, rows)
    # the executor: empty in the file, the territory's administration by the fallback; the stored
    # one (a ministry, for A-3) is kept
    assert before.loc["A-3", "organization_id"] != before.loc["A-2", "organization_id"]
    want["executor"] = {"empty": 1}
    assert kept == want and sum(n for k in want.values() for n in k.values()) >= 8
    examples = {(f.field, e[0]): e[1:] for f in s.plan.fields for e in f.kept_examples}
    assert examples[("received_at", "A-1")] == ("2024-03-01 10:00:00", "2024-03-01", "day")
    assert examples[("source_url", "A-1")] == ("https://vk.com/wall-1_1", "", "empty")
    assert any(line.startswith("  received_at [Дата регистрации]: 3 stored value(s) kept") for line in s.plan.lines())


def test_a_real_change_goes_through_beside_the_kept_values(backend, fresh_url, tmp_path):
    """A-2 closed on another day than its receipt: the closing is that day's end (day precision),
    its status changes; its day-only first response keeps the stored time; the working hours and
    the summaries follow."""
    engine = loaded(fresh_url, tmp_path)
    before = stored(engine)
    rows = poorer_rows()
    rows[1][8], rows[1][10] = "Решено", "05.03.2024"
    s = importer.run_import(engine, write_foreign(tmp_path / "second.csv", rows), DAY, confirm=True)
    assert (s.updated, s.unchanged) == (1, 2)
    after = stored(engine)
    closed = dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=NSK)
    assert after.loc["A-2", "closed_at"] == pd.Timestamp(closed)
    assert after.loc["A-2", "status"] == "resolved"
    same = [c for c in STORED[1:] if c not in ("closed_at", "status")]
    pd.testing.assert_frame_equal(after[same], before[same])
    changed = {f.field: (f.changed, f.examples) for f in s.plan.fields if f.changed}
    assert changed == {"status": (1, [("A-2", "in_progress", "resolved")]),
                       "closed_at": (1, [("A-2", "", "2024-03-05 23:59:59")])}
    assert_summaries_equal_a_rebuild(engine)


def test_an_authoritative_field_replaces_the_stored_value(backend, fresh_url, tmp_path):
    engine = loaded(fresh_url, tmp_path)
    before = stored(engine)
    m = replace(DAY, authoritative={"received_at", "source_url"})
    s = importer.run_import(engine, write_foreign(tmp_path / "second.csv", poorer_rows()), m, confirm=True)
    after = stored(engine)
    assert s.updated == 3
    for r in GOOD:  # the receipt is the day's start now; the link is gone
        day = dt.datetime.strptime(r[1][:10], "%d.%m.%Y").replace(tzinfo=NSK)
        assert after.loc[r[0], "received_at"] == pd.Timestamp(day)
    assert after["source_url"].isna().all()
    assert (after["first_response_at"].equals(before["first_response_at"])
            and after["closed_at"].equals(before["closed_at"]))  # not authoritative: kept
    counts = {f.field: f.changed for f in s.plan.fields if f.changed}
    assert counts["received_at"] == (before["received_at"] != after["received_at"]).sum() == 3
    assert counts["source_url"] == before["source_url"].notna().sum()
    assert_summaries_equal_a_rebuild(engine)


def field_diff(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, int]:
    names = {"organization_id": "executor"}
    out = {}
    for c in before.columns:
        if c == "first_response_work_hours":
            continue
        n = int(sum(not (pd.isna(x) and pd.isna(y)) and x != y for x, y in zip(before[c], after[c])))
        if n:
            out[names.get(c, c)] = n
    return out


def test_the_checked_plan_is_what_the_load_writes(backend, fresh_url, tmp_path):
    engine = loaded(fresh_url, tmp_path)
    rows = [r[:] for r in GOOD]
    rows[0][11], rows[1][8], rows[1][10], rows[2][7] = "4", "Отклонено", "06.03.2024 18:00", "Минстрой"
    path = write_foreign(tmp_path / "second.csv", rows)
    before = stored(engine)
    check = importer.run_import(engine, path, FOREIGN, dry_run=True)
    pd.testing.assert_frame_equal(stored(engine), before)
    s = importer.run_import(engine, path, FOREIGN, expect=check.plan.digest(), confirm=True)
    after = stored(engine).loc[before.index]
    assert {f.field: f.changed for f in check.plan.fields if f.changed} == field_diff(before, after) == {
        "citizen_rating": 1, "status": 1, "closed_at": 1, "executor": 1}
    assert s.plan.digest() == check.plan.digest()


def test_a_load_refuses_when_the_database_moved_since_the_check(backend, fresh_url, tmp_path):
    engine = loaded(fresh_url, tmp_path)
    rows = [r[:] for r in GOOD]
    rows[0][11] = "3"
    path = write_foreign(tmp_path / "second.csv", rows)
    check = importer.run_import(engine, path, FOREIGN, dry_run=True)
    other = [r[:8] + ["В работе"] + r[9:] if r[0] == "A-3" else r for r in GOOD]  # the file would undo it
    assert importer.run_import(engine, write_foreign(tmp_path / "other.csv", other), FOREIGN, confirm=True).updated == 1
    before = stored(engine)
    with pytest.raises(InputError) as refused:
        importer.run_import(engine, path, FOREIGN, expect=check.plan.digest(), confirm=True)
    assert refused.value.key == "input_plan_changed"
    pd.testing.assert_frame_equal(stored(engine), before)


def test_a_large_change_is_confirmed_first(backend, fresh_url, tmp_path):
    engine = loaded(fresh_url, tmp_path)
    rows = [r[:] for r in GOOD]
    rows[0][11], rows[1][11] = "2", "3"  # 2 of 3 stored appeals
    path = write_foreign(tmp_path / "second.csv", rows)
    before = stored(engine)
    assert 2 / 3 > CONFIRM_SHARE
    with pytest.raises(InputError) as refused:
        importer.run_import(engine, path, FOREIGN)
    assert refused.value.key == "input_confirm" and refused.value.params["changed"] == 2
    pd.testing.assert_frame_equal(stored(engine), before)
    s = importer.run_import(engine, path, FOREIGN, confirm=True)
    assert s.updated == 2


def test_the_command_line_shows_the_plan_and_asks_for_yes(tmp_path):
    db = tmp_path / "cli.sqlite"
    mapping = str(FOREIGN_PATH)
    r = cli(str(write_foreign(tmp_path / "first.csv", GOOD)), "--mapping", mapping, "--db", f"sqlite:///{db}")
    assert r.returncode == 0, r.stderr
    rows = [r[:] for r in GOOD]
    rows[0][11], rows[1][11] = "2", "3"
    second = str(write_foreign(tmp_path / "second.csv", rows))
    r = cli(second, "--mapping", mapping, "--db", f"sqlite:///{db}", "--dry-run", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "2 of 3 stored appeals change (66.7%)" in r.stderr
    assert "citizen_rating [Оценка]: 2 change, e.g. A-1: 5 → 2; A-2: (empty) → 3" in r.stderr
    r = cli(second, "--mapping", mapping, "--db", f"sqlite:///{db}", "--quiet")
    assert r.returncode == 2 and "confirm with --yes" in r.stderr and "Traceback" not in r.stderr
    r = cli(second, "--mapping", mapping, "--db", f"sqlite:///{db}", "--quiet", "--yes")
    assert r.returncode == 0 and "updated 2" in r.stderr


FOREIGN_PATH = __import__("pathlib").Path(__file__).resolve().parent.parent / "ingest" / "mappings" / "example_incident.toml"


def test_daylight_saving_hours_follow_one_rule(backend, fresh_url, tmp_path):
    """A time the clocks pass twice is its first occurrence; a time they skip moves forward by the
    gap. Neither is refused, nor given a wrong reason."""
    berlin = ZoneInfo("Europe/Berlin")
    rows = [["D-1", "27.10.2024 02:30", "двойной час", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено",
             "27.10.2024 02:45", "27.10.2024 03:30", ""],
            ["D-2", "31.03.2024 02:30", "пропущенный час", "ВКонтакте", "", "Бердск", "Дороги", "", "Новое",
             "", "", ""]]
    engine = make_engine(fresh_url)
    upgrade(engine)
    s = importer.run_import(engine, write_foreign(tmp_path / "dst.csv", rows), replace(FOREIGN, timezone="Europe/Berlin"))
    assert (s.inserted, s.rejected) == (2, 0)
    got = stored(engine)
    first = dt.datetime(2024, 10, 27, 2, 30, tzinfo=berlin, fold=0)  # summer time, the first pass
    assert got.loc["D-1", "received_at"] == pd.Timestamp(first)
    assert got.loc["D-1", "first_response_at"] == pd.Timestamp(dt.datetime(2024, 10, 27, 2, 45, tzinfo=berlin, fold=0))
    assert got.loc["D-2", "received_at"] == pd.Timestamp(dt.datetime(2024, 3, 31, 3, 0, tzinfo=berlin))


def test_a_same_day_closing_at_day_precision_is_the_receipt_not_before_it(backend, fresh_url, tmp_path):
    rows = [["P-1", "01.03.2024 10:00", "закрыто в тот же день", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено",
             "01.03.2024 00:00", "01.03.2024 00:00", ""],
            ["P-2", "01.03.2024 10:00", "закрыто назавтра", "ВКонтакте", "", "Бердск", "Дороги", "", "Решено",
             "", "02.03.2024 00:00", ""]]
    engine = make_engine(fresh_url)
    upgrade(engine)
    closings = replace(FOREIGN, precision={"first_response_at": "day", "closed_at": "day"})
    s = importer.run_import(engine, write_foreign(tmp_path / "days.csv", rows), closings)
    assert (s.inserted, s.rejected) == (2, 0)
    got = stored(engine)
    receipt = pd.Timestamp(dt.datetime(2024, 3, 1, 10, 0, tzinfo=NSK))
    assert got.loc["P-1", "closed_at"] == got.loc["P-1", "first_response_at"] == receipt
    assert got.loc["P-2", "closed_at"] == pd.Timestamp(dt.datetime(2024, 3, 2, 23, 59, 59, tzinfo=NSK))
    # without the declaration the midnight is a time, and P-1's closing is before its receipt
    s = importer.run_import(engine, write_foreign(tmp_path / "days2.csv", rows), FOREIGN, dry_run=True)
    assert s.rejected == 1
