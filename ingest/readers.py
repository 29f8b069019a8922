"""Reading an export: CSV (any of the usual encodings and delimiters) and XLSX, in chunks of text columns.

Two CSV readers: the exact one (Python's csv module, record by record, which can say on which line
a broken record lies) and the fast one (Arrow's parser), used where every record parses.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from ingest.mapping import InputError, Mapping
from ingest.rejects import Reject, undecodable
from ingest.workbook import MAX_COLUMNS, check_workbook


class ImportError_(InputError):
    """An input file that cannot be imported."""


CHUNK = 50_000


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
    if rows and undecodable(["\x1f".join(r[1]) for r in rows]):  # one check per chunk, then per row
        kept = []
        for line, fields in rows:
            if undecodable(fields):
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
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or first[1:2] == b"\x00" or first[:1] == b"\x00":
        # Excel's «Unicode text»: two bytes a character, which neither reader reads
        raise ImportError_(f"{path} is in UTF-16: save it as CSV in UTF-8 (or Windows-1251)", "input_utf16")
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
