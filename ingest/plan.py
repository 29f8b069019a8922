"""What a load will change, field by field, before it does: the dry run shows it, the load writes
it (and refuses when the database moved under it since the check), and a load that changes more
than CONFIRM_SHARE of the stored appeals needs the user's confirmation."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ingest.mapping import DATE_FIELDS, Mapping
from ingest.merge import columns_of, utc_seconds
from ingest.validate import NEVER

CONFIRM_SHARE = 0.10  # of the stored appeals: a load that changes more is confirmed first
EXAMPLES = 3
TEXT_SHOWN = 60

# the input's fields, as the plan reports them (the working hours follow the times)
REPORTED = ["received_at", "source", "source_url", "author_ref", "text", "territory", "topic", "executor", "status",
            "response_due_at", "first_response_at", "closed_at", "escalated_at", "escalated_to",
            "citizen_feedback", "citizen_rating", "reopened_count", "reach", "response_measured"]
CODES = {"municipality_id": "municipalities", "topic_id": "topics", "organization_id": "organizations",
         "escalated_to_id": "organizations"}


@dataclass
class FieldPlan:
    field: str
    column: str                                   # the input's header (or the field when not read)
    changed: int = 0                              # stored appeals whose value this load changes
    examples: list[tuple[str, str, str]] = field(default_factory=list)        # (id, before, after)
    kept: dict[str, int] = field(default_factory=dict)                        # why → stored values kept
    kept_examples: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, stored, input, why)


@dataclass
class Plan:
    stored: int = 0        # appeals in the database before the load
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    fields: list[FieldPlan] = field(default_factory=list)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # code in the examples → (name_ru, name_en)

    @property
    def share(self) -> float:
        """Of the stored appeals, the share this load changes."""
        return self.changed / self.stored if self.stored else 0.0

    @property
    def needs_confirmation(self) -> bool:
        return self.share > CONFIRM_SHARE

    def digest(self) -> str:
        """What the load would do, as counts: a load refuses to write a plan other than the one
        confirmed (the database changed between the check and the load)."""
        body = [self.new, self.changed, self.unchanged,
                [(f.field, f.changed, sorted(f.kept.items())) for f in self.fields]]
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:16]

    def lines(self) -> list[str]:
        """The plan in English, for the command line."""
        out = [f"{self.new:,} new appeal(s); {self.changed:,} of {self.stored:,} stored appeals change "
               f"({self.share:.1%}); {self.unchanged:,} unchanged"]
        for f in self.fields:
            if f.changed:
                eg = "; ".join(f"{i}: {b or '(empty)'} → {a or '(empty)'}" for i, b, a in f.examples)
                out.append(f"  {f.field} [{f.column}]: {f.changed:,} change, e.g. {eg}")
            for why, n in sorted(f.kept.items()):
                eg = "; ".join(f"{i}: {s} kept over {v or '(empty)'}" for i, s, v, w in f.kept_examples if w == why)
                what = "a day without a time" if why == "day" else "an empty value"
                out.append(f"  {f.field} [{f.column}]: {n:,} stored value(s) kept, the input has {what}, e.g. {eg}")
        return out


class Shown:
    """Stored and staged values as a person reads them: codes for ids, local times, short texts."""

    def __init__(self, conn: Connection, m: Mapping):
        self.tz = m.tz
        self.codes, self.names = {}, {}
        for t in set(CODES.values()):
            rows = conn.execute(text(f"select id, code, name_ru, coalesce(name_en, name_ru) from {t}")).all()
            self.codes[t] = {i: c for i, c, _, _ in rows}
            self.names.update({c: (ru, en) for _, c, ru, en in rows})

    def __call__(self, column: str, values: list) -> list[str]:
        if column in DATE_FIELDS:
            secs = utc_seconds(values)
            local = pd.to_datetime(np.where(secs < NEVER, secs, 0), unit="s", utc=True).tz_convert(self.tz)
            return [d.strftime("%Y-%m-%d %H:%M:%S") if s < NEVER else "" for s, d in zip(secs, local)]
        if column in CODES:
            codes = self.codes[CODES[column]]
            return ["" if v is None else str(codes.get(int(v), v)) for v in values]
        out = ["" if v is None else str(v) for v in values]
        return [v if len(v) <= TEXT_SHOWN else v[:TEXT_SHOWN - 1] + "…" for v in out] if column == "text" else out


def make_plan(conn: Connection, m: Mapping, counts: dict[str, int]) -> Plan:
    """The plan of the matched stage (import_match, after ingest.merge)."""
    pg = conn.dialect.name == "postgresql"
    distinct = (lambda a, b: f"{a} is distinct from {b}") if pg else (lambda a, b: f"{a} is not {b}")
    plan = Plan(new=counts.get("new", 0), changed=counts.get("changed", 0), unchanged=counts.get("same", 0))
    plan.stored = conn.execute(text("select count(*) from appeals")).scalar() if plan.changed else 0
    shown = Shown(conn, m)
    fields = {f: FieldPlan(f, m.columns.get(f, f)) for f in REPORTED}
    joined = """from import_stage s join import_match x on x.line = s.line join appeals a on a.id = x.appeal_id
        where x.kind = 'changed'"""
    if plan.changed:
        sums = ", ".join(f"sum(case when {distinct(f's.{columns_of(f)[0]}', f'a.{columns_of(f)[0]}')} then 1 else 0 end)"
                         for f in REPORTED)
        for f, n in zip(REPORTED, conn.execute(text(f"select {sums} {joined}")).one()):
            fields[f].changed = int(n or 0)
            if not n:
                continue
            c = columns_of(f)[0]
            rows = conn.execute(text(f"""select s.external_id, a.{c}, s.{c} {joined}
                and {distinct(f's.{c}', f'a.{c}')} order by s.line limit {EXAMPLES}""")).all()
            ids, before, after = zip(*rows)
            fields[f].examples = list(zip(ids, shown(c, list(before)), shown(c, list(after))))
    kept = conn.execute(text("select field, why, count(*) from import_kept group by field, why")).all()
    for f, why, n in kept:
        fp = fields.get(f) or fields.setdefault(f, FieldPlan(f, m.columns.get(f, f)))
        fp.kept[why] = int(n)
        c = columns_of(f)[0]
        rows = conn.execute(text(f"""select s.external_id, a.{c}, k.shown from import_kept k
            join import_stage s on s.line = k.line join appeals a on a.external_id = s.external_id
            where k.field = :f and k.why = :why order by k.line limit {EXAMPLES}"""), {"f": f, "why": why}).all()
        ids, stored, given = zip(*rows)
        fp.kept_examples += [(i, s, g, why) for i, s, g in zip(ids, shown(c, list(stored)), given)]
    plan.fields = [fp for fp in fields.values() if fp.changed or fp.kept]
    shown_codes = {v for fp in plan.fields if columns_of(fp.field)[0] in CODES
                   for e in fp.examples + fp.kept_examples for v in e[1:3]}
    plan.names = {c: shown.names[c] for c in shown_codes if c in shown.names}
    return plan
