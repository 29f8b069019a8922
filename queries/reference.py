"""Reference lists for filters and labels. Grain: one row per territory, topic or executor."""
from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from queries.run import run
from queries.viewer import Viewer, in_codes


def territories(conn: Connection) -> pd.DataFrame:
    """id, code, name_ru, name_en, kind, parent_id, parent_code, population; cities before their districts."""
    return run(conn, """
select m.id, m.code, m.name_ru, m.name_en, m.kind, m.parent_id, p.code as parent_code, m.population
from municipalities m left join municipalities p on p.id = m.parent_id
order by coalesce(p.name_ru, m.name_ru), m.parent_id is not null, m.name_ru""")


def topics(conn: Connection) -> pd.DataFrame:
    """id, code, name_ru, name_en, parent_id, parent_code, response_norm_hours, is_urgent; categories first."""
    return run(conn, """
select t.id, t.code, t.name_ru, t.name_en, t.parent_id, p.code as parent_code, t.response_norm_hours, t.is_urgent
from topics t left join topics p on p.id = t.parent_id
order by coalesce(p.id, t.id), t.parent_id is not null, t.id""")


def executors(conn: Connection) -> pd.DataFrame:
    """id, code, name_ru, name_en, short_name_ru, kind, parent_id, municipality_id."""
    return run(conn, """
select id, code, name_ru, name_en, short_name_ru, kind, parent_id, municipality_id
from organizations order by kind, name_ru""")


def outside_case_scope(conn: Connection, viewer: Viewer, codes) -> list[str]:
    """The territories among `codes` whose cases the viewer may not read: for a head, those that are
    neither theirs nor a district of theirs (the rule of viewer.scope, resolved the same way)."""
    if viewer.role != "head" or not codes:
        return []
    params: dict = {"codes": list(codes)}
    mine = in_codes("m.id", "municipalities", "v_terr", params, viewer.territories)
    inside = set(run(conn, f"select m.code from municipalities m where m.code in :codes and {mine}", params)["code"])
    return [c for c in codes if c not in inside]
