"""Import mappings: how another system's export (columns, words, dates) maps onto data-model.md.

A mapping is a TOML file; docs/importing.md describes the complete format.
"""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

# Canonical input fields an import can fill. Dimensions are given as codes or names and resolved
# through [map.<dimension>] tables and the reference data.
FIELDS = [
    "external_id", "source", "source_url", "author_ref", "text", "received_at", "territory", "topic",
    "executor", "status", "response_due_at", "first_response_at", "closed_at", "escalated_at", "escalated_to",
    "citizen_feedback", "citizen_rating", "reopened_count", "reach", "comment_removed_at", "author_blocked_at",
    "response_measured",  # 1/0: whether the source measures responses (default: whether the mapping reads them)
]
REQUIRED = ["external_id", "received_at", "territory", "topic", "status", "text"]
DATE_FIELDS = ["received_at", "response_due_at", "first_response_at", "closed_at", "escalated_at",
               "comment_removed_at", "author_blocked_at"]
PRECISIONS = ["day", "exact"]  # "day": the value says the day only (docs/importing.md, "Precision")
DIMENSIONS = ["source", "territory", "topic", "executor", "escalated_to", "status", "citizen_feedback"]


class InputError(Exception):
    """An import that cannot run: one English sentence for the command line, and a key of the
    app's message catalog (`import.error.<key>`) with the values its sentence needs."""

    def __init__(self, message: str, key: str, **params):
        super().__init__(message)
        self.key, self.params = key, params


class MappingError(InputError):
    """A mapping file that cannot be used."""


@dataclass
class Mapping:
    columns: dict[str, str]                 # canonical field → input column header
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)   # dimension → {input word: canonical}
    fallback: dict[str, str] = field(default_factory=dict)            # dimension → canonical value or "reject"
    format: str = "auto"                    # csv | xlsx | auto (by extension)
    encoding: str = "auto"                  # utf-8 | cp1251 | auto
    delimiter: str = "auto"                 # "," | ";" | "\t" | auto
    sheet: str | None = None
    date_format: str = "iso"                # strptime format, or "iso"
    timezone: str = "Asia/Novosibirsk"
    templates: dict[str, str] = field(default_factory=dict)    # field → "{column} text {column}"
    precision: dict[str, str] = field(default_factory=dict)   # date field → "day" (default: as the format)
    authoritative: set[str] = field(default_factory=set)
    first_response: str = "column"          # "closing": an appeal's closing is its first response       # fields whose values replace stored ones as they are

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def measures_response(self) -> bool:
        """Whether the input says when each appeal was first answered: else its response is not
        measured (neither on time nor late nor overdue; docs/metrics.md)."""
        return self.first_response == "closing" or any(
            "first_response_at" in d for d in (self.columns, self.templates, self.constants))

    def input_columns(self) -> dict[str, str]:
        """Every input column the mapping reads, with the field it goes to."""
        used = {c: f for f, c in self.columns.items()}
        for f, tpl in self.templates.items():
            used.update({c: f for _, c in template_parts(tpl) if c})
        return used


def template_parts(tpl: str) -> list[tuple[str, str | None]]:
    """A template as (literal text, input column or None) pairs; {{ and }} are braces."""
    return [(lit, col) for lit, col, _, _ in string.Formatter().parse(tpl)]


