"""Import appeals from another system's CSV or XLSX export, upserting on external_id.

python -m seed.importer FILE --mapping MAPPING.toml [--db URL] [--dry-run] [--sheet NAME]

Every input row ends up loaded (inserted, updated or unchanged) or in the rejects file next to
the input (FILE.rejects.csv) with its line number, the offending column and a reason in Russian
and English. The whole file is one transaction: an interrupted import changes nothing.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from queries import summaries
from queries.cells import UNGUARD, guard
from queries.config import ConfigError, resolve_admin_database
from queries.db import Pipeline, check_connection, describe_failure
from queries.migrate import upgrade
from queries.schema import CLOSED_STATUSES, OPEN_STATUSES, SOURCES
from queries.workcal import default_calendar
from seed.load import text_progress
from seed.mapping import DATE_FIELDS, FIELDS, InputError, Mapping, MappingError, load_mapping
from seed.reference import build_reference, load_reference, read_reference
from seed.workbook import MAX_COLUMNS, check_workbook
from seed.writer import copy_postgres, create_indexes, drop_fact_indexes, insert_sqlite

CHUNK = 50_000
WORK_MEM = "256MB"  # PostgreSQL, for the import's transaction only
NEVER = np.iinfo(np.int64).max // 4
STAGE_COLUMNS = [
    "line", "external_id", "source", "source_url", "author_ref", "text", "received_at", "municipality_id",
    "topic_id", "organization_id", "status", "response_due_at", "first_response_at", "closed_at", "escalated_at",
    "escalated_to_id", "citizen_feedback", "citizen_rating", "reopened_count", "reach",
    "first_response_work_hours", "escalation_work_hours", "comment_removed_at", "author_blocked_at",
]
COMPARED = [c for c in STAGE_COLUMNS if c not in ("line", "comment_removed_at", "author_blocked_at")]
REASONS = {
    "encoding": ("неверная кодировка строки", "wrong text encoding"),
    "fields": ("неверное число полей (строка обрезана?)", "wrong number of fields (truncated line?)"),
    "quoting": ("строка обрезана или нарушены кавычки", "truncated line or broken quoting"),
    "missing": ("не заполнено обязательное поле", "required field is empty"),
    "duplicate": ("номер повторяется в файле (впервые в строке {first})", "duplicate id in the file (first on line {first})"),
    "unknown": ("неизвестное значение «{value}»", "unknown value '{value}'"),
    "category": ("указана категория, а не тема: «{value}»", "a category, not a topic: '{value}'"),
    "date": ("не удалось разобрать дату «{value}»", "cannot parse date '{value}'"),
    "order": ("дата раньше даты поступления", "date before the received date"),
    "closed_without_date": ("статус закрыт, но нет даты закрытия", "closed status without a closing date"),
    "open_with_date": ("статус открыт, но есть дата закрытия", "open status with a closing date"),
    "number": ("ожидалось целое число «{value}»", "an integer was expected: '{value}'"),
    "rating": ("оценка должна быть от 1 до 5: «{value}»", "rating must be 1 to 5: '{value}'"),
    "escalation": ("эскалация без органа или органа без даты", "escalation without a body, or a body without a date"),
}


class ImportError_(InputError):
    """An input file that cannot be imported."""


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

    def line(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (f"read {self.read:,} = inserted {self.inserted:,} + updated {self.updated:,} + unchanged "
                f"{self.unchanged:,} + rejected {self.rejected:,} ({verb} written; {self.events:,} timeline events; "
                f"{self.seconds:.1f} s, {self.read / self.seconds if self.seconds else 0:,.0f} rows/s)")


@dataclass
class Reject:
    line: int
    column: str
    reason: str
    raw: list = field(default_factory=list)
    value: str = ""
    extra: dict = field(default_factory=dict)

    def texts(self) -> tuple[str, str]:
        ru, en = REASONS[self.reason]
        kw = {"value": self.value, **self.extra}
        return ru.format(**kw), en.format(**kw)


# ---- reading -------------------------------------------------------------------------------

def detect_encoding(path: Path, declared: str) -> str:
    if declared in ("utf-8", "utf8"):
        return "utf-8"
    if declared in ("cp1251", "windows-1251"):
        return "cp1251"
    with open(path, "rb") as fh:
        sample = fh.read(4 << 20)
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a multi-byte character cut by the sample's end
            return "utf-8"
        # mostly-valid UTF-8 with a few broken rows stays UTF-8 (those rows are rejected)
        decoded = sample.decode("utf-8", errors="replace")
        bad = decoded.count("\ufffd")
        good = sum(1 for ch in decoded if ord(ch) > 127) - bad
        return "utf-8" if good > bad else "cp1251"


@dataclass
class Batch:
    """One chunk of input records: the line each starts on, one text column per input column, and
    the records the reader itself rejected (field count, quoting, encoding)."""
    header: list[str]
    lines: np.ndarray
    columns: list[pd.Series]
    rejects: list[Reject]

    def __len__(self) -> int:
        return len(self.lines)

    def row(self, i: int) -> list[str]:
        return [c.iat[i] for c in self.columns]


def _batch(header: list[str], rows: list[tuple[int, list[str]]], rejects: list[Reject]) -> Batch:
    """A Batch from rows read field by field (the exact CSV reader, XLSX); a row holding bytes the
    file's encoding could not decode is rejected here."""
    if rows and _undecodable(["\x1f".join(r[1]) for r in rows]):  # one check per chunk, then per row
        kept = []
        for line, fields in rows:
            if _undecodable(fields):
                rejects.append(Reject(line, "*", "encoding", fields))
            else:
                kept.append((line, fields))
        rows = kept
    lines = np.array([r[0] for r in rows], dtype=np.int64)
    fields = list(zip(*(r[1] for r in rows))) if rows else [()] * len(header)
    return Batch(header, lines, [pd.Series(f, dtype="str") for f in fields], rejects)


