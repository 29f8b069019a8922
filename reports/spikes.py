"""The spikes as people read them: a table with codes and names (the CLI's CSV and the page «Всплески»
show the same rows) and one sentence per spike («Бердск, отопление: 46 обращений за неделю при
ожидаемых 3–9»). The computation is queries.spikes."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from queries.spikes import spikes_between
from queries.viewer import Viewer
from reports.press import appeals_word
from reports.typography import mid_sentence

CSV_COLUMNS = ["territory_code", "topic_code", "week_start", "received", "expected_low", "expected_high", "score"]


def spike_table(conn: Connection, d_from: dt.date, d_to: dt.date, viewer: Viewer, level: str = "category",
                within: tuple[str, ...] = ()) -> pd.DataFrame:
    """The spikes of the weeks beginning within [d_from, d_to] with their codes and names; a head's
    own territories (and their districts) first, then by score. `within`: only these territories
    (and their districts) — a subscription's scope."""
    found = spikes_between(conn, d_from, d_to, viewer, level)
    munis = pd.read_sql(text("select m.id, m.code, m.name_ru, m.name_en, p.code as parent_code from municipalities m "
                             "left join municipalities p on p.id = m.parent_id"), conn).set_index("id")
    topics = pd.read_sql(text("select id, code, name_ru, name_en from topics"), conn).set_index("id")
    out = pd.DataFrame({
        "territory_code": munis.loc[found["municipality_id"], "code"].to_numpy(),
        "topic_code": topics.loc[found["topic_id"], "code"].to_numpy(),
        "week_start": found["week"].to_numpy(),
        "received": found["received"].astype(int).to_numpy(),
        "expected_low": found["low"].astype(int).to_numpy(),
        "expected_high": found["high"].astype(int).to_numpy(),
        "score": found["score"].round(2).to_numpy(),
        "expected": found["expected"].to_numpy(),
        "municipality_id": found["municipality_id"].to_numpy(),
        "topic_id": found["topic_id"].to_numpy(),
        "territory_ru": munis.loc[found["municipality_id"], "name_ru"].to_numpy(),
        "territory_en": munis.loc[found["municipality_id"], "name_en"].to_numpy(),
        "topic_ru": topics.loc[found["topic_id"], "name_ru"].to_numpy(),
        "topic_en": topics.loc[found["topic_id"], "name_en"].to_numpy(),
    })
    mine = set(viewer.territories)
    parents = munis.loc[found["municipality_id"], "parent_code"].to_numpy()
    out["own"] = np.array([c in mine or p in mine for c, p in zip(out["territory_code"], parents)], dtype=bool)
    if within:
        out = out[np.array([c in within or p in within for c, p in zip(out["territory_code"], parents)], dtype=bool)]
    return out.sort_values(["own", "score", "received"], ascending=[False, False, False], kind="stable") \
        .reset_index(drop=True)


def sentence(row, lang: str = "ru") -> str:
    """«Бердск, отопление: 46 обращений за неделю при ожидаемых 3–9»."""
    n, lo, hi = int(row["received"]), int(row["expected_low"]), int(row["expected_high"])
    if lang == "ru":
        return (f"{row['territory_ru']}, {mid_sentence(row['topic_ru'])}: {n} {appeals_word(n, abbreviated=False)} "
                f"за неделю при ожидаемых {lo}–{hi}")
    topic = mid_sentence(row["topic_en"])
    return f"{row['territory_en']}, {topic}: {n} appeals in the week where {lo}–{hi} were expected"


def to_csv(table: pd.DataFrame) -> str:
    out = table[CSV_COLUMNS].copy()
    out["week_start"] = [d.isoformat() for d in out["week_start"]]
    return out.to_csv(index=False, lineterminator="\n")