def load_mapping(path: str | Path) -> Mapping:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} not found", "mapping_not_found", path=Path(path).name) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        where = re.search(r"line (\d+)", str(exc))
        raise MappingError(f"mapping file {path} is not valid TOML: {exc}", "mapping_toml",
                           line=where.group(1) if where else "?") from None
    for section in ("input", "columns", "constants", "map", "fallback", "precision", "template"):
        if not isinstance(raw.get(section, {}), dict) or (
                section == "map" and not all(isinstance(v, dict) for v in raw.get("map", {}).values())):
            raise MappingError(f"mapping {path}: [{section}] must be a table of names and values",
                               "mapping_section", section=section)
    inp = raw.get("input", {})
    columns = {str(k): str(v) for k, v in raw.get("columns", {}).items()}
    constants = {str(k): str(v) for k, v in raw.get("constants", {}).items()}
    templates = {str(k): str(v) for k, v in raw.get("template", {}).items()}
    for f, tpl in templates.items():
        try:
            parts = template_parts(tpl)
        except ValueError:
            parts = []
        if not any(col for _, col in parts) or f in columns:
            raise MappingError(f"mapping {path}: [template] {f} = {tpl!r} must name input columns as {{column}} "
                               "(and the field must not be in [columns] too)", "mapping_template", field=f)
    unknown = (set(columns) | set(constants) | set(templates)) - set(FIELDS)
    if unknown:
        raise MappingError(f"mapping {path}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}",
                           "mapping_fields", fields=", ".join(sorted(unknown)), known=", ".join(FIELDS))
    missing = [f for f in REQUIRED if f not in columns and f not in constants and f not in templates]
    if missing:
        raise MappingError(f"mapping {path}: no column or constant for required field(s) {', '.join(missing)}",
                           "mapping_required", fields=", ".join(missing))
    values = {str(dim): {str(k): str(v) for k, v in table.items()} for dim, table in raw.get("map", {}).items()}
    bad_dims = set(values) - set(DIMENSIONS)
    if bad_dims:
        raise MappingError(f"mapping {path}: [map.{sorted(bad_dims)[0]}] is not a dimension ({', '.join(DIMENSIONS)})",
                           "mapping_dimension", name=sorted(bad_dims)[0], known=", ".join(DIMENSIONS))
    m = Mapping(columns=columns, constants=constants, values=values, templates=templates,
                fallback={str(k): str(v) for k, v in raw.get("fallback", {}).items()},
                format=str(inp.get("format", "auto")), encoding=str(inp.get("encoding", "auto")).lower(),
                delimiter=str(inp.get("delimiter", "auto")), sheet=inp.get("sheet"),
                date_format=str(inp.get("date_format", "iso")), timezone=str(inp.get("timezone", "Asia/Novosibirsk")),
                precision={str(k): str(v) for k, v in raw.get("precision", {}).items()},
                first_response=str(inp.get("first_response", "column")))
    if m.first_response not in ("column", "closing"):
        raise MappingError(f"mapping {path}: first_response must be \"column\" or \"closing\"",
                           "mapping_first_response", value=m.first_response)
    for f, p in m.precision.items():
        if f not in DATE_FIELDS or p not in PRECISIONS:
            raise MappingError(f"mapping {path}: [precision] {f} = {p!r}: a date field ({', '.join(DATE_FIELDS)}) "
                               f"and one of {', '.join(PRECISIONS)}", "mapping_precision", field=f, value=p,
                               known=", ".join(DATE_FIELDS))
    auth = inp.get("authoritative", [])
    auth = FIELDS if auth == "all" else auth
    if not isinstance(auth, list) or set(map(str, auth)) - set(FIELDS):
        raise MappingError(f"mapping {path}: authoritative must be \"all\" or a list of fields ({', '.join(FIELDS)})",
                           "mapping_authoritative", known=", ".join(FIELDS))
    m.authoritative = set(map(str, auth))
    try:
        m.tz
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"mapping {path}: unknown time zone {m.timezone!r}", "mapping_timezone", tz=m.timezone) from None
    if m.encoding not in ("auto", "utf-8", "utf8", "cp1251", "windows-1251"):
        raise MappingError(f"mapping {path}: encoding must be utf-8, cp1251 or auto", "mapping_encoding", encoding=m.encoding)
    if m.format not in ("auto", "csv", "xlsx"):
        raise MappingError(f"mapping {path}: format must be csv, xlsx or auto", "mapping_format", format=m.format)
    if m.delimiter not in ("auto", ",", ";", "\t"):
        raise MappingError(f"mapping {path}: delimiter must be \",\", \";\", \"\\t\" or auto", "mapping_delimiter",
                           delimiter=m.delimiter)
    if m.date_format != "iso":
        try:
            pd.to_datetime(pd.Series(["1"]), format=m.date_format, errors="coerce")
        except ValueError:
            raise MappingError(f"mapping {path}: date_format {m.date_format!r} is not a strptime format",
                               "mapping_date_format", format=m.date_format) from None
    return m
