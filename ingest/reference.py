"""Reference tables (territories, topics, executors) built from the region folder's CSV files
(queries.region; Novosibirsk Oblast's is ingest/data)."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from queries import schema
from queries.region import REGION

DATA_DIR = REGION.dir
NORM_HOURS = 8.0
URGENT_NORM_HOURS = 4.0
CAPITAL_CODE = REGION.capital_code  # the city whose districts are territories too (or None)


def _read_csv(name: str) -> list[dict[str, str]]:
    if not (DATA_DIR / name).is_file():
        return []  # an optional file of the region folder
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _year(value: str) -> int | None:
    match = re.match(r"\s*(\d{4})", value or "")
    return int(match.group(1)) if match else None


def _float(value: str) -> float | None:
    return float(value) if value and value.strip() else None


@dataclass(frozen=True)
class Reference:
    municipalities: pd.DataFrame
    topics: pd.DataFrame
    organizations: pd.DataFrame

    def org_id(self, code: str) -> int:
        ids = self.__dict__.get("_org_ids")
        if ids is None:
            ids = dict(zip(self.organizations["code"], self.organizations["id"].astype(int)))
            object.__setattr__(self, "_org_ids", ids)
        return ids[code]

    def municipality_id(self, code: str) -> int:
        return int(self.municipalities.loc[self.municipalities["code"] == code, "id"].iloc[0])


def build_municipalities() -> pd.DataFrame:
    """One row per territory: the top-level ones, then the capital's city districts (parent = the city)."""
    rows = _read_csv("municipalities.csv")
    by_code: dict[str, int] = {}
    out = []
    top = [r for r in rows if r["kind"] != "city_district"]
    districts = [r for r in rows if r["kind"] == "city_district"]
    for i, r in enumerate(top + districts, start=1):
        code = r["code"].strip() or r["slug"].strip()
        by_code[code] = i
        parent = by_code.get(r["parent_code"]) if r["kind"] == "city_district" else None
        lat, lon = _float(r["lat"]), _float(r["lon"])
        if lat is None:
            lat, lon = _float(r["geojson_centroid_lat"]), _float(r["geojson_centroid_lon"])
        out.append({
            "id": i, "code": code, "name_ru": r["name_ru"], "name_en": r["name_en"], "kind": r["kind"],
            "parent_id": parent, "population": int(float(r["population_for_sim"])),
            "population_year": _year(r["population_year"]), "lat": lat, "lon": lon,
            "oktmo": r["code"].strip() or None, "center_ru": r["center_ru"], "slug": r["slug"],
        })
    df = pd.DataFrame(out)
    df["parent_id"] = df["parent_id"].astype("Int64")
    return df


def build_topics() -> pd.DataFrame:
    rows = _read_csv("topics.csv")
    ids = {r["code"]: i for i, r in enumerate(rows, start=1)}
    out = []
    for r in rows:
        urgent = r["is_urgent"].strip().lower() == "true"
        out.append({
            "id": ids[r["code"]], "code": r["code"], "name_ru": r["name_ru"], "name_en": r["name_en"],
            "parent_id": ids.get(r["parent_code"]) if r["parent_code"] else None,
            "response_norm_hours": URGENT_NORM_HOURS if urgent else NORM_HOURS, "is_urgent": urgent,
        })
    df = pd.DataFrame(out)
    df["parent_id"] = df["parent_id"].astype("Int64")
    return df


def _clinic_name(m: dict) -> tuple[str, str]:
    if m["kind"] == "city_district":
        return (f"Городская поликлиника ({m['name_ru']} {REGION.capital_genitive_ru})".replace(" )", ")"),
                f"City clinic ({m['name_en']})")
    if m["kind"] == "urban_okrug":
        return (f"Городская больница г. {m['name_ru']}", f"{m['name_en']} City Hospital")
    return (f"Центральная районная больница ({m['name_ru']})", f"{m['name_en']} Central District Hospital")