def _header(path: Path, m: Mapping) -> tuple[str, str, list[str], int]:
    """(encoding, delimiter, header, bytes of the header line) of a CSV file."""
    encoding = detect_encoding(path, m.encoding)
    with open(path, "rb") as fh:
        first = fh.readline()
    if first.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # a zip (XLSX) or an old Office file
        raise ImportError_(f"{path} is a workbook, not CSV: use a mapping with format xlsx or auto", "input_csv_binary")
    text_line = first.decode(encoding, errors="surrogateescape").lstrip("\ufeff")
    delimiter = m.delimiter if m.delimiter != "auto" else max([";", ",", "\t"], key=text_line.count)
    try:
        header = [h.strip() for h in next(csv.reader([text_line], delimiter=delimiter))] if text_line.strip() else []
    except csv.Error:
        raise ImportError_(f"{path} is not a CSV text file: its first line cannot be read", "input_csv") from None
    return encoding, delimiter, header, len(first)


def read_csv(path: Path, m: Mapping, progress=None) -> Iterator[Batch]:
    """The exact reader: Python's csv module, record by record, streaming. It places every record
    on its line and rejects the ones it cannot parse; read_csv_fast hands it the files it cannot place."""
    encoding, delimiter, header, _ = _header(path, m)
    size = path.stat().st_size or 1
    raw = open(path, "rb")
    fh = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
    fh.readline()
    reader = csv.reader(fh, delimiter=delimiter, strict=True)
    line_no = 1
    rows: list[tuple[int, list[str]]] = []
    rejects: list[Reject] = []
    while True:
        start = reader.line_num + 2  # the next record starts on the line after the last one read
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rejects.append(Reject(reader.line_num + 1, "*", "quoting"))
            continue
        line_no = start
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            rejects.append(Reject(line_no, "*", "fields", fields))
            continue
        rows.append((line_no, fields))
        if len(rows) >= CHUNK:
            if progress:
                progress(min(raw.tell() / size, 0.99), f"{line_no:,}")
            yield _batch(header, rows, rejects)
            rows, rejects = [], []
    yield _batch(header, rows, rejects)
    fh.close()


class NotPlain(Exception):
    """A file the fast reader cannot place record by record on its lines (blank or broken lines,
    undecodable bytes, a wrong number of fields): the exact reader reads it instead."""


