"""SQLite's full-text index over appeals.text (PostgreSQL's is the stored vector appeals.text_tsv).

`appeals_fts` is a contentless FTS5 table (the text stays in `appeals` only) over the text with ё
written as е, as the Snowball stemmer writes it; three triggers keep it in step with `appeals`.
A search asks it for the words that begin with each query word's stem, then confirms the exact
stems (dialect.text_match), so «пробка» finds «пробки» and «ёлка» «елки», as on PostgreSQL.

Created by the baseline migration (its own copy of these statements). Bulk writers suspend the triggers and fill the index in one statement,
four times faster than row by row.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

TABLE = "appeals_fts"
CREATE = f"create virtual table {TABLE} using fts5(text, content='', columnsize=0, tokenize='unicode61')"


def _indexed(col: str) -> str:
    return f"replace(replace({col}, 'ё', 'е'), 'Ё', 'Е')"


TRIGGERS = {
    "appeals_fts_insert": f"""create trigger appeals_fts_insert after insert on appeals begin
        insert into {TABLE} (rowid, text) values (new.id, {_indexed('new.text')}); end""",
    "appeals_fts_delete": f"""create trigger appeals_fts_delete after delete on appeals begin
        insert into {TABLE} ({TABLE}, rowid, text) values ('delete', old.id, {_indexed('old.text')}); end""",
    "appeals_fts_update": f"""create trigger appeals_fts_update after update of text on appeals begin
        insert into {TABLE} ({TABLE}, rowid, text) values ('delete', old.id, {_indexed('old.text')});
        insert into {TABLE} (rowid, text) values (new.id, {_indexed('new.text')}); end""",
}
FILL = f"insert into {TABLE} (rowid, text) select id, {_indexed('text')} from appeals"


def create(conn: Connection) -> None:
    conn.execute(text(CREATE))
    resume(conn)


def drop(conn: Connection) -> None:
    suspend(conn)
    conn.execute(text(f"drop table if exists {TABLE}"))


def suspend(conn: Connection) -> None:
    """Before a bulk write: no trigger; resume() re-indexes every appeal."""
    for name in TRIGGERS:
        conn.execute(text(f"drop trigger if exists {name}"))


def resume(conn: Connection) -> None:
    conn.execute(text(f"insert into {TABLE} ({TABLE}) values ('delete-all')"))
    conn.execute(text(FILL))
    for sql in TRIGGERS.values():
        conn.execute(text(sql))


def prefix_query(stems: list[str]) -> str:
    """An FTS5 query: a word beginning with each stem (stems are letters and digits only)."""
    return " AND ".join(f'"{s}"*' for s in stems)
