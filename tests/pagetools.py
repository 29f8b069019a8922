"""Helpers for page tests: run a page through AppTest on a given database, read figures back."""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from queries.viewer import Viewer

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
LOCAL = dt.timedelta(hours=7)


ANALYST = Viewer("test-analyst", "analyst")


def ensure_user(url: str, viewer: Viewer) -> None:
    """The viewer as an enabled user of the database (every run checks the user's current status
    and role there), with the viewer's role and scope."""
    from sqlalchemy.exc import DBAPIError

    from queries.db import make_engine
    from queries.migrate import is_current, upgrade
    engine = make_engine(url)
    try:
        current = is_current(engine)
    except DBAPIError:  # an unreachable database: the page under test says so itself
        engine.dispose()
        return
    if not current:
        upgrade(engine)
    try:
        _write_user(engine, viewer)
    finally:
        engine.dispose()


def _write_user(engine, viewer: Viewer) -> None:
    from queries.users import add_user
    with engine.begin() as c:
        executor = None
        if viewer.executors:
            executor = c.execute(text("select code from organizations where id = :i"),
                                 {"i": viewer.executors[0]}).scalar_one()
        territory = viewer.territories[0] if viewer.territories else None
        have = c.execute(text("select role, territory_code, executor_code, disabled from users where username = :u"),
                         {"u": viewer.username}).first()
        if have is not None and tuple(have) == (viewer.role, territory, executor, False):
            return  # already so (and a read-only role could not write it)
        c.execute(text("delete from users where username = :u"), {"u": viewer.username})
        add_user(c, viewer.username, "test-password", viewer.role, territory, executor)


def shown(markdown: str) -> str:
    """A markdown body as the reader sees it: escapes undone, invisible joiners gone (fmt.plain)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def run_page(url: str, as_of: dt.datetime, page: str | None = None, viewer: Viewer | None = ANALYST,
             owner_url: str | None = None, **params) -> AppTest:
    """Run the app as `viewer` (signed in: the server-side session holds the viewer), on `page`.
    `owner_url`: where the user is written, when `url` is the app's read-only role."""
    if viewer is not None:
        ensure_user(owner_url or url, viewer)
    os.environ["DATABASE_URL"] = url
    os.environ["PULSE_AS_OF"] = as_of.astimezone(dt.timezone.utc).isoformat()
    at = AppTest.from_file(APP, default_timeout=180)
    if viewer is not None:
        at.session_state["viewer"] = viewer
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(str(Path(APP).parent.parent / page))
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def number(text_value: str) -> float:
    """'19 696' → 19696; '85,3 %' → 85.3; '2,0 ч' → 2.0; '—' → nan."""
    s = str(text_value).split("·")[0].strip()
    if s in ("—", ""):
        return float("nan")
    match = re.search(r"[-−+]?\d[\d\u00a0 ]*(?:[,.]\d+)?", s)
    if not match:
        raise ValueError(f"no number in {text_value!r}")
    return float(match.group(0).replace("\u00a0", "").replace(" ", "").replace("−", "-").replace(",", "."))


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def frame(engine) -> pd.DataFrame:
    """Every appeal with its territory, parent territory and topic codes, as plain pandas."""
    with engine.connect() as c:
        df = pd.read_sql(text("""
            select a.*, m.code as m_code, m.kind as m_kind, pm.code as parent_m_code, m.population,
                   t.code as t_code, pt.code as parent_t_code, t.response_norm_hours
            from appeals a join municipalities m on m.id = a.municipality_id
            left join municipalities pm on pm.id = m.parent_id
            join topics t on t.id = a.topic_id left join topics pt on pt.id = t.parent_id"""), c)
        removed = pd.read_sql(text("select distinct appeal_id from appeal_events where kind in ('comment_removed', 'author_blocked')"), c)
    for col in ("received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["local_date"] = (df["received_at"] + LOCAL).dt.date
    df["removed"] = df["id"].isin(removed["appeal_id"])
    return df


def select(df: pd.DataFrame, date_from, date_to, territory=None, topic=None) -> pd.DataFrame:
    out = df[(df["local_date"] >= date_from) & (df["local_date"] <= date_to)]
    if territory:
        out = out[(out["m_code"] == territory) | (out["parent_m_code"] == territory)]
    if topic:
        out = out[(out["t_code"] == topic) | (out["parent_t_code"] == topic)]
    return out


def expected_kpis(df: pd.DataFrame, now: dt.datetime) -> dict:
    """The metrics.md definitions, computed independently with pandas."""
    now = pd.Timestamp(now)
    open_ = df["status"].isin(["new", "assigned", "in_progress"])
    resolved = df["status"] == "resolved"
    has_fr = df["first_response_at"].notna()
    on_time = has_fr & (df["first_response_at"] <= df["response_due_at"])
    late = has_fr & (df["first_response_at"] > df["response_due_at"])
    overdue_any = ~has_fr & (df["response_due_at"] < now)
    rated = df["citizen_rating"].notna()
    fb = resolved & df["citizen_feedback"].notna()
    n = len(df)
    share = lambda a, b: (a.sum() / b.sum()) if b.sum() else np.nan  # noqa: E731
    return {
        "received": n,
        "resolved_share": resolved.sum() / n if n else np.nan,
        "on_time_share": on_time.sum() / (on_time.sum() + late.sum() + overdue_any.sum()) if n else np.nan,
        "on_time_n": int(on_time.sum() + late.sum() + overdue_any.sum()),
        "first_response_median": df.loc[has_fr, "first_response_work_hours"].median(),
        "first_response_p90": df.loc[has_fr, "first_response_work_hours"].quantile(0.9),
        "overdue_now": int((open_ & overdue_any).sum()),
        "satisfaction": share(df["citizen_rating"] >= 4, rated),
        "escalated_share": df["escalated_at"].notna().sum() / n if n else np.nan,
        "confirmed_share": share(fb & (df["citizen_feedback"] == "confirmed"), fb),
        "close_time_median": ((df["closed_at"] - df["received_at"]).dt.total_seconds() / 86400)[df["closed_at"].notna()].median(),
    }


def deferred_exports(monkeypatch) -> list:
    """The downloads' deferred data the pages draw, as (file name, data) in order: AppTest cannot
    press a deferred download, so a test calls the data as a press would (dashboard.ui.export_data)."""
    from dashboard import ui
    given, real = [], ui.export_data
    monkeypatch.setattr(ui, "export_data", lambda *a, **k: given.append((a[2], real(*a, **k))) or given[-1][1])
    return given
