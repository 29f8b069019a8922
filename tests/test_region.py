"""Another region runs the same code with its own folder: a fictional oblast at UTC+12 (tests/
data/region_test) whose days, working hours, presets and reference follow its region.toml, on
both databases. Each run is a child process: a process serves one region (queries.region)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "data" / "region_test"

CHILD = r'''
import datetime as dt, json, sys
from pathlib import Path
import pandas as pd
from sqlalchemy import text
from ingest import run as importer
from ingest.mapping import load_mapping
from queries.db import make_engine
from queries.migrate import upgrade
from queries.filters import Filters
from queries.kpis import kpi_frame
from queries.localtime import local_date, TIME_ZONE
from queries.region import REGION
from queries.viewer import Viewer
from dashboard.urlstate import preset_range
from dashboard.i18n import t

url, csv_path, mapping_path = sys.argv[1:4]
engine = make_engine(url)
upgrade(engine)
s = importer.run_import(engine, Path(csv_path), load_mapping(mapping_path))
now = dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc)
analyst = Viewer("t", "analyst")
with engine.connect() as c:
    day = {d: int(kpi_frame(c, Filters(dt.date(2024, 3, d), dt.date(2024, 3, d)), analyst, now,
                             figures=["received"]).iloc[0]["received"]) for d in (3, 4)}
    hours = c.execute(text("select first_response_work_hours from appeals where external_id = 'R-2'")).scalar_one()
    territories = sorted(r[0] for r in c.execute(text("select name_ru from municipalities")))
    admin = c.execute(text("select name_ru from organizations where code = 'admin.testograd'")).scalar_one()
today = local_date(dt.datetime(2024, 3, 3, 13, 0, tzinfo=dt.timezone.utc))
print(json.dumps({"inserted": s.inserted, "rejected": s.rejected, "zone": TIME_ZONE, "by_day": day,
                  "hours": hours, "territories": territories, "admin": admin, "today": today.isoformat(),
                  "all": [d.isoformat() for d in preset_range("all", today)],
                  "subtitle": t("app.subtitle"), "peer": t("peer.city_district")}))
'''

ROWS = """Номер;Поступило;Текст;Территория;Тема;Статус;Ответ
R-1;04.03.2024 00:30;Яма;Тестоград;Ремонт дорог и ямы;Новое;
R-2;01.03.2024 17:00;Холодно;Центральный район;Отопление;В работе;04.03.2024 10:00
"""
MAPPING = """[input]
date_format = "%d.%m.%Y %H:%M"
timezone = "Asia/Kamchatka"
[columns]
external_id = "Номер"
received_at = "Поступило"
text = "Текст"
territory = "Территория"
topic = "Тема"
status = "Статус"
first_response_at = "Ответ"
[constants]
source = "pos"
[map.status]
"Новое" = "new"
"В работе" = "in_progress"
[fallback]
executor = "@territory_admin"
"""


def test_another_regions_days_hours_presets_and_reference(fresh_url, tmp_path):
    (tmp_path / "in.csv").write_text(ROWS, encoding="utf-8")
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    env = dict(os.environ, PULSE_REGION=str(FOLDER))
    env.pop("PULSE_TIME_ZONE", None)
    out = subprocess.run([sys.executable, "-c", CHILD, fresh_url, str(tmp_path / "in.csv"), str(tmp_path / "m.toml")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert (got["inserted"], got["rejected"], got["zone"]) == (2, 0, "Asia/Kamchatka")
    # 00:30 on the 4th at UTC+12 is 12:30 UTC on the 3rd: the region's day is the 4th
    assert got["by_day"] == {"3": 0, "4": 1}
    # Friday 17:00–18:00 and Monday 09:00–10:00 in the region's working hours
    assert got["hours"] == pytest.approx(2.0)
    assert got["territories"] == ["Северный район", "Тестоград", "Центральный район"]
    assert got["admin"] == "Мэрия города Тестограда"
    assert got["today"] == "2024-03-04"  # 13:00 UTC is already tomorrow at UTC+12
    assert got["all"] == ["2023-03-01", "2024-03-04"]
    assert (got["subtitle"], got["peer"]) == ("Обращения жителей Тестовой области", "Районы Тестограда")


def test_the_default_region_is_novosibirsk_oblast():
    from queries.region import REGION, load_region
    assert REGION.dir == ROOT / "ingest" / "data" or os.environ.get("PULSE_REGION")
    nso = load_region(ROOT / "ingest" / "data")
    assert (nso.time_zone, nso.centre_start.isoformat(), nso.capital_code) == ("Asia/Novosibirsk", "2020-11-26", "50701000")
    assert nso.boundaries is not None and "OpenStreetMap" in nso.boundaries.read_text(encoding="utf-8")[:2000]
