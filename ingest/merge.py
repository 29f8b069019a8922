"""What a load keeps: the stored value wherever the input says less than the database knows.

Applied to import_stage before the rows are matched with the stored appeals, so the dry run's
changes and the load's are the same. For each field the mapping does not name authoritative:
- a value that says the day only (ingest.validate's day_mask) on the stored time's own local day
  keeps the stored time (a date does not replace a time);
- an empty value, or a field the mapping does not read, keeps a filled stored value (ingest.validate's
  KEPT fields; the closing date is not one of them: an open status without it is a reopening).
Every kept value is recorded in import_kept (line, field, why, input as shown) for the plan.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ingest.mapping import DATE_FIELDS, Mapping
from ingest.validate import KEPT, NEVER, local_days
from ingest.writer import copy_postgres, insert_sqlite

# the stage's columns of an input field; the first is the one compared
STAGE_OF = {"executor": ["organization_id"], "escalated_at": ["escalated_at", "escalated_to_id"],
            "first_response_at": ["first_response_at", "response_measured"],
            "escalated_to": ["escalated_to_id"], "territory": ["municipality_id"], "topic": ["topic_id"]}
# a kept time changes what is computed from it
DERIVED = ("received_at", "response_due_at", "first_response_at", "escalated_at")
FETCH = 100_000


def columns_of(field: str) -> list[str]:
    return STAGE_OF.get(field, [field])


def utc_seconds(values) -> np.ndarray:
    """Times as the databases return them (SQLite: ISO text in UTC; PostgreSQL: aware datetimes),
    as UTC seconds with NEVER for NULL."""
    ts = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    secs = ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("float64").to_numpy()
    return np.where(np.isnan(secs), NEVER, secs).astype(np.int64)


def _write(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    if conn.dialect.name == "sqlite":
        insert_sqlite(conn, table, list(frame.columns), frame)
    else:
        copy_postgres(conn, table, list(frame.columns), frame)


def keep_stored(conn: Connection, m: Mapping, norm: dict[int, float], cal) -> None:
    """Apply both rules to import_stage (import_kept records each kept value)."""
    pg = conn.dialect.name == "postgresql"
    ts = "timestamptz" if pg else "text"
    conn.execute(text("drop table if exists import_kept"))
    conn.execute(text("create temp table import_kept (line bigint, field text, why text, shown text)"))
    distinct = (lambda a, b: f"{a} is distinct from {b}") if pg else (lambda a, b: f"{a} is not {b}")
    # the day rule first: a receipt kept moves the deadline the norm gives, which the empty rule
    # then compares with the stored one
    _keep_times(conn, m)
    _apply(conn, norm, cal, ts, "day")
    rules = [(bit, f, columns_of(f)[0]) for bit, f in enumerate(KEPT) if f not in m.authoritative]
    if rules:  # one join for every field: a re-import of millions reads the appeals once
        flags = [f"(s.blank_mask & {1 << bit}) <> 0 and a.{c} is not null and {distinct(f's.{c}', f'a.{c}')}"
                 for bit, _, c in rules]
        rows = conn.execute(text(f"""select s.line, {", ".join(f"case when {x} then 1 else 0 end" for x in flags)}
            from import_stage s join appeals a on a.external_id = s.external_id
            where s.blank_mask <> 0 and ({" or ".join(f"({x})" for x in flags)})"""))
        while batch := rows.fetchmany(FETCH):
            cols = np.asarray(batch, dtype=np.int64)
            kept = [pd.DataFrame({"line": cols[cols[:, 1 + j] == 1, 0], "field": f, "why": "empty", "shown": ""})
                    for j, (_, f, _) in enumerate(rules) if (cols[:, 1 + j] == 1).any()]
            if kept:
                _write(conn, "import_kept", pd.concat(kept, ignore_index=True))
    _apply(conn, norm, cal, ts, "empty")


def _apply(conn: Connection, norm: dict[int, float], cal, ts: str, why: str) -> None:
    """The stored values recorded for `why` put into the stage, and what is computed from them."""
    fields = [f for f, in conn.execute(text("select distinct field from import_kept where why = :w"), {"w": why})]
    for f in fields:
        for c in columns_of(f):
            conn.execute(text(f"""update import_stage set {c} = (select a.{c} from appeals a
                where a.external_id = import_stage.external_id)
                where line in (select line from import_kept where field = '{f}' and why = '{why}')"""))
    if any(f in fields for f in DERIVED):
        _recompute(conn, norm, cal, ts)


def _keep_times(conn: Connection, m: Mapping) -> None:
    """The day rule, decided here in Python: a local day needs the mapping's time zone, which
    SQLite does not know."""
    fields = [f for f in DATE_FIELDS if f not in m.authoritative and f not in ("comment_removed_at", "author_blocked_at")]
    rows = conn.execute(text(f"""select s.line, s.day_mask, {", ".join(f"s.{f}" for f in fields)},
            {", ".join(f"a.{f}" for f in fields)}
        from import_stage s join appeals a on a.external_id = s.external_id where s.day_mask <> 0"""))
    while batch := rows.fetchmany(FETCH):
        cols = list(zip(*batch))
        line, mask = np.asarray(cols[0], dtype=np.int64), np.asarray(cols[1], dtype=np.int64)
        kept = []
        for j, f in enumerate(fields):
            bit = 1 << DATE_FIELDS.index(f)
            new, old = utc_seconds(cols[2 + j]), utc_seconds(cols[2 + len(fields) + j])
            i = np.flatnonzero(((mask & bit) != 0) & (new < NEVER) & (old < NEVER) & (new != old))
            if not len(i):
                continue
            day, _ = local_days(new[i], m.tz)
            same = i[day == local_days(old[i], m.tz)[0]]
            if len(same):
                shown = pd.to_datetime(new[same], unit="s", utc=True).tz_convert(m.tz).strftime("%Y-%m-%d")
                kept.append(pd.DataFrame({"line": line[same], "field": f, "why": "day", "shown": list(shown)}))
        if kept:
            _write(conn, "import_kept", pd.concat(kept, ignore_index=True))


def _recompute(conn: Connection, norm: dict[int, float], cal, ts: str) -> None:
    """The deadline (when the input had none and the norm gave it) and the working hours to the
    first response and the escalation, for rows whose times were kept."""
    rows = conn.execute(text(f"""select s.line, s.topic_id, s.blank_mask, s.received_at, s.response_due_at,
            s.first_response_at, s.escalated_at, s.response_measured,
            exists (select 1 from import_kept k where k.line = s.line and k.field = 'response_due_at')
        from import_stage s where s.line in (select line from import_kept
            where field in ({", ".join(f"'{f}'" for f in DERIVED)}))""")).all()
    if not rows:
        return
    cols = list(zip(*rows))
    line = np.asarray(cols[0], dtype=np.int64)
    topic, blank = np.asarray(cols[1], dtype=np.int64), np.asarray(cols[2], dtype=np.int64)
    received, due, fr, esc = (utc_seconds(c) for c in cols[3:7])
    measured = np.asarray(cols[7], dtype=np.int64) == 1
    due_kept = np.asarray(cols[8], dtype=bool)
    computed = ((blank & (1 << KEPT.index("response_due_at"))) != 0) & ~due_kept
    due = np.where(computed, cal.add_work_hours(received, np.array([norm[int(t)] for t in topic])), due)
    hours = lambda x: np.where(x < NEVER, np.round(cal.work_hours_between(received, np.where(x < NEVER, x, received)), 4), np.nan)  # noqa: E731
    conn.execute(text("drop table if exists import_derived"))
    conn.execute(text(f"""create temp table import_derived (line bigint, response_due_at {ts},
        first_response_work_hours double precision, escalation_work_hours double precision)"""))
    _write(conn, "import_derived", pd.DataFrame({"line": line, "response_due_at": due,
                                                  "first_response_work_hours": np.where(measured, hours(fr), np.nan),
                                                  "escalation_work_hours": hours(esc)}))
    for c in ("response_due_at", "first_response_work_hours", "escalation_work_hours"):
        conn.execute(text(f"""update import_stage set {c} = (select d.{c} from import_derived d
            where d.line = import_stage.line) where line in (select line from import_derived)"""))
