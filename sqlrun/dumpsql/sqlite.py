"""SQLite's schema as SQL: the CREATE text sqlite_master keeps for each object, in an order that applies.

SQLite keeps each object's text as written (its head normalised: ``CREATE TABLE name``, no ``IF NOT
EXISTS``), so the dump is that text: applying it stores the same text again, and a second dump is the same
bytes. The order is by kind, then by name: tables may name tables that come later (SQLite resolves foreign
keys, and a view's or a trigger body's tables, only when they are used), indexes need their table, and
triggers their table or view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..snapshot import SQLRUN_TABLES

if TYPE_CHECKING:
    from ..catalog import Query

# sql IS NULL: the automatic indexes of keys written in CREATE TABLE (sqlite_autoindex_*), made with their table.
# sqlite_%: SQLite's own tables (sqlite_sequence, sqlite_stat1), made by the engine when needed.
OBJECTS = """SELECT type, name, tbl_name, sql FROM main.sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"""
# A virtual table (FTS5, R*Tree) makes its shadow tables itself: creating them again would fail.
SHADOW = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'"
KIND_ORDER = {"table": 0, "index": 1, "view": 2, "trigger": 3}
# Numbers an application keeps in the file's header as part of its schema (its own schema version, its
# file type); written after the objects, and only when set, as most databases leave them 0.
HEADER_PRAGMAS = ("user_version", "application_id")


def dump(query: Query) -> str:
    """The schema of the main database as CREATE statements, each ended by ``;``, a blank line between them."""
    skip = SQLRUN_TABLES | _shadow_tables(query)
    rows = [(kind, name, sql) for kind, name, table, sql in query(OBJECTS, ()) if name not in skip and table not in skip]
    rows.sort(key=lambda r: (KIND_ORDER.get(r[0], len(KIND_ORDER)), r[1]))
    parts = [f"{sql.strip()};" for _, _, sql in rows] + _header_pragmas(query)
    return "\n\n".join(parts) + ("\n" if parts else "")


def _header_pragmas(query: Query) -> list[str]:
    """``PRAGMA name = value;`` for each header number that is set."""
    values = [(name, query(f"PRAGMA main.{name}", ())[0][0]) for name in HEADER_PRAGMAS]
    return [f"PRAGMA {name} = {int(value)};" for name, value in values if value]


def _shadow_tables(query: Query) -> frozenset[str]:
    """The shadow tables of virtual tables (pragma_table_list needs SQLite 3.37; before it, none are known)."""
    import sqlite3

    try:
        return frozenset(name for (name,) in query(SHADOW, ()))
    except sqlite3.OperationalError:
        return frozenset()