def _admin_name(m: dict) -> tuple[str, str]:
    if m["code"] == CAPITAL_CODE and REGION.capital_admin_ru:
        return (REGION.capital_admin_ru, REGION.capital_admin_en or REGION.capital_admin_ru)
    if m["kind"] == "city_district":
        return (f"Администрация: {m['name_ru']} {REGION.capital_genitive_ru}".rstrip(),
                f"{m['name_en']} Administration")
    if m["kind"] == "urban_okrug":
        return (f"Администрация г. {m['name_ru']}", f"{m['name_en']} City Administration")
    return (f"Администрация: {m['name_ru']}", f"{m['name_en']} Administration")


def build_organizations(municipalities: pd.DataFrame) -> pd.DataFrame:
    """Regional bodies, then an administration for every territory, the bodies of a territory
    (territory_bodies.csv: the city's road department), and a clinic for every territory."""
    out: list[dict] = []
    code_to_id: dict[str, int] = {}

    def add(code, name_ru, short, name_en, kind, parent_code=None, municipality_id=None):
        oid = len(out) + 1
        code_to_id[code] = oid
        out.append({
            "id": oid, "code": code, "name_ru": name_ru, "short_name_ru": short, "name_en": name_en,
            "kind": kind, "parent_code": parent_code, "municipality_id": municipality_id,
        })

    for r in _read_csv("regional_bodies.csv"):
        add(r["code"], r["name_ru"], r["short_name_ru"], r["name_en"], r["kind"], r["parent_code"] or None)
    munis = municipalities.to_dict("records")
    city = next((m for m in munis if m["code"] == CAPITAL_CODE), None)
    for m in munis:
        name_ru, name_en = _admin_name(m)
        parent = f"admin.{city['slug']}" if m["kind"] == "city_district" and city else None
        add(f"admin.{m['slug']}", name_ru, None, name_en, "municipal_admin", parent, m["id"])
    by_code = {m["code"]: m for m in munis}
    for r in _read_csv("territory_bodies.csv"):
        add(r["code"], r["name_ru"], r["short_name_ru"] or None, r["name_en"], r["kind"], r["parent_code"] or None,
            by_code[r["territory_code"]]["id"])
    for m in munis:
        if m["code"] == CAPITAL_CODE and any(x["kind"] == "city_district" for x in munis):
            continue  # the city's clinics are listed by district
        name_ru, name_en = _clinic_name(m)
        add(f"clinic.{m['slug']}", name_ru, None, name_en, "clinic", "minzdrav", m["id"])
    df = pd.DataFrame(out)
    df["parent_id"] = df["parent_code"].map(code_to_id).astype("Int64")
    df["municipality_id"] = df["municipality_id"].astype("Int64")
    return df.drop(columns=["parent_code"])


def build_reference() -> Reference:
    munis = build_municipalities()
    return Reference(munis, build_topics(), build_organizations(munis))


def _records(df: pd.DataFrame, table) -> list[dict]:
    cols = [c.name for c in table.columns if c.name in df.columns]
    sub = df[cols].astype(object).where(df[cols].notna(), None)
    return sub.to_dict("records")


def load_reference(conn: Connection, ref: Reference | None = None) -> Reference:
    """Insert the reference tables into an empty database; a database that has them is left as it is."""
    ref = ref or build_reference()
    have = conn.execute(select(func.count()).select_from(schema.municipalities)).scalar_one()
    if have:
        return read_reference(conn)
    for df, table in ((ref.municipalities, schema.municipalities), (ref.topics, schema.topics),
                      (ref.organizations, schema.organizations)):
        records = _records(df, table)
        # parents first: self-references must point at rows already inserted
        records.sort(key=lambda r: r.get("parent_id") is not None)
        conn.execute(insert(table), records)
    return ref


def read_reference(conn: Connection) -> Reference:
    """The reference tables as stored in the database."""
    munis = pd.read_sql(select(schema.municipalities).order_by(schema.municipalities.c.id), conn)
    slugs = build_municipalities().set_index("code")["slug"]
    munis["slug"] = munis["code"].map(slugs)
    topics = pd.read_sql(select(schema.topics).order_by(schema.topics.c.id), conn)
    orgs = pd.read_sql(select(schema.organizations).order_by(schema.organizations.c.id), conn)
    return Reference(munis, topics, orgs)
