"""A workbook's declared sizes checked before it is parsed: XLSX bombs are refused, not expanded.

An XLSX file is a zip of XML. Its central directory states every member's uncompressed size, and
each sheet states its dimension (`<dimension ref="A1:K5000"/>`): both are read without
decompressing anything. openpyxl keeps the shared strings in memory and pads read-only rows to
the sheet's width, so an 817 KB file with one 800 MB shared string, or a 10 MB sheet of two
million rows with a cell at column XFD, would take gigabytes and minutes. Limits here keep any
accepted upload within about 1 GB of memory (tests/test_security.py).
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO

from ingest.mapping import InputError

MAX_TOTAL = 512 * 1024 * 1024        # all members, uncompressed
MAX_SHARED_STRINGS = 64 * 1024 * 1024  # held in memory whole by openpyxl
MAX_RATIO = 200                      # uncompressed / compressed, for members over 1 MB
MAX_COLUMNS = 256                    # an export has a few dozen columns
MAX_CELLS = 30_000_000               # rows × columns a sheet may declare
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def check_workbook(path: Path | IO[bytes]) -> int | None:
    """Refuse a workbook whose declared sizes are beyond the limits (InputError with a sentence in
    each language); returns the widest sheet's declared column count (None when undeclared)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{path} is not an Excel workbook (XLSX)", "input_xlsx") from None
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_TOTAL:
            raise InputError(f"{path} unpacks to {total // 2**20} MB (at most {MAX_TOTAL // 2**20} MB)",
                             "input_xlsx_size", size=total // 2**20, limit=MAX_TOTAL // 2**20)
        for m in members:
            if m.file_size > 2**20 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise InputError(f"{path}: {m.filename} is compressed {m.file_size // max(m.compress_size, 1)} times "
                                 f"(at most {MAX_RATIO}): not an export", "input_xlsx_ratio",
                                 ratio=m.file_size // max(m.compress_size, 1), limit=MAX_RATIO)
            if m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_SHARED_STRINGS:
                raise InputError(f"{path}: its texts take {m.file_size // 2**20} MB (at most "
                                 f"{MAX_SHARED_STRINGS // 2**20} MB)", "input_xlsx_strings",
                                 size=m.file_size // 2**20, limit=MAX_SHARED_STRINGS // 2**20)
        widest = None
        for m in members:
            if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", m.filename):
                continue
            with archive.open(m) as fh:
                head = fh.read(4096)
            found = _DIMENSION.search(head)
            if not found or not found.group(3):
                continue
            columns, rows = _column_number(found.group(3).decode()), int(found.group(4))
            if columns > MAX_COLUMNS or columns * rows > MAX_CELLS:
                raise InputError(f"{path}: a sheet declares {rows} rows by {columns} columns (at most {MAX_COLUMNS} "
                                 f"columns and {MAX_CELLS} cells)", "input_xlsx_dimension",
                                 rows=rows, columns=columns, max_columns=MAX_COLUMNS, max_cells=MAX_CELLS)
            widest = max(widest or 0, columns)
    return widest
