"""Seeding a database: migrate, load reference data, generate and bulk-load, all or nothing."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass


from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine

from queries import schema
from queries import summaries as summary_tables
from queries.migrate import upgrade
from queries.workcal import default_calendar
from seed import scenario as sc
from seed.generator import GENERATOR_VERSION, Generator, Scenario
from ingest.progress import Progress
from ingest.reference import build_reference, load_reference
from ingest.writer import create_indexes, drop_fact_indexes, reset_sequences, write_chunk



class SeedError(Exception):
    """A seed that cannot run; the message is one line for the user."""


@dataclass
class SeedResult:
    appeals: int
    events: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return (self.appeals + self.events) / self.seconds if self.seconds else 0.0


def appeal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.appeals)).scalar_one()


def seed_database(engine: Engine, scenario: Scenario, *, replace: bool = False,
                  progress: Progress | None = None, fail_after_months: int | None = None,
                  summaries: bool = True) -> SeedResult:
    """Generate the scenario into `engine` in one transaction; on any error the database is unchanged.

    With summaries=False the summary tables are left empty (and unused): queries read the appeals.
    """
    if scenario.as_of_local_date < sc.CENTRE_START:
        raise SeedError(f"--until must not be before the centre's start date {sc.CENTRE_START.isoformat()}")
    if not scenario.scale > 0:
        raise SeedError("--scale must be a positive number")
    upgrade(engine)
    started = time.perf_counter()
    months = sc.month_starts(sc.CENTRE_START, scenario.as_of_local_date)
    ref = build_reference()
    n_appeals = n_events = 0
    with engine.begin() as conn:
        existing = conn.execute(select(func.count()).select_from(schema.appeals)).scalar_one()
        if existing and not replace:
            raise SeedError(f"the database already holds {existing} appeals; pass --replace to regenerate them")
        indexes = drop_fact_indexes(conn)  # first: deleting the old appeals is faster without them
        if existing:
            if conn.dialect.name == "postgresql":
                conn.execute(text("truncate appeal_events, appeals"))
            else:
                conn.execute(delete(schema.appeal_events))
                conn.execute(delete(schema.appeals))
        ref = load_reference(conn, ref)
        gen = Generator(ref, scenario, default_calendar(scenario.as_of_local_date))
        for i, chunk in enumerate(gen.chunks(), start=1):
            if fail_after_months is not None and i > fail_after_months:
                raise SeedError("seeding interrupted on purpose (test hook)")
            write_chunk(conn, chunk.appeals, chunk.events)
            n_appeals += len(chunk.appeals)
            n_events += len(chunk.events)
            if progress:
                progress(0.75 * i / len(months), f"appeals {chunk.month.strftime('%Y-%m')}")
        if progress:
            progress(0.76, "indexes")
        create_indexes(conn, indexes)
        reset_sequences(conn)
        info = {
            "generator": f"seed v{GENERATOR_VERSION}", "seed": str(scenario.seed), "scale": repr(scenario.scale),
            "as_of": scenario.as_of.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": "demo",
        }
        conn.execute(delete(schema.dataset_info))
        conn.execute(insert(schema.dataset_info), [{"key": k, "value": v} for k, v in info.items()])
        if summaries:
            if progress:
                progress(0.82, "summaries")
            summary_tables.build(conn, (lambda f, label: progress(0.82 + 0.14 * f, label)) if progress else None)
        if progress:
            progress(0.97, "committing and analysing")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            # vacuum too: it marks the new pages all-visible, so index-only reads (the escalation
            # flow's, the like-for-like verdicts') need not visit the table
            c.execute(text("vacuum analyze appeals"))
            c.execute(text("vacuum analyze appeal_events"))
    if summaries:
        summary_tables.analyze(engine)
    if progress:
        progress(1.0, "done")
    return SeedResult(n_appeals, n_events, time.perf_counter() - started)