def _scan(path: Path, delimiter: str) -> tuple[int, int, bool]:
    """(physical lines, blank lines at the end, whether a quote closes a field that goes on) of a
    CSV file, read in 16 MB blocks. A quote with neither a delimiter, a line break nor another
    quote on either side neither opens nor ends a field: broken quoting such as `"Яма"на дороге`,
    which Arrow would read as «Ямана дороге» and the exact reader rejects. Such a file (or one with
    a literal quote inside an unquoted field) is read exactly."""
    sep, quote = ord(delimiter), ord('"')
    count, tail, sloppy, last = 0, b"", False, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            count += block.count(b"\n")
            tail = (tail + block)[-4096:]
            if not sloppy and b'"' in block:
                data = np.frombuffer(last + block + b"\n", dtype=np.uint8)  # a neighbour on each side
                at = np.flatnonzero(data[1:-1] == quote) + 1
                before, after = data[at - 1], data[at + 1]
                sloppy = bool((~np.isin(before, (sep, 10, quote)) & ~np.isin(after, (sep, 13, 10, quote))).any())
            last = block[-1:]
    body = tail.rstrip(b"\r\n")
    trailing = tail[len(body):].count(b"\n")
    lines = count + (0 if tail.endswith(b"\n") else 1)
    return lines, max(trailing - 1, 0), sloppy


def read_csv_fast(path: Path, m: Mapping, progress=None) -> Iterator[Batch]:
    """Arrow's CSV parser (C++, quoted newlines allowed), for files where every record parses.

    A record's line is the header's line plus the lines of the records before it (one each, plus
    the newlines inside their quoted fields); the sum over the file must equal its lines, which
    proves that no blank or unparsed line was skipped. Anything else raises NotPlain, before or
    after the chunks were yielded: the caller discards them and reads the file exactly."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    encoding, delimiter, header, header_bytes = _header(path, m)
    if not header or header_bytes == 0:
        raise NotPlain("no header line")
    with open(path, "rb") as fh:
        if fh.readline().count(b'"') % 2:  # a header with a quoted newline
            raise NotPlain("the header spans lines")
    total, trailing_blank, sloppy = _scan(path, delimiter)
    if sloppy:
        raise NotPlain("broken quoting")
    names = [f"c{i}" for i in range(len(header))]

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8" else encoding,
                                           block_size=16 << 20, skip_rows=1, column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),  # a bad row raises
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        line, yielded = 2, False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            for start in range(0, batch.num_rows, CHUNK):
                part = batch.slice(start, CHUNK)
                columns = [pd.Series(c.to_pandas(), dtype="str") for c in part.columns]
                inner = np.zeros(part.num_rows, dtype=np.int64)
                for c in part.columns:
                    inner += pc.count_substring(c, "\n").to_numpy(zero_copy_only=False)
                ends = line + np.cumsum(1 + inner)
                lines = ends - 1 - inner
                line = int(ends[-1]) if len(ends) else line
                if progress:
                    progress(min(line / max(total, 1), 0.99), f"{line:,}")
                yielded = True
                yield Batch(header, lines, columns, [])
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:  # undecodable bytes, broken quoting at the end
        raise NotPlain(str(exc)) from None
    if line - 1 != total - trailing_blank:
        raise NotPlain(f"records cover {line - 1} lines of {total}")
    if not yielded:  # a header alone: one empty chunk, so that its columns are checked
        yield _batch(header, [], [])


def read_xlsx(path: Path, m: Mapping, sheet: str | None) -> Iterator[Batch]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    width = check_workbook(path) or MAX_COLUMNS  # sizes first: a bomb is refused before parsing
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise ImportError_(f"{path} is not an Excel workbook (XLSX)", "input_xlsx") from None
    name = sheet or m.sheet
    if name and name not in wb.sheetnames:
        raise ImportError_(f"{path} has no sheet {name!r} (sheets: {', '.join(wb.sheetnames)})", "input_sheet",
                           sheet=name, sheets=", ".join(wb.sheetnames))
    ws = wb[name] if name else wb.worksheets[0]
    it = ws.iter_rows(values_only=True, max_col=width)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    rows: list[tuple[int, list[str]]] = []
    for line_no, values in enumerate(it, start=2):
        fields = ["" if v is None else (v.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(v, dt.datetime) else str(v))
                  for v in values]
        if not any(f.strip() for f in fields):
            continue
        fields = (fields + [""] * len(header))[:len(header)]
        rows.append((line_no, fields))
        if len(rows) >= CHUNK:
            yield _batch(header, rows, [])
            rows = []
    yield _batch(header, rows, [])
    wb.close()


# ---- validation ----------------------------------------------------------------------------

def _undecodable(fields: list[str]) -> bool:
    """True when a field holds bytes the file's encoding could not decode (surrogate escapes)."""
    try:
        "\x1f".join(fields).encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


