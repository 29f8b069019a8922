"""The upsert: staged rows applied to the appeals on external_id, with the timeline events each
change implies, and the summaries kept current in the same transaction."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ingest.validate import STAGE_COLUMNS
from ingest.writer import copy_postgres, create_indexes, drop_fact_indexes, insert_sqlite
from queries import summaries


WORK_MEM = "256MB"  # PostgreSQL, for the import's transaction only


COMPARED = [c for c in STAGE_COLUMNS
            if c not in ("line", "comment_removed_at", "author_blocked_at", "day_mask", "blank_mask")]


def stage_table(conn: Connection) -> None:
    ts = "timestamptz" if conn.dialect.name == "postgresql" else "text"
    big = "bigint" if conn.dialect.name == "postgresql" else "integer"
    conn.execute(text("drop table if exists import_stage"))
    conn.execute(text(f"""create temp table import_stage (
        line {big}, external_id text, source text, source_url text, author_ref text, text text,
        received_at {ts}, municipality_id integer, topic_id integer, organization_id integer, status text,
        response_due_at {ts}, first_response_at {ts}, closed_at {ts}, escalated_at {ts}, escalated_to_id integer,
        citizen_feedback text, citizen_rating integer, reopened_count integer, reach integer,
        first_response_work_hours double precision, escalation_work_hours double precision,
        comment_removed_at {ts}, author_blocked_at {ts}, response_measured smallint, day_mask integer,
        blank_mask integer)"""))


def load_stage(conn: Connection, stage: pd.DataFrame) -> None:
    if stage.empty:
        return
    if conn.dialect.name == "sqlite":
        insert_sqlite(conn, "import_stage", STAGE_COLUMNS, stage)
    else:
        copy_postgres(conn, "import_stage", STAGE_COLUMNS, stage)


def _distinct(a: str, b: str, pg: bool) -> str:
    return f"{a} is distinct from {b}" if pg else f"{a} is not {b}"


EVENTS_FOR_NEW = [
    ("received", "s.received_at", "null", "null", "1=1"),
    ("assigned", "s.received_at", "s.organization_id", "null", "1=1"),
    ("response", "s.first_response_at", "s.organization_id", "null", "s.first_response_at is not null"),
    ("comment_removed", "s.comment_removed_at", "s.organization_id", "null", "s.comment_removed_at is not null"),
    ("author_blocked", "s.author_blocked_at", "s.organization_id", "null", "s.author_blocked_at is not null"),
    ("escalated", "s.escalated_at", "s.escalated_to_id", "null", "s.escalated_at is not null"),
    ("reopened", "coalesce(s.escalated_at, s.first_response_at, s.received_at)", "s.organization_id",
     "'Повторное открытие (по данным импорта; время неизвестно)'", "s.reopened_count > 0"),
    ("closed", "s.closed_at", "s.organization_id", "null", "s.closed_at is not null"),
    ("citizen_confirmed", "coalesce(s.closed_at, s.first_response_at, s.received_at)", "null", "null",
     "s.citizen_feedback = 'confirmed'"),
    ("citizen_disputed", "coalesce(s.closed_at, s.first_response_at, s.received_at)", "null", "null",
     "s.citizen_feedback = 'disputed'"),
]


def _analyze(conn: Connection, table: str) -> None:
    conn.execute(text(f"analyze {table}"))


def match(conn: Connection) -> dict[str, int]:
    """import_stage matched with the stored appeals on external_id: import_match (line, appeal,
    kind new | changed | same), and the count of each kind. Run after ingest.merge."""
    pg = conn.dialect.name == "postgresql"
    conn.execute(text("drop table if exists import_match"))
    diff = " or ".join(_distinct(f"s.{c}", f"a.{c}", pg) for c in COMPARED if c != "external_id")
    conn.execute(text(f"""create temp table import_match as
        select s.line, s.external_id, a.id as appeal_id,
               case when a.id is null then 'new' when {diff} then 'changed' else 'same' end as kind
        from import_stage s left join appeals a on a.external_id = s.external_id"""))
    conn.execute(text("create index import_match_line on import_match (line)"))
    _analyze(conn, "import_match")
    return dict(conn.execute(text("select kind, count(*) from import_match group by kind")).all())


def index_stage(conn: Connection) -> None:
    conn.execute(text("create index import_stage_ext on import_stage (external_id)"))
    conn.execute(text("create index import_stage_line on import_stage (line)"))
    _analyze(conn, "import_stage")


def upsert(conn: Connection, now: dt.datetime, counts: dict[str, int], track: bool = False
           ) -> tuple[int, int, int, int, tuple[pd.DataFrame, pd.DataFrame] | None]:
    """Apply the matched import_stage to appeals: (inserted, updated, unchanged, events written,
    change). Set-based SQL. `track`: `change` is the changed and new appeals before and after, as
    summaries.appeal_rows frames (what summaries.apply_delta takes); else None."""
    pg = conn.dialect.name == "postgresql"
    now_p = now if pg else now.strftime("%Y-%m-%dT%H:%M:%S")
    cols = list(COMPARED)
    events = 0
    before = after = None
    if track and counts.get("changed"):
        before = summaries.appeal_rows(conn, "a.id in (select appeal_id from import_match where kind = 'changed')")
    if counts.get("changed"):
        events += _apply_changes(conn, pg, now_p, cols)
    if counts.get("new"):
        events += _insert_new(conn, cols)
    if track and (counts.get("changed") or counts.get("new")):
        after = summaries.appeal_rows(
            conn, "a.external_id in (select external_id from import_match where kind <> 'same')")
    change = (pd.DataFrame() if before is None else before, after) if after is not None else None
    return counts.get("new", 0), counts.get("changed", 0), counts.get("same", 0), events, change


def _apply_changes(conn: Connection, pg: bool, now_p, cols: list[str]) -> int:
    """Implied events for changed appeals (read before the update), then the update itself."""
    events = 0
    conn.execute(text("drop table if exists import_changed"))
    conn.execute(text(f"""create temp table import_changed as
        select x.appeal_id, {", ".join(f"s.{c} as new_{c}" for c in cols + ["comment_removed_at", "author_blocked_at"])},
               {", ".join(f"a.{c} as old_{c}" for c in cols)}
        from import_stage s join import_match x on x.line = s.line join appeals a on a.id = x.appeal_id
        where x.kind = 'changed'"""))
    d = lambda a, b: _distinct(a, b, pg)  # noqa: E731
    implied = [
        ("reassigned", ":now", "new_organization_id", "'Смена исполнителя (по данным импорта)'",
         "new_organization_id <> old_organization_id"),
        ("response", "new_first_response_at", "new_organization_id", "null",
         "old_first_response_at is null and new_first_response_at is not null"),
        ("escalated", "new_escalated_at", "new_escalated_to_id", "null",
         "old_escalated_at is null and new_escalated_at is not null"),
        ("closed", "new_closed_at", "new_organization_id", "null",
         f"new_closed_at is not null and ({d('new_closed_at', 'old_closed_at')})"),
        ("citizen_confirmed", "coalesce(new_closed_at, :now)", "null", "null",
         f"new_citizen_feedback = 'confirmed' and ({d('new_citizen_feedback', 'old_citizen_feedback')})"),
        ("citizen_disputed", "coalesce(new_closed_at, :now)", "null", "null",
         f"new_citizen_feedback = 'disputed' and ({d('new_citizen_feedback', 'old_citizen_feedback')})"),
    ]
    for kind, at, org, note, cond in implied:
        r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id, note)
            select appeal_id, {at}, '{kind}', {org}, {note} from import_changed where {cond}"""), {"now": now_p})
        events += r.rowcount or 0
    # reopenings: as many events as the count grew, at least one when a closed case is open again
    again = "case when old_closed_at is not null and new_closed_at is null then 1 else 0 end"
    grew = (f"case when new_reopened_count - old_reopened_count > {again} "
            f"then new_reopened_count - old_reopened_count else {again} end")
    most = conn.execute(text(f"select max({grew}) from import_changed")).scalar() or 0
    for k in range(1, int(most) + 1):
        r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id, note)
            select appeal_id, coalesce(new_closed_at, :now), 'reopened', new_organization_id,
                   'Повторное открытие (по данным импорта)' from import_changed where {grew} >= {k}"""), {"now": now_p})
        events += r.rowcount or 0
    # a corrected first response moves its event
    conn.execute(text(f"""update appeal_events set at = (select c.new_first_response_at from import_changed c
            where c.appeal_id = appeal_events.appeal_id)
        where kind = 'response' and appeal_id in (select appeal_id from import_changed
            where old_first_response_at is not null and new_first_response_at is not null
              and {d('new_first_response_at', 'old_first_response_at')})"""))
    for kind, c in (("comment_removed", "comment_removed_at"), ("author_blocked", "author_blocked_at")):
        r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id)
            select appeal_id, new_{c}, '{kind}', new_organization_id from import_changed
            where new_{c} is not null and not exists (
                select 1 from appeal_events e where e.appeal_id = import_changed.appeal_id and e.kind = '{kind}')"""))
        events += r.rowcount or 0
    sets = ", ".join(f"{c} = c.new_{c}" for c in cols if c != "external_id")
    conn.execute(text(f"update appeals set {sets} from import_changed c where c.appeal_id = appeals.id"))
    # moderation events on unchanged appeals that the input reports and the timeline lacks
    for kind, c in (("comment_removed", "comment_removed_at"), ("author_blocked", "author_blocked_at")):
        r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id)
            select x.appeal_id, s.{c}, '{kind}', s.organization_id from import_stage s join import_match x on x.line = s.line
            where x.kind = 'same' and s.{c} is not null and not exists (
                select 1 from appeal_events e where e.appeal_id = x.appeal_id and e.kind = '{kind}')"""))
        events += r.rowcount or 0
    return events


def _insert_new(conn: Connection, cols: list[str]) -> int:
    """New appeals in received order, then their timelines from one joined temp table."""
    empty = conn.execute(text("select 1 from appeals limit 1")).first() is None  # not a count of millions
    dropped = drop_fact_indexes(conn) if empty else []  # a first load: rebuild indexes once at the end
    conn.execute(text(f"""insert into appeals ({", ".join(cols)})
        select {", ".join("s." + c for c in cols)} from import_stage s join import_match x on x.line = s.line
        where x.kind = 'new' order by s.received_at, s.line"""))
    conn.execute(text("drop table if exists import_new"))
    conn.execute(text("""create temp table import_new as
        select a.id as appeal_id, s.* from import_stage s join import_match x on x.line = s.line
        join appeals a on a.external_id = s.external_id where x.kind = 'new'"""))
    _analyze(conn, "import_new")
    parts = [f"select appeal_id, {at} as at, '{kind}' as kind, {org} as organization_id, {note} as note, {i} as ord "
             f"from import_new s where {cond}" for i, (kind, at, org, note, cond) in enumerate(EVENTS_FOR_NEW)]
    r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id, note)
        select appeal_id, at, kind, organization_id, note from ({" union all ".join(parts)}) e
        order by appeal_id, at, ord"""))
    events = r.rowcount or 0
    most = conn.execute(text("select max(reopened_count) from import_new")).scalar() or 0
    for k in range(2, int(most) + 1):  # one event per reopening
        r = conn.execute(text(f"""insert into appeal_events (appeal_id, at, kind, organization_id, note)
            select appeal_id, coalesce(escalated_at, first_response_at, received_at), 'reopened', organization_id,
                   'Повторное открытие (по данным импорта; время неизвестно)' from import_new where reopened_count >= {k}"""))
        events += r.rowcount or 0
    create_indexes(conn, dropped)
    return events
