"""One import: read, validate and stage every chunk, then upsert, all in one transaction.

Every input row ends up loaded (inserted, updated or unchanged) or in the rejects file next to the
input (FILE.rejects.csv) with its line number, the offending column and a reason in Russian and
English. An interrupted import changes nothing.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ingest.mapping import Mapping, MappingError
from ingest.readers import Batch, ImportError_, NotPlain, read_csv, read_csv_fast, read_xlsx
from ingest.reference import build_reference, load_reference
from ingest.rejects import Reject, write_rejects
from ingest.merge import keep_stored
from ingest.plan import CONFIRM_SHARE, Plan, make_plan
from ingest.upsert import WORK_MEM, index_stage, load_stage, match, stage_table, upsert
from ingest.validate import Resolver, validate
from queries import summaries
from queries.db import Pipeline
from queries.migrate import upgrade
from queries.workcal import default_calendar


@dataclass
class Summary:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    events: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None
    dry_run: bool = False
    plan: Plan | None = None                   # what the load changes (ingest.plan)

    def line(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (f"read {self.read:,} = inserted {self.inserted:,} + updated {self.updated:,} + unchanged "
                f"{self.unchanged:,} + rejected {self.rejected:,} ({verb} written; {self.events:,} timeline events; "
                f"{self.seconds:.1f} s, {self.read / self.seconds if self.seconds else 0:,.0f} rows/s)")


def stage_file(conn: Connection, batches: Iterator[Batch], m: Mapping, res: Resolver, cal,
           fail_after_chunks: int | None) -> tuple[list[str], list[Reject], int]:
    """Validate every chunk and write its valid rows to import_stage: (header, rejects, rows read).

    On PostgreSQL a chunk's COPY runs in a second thread while the next chunk is read and
    checked here (queries.db.Pipeline): the server's core ingests while this one validates. One
    COPY at a time."""
    seen: dict[str, int] = {}
    rejects: list[Reject] = []
    header: list[str] = []
    read = 0
    loading = None
    with Pipeline(threaded=conn.dialect.name == "postgresql") as pipe:
        for i, batch in enumerate(batches, start=1):
            header = batch.header
            absent = [(f, c) for c, f in m.input_columns().items() if c not in header]
            if absent:  # the file's own header beside them: a wrong mapping or delimiter shows at once
                shown = ", ".join(f"«{h}»" for h in header[:12]) + (", …" if len(header) > 12 else "")
                raise MappingError(f"the input has no column(s) {', '.join(f'{f} ← {c!r}' for f, c in absent)}; "
                                   f"its header: {', '.join(map(repr, header))}", "input_columns",
                                   columns=", ".join(f"«{c}»" for _, c in absent), header=shown)
            stage, bad = validate(batch, m, res, seen, cal)
            rejects += batch.rejects + bad
            read += len(batch) + len(batch.rejects)
            if loading is not None:  # one chunk in flight at a time
                loading.result()
            loading = pipe.submit(load_stage, conn, stage)
            if fail_after_chunks is not None and i >= fail_after_chunks:
                raise ImportError_("import interrupted on purpose (test hook)", "input_interrupted")
    return header, rejects, read


def run_import(engine: Engine, path: Path, m: Mapping, *, dry_run: bool = False, sheet: str | None = None,
               progress=None, rejects_path: Path | None = None, now: dt.datetime | None = None,
               fail_after_chunks: int | None = None, confirm: bool = False, expect: str | None = None) -> Summary:
    """Import one file in one transaction; see the module docstring. `confirm`: write a load that
    changes more than CONFIRM_SHARE of the stored appeals; `expect`: the digest of the checked
    plan, which the load must match."""
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    kind = m.format if m.format != "auto" else ("xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    if not path.exists():
        raise ImportError_(f"input file {path} not found", "input_not_found", path=path.name)
    upgrade(engine)
    summary = Summary(dry_run=dry_run)
    rejects: list[Reject] = []
    header: list[str] = []
    conn = engine.connect()
    trans = conn.begin()
    try:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        elif WORK_MEM:  # the joins and sorts of a whole file's rows, in memory rather than on disk
            conn.execute(text(f"set local work_mem = '{WORK_MEM}'"))
        load_reference(conn, build_reference())
        res = Resolver(conn, m)
        cal = default_calendar()
        stage_table(conn)
        readers = ([lambda: read_xlsx(path, m, sheet)] if kind == "xlsx" else
                   [lambda: read_csv_fast(path, m, progress), lambda: read_csv(path, m, progress)])
        for read in readers:
            try:
                header, rejects, summary.read = stage_file(conn, read(), m, res, cal, fail_after_chunks)
                break
            except NotPlain:  # the exact reader reads the file again
                conn.execute(text("delete from import_stage"))
        was_empty = conn.execute(text("select 1 from appeals limit 1")).first() is None
        # the summary tables follow the appeals, in the same transaction: built on a first load,
        # else the changed and new appeals' cells added to them (summaries.apply_delta)
        track = not dry_run and not was_empty and summaries.is_ready(conn)
        index_stage(conn)
        keep_stored(conn, m, res.norm, cal)  # what it kept, the plan reports
        counts = match(conn)
        summary.plan = plan = make_plan(conn, m, counts)
        if not dry_run and expect is not None and plan.digest() != expect:
            raise ImportError_("the stored appeals changed since the check: what the load would change is not what "
                               "was checked; check again", "input_plan_changed")
        if not dry_run and plan.needs_confirmation and not confirm:
            raise ImportError_(f"this load changes {plan.changed:,} of {plan.stored:,} stored appeals "
                               f"({plan.share:.1%}, more than {CONFIRM_SHARE:.0%}); check it with --dry-run, "
                               "then confirm with --yes", "input_confirm", changed=plan.changed, stored=plan.stored,
                               share=round(plan.share * 100, 1), limit=round(CONFIRM_SHARE * 100))
        summary.inserted, summary.updated, summary.unchanged, summary.events, change = upsert(conn, now, counts, track)
        changed = bool(summary.inserted or summary.updated)
        if not dry_run and changed:
            if was_empty:
                summaries.build(conn)
            elif change is not None:
                try:
                    summaries.apply_delta(conn, *change)
                except summaries.OutOfStep as exc:
                    raise ImportError_(f"the summary tables do not match the appeals ({exc}); rebuild them with "
                                       "python -m queries.summaries build, then import again", "input_summaries") from exc
        summary.rejected = len(rejects)
        if dry_run:
            trans.rollback()
        else:
            trans.commit()
            # fresh statistics (and on PostgreSQL the visibility map the index-only reads need)
            # after a large change; a week's few changes leave them about right, for autovacuum
            if was_empty or summary.inserted + summary.updated > summary.unchanged // 10:
                summaries.analyze(engine)
                if engine.dialect.name == "postgresql":
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        c.execute(text("vacuum (analyze) appeals"))
                        c.execute(text("vacuum (analyze) appeal_events"))
    except BaseException:
        trans.rollback()
        raise
    finally:
        conn.close()
    summary.rejects_path = rejects_path or path.with_name(path.name + ".rejects.csv")
    if rejects:
        write_rejects(summary.rejects_path, header, rejects)
    elif summary.rejects_path.exists():
        summary.rejects_path.unlink()
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "done")
    return summary
