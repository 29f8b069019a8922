"""Validation: a chunk of text columns → the valid rows as a staging frame, and the rejects.

Input words become canonical ids through the mapping's tables and the reference data (Resolver);
dates are parsed as the mapping says; each row's first failing check makes its reject.
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from ingest.mapping import DATE_FIELDS, FIELDS, Mapping, MappingError, template_parts
from ingest.readers import Batch
from ingest.reference import read_reference
from ingest.rejects import Reject
from queries.formulas import UNGUARD
from queries.schema import CLOSED_STATUSES, OPEN_STATUSES, SOURCES


NEVER = np.iinfo(np.int64).max // 4


STAGE_COLUMNS = [
    "line", "external_id", "source", "source_url", "author_ref", "text", "received_at", "municipality_id",
    "topic_id", "organization_id", "status", "response_due_at", "first_response_at", "closed_at", "escalated_at",
    "escalated_to_id", "citizen_feedback", "citizen_rating", "reopened_count", "reach",
    "first_response_work_hours", "escalation_work_hours", "comment_removed_at", "author_blocked_at",
    "response_measured", "day_mask", "blank_mask",  # which of the row's values say the day only / were empty (ingest.merge)
]

# Fields whose stored value an empty input value does not erase (ingest.merge). Not the closing
# date: an open status without one is a reopening, and validation keeps status and date together.
KEPT = ["source_url", "author_ref", "executor", "response_due_at", "first_response_at", "escalated_at",
        "citizen_feedback", "citizen_rating", "reopened_count", "reach", "response_measured"]


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
        self._refused: dict[str, set[str]] = {}  # words a mapping maps to "reject"
        self.categories = set(topics.loc[topics["parent_id"].isna(), "id"])
        self.norm = dict(zip(topics["id"], topics["response_norm_hours"]))
        self.admin_of = {int(mid): int(oid) for mid, oid in
                         zip(orgs.loc[orgs["code"].str.startswith("admin."), "municipality_id"],
                             orgs.loc[orgs["code"].str.startswith("admin."), "id"])}

    def lookup(self, dim: str) -> dict:
        """Input words → canonical ids: the reference's codes and names, then the mapping's words
        (a blank too, as the word ""), whose targets are canonical values, ADMIN or "reject"."""
        lookup = self._lookups.get(dim)
        if lookup is None:
            known = self.known[dim]
            lookup = dict(known)
            for word, target in self.m.values.get(dim, {}).items():  # the mapping's words win
                if target in known:
                    lookup[word] = known[target]
                elif target == TERRITORY_ADMIN and dim in ("executor", "escalated_to"):
                    lookup[word] = ADMIN
                elif target == "reject":
                    lookup.pop(word, None)
                    self._refused.setdefault(dim, set()).add(word)
                else:
                    raise MappingError(f"[map.{dim}] {word!r} = {target!r}: not a known value", "mapping_target",
                                       dim=dim, word=word, value=target)
            self._lookups[dim] = lookup
        return lookup

    def blank_is_mapped(self, dim: str) -> bool:
        return self.m.values.get(dim, {}).get("", "reject") != "reject"

    def resolve(self, dim: str, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(canonical values, ADMIN or NaN, mask of unknown non-empty values): one dict lookup per
        distinct value. An unknown word takes the mapping's fallback when it names one."""
        lookup = self.lookup(dim)
        codes, uniques = pd.factorize(values)  # few distinct words per column (stripped already)
        resolved = np.array([lookup.get(u) for u in uniques] + [None], dtype=object)  # code -1: None
        out = pd.Series(resolved[codes], index=values.index, dtype=object)
        unknown = out.isna() & (values != "")
        fb = self.m.fallback.get(dim)
        refused = self._refused.get(dim)
        if fb and fb != "reject" and unknown.any():
            taken = unknown & ~values.isin(refused) if refused else unknown  # "reject" in [map] is final
            if fb == TERRITORY_ADMIN and dim in ("executor", "escalated_to"):
                target = ADMIN
            elif fb in lookup:
                target = lookup[fb]
            else:
                raise MappingError(f"[fallback] {dim} = {fb!r} is not a known value", "mapping_fallback",
                                   dim=dim, value=fb)
            out = out.where(~taken, target)
            unknown = unknown & ~taken
        return out, unknown


TERRITORY_ADMIN = "@territory_admin"  # a mapping's word for the administration of the row's territory
ADMIN = -1                            # ...as Resolver.resolve returns it, placed by validate()


XLSX_DATE = "%Y-%m-%dT%H:%M:%S"  # how ingest.readers writes a spreadsheet's date cell

