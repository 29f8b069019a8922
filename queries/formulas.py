"""Spreadsheet cells that cannot run: the OWASP guard against formula (CSV) injection.

A text cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel and
LibreOffice (=HYPERLINK(…) sends data away, =cmd|… ran programs). Every file a user can open in a
spreadsheet is written through these: CSV values get a leading apostrophe, XLSX cells are stored as
text. The importer takes the apostrophe off again (UNGUARD), so the project's own exports load
back unchanged.
"""
from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
UNGUARD = r"^'(?=[=+\-@\t\r])"  # the apostrophe `guard` puts before such a text, as a pattern


def guard(value):
    """A CSV value: a text that a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def guard_frame(df):
    """The frame with every text cell guarded (numbers stay numbers)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = [guard(v) for v in out[col]]
    out.columns = [guard(c) for c in out.columns]
    return out


def guard_sheet(sheet) -> None:
    """An openpyxl worksheet's formula cells written by us turned into text cells (we write no formulas)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
