"""The cases behind a view: a paged list, one case with every field, and its timeline."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy.engine import Connection

from queries import summaries
from queries.dialect import dialect_of
from queries.measures import UNANSWERED_OPEN
from queries.filters import Filters, where
from queries.pii import for_viewer
from queries.run import run
from queries.schema import SOURCES
from queries.viewer import Viewer, in_codes, scope

SORTS = {
    "newest": "a.received_at desc, a.id desc",
    "oldest": "a.received_at asc, a.id asc",
    "overdue": f"case when {UNANSWERED_OPEN} then 0 else 1 end, a.response_due_at asc, a.id asc",
    # reach exists for social-network posts only; the rest follow, newest first (ix_appeals_source_reach)
    "reach": "coalesce(a.reach, -1) desc, a.received_at desc, a.id desc",
}
PAGE_SIZE = 50
EXPORT_CAP = 200_000  # rows in an export from the app; the command line (ingest.export) has no cap
MAX_ID = 2**63 - 1  # a bigint: a larger id in a link exists nowhere (and would not bind)
COUNT_CAP = 100_000  # past this the list says "more than 100 000" instead of counting every row
TEXT_COUNT_CAP = 1_000  # a text search counts its matches up to here ("more than 1 000")
DENSE_COHORT = 2_000  # SQLite: from this many cases, the reach and deadline sorts walk their index,
WALK = 100  # ... if the cases are not too thin among the period's appeals (case_list)
# PostgreSQL: up to this many cases, the reach and deadline sorts read the cohort through its
# filters and sort it. The planner cannot know how a filter correlates with the sort's column
# (a month of covid appeals in 2026, at the far end of the deadline order) and would walk the
# sort's index past millions of rows; the summaries tell the cohort's exact size.
SMALL_COHORT = 20_000


def _date_window(filters: Filters, sort: str, total: int, page_size: int) -> tuple[dt.datetime, dt.datetime] | None:
    """The period's newest (or, sorted oldest first, oldest) days where the cohort's `total` cases,
    spread evenly, would be three pages: None when that is most of the period anyway."""
    if sort not in KEYSET or total <= DENSE_COHORT:
        return None
    start, end = filters.utc_bounds()
    days = max(1, math.ceil(filters.days * 3 * page_size / total))
    if days * 2 > filters.days:
        return None
    span = dt.timedelta(days=days)
    return (end - span, end) if sort == "newest" else (start, start + span)


def searches(query: str | None, viewer: Viewer) -> bool:
    """Whether `query` narrows this viewer's list: the press searches masked texts by id only."""
    if not (query and query.strip()):
        return False
    return not viewer.masks_personal_data or query.strip().lstrip("№#").strip().isdecimal()


def count_cap(query: str | None, viewer: Viewer) -> int:
    """Up to how many cases the list counts: fewer for a search, whose count reads every match."""
    return TEXT_COUNT_CAP if searches(query, viewer) else COUNT_CAP
KEYSET = {"newest": ("<", "desc"), "oldest": (">", "asc")}  # sorts paged by (received_at, id)


def _search(d, query: str | None, params: dict, guard: str) -> str:
    """The search condition; `guard` (the list's other conditions) is tested before a text is read."""
    if not query or not query.strip():
        return ""
    q = query.strip()
    digits = q.lstrip("№#").strip()
    if digits.isdecimal():
        params["q_ext"] = q
        if int(digits) > MAX_ID:  # no appeal has such an id (and it would not bind): its number only
            return " and a.external_id = :q_ext"
        params["q_id"] = int(digits)
        return " and (a.id = :q_id or a.external_id = :q_ext)"
    params["q_ext"] = q
    return f" and ({d.text_match('a.text', q, params, guard)} or a.external_id = :q_ext)"