# Control characters (all but tab, line feed and carriage return): taken out of a text, where
# they are noise of the system that exported it, and a reason to reject a row anywhere else (an
# id or a code with one is not what it looks like). PostgreSQL cannot store a NUL at all.
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


TIME_DIRECTIVE = re.compile(r"%[HIMSfpXTRcrz]")
DAY_ONLY = r"^\d{4}-\d{2}-\d{2}$"  # an ISO value without its time


def day_part(fmt: str) -> str:
    """A strptime format cut before its first time directive: "%d.%m.%Y %H:%M" → "%d.%m.%Y"."""
    found = TIME_DIRECTIVE.search(fmt)
    return fmt if found is None else fmt[:found.start()].rstrip(" T,")


def parse_dates(values: pd.Series, m: Mapping, name: str = "") -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """(UTC seconds with NEVER for empty, mask of unparsable non-empty values, mask of values that
    say the day only). A day-precision value is its local midnight here; validate() places it."""
    s = values  # already stripped
    empty = s == ""
    declared = m.precision.get(name) == "day"
    if m.date_format == "iso":
        parsed = pd.to_datetime(s.where(~empty), errors="coerce", format="ISO8601")
        day = (~empty & (declared or s.str.match(DAY_ONLY))).to_numpy(dtype=bool)
    else:
        timed = TIME_DIRECTIVE.search(m.date_format) is not None
        first = day_part(m.date_format) if declared and timed else m.date_format
        parsed = pd.to_datetime(s.where(~empty), errors="coerce", format=first)
        for fmt in ((m.date_format, XLSX_DATE) if first != m.date_format else (XLSX_DATE,)):
            retry = parsed.isna() & ~empty
            if retry.any():  # XLSX date cells arrive as the reader's text of them: that form exactly, never
                # any ISO text (a day alone would be read as its midnight: a time made up)
                parsed = parsed.where(~retry, pd.to_datetime(s.where(retry), errors="coerce", format=fmt))
        day = (~empty & (declared or not timed)).to_numpy(dtype=bool)
    bad = parsed.isna() & ~empty
    if declared:  # the day is what the value says; a time beside it (often 00:00) is noise
        parsed = parsed.dt.floor("D") if getattr(parsed.dt, "tz", None) is None else parsed
    if getattr(parsed.dt, "tz", None) is None:
        parsed = _localize(parsed, m.tz)
    parsed = parsed.dt.tz_convert("UTC")
    secs = ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("float64").to_numpy()
    return np.where(np.isnan(secs), NEVER, secs).astype(np.int64), bad, day & ~bad.to_numpy(dtype=bool)


def _localize(naive: pd.Series, tz) -> pd.Series:
    """Local wall-clock times → aware ones. Daylight saving, by one documented rule: a time that
    occurs twice (the hour the clocks go back) is its first occurrence; a time that does not
    occur (the hour skipped) moves forward by the gap, as a clock that was not set would show."""
    return naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")