class Resolver:
    """Input words → canonical ids, through the mapping's tables and the reference data."""

    def __init__(self, conn: Connection, m: Mapping):
        ref = read_reference(conn)
        self.m = m
        munis, topics, orgs = ref.municipalities, ref.topics, ref.organizations
        self.known = {
            "territory": {**dict(zip(munis["code"], munis["id"])), **dict(zip(munis["name_ru"], munis["id"])),
                          **dict(zip(munis["name_en"], munis["id"]))},
            "topic": {**dict(zip(topics["code"], topics["id"])), **dict(zip(topics["name_ru"], topics["id"]))},
            "executor": {**dict(zip(orgs["name_ru"], orgs["id"])),
                         **dict(zip(orgs["short_name_ru"].dropna(), orgs.loc[orgs["short_name_ru"].notna(), "id"])),
                         **dict(zip(orgs["code"], orgs["id"]))},
            "source": {s: s for s in SOURCES},
            "status": {s: s for s in OPEN_STATUSES + CLOSED_STATUSES},
            "citizen_feedback": {"confirmed": "confirmed", "disputed": "disputed"},
        }
        self.known["escalated_to"] = self.known["executor"]
        self._lookups: dict[str, dict] = {}
        self.categories = set(topics.loc[topics["parent_id"].isna(), "id"])
        self.norm = dict(zip(topics["id"], topics["response_norm_hours"]))
        self.admin_of = {int(mid): int(oid) for mid, oid in
                         zip(orgs.loc[orgs["code"].str.startswith("admin."), "municipality_id"],
                             orgs.loc[orgs["code"].str.startswith("admin."), "id"])}

    def resolve(self, dim: str, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(canonical values or NaN, mask of unknown non-empty values): one dict lookup per value."""
        lookup = self._lookups.get(dim)
        if lookup is None:
            known = self.known[dim]
            lookup = dict(known)  # canonical codes and names
            for word, target in self.m.values.get(dim, {}).items():  # the mapping's words win
                if target in known:
                    lookup[word] = known[target]
            self._lookups[dim] = lookup
        codes, uniques = pd.factorize(values)  # few distinct words per column (stripped already)
        resolved = np.array([lookup.get(u) for u in uniques] + [None], dtype=object)  # code -1: None
        out = pd.Series(resolved[codes], index=values.index, dtype=object)
        unknown = out.isna() & (values != "")
        fb = self.m.fallback.get(dim)
        if fb and fb != "reject" and fb != "@territory_admin" and unknown.any():
            if fb not in lookup:
                raise MappingError(f"[fallback] {dim} = {fb!r} is not a known value", "mapping_fallback",
                                   dim=dim, value=fb)
            out = out.where(~unknown, lookup[fb])
            unknown = unknown & False
        return out, unknown


def parse_dates(values: pd.Series, m: Mapping) -> tuple[np.ndarray, pd.Series]:
    """(UTC seconds with NEVER for empty, mask of unparsable non-empty values)."""
    s = values  # already stripped
    empty = s == ""
    if m.date_format == "iso":
        parsed = pd.to_datetime(s.where(~empty), errors="coerce", format="ISO8601")
    else:
        parsed = pd.to_datetime(s.where(~empty), errors="coerce", format=m.date_format)
        retry = parsed.isna() & ~empty
        if retry.any():  # XLSX date cells arrive as ISO text
            parsed = parsed.where(~retry, pd.to_datetime(s.where(retry), errors="coerce", format="ISO8601"))
    bad = parsed.isna() & ~empty
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(m.tz, ambiguous="NaT", nonexistent="NaT")
    parsed = parsed.dt.tz_convert("UTC")
    secs = ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("float64").to_numpy()
    return np.where(np.isnan(secs), NEVER, secs).astype(np.int64), bad


def validate(batch: Batch, m: Mapping, res: Resolver, seen: dict[str, int], cal) -> tuple[pd.DataFrame, list[Reject]]:
    """The chunk's valid rows as a staging frame, and its rejects (first failing check per row).
    `seen` maps the ids of earlier chunks to their lines."""
    n = len(batch)
    if not n:
        return pd.DataFrame(columns=STAGE_COLUMNS), []
    index = {h: i for i, h in enumerate(batch.header)}
    lines = batch.lines
    col = {}
    for f in FIELDS:  # Arrow-backed text: stripping and comparing run in C
        if f in m.columns:
            # a spreadsheet guard's apostrophe (queries.cells) taken off: our exports load back unchanged
            values = batch.columns[index[m.columns[f]]].str.replace(UNGUARD, "", regex=True)
            col[f] = values if f == "text" else values.str.strip()
        else:
            col[f] = pd.Series([m.constants.get(f, "")] * n, dtype="str")
    reason = np.full(n, None, dtype=object)
    column = np.full(n, "", dtype=object)
    value = np.full(n, "", dtype=object)
    extra: dict[int, dict] = {}

    def fail(mask, why: str, field_name: str, values: pd.Series | None = None) -> None:
        mask = np.asarray(mask, dtype=bool) & (reason == None)  # noqa: E711
        if not mask.any():
            return
        reason[mask] = why
        column[mask] = m.columns.get(field_name, field_name)
        if values is not None:  # only the failing rows' values leave Arrow
            value[mask] = values.iloc[np.flatnonzero(mask)].to_numpy(dtype=object)

    for f in ("external_id", "text", "received_at", "territory", "topic", "status"):
        fail((col[f] if f != "text" else col[f].str.strip()) == "", "missing", f)
    ids = col["external_id"].to_numpy(dtype=object)
    candidates = np.flatnonzero(reason == None)  # noqa: E711  (an id is claimed by its first valid-so-far row)
    cand_ids = ids[candidates]
    dup = np.zeros(n, dtype=bool)
    dup[candidates] = pd.Series(cand_ids).duplicated(keep="first").to_numpy() | np.fromiter(
        (x in seen for x in cand_ids), dtype=bool, count=len(cand_ids))
    first = candidates[~dup[candidates]]
    seen.update(zip(ids[first].tolist(), lines[first].tolist()))
    for i in np.flatnonzero(dup):
        extra[int(i)] = {"first": seen[ids[i]]}
    fail(dup, "duplicate", "external_id")
    resolved = {}
    for dim in ("territory", "topic", "executor", "escalated_to", "source", "status", "citizen_feedback"):
        out, unknown = res.resolve(dim, col[dim])
        fail(unknown, "unknown", dim, col[dim])
        resolved[dim] = out
    is_cat = resolved["topic"].isin(res.categories)
    fail(is_cat, "category", "topic", col["topic"])
    if res.m.fallback.get("executor") == "@territory_admin":
        need = resolved["executor"].isna() & resolved["territory"].notna()
        resolved["executor"] = resolved["executor"].where(~need, resolved["territory"].map(res.admin_of))
    fail(resolved["executor"].isna(), "missing", "executor")
    fail(resolved["source"].isna(), "missing", "source")
    times = {}
    for f in DATE_FIELDS:
        secs, bad = parse_dates(col[f], m)
        fail(bad, "date", f, col[f])
        times[f] = secs
    rec = times["received_at"]
    for f in ("response_due_at", "first_response_at", "closed_at", "escalated_at", "comment_removed_at",
              "author_blocked_at"):
        fail((times[f] < NEVER) & (times[f] < rec), "order", f, col[f])
    status = resolved["status"]
    fail(status.isin(CLOSED_STATUSES) & (times["closed_at"] >= NEVER), "closed_without_date", "closed_at")
    fail(status.isin(OPEN_STATUSES) & (times["closed_at"] < NEVER), "open_with_date", "closed_at", col["closed_at"])
    fail((times["escalated_at"] < NEVER) != resolved["escalated_to"].notna(), "escalation", "escalated_at")
    numbers = {}
    for f in ("citizen_rating", "reopened_count", "reach"):
        s = col[f]
        num = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (s != "") & (num.isna() | (num != num.round()) | (num < 0))
        fail(bad, "number", f, col[f])
        numbers[f] = num
    rating = numbers["citizen_rating"]
    fail(rating.notna() & ((rating < 1) | (rating > 5)), "rating", "citizen_rating", col["citizen_rating"])

    ok = reason == None  # noqa: E711
    rejects = [Reject(int(lines[i]), column[i], reason[i], batch.row(i), value[i], extra.get(int(i), {}))
               for i in np.flatnonzero(~ok)]
    if not ok.any():
        return pd.DataFrame(columns=STAGE_COLUMNS), rejects
    k = np.flatnonzero(ok)
    topic = resolved["topic"].to_numpy()[k].astype(np.int64)
    received = rec[k]
    due = times["response_due_at"][k]
    norm = np.array([res.norm[t] for t in topic])
    due = np.where(due < NEVER, due, cal.add_work_hours(received, norm))
    fr = times["first_response_at"][k]
    esc = times["escalated_at"][k]
    fr_wh = np.where(fr < NEVER, cal.work_hours_between(received, np.where(fr < NEVER, fr, received)), np.nan)
    esc_wh = np.where(esc < NEVER, cal.work_hours_between(received, np.where(esc < NEVER, esc, received)), np.nan)
    fb = resolved["citizen_feedback"].to_numpy()[k]
    stage = pd.DataFrame({
        "line": lines[k], "external_id": ids[k], "source": resolved["source"].to_numpy()[k],
        "source_url": col["source_url"].to_numpy()[k], "author_ref": col["author_ref"].to_numpy()[k],
        "text": col["text"].array.take(k), "received_at": received,  # Arrow text stays Arrow (COPY)
        "municipality_id": resolved["territory"].to_numpy()[k].astype(np.int64), "topic_id": topic,
        "organization_id": resolved["executor"].to_numpy()[k].astype(np.int64), "status": status.to_numpy()[k],
        "response_due_at": due, "first_response_at": fr, "closed_at": times["closed_at"][k], "escalated_at": esc,
        "escalated_to_id": resolved["escalated_to"].fillna(0).to_numpy()[k].astype(np.int64),
        "citizen_feedback": np.where(pd.isna(fb), None, fb).astype(object),
        "citizen_rating": rating.fillna(0).to_numpy()[k].astype(np.int64),
        "reopened_count": numbers["reopened_count"].fillna(0).to_numpy()[k].astype(np.int64),
        "reach": numbers["reach"].fillna(-1).to_numpy()[k].astype(np.int64),
        "first_response_work_hours": np.round(fr_wh, 4), "escalation_work_hours": np.round(esc_wh, 4),
        "comment_removed_at": times["comment_removed_at"][k], "author_blocked_at": times["author_blocked_at"][k],
    })
    for c in ("source_url", "author_ref"):
        stage[c] = stage[c].where(stage[c] != "", None)
    return stage, rejects


# ---- loading ---------------------------------------------------------------------------------

def _stage_table(conn: Connection) -> None:
    ts = "timestamptz" if conn.dialect.name == "postgresql" else "text"
    big = "bigint" if conn.dialect.name == "postgresql" else "integer"
    conn.execute(text("drop table if exists import_stage"))
    conn.execute(text(f"""create temp table import_stage (
        line {big}, external_id text, source text, source_url text, author_ref text, text text,
        received_at {ts}, municipality_id integer, topic_id integer, organization_id integer, status text,
        response_due_at {ts}, first_response_at {ts}, closed_at {ts}, escalated_at {ts}, escalated_to_id integer,
        citizen_feedback text, citizen_rating integer, reopened_count integer, reach integer,
        first_response_work_hours double precision, escalation_work_hours double precision,
        comment_removed_at {ts}, author_blocked_at {ts})"""))


def _load_stage(conn: Connection, stage: pd.DataFrame) -> None:
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


def upsert(conn: Connection, now: dt.datetime, track: bool = False
           ) -> tuple[int, int, int, int, tuple[pd.DataFrame, pd.DataFrame] | None]:
    """Apply import_stage to appeals: (inserted, updated, unchanged, events written, change).
    Set-based SQL. `track`: `change` is the changed and new appeals before and after, as
    summaries.appeal_rows frames (what summaries.apply_delta takes); else None."""
    pg = conn.dialect.name == "postgresql"
    now_p = now if pg else now.strftime("%Y-%m-%dT%H:%M:%S")
    conn.execute(text("create index import_stage_ext on import_stage (external_id)"))
    conn.execute(text("create index import_stage_line on import_stage (line)"))
    _analyze(conn, "import_stage")
    conn.execute(text("drop table if exists import_match"))
    diff = " or ".join(_distinct(f"s.{c}", f"a.{c}", pg) for c in COMPARED if c != "external_id")
    conn.execute(text(f"""create temp table import_match as
        select s.line, s.external_id, a.id as appeal_id,
               case when a.id is null then 'new' when {diff} then 'changed' else 'same' end as kind
        from import_stage s left join appeals a on a.external_id = s.external_id"""))
    conn.execute(text("create index import_match_line on import_match (line)"))
    _analyze(conn, "import_match")
    counts = dict(conn.execute(text("select kind, count(*) from import_match group by kind")).all())
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


def write_rejects(path: Path, header: list[str], rejects: list[Reject]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["line", "column", "reason_ru", "reason_en", *header])
        for r in sorted(rejects, key=lambda r: r.line):
            ru, en = r.texts()
            raw = [f.encode("utf-8", "surrogateescape").decode("cp1251", "replace") if _undecodable([f]) else f
                   for f in r.raw]
            w.writerow([r.line, r.column, ru, en, *(guard(v) for v in raw)])


def _stage(conn: Connection, batches: Iterator[Batch], m: Mapping, res: Resolver, cal,
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
            absent = [(f, c) for f, c in m.columns.items() if c not in header]
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
            loading = pipe.submit(_load_stage, conn, stage)
            if fail_after_chunks is not None and i >= fail_after_chunks:
                raise ImportError_("import interrupted on purpose (test hook)", "input_interrupted")
    return header, rejects, read


def run_import(engine: Engine, path: Path, m: Mapping, *, dry_run: bool = False, sheet: str | None = None,
               progress=None, rejects_path: Path | None = None, now: dt.datetime | None = None,
               fail_after_chunks: int | None = None) -> Summary:
    """Import one file in one transaction; see the module docstring."""
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
        _stage_table(conn)
        readers = ([lambda: read_xlsx(path, m, sheet)] if kind == "xlsx" else
                   [lambda: read_csv_fast(path, m, progress), lambda: read_csv(path, m, progress)])
        for read in readers:
            try:
                header, rejects, summary.read = _stage(conn, read(), m, res, cal, fail_after_chunks)
                break
            except NotPlain:  # the exact reader reads the file again
                conn.execute(text("delete from import_stage"))
        was_empty = conn.execute(text("select 1 from appeals limit 1")).first() is None
        # the summary tables follow the appeals, in the same transaction: built on a first load,
        # else the changed and new appeals' cells added to them (summaries.apply_delta)
        track = not dry_run and not was_empty and summaries.is_ready(conn)
        summary.inserted, summary.updated, summary.unchanged, summary.events, change = upsert(conn, now, track)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seed.importer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="The mapping format is documented in README.md, section 'Importing appeals'.")
    p.add_argument("file", type=Path, help="CSV (UTF-8 or Windows-1251, comma or semicolon) or XLSX")
    p.add_argument("--mapping", required=True, type=Path, help="the TOML mapping of the input's columns and words")
    p.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL, secrets.toml, data/appeals.sqlite)")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing but the rejects file")
    p.add_argument("--sheet", help="XLSX sheet name (default: the mapping's, else the first)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    prog = "python -m seed.importer"
    try:
        m = load_mapping(args.mapping)
        url = args.db or resolve_admin_database().url
        engine = check_connection(url)
    except (MappingError, ConfigError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        s = run_import(engine, args.file, m, dry_run=args.dry_run, sheet=args.sheet,
                       progress=None if args.quiet else text_progress())
    except InputError as exc:
        print(f"{prog}: error: {exc} (nothing was written)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a database failure mid-way: the transaction was rolled back
        print(f"{prog}: error: {describe_failure(url, exc)} (nothing was written)", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{args.file}: {s.line()}", file=sys.stderr)
    if s.rejected:
        print(f"rejected rows, with reasons: {s.rejects_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