def case_list(conn: Connection, filters: Filters, viewer: Viewer, now: dt.datetime, query: str | None = None,
              sort: str = "newest", page: int = 1, page_size: int = PAGE_SIZE,
              after: tuple[str, int] | None = None, full_text: bool = False,
              escalated_to_me: bool = False) -> tuple[pd.DataFrame, int]:
    """One page of cases (one row per appeal) and the total count (capped at count_cap(query, viewer) + 1).

    `after` = (received_at ISO UTC, id) of the last row shown: keyset pagination for the
    newest/oldest sorts (any depth costs the same); other sorts page by `page`.

    Columns: id, external_id, received_at, territory, topic, executor, source, status,
    response_due_at, first_response_at, closed_at, overdue (bool), escalated_to_id, text (first 300
    characters). `escalated_to_me`: an executor's cases that others escalated to it, only.
    """
    d = dialect_of(conn)
    cond, params = where(filters, d, viewer, "cases")
    searching = searches(query, viewer)
    if viewer.role == "head" and filters.territories:
        # the filter's territories within the head's: named as ids, or no case at all (the planner
        # cannot see through both code lists and would walk every appeal looking for a match)
        both_params: dict = {}
        both = f"""select id from municipalities m
                   where {in_codes('m.id', 'municipalities', 'f_terr', both_params, filters.territories)}
                   and {in_codes('m.id', 'municipalities', 'v_terr', both_params, viewer.territories)}"""
        ids = [int(r) for r in run(conn, both, both_params)["id"]]
        cond += " and a.municipality_id in :c_ids" if ids else " and 1=0"
        if ids:
            params["c_ids"] = ids
    if escalated_to_me:
        params["c_esc"] = [int(x) for x in viewer.executors] or [-1]
        cond += " and a.escalated_to_id in :c_esc"
    cap = count_cap(query, viewer)
    if not searching and not escalated_to_me and summaries.usable(conn, viewer):
        # without a text query the list is a cohort of the summary lattice (a head's by territory)
        total = min(int(summaries.counts(conn, filters, viewer, None, "cases")["received"].iloc[0]), cap + 1)
    elif searching:
        # a text search reads its matches (at most cap + 1) through the text index; when that is
        # all of them, the page is sorted from those ids alone. A planner that cannot know how a
        # word and a filter correlate would otherwise walk every appeal in date order to find
        # the 50 newest, a matching word sometimes never coming.
        matched = cond + _search(d, query, params, cond)
        hits = run(conn, f"select a.id from appeals a where {matched} limit {cap + 1}", params)["id"]
        total = len(hits)
        if total > cap:
            cond = matched
        else:  # the matches are known: the page need not test a text again
            cond += " and a.id in :c_hits" if total else " and 1=0"
            if total:
                params["c_hits"] = [int(x) for x in hits]
    else:
        total = int(run(conn, f"select count(*) as n from (select 1 from appeals a where {cond} limit {cap + 1}) c",
                        params)["n"].iloc[0])
    params.update(now=d.ts_param(now), limit=int(page_size), offset=int(max(page - 1, 0) * page_size))
    if after is not None and sort in KEYSET:
        op = KEYSET[sort][0]
        cond += f" and (a.received_at {op} :k_at or (a.received_at = :k_at and a.id {op} :k_id))"
        params.update(k_at=d.ts_param(dt.datetime.fromisoformat(str(after[0]))), k_id=int(after[1]), offset=0)
    # SQLite's planner takes the period's index and sorts the whole cohort. When the cohort is a
    # large part of all appeals, walking the sort's own index meets 50 of its rows soon: named.
    # So too for a search with more matches than the cap: the sort's index meets them soon, each
    # row tested against the text index's matches, where SQLite would read and stem every match.
    # Walking meets a page's rows after about 50·whole/total entries of the sort's index (whole: the
    # period's appeals); sorting reads the total: the walk when total² ≥ WALK·whole. A rare topic
    # over years (5 k cases of 1 M) walked 2–3 s along the reach index; sorted, tens of ms.
    dense = not d.pg and (searching and total > cap or not searching and total > DENSE_COHORT and (
        escalated_to_me or not summaries.usable(conn, viewer) or total * total >= WALK * int(summaries.counts(
            conn, filters.narrowed(territories=(), topics=(), sources=(), executors=()), viewer, None,
            "cases")["received"].iloc[0])))

    def rows(index: str | None = None) -> str:
        return f"""
select a.id, a.external_id, a.received_at, m.name_ru as territory, t.name_ru as topic,
       o.name_ru as executor, a.source, a.status, a.response_due_at, a.first_response_at, a.closed_at,
       case when {UNANSWERED_OPEN} and a.response_due_at < :now then 1 else 0 end as overdue,
       a.reach, a.escalated_to_id, {'a.text' if full_text else 'substr(a.text, 1, 300)'} as text
from appeals a{d.indexed_by(index) if index and dense else ''}
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
  join organizations o on o.id = a.organization_id
where {cond}"""
    def keys(index: str | None, conditions: str) -> str:
        """The reach sort's keys of the appeals meeting `conditions` (along `index` where named)."""
        return (f"select a.id, a.reach, a.received_at from appeals a"
                f"{d.indexed_by(index) if index and dense else ''} where {conditions}")

    if d.pg and sort in ("overdue", "reach") and total <= SMALL_COHORT:
        # the cohort's sort keys read through its filters and sorted (the fence: offset 0), then its page
        columns = "a.id, a.received_at, a.reach, a.response_due_at, a.first_response_at, a.status, a.response_measured"
        order = SORTS[sort]
        params["upto"] = params["offset"] + params["limit"]
        df = run(conn, f"""{rows()} and a.id in (
  select a.id from (select {columns} from appeals a where {cond} offset 0) a order by {order} limit :upto)
order by {order} limit :limit offset :offset""", params)
    elif sort == "overdue":
        # unanswered open cases by deadline, then the rest by deadline: two ordered reads, each
        # along an index (ix_appeals_unanswered_due, ix_appeals_due_id), instead of sorting the cohort
        params["upto"] = params["offset"] + params["limit"]
        # a deadline is never before its appeal's receipt (seeder and importer check it): both
        # index reads start at the period instead of at the oldest deadline of all
        params["due_from"] = d.ts_param(filters.utc_bounds()[0])
        order = "a.response_due_at, a.id"
        df = run(conn, f"""
select * from (
  select p1.*, 0 as arm from ({rows('ix_appeals_unanswered_due')} and {UNANSWERED_OPEN}
                 and a.response_due_at >= :due_from order by {order} limit :upto) p1
  union all
  select p2.*, 1 as arm from ({rows('ix_appeals_due_id')} and not ({UNANSWERED_OPEN})
                 and a.response_due_at >= :due_from order by {order} limit :upto) p2
) u order by u.arm, u.response_due_at, u.id
limit :limit offset :offset""", params).drop(columns=["arm"])
    elif sort == "reach" and (d.pg or dense):  # (SQLite sorts a small cohort well by itself)
        # per source, its appeals with a reach by reach, and those without (reach -1) by date: each
        # arm a bounded walk of ix_appeals_source_reach (the second seeks the period). One walk of
        # all appeals by reach would pass every social-network post before a Gosuslugi appeal.
        # A reach is never negative (the seeder and the importer check it).
        params["upto"] = params["offset"] + params["limit"]
        arms = []
        sources = list(filters.sources or SOURCES)
        # which sources have appeals with a reach and without: two index seeks per source. An arm
        # that can find nothing (a VK post without reach) would otherwise walk the whole cohort.
        ends = run(conn, " union all ".join(
            f"select {i} as i, (select min(coalesce(reach, -1)) from appeals where source = :r_src{i}) as lo,"
            f" (select max(coalesce(reach, -1)) from appeals where source = :r_src{i}) as hi"
            for i in range(len(sources))), {f"r_src{i}": code for i, code in enumerate(sources)})
        has = {int(r.i): (r.hi is not None and r.hi >= 0, r.lo is not None and r.lo == -1)
               for r in ends.itertuples()}
        for i, code in enumerate(sources):
            params[f"r_src{i}"] = code
            # (without a reach the order is by date alone: SQLite would not see that the reach is constant)
            for j, (part, order) in enumerate((("coalesce(a.reach, -1) >= 0", SORTS["reach"]),
                                               ("coalesce(a.reach, -1) = -1", "a.received_at desc, a.id desc"))):
                if not has[i][j]:
                    continue
                arms.append(f"""select * from ({keys('ix_appeals_source_reach', cond)} and a.source = :r_src{i}
                     and {part} order by {order} limit :upto) r{i}_{j}""")
        if not arms:
            arms = [f"{keys(None, cond)} and 1=0"]
        # the arms read sort keys only (on PostgreSQL from the index alone), then the page's rows
        ids = f"""select u.id from ({' union all '.join(arms)}) u
            order by {SORTS['reach'].replace('a.', 'u.')} limit :limit offset :offset"""
        df = run(conn, f"{rows()} and a.id in ({ids})\norder by {SORTS['reach']}", params)
    else:
        index = "ix_appeals_received_at" if searching else None
        page_of = f"\norder by {SORTS.get(sort, SORTS['newest'])}\nlimit :limit offset :offset"
        df = None
        window = _date_window(filters, sort, total, page_size) if (
            not d.pg and not searching and after is None and params["offset"] == 0) else None
        if window:
            # the first page read from the period's newest (or oldest) days, where the cohort's
            # cases are expected three times over; all of the page found there precedes any case
            # outside them. SQLite would otherwise sort the whole cohort (a topic over six years:
            # 69 k cases, 210 ms) to show 50.
            start, end = window
            df = run(conn, f"{rows(index)} and a.received_at >= :w_from and a.received_at < :w_to{page_of}",
                     {**params, "w_from": d.ts_param(start), "w_to": d.ts_param(end)})
            if len(df) < page_size:
                df = None
        if df is None:
            df = run(conn, f"{rows(index)}{page_of}", params)
    for col in ("received_at", "response_due_at", "first_response_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["overdue"] = df["overdue"].astype(bool)
    return for_viewer(df, viewer), total


def exists(conn: Connection, appeal_id: int) -> bool:
    """Whether an appeal with this id exists, in any scope (for the audit log only)."""
    if not 0 < int(appeal_id) <= MAX_ID:
        return False
    return not run(conn, "select 1 as x from appeals where id = :id", {"id": int(appeal_id)}).empty


def case_card(conn: Connection, viewer: Viewer, appeal_id: int) -> pd.Series | None:
    """Every column of one appeal, with the names of its territory, topic and executors (None when
    it does not exist or lies outside the viewer's scope)."""
    if not 0 < int(appeal_id) <= MAX_ID:
        return None
    cond, params = scope(viewer, "cases")
    params["id"] = int(appeal_id)
    df = run(conn, f"""
select a.*, m.name_ru as territory, m.code as territory_code, t.name_ru as topic, t.code as topic_code,
       t.response_norm_hours, o.name_ru as executor, e.name_ru as escalated_to
from appeals a
  join municipalities m on m.id = a.municipality_id
  join topics t on t.id = a.topic_id
  join organizations o on o.id = a.organization_id
  left join organizations e on e.id = a.escalated_to_id
where a.id = :id and {cond}""", params)
    if df.empty:
        return None
    df = df.drop(columns=["text_tsv"], errors="ignore")  # PostgreSQL's search vector of `text`
    row = for_viewer(df, viewer).iloc[0].copy()
    for col in ("received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at"):
        row[col] = pd.to_datetime(row[col], utc=True) if row[col] is not None else None
    return row


def case_events(conn: Connection, viewer: Viewer, appeal_id: int) -> pd.DataFrame:
    """The appeal's timeline, in order: id, at, kind, organization, note (empty outside the scope)."""
    cond, params = scope(viewer, "cases")
    if not 0 < int(appeal_id) <= MAX_ID:
        appeal_id, cond = 0, "1=0"
    params["id"] = int(appeal_id)
    df = run(conn, f"""
select e.id, e.at, e.kind, o.name_ru as organization, e.note
from appeal_events e join appeals a on a.id = e.appeal_id
  left join organizations o on o.id = e.organization_id
where e.appeal_id = :id and {cond} order by e.at, e.id""", params)
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return for_viewer(df, viewer)