def local_days(secs: np.ndarray, tz) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each UTC time's local day in `tz`, as UTC seconds: end is the day's last second."""
    local = pd.to_datetime(secs, unit="s", utc=True).tz_convert(tz).tz_localize(None).normalize()
    start = _localize(pd.Series(local), tz)
    end = _localize(pd.Series(local + pd.Timedelta(days=1)), tz)
    to_secs = lambda x: ((x.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()  # noqa: E731
    return to_secs(start).astype(np.int64), to_secs(end).astype(np.int64) - 1


def _calendar_range(cal) -> tuple[int, int]:
    """The UTC seconds a working calendar covers, with a day's margin for the local offset; a
    deadline from the norm, weeks later, must fit too, hence the last month left out."""
    first = (cal.first - dt.date(1970, 1, 1)).days * 86400 + 86400
    last = (cal.last - dt.date(1970, 1, 1)).days * 86400 - 60 * 86400
    return first, last


def _place_days(times: dict[str, np.ndarray], days: dict[str, np.ndarray], m: Mapping) -> None:
    """Day-precision values placed in their day (docs/importing.md, "Precision"): a receipt at the
    day's start; a deadline at its end; any other time at the receipt itself when it is the
    receipt's day (a same-day closing is not before its receipt), else at the day's end."""
    rec = times["received_at"]
    for f in DATE_FIELDS:
        if f == "received_at" or not days[f].any():
            continue
        i = np.flatnonzero(days[f] & (times[f] < NEVER))
        start, end = local_days(times[f][i], m.tz)
        placed = end
        if f != "response_due_at":
            known = rec[i] < NEVER
            same = np.zeros(len(i), dtype=bool)
            same[known] = local_days(rec[i][known], m.tz)[0] == start[known]
            placed = np.where(same, rec[i], end)
        times[f][i] = placed


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
            # a spreadsheet guard's apostrophe (queries.formulas) taken off: our exports load back unchanged
            values = batch.columns[index[m.columns[f]]].str.replace(UNGUARD, "", regex=True)
            col[f] = values if f == "text" else values.str.strip()
        elif f in m.templates:  # several columns in one field, e.g. a category and a description
            text_ = None
            for lit, c in template_parts(m.templates[f]):
                piece = pd.Series([lit] * n, dtype="str") if lit else None
                if c:
                    value = batch.columns[index[c]].str.replace(UNGUARD, "", regex=True).str.strip()
                    piece = value if piece is None else piece + value
                text_ = piece if text_ is None else text_ + piece
            col[f] = text_.str.strip()
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

    col["text"] = col["text"].str.replace(CONTROL, "", regex=True)
    for f in FIELDS:
        if f != "text" and f in m.columns:
            found = col[f].str.contains(CONTROL, regex=True)
            if found.any():  # the shown value (a mark for each character) only for the rows refused
                fail(found, "control", f, col[f].where(found, "").str.replace(CONTROL, "\ufffd", regex=True))
    for f in ("external_id", "text", "received_at", "territory", "topic", "status"):
        if f in res.known and res.blank_is_mapped(f):
            continue  # the mapping says what a blank means
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
    admin = resolved["territory"].map(res.admin_of)
    for dim in ("executor", "escalated_to"):
        need = resolved[dim].eq(ADMIN).fillna(False)
        if dim == "executor" and res.m.fallback.get(dim) == TERRITORY_ADMIN:  # a blank, as documented
            need |= resolved[dim].isna()
        resolved[dim] = resolved[dim].where(~need, admin)
    fail(resolved["executor"].isna(), "missing", "executor")
    fail(resolved["source"].isna(), "missing", "source")
    times, days = {}, {}
    for f in DATE_FIELDS:
        secs, bad, days[f] = parse_dates(col[f], m, f)
        if m.date_format == "iso":
            fail(bad, "date", f, col[f])
        else:  # the declared format is a contract: a value in another is refused, never guessed
            fail(bad, "date_format", f, col[f])
        times[f] = secs
    for i in np.flatnonzero(reason == "date_format"):
        extra[int(i)] = {"format": m.date_format}
    first, last = _calendar_range(cal)
    for f in DATE_FIELDS:
        t = times[f]
        fail((t < NEVER) & ((t < first) | (t > last)), "calendar", f, col[f])
    for i in np.flatnonzero(reason == "calendar"):
        extra[int(i)] = {"first": cal.first.strftime("%d.%m.%Y"), "last": cal.last.strftime("%d.%m.%Y")}
    for f in DATE_FIELDS:  # out of the calendar: refused above, kept out of the arithmetic below
        times[f] = np.where((times[f] < first) | (times[f] > last), NEVER, times[f])
    rec = times["received_at"]
    _place_days(times, days, m)
    if m.first_response == "closing":  # the mapping says the closing answered the appeal
        copied = (times["first_response_at"] >= NEVER) & (times["closed_at"] < NEVER)
        times["first_response_at"] = np.where(copied, times["closed_at"], times["first_response_at"])
        days["first_response_at"] = days["first_response_at"] | (copied & days["closed_at"])
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
    fail(~col["response_measured"].isin(["", "0", "1"]), "measured", "response_measured", col["response_measured"])
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
    day_mask = sum(days[f][k].astype(np.int64) << i for i, f in enumerate(DATE_FIELDS))
    blank = {f: (col[f] == "").to_numpy()[k] for f in KEPT if f != "response_measured"}
    said = (col["response_measured"] != "").to_numpy(dtype=bool)[k]
    measured = np.where(said, (col["response_measured"] != "0").to_numpy(dtype=bool)[k], m.measures_response)
    # a response known to the day cannot be set against a norm in working hours: not measured
    measured = (measured & ~days["first_response_at"][k]).astype(np.int64)
    blank["response_measured"] = ~said & (not m.measures_response)  # unsaid: the mapping reads no responses
    blank["executor"] &= resolved["executor"].notna().to_numpy()[k]  # filled by the fallback
    blank_mask = sum(blank[f].astype(np.int64) << i for i, f in enumerate(KEPT))
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
        "first_response_work_hours": np.where(measured == 1, np.round(fr_wh, 4), np.nan),
        "escalation_work_hours": np.round(esc_wh, 4),
        "comment_removed_at": times["comment_removed_at"][k], "author_blocked_at": times["author_blocked_at"][k],
        "response_measured": measured,
        "day_mask": day_mask, "blank_mask": blank_mask,
    })
    for c in ("source_url", "author_ref"):
        stage[c] = stage[c].where(stage[c] != "", None)
    return stage, rejects
