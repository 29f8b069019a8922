"""The region a deployment serves, from its folder: name, time zone, the centre's start date, the
production calendar's country, and the reference files (territories with population and
boundaries, executors, rubricator) beside region.toml.

`PULSE_REGION` names the folder; Novosibirsk Oblast's (ingest/data) is the default. Read once at
start-up, like the time zone: a process serves one region.
"""
from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "ingest" / "data"
FILES = ("municipalities.csv", "topics.csv", "regional_bodies.csv")


@dataclass(frozen=True)
class Region:
    dir: Path
    name_ru: str
    name_en: str
    name_genitive_ru: str
    time_zone: str
    centre_start: dt.date
    holidays: str
    boundaries: Path | None
    capital_code: str | None
    capital_genitive_ru: str
    capital_en: str
    capital_admin_ru: str
    capital_admin_en: str


class RegionError(ValueError):
    """A region folder that cannot be used: one English sentence."""


def load_region(folder: str | Path | None = None) -> Region:
    folder = Path(folder or os.environ.get("PULSE_REGION", "").strip() or DEFAULT_DIR)
    path = folder / "region.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegionError(f"PULSE_REGION: {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegionError(f"PULSE_REGION: {path} is not valid TOML: {exc}") from None
    missing = [f for f in FILES if not (folder / f).is_file()]
    missing += [k for k in ("name_ru", "name_en", "time_zone", "centre_start") if k not in raw]
    if missing:
        raise RegionError(f"PULSE_REGION: {folder} lacks {', '.join(missing)}")
    start = raw["centre_start"]
    if not isinstance(start, dt.date):
        raise RegionError(f"PULSE_REGION: centre_start in {path} must be a date (YYYY-MM-DD)")
    cap = raw.get("capital", {})
    boundaries = folder / raw["boundaries"] if raw.get("boundaries") else None
    return Region(
        dir=folder, name_ru=raw["name_ru"], name_en=raw["name_en"],
        name_genitive_ru=raw.get("name_genitive_ru", raw["name_ru"]), time_zone=raw["time_zone"],
        centre_start=start, holidays=raw.get("holidays", "RU"),
        boundaries=boundaries if boundaries and boundaries.is_file() else None,
        capital_code=cap.get("code"), capital_genitive_ru=cap.get("name_genitive_ru", ""),
        capital_en=cap.get("name_en", ""), capital_admin_ru=cap.get("admin_ru", ""),
        capital_admin_en=cap.get("admin_en", ""))


REGION = load_region()
