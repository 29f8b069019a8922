"""The import page's work: an uploaded export and a mapping handed to the ingest package.

The import writes with the owner's connection (ADMIN_DATABASE_URL; on the embedded default the
app's own SQLite file), in one transaction: every failure leaves the database as it was and
comes back as one sentence from the message catalog.
"""
from __future__ import annotations

import io
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import DBAPIError

from dashboard import fmt
from dashboard.i18n import M, get_lang, has, t
from queries.config import ConfigError, resolve_admin_database
from queries.db import make_engine
from ingest.plan import CONFIRM_SHARE, Plan
from ingest.run import Summary, run_import
from ingest.mapping import InputError, Mapping, load_mapping

log = logging.getLogger(__name__)
MAPPINGS = Path(__file__).resolve().parent.parent / "ingest" / "mappings"
SUFFIXES = ("csv", "txt", "xlsx", "xlsm")
REJECTS_SHOWN = 500


class Refused(Exception):
    """An import that did not run or did not finish: a sentence for the user; nothing was written."""


@dataclass
class Outcome:
    summary: Summary
    rejects: pd.DataFrame      # line, column, reason (first REJECTS_SHOWN rows, in the current language)
    rejects_csv: bytes | None  # the whole rejects file, as the command line writes it
    rejects_name: str


def shipped_mappings() -> dict[str, Path]:
    """The mappings that come with the project, by name (the file's stem)."""
    return {p.stem: p for p in sorted(MAPPINGS.glob("*.toml"))}


def mapping_label(name: str) -> str:
    key = f"import.mapping.{name}"
    return t(key) if key in M else name


def read_mapping(source: Path | bytes) -> Mapping:
    """A shipped mapping (a path) or an uploaded one (its bytes); Refused when it cannot be used."""
    if isinstance(source, Path):
        return _mapping(source)
    with tempfile.TemporaryDirectory(prefix="pulse-mapping-") as tmp:
        path = Path(tmp) / "mapping.toml"
        path.write_bytes(source)
        return _mapping(path)


def _mapping(path: Path) -> Mapping:
    try:
        return load_mapping(path)
    except InputError as exc:
        raise Refused(explain(exc)) from None


def explain(exc: InputError) -> str:
    return t(f"import.error.{exc.key}", **exc.params)


def sheet_names(content: bytes) -> list[str]:
    """The sheets of an uploaded workbook ([] when it is not one: the import then says so)."""
    import openpyxl

    from ingest.workbook import check_workbook
    try:
        check_workbook(io.BytesIO(content))
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    except Exception:  # any unreadable upload; run() explains it when asked to import
        return []
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _safe_name(filename: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", Path(filename).stem)[:80] or "input"
    return f"{stem}.{Path(filename).suffix.lower().lstrip('.') or 'csv'}"


def run(content: bytes, filename: str, mapping: Mapping, *, dry_run: bool, sheet: str | None = None,
        progress=None, confirm: bool = False, expect: str | None = None) -> Outcome:
    """Import (or check, with dry_run) one uploaded file. Raises Refused with the reason."""
    name = _safe_name(filename)  # the uploader admits SUFFIXES only
    try:
        url = resolve_admin_database().url
    except ConfigError as exc:
        raise Refused(t("import.error.database", reason=str(exc))) from None
    with tempfile.TemporaryDirectory(prefix="pulse-import-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        engine = None
        try:
            engine = make_engine(url, create_dirs=False)
            summary = run_import(engine, path, mapping, dry_run=dry_run, sheet=sheet or None, progress=progress,
                                 confirm=confirm, expect=expect)
        except InputError as exc:
            raise Refused(explain(exc)) from None
        except (DBAPIError, ConfigError) as exc:  # OperationalError is a DBAPIError
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise Refused(t("import.error.database", reason=reason)) from None
        except Exception as exc:  # a defect of ours: one sentence, never a traceback; rolled back
            log.exception("import of %s failed", name)
            raise Refused(t("import.error.unexpected", kind=type(exc).__name__)) from None
        finally:
            if engine is not None:
                engine.dispose()
        rejects_name = f"{Path(filename).name}.rejects.csv"
        if not summary.rejected:
            return Outcome(summary, pd.DataFrame(), None, rejects_name)
        raw = summary.rejects_path.read_bytes()
    table = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False,
                        nrows=REJECTS_SHOWN)
    shown = pd.DataFrame({
        t("import.rejects.line"): pd.to_numeric(table["line"]),
        t("import.rejects.column"): table["column"].replace("*", t("import.rejects.whole_row")),
        t("import.rejects.reason"): table[f"reason_{get_lang()}"],
    })
    return Outcome(summary, shown, raw, rejects_name)


def confirm_limit() -> str:
    """The share of stored appeals above which a load is confirmed first, as the user reads it."""
    return fmt.share(CONFIRM_SHARE, 0)


def share_text(x: float) -> str:
    """A plan's share of stored appeals: a few of many is "< 0,1 %", not "0,0 %"."""
    return fmt.share(x) if x == 0 or x >= 0.001 else "<\u00a0" + fmt.share(0.001)


LABELS = {"source": "source.", "status": "status.", "citizen_feedback": "feedback."}


def _value(field: str, value: str, plan: Plan) -> str:
    """A plan's value as the user reads it: names for codes, the catalog's words for statuses."""
    if value == "":
        return t("import.plan.empty_value")
    if field in LABELS and has(LABELS[field] + value):
        return t(LABELS[field] + value)
    if value in plan.names:
        return plan.names[value][0 if get_lang() == "ru" else 1]
    return value


def plan_table(plan: Plan) -> pd.DataFrame:
    """One row per field the load changes or keeps: what changes, examples, what is kept and why."""
    rows = []
    for f in plan.fields:
        name = t(f"import.field.{f.field}")
        label = name if f.column == f.field else f"{f.column} ({name})"
        eg = "; ".join(f"{i}: {_value(f.field, b, plan)} → {_value(f.field, a, plan)}" for i, b, a in f.examples)
        kept = "; ".join(t(f"import.plan.kept.{why}", n=fmt.number(n)) for why, n in sorted(f.kept.items()))
        kept_eg = "; ".join(f"{i}: {_value(f.field, s, plan)} ({_value(f.field, g, plan)})"
                            for i, s, g, _ in f.kept_examples)
        rows.append({t("import.plan.field"): label, t("import.plan.changed"): f.changed,
                     t("import.plan.examples"): eg, t("import.plan.kept"): kept,
                     t("import.plan.kept_examples"): kept_eg})
    return pd.DataFrame(rows)
