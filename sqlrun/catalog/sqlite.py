"""SQLite's catalog as snapshot items: sqlite_master and the table-valued pragmas of the main database."""

from __future__ import annotations

import hashlib
import re
from typing import Iterator, Sequence

from . import Item, Query, TableData
from . import squeeze

OBJECTS = """SELECT type, name, tbl_name, sql FROM main.sqlite_master
WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND (? IS NULL OR tbl_name = ?)"""
COLUMNS = "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)"
INDEXES = "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)"
INDEX_COLUMNS = "SELECT cid, name FROM pragma_index_info(?) ORDER BY seqno"
FOREIGN_KEYS = "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete, match FROM pragma_foreign_key_list(?) ORDER BY id, seq"
_INDEX_HEAD = re.compile(r"^CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?\S+ ON ", re.IGNORECASE)
HIDDEN = {2: " GENERATED VIRTUAL", 3: " GENERATED STORED"}


def quote(name: str) -> str:
    """An identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


class SQLiteCatalog:
    """Reads a SQLite database's catalog into snapshot items."""

    def items(self, query: Query, *, table: str | None = None) -> Iterator[Item]:
        """Every schema object of the main database, or (``table``) only those of one table."""
        for kind, name, tbl, sql in query(OBJECTS, (table, table)):
            if kind == "table":
                # The CREATE text is where SQLite keeps checks and constraint names: whitespace aside, it is the table.
                yield Item("table", name, name, squeeze(sql))
                yield from self._columns(query, name)
                yield from self._keys(query, name)
                yield from self._foreign_keys(query, name)
            elif kind == "index" and sql is not None:
                yield Item("index", tbl, name, _INDEX_HEAD.sub("", squeeze(sql)))
            elif kind in ("view", "trigger"):
                yield Item(kind, "" if kind == "view" else tbl, name, squeeze(sql))

    def tables(self, query: Query) -> list[str]:
        """Names of the tables whose data a snapshot summarises."""
        return [name for kind, name, _, _ in query(OBJECTS, (None, None)) if kind == "table"]

    def data(self, query: Query, tables: Sequence[str]) -> dict[str, TableData]:
        """Row count and multiset digest of each of ``tables``."""
        return {t: self.table_data(query, t) for t in tables}

    def table_data(self, query: Query, table: str) -> TableData:
        """Row count and multiset digest of ``table`` (SQLite has no hash function: the rows are read here)."""
        total, count = 0, 0
        for row in query(f"SELECT * FROM main.{quote(table)}", ()):
            count += 1
            total += int.from_bytes(hashlib.md5(repr(row).encode()).digest()[:8], "big")
        return TableData(count, str(total))

    def _columns(self, query: Query, table: str) -> Iterator[Item]:
        for cid, name, typ, notnull, default, pk, hidden in query(COLUMNS, (table,)):
            parts = [f"#{cid + 1}", typ or "", "NOT NULL" if notnull else "NULL"]
            parts += [f"DEFAULT {default}"] if default is not None else []
            parts += [f"PK#{pk}"] if pk else []
            yield Item("column", table, name, " ".join(p for p in parts if p) + HIDDEN.get(hidden, ""))

    def _keys(self, query: Query, table: str) -> Iterator[Item]:
        # Keys written in CREATE TABLE become automatic indexes (sqlite_autoindex_t_N): the name is made up.
        primary = False
        for name, unique, origin, _ in query(INDEXES, (table,)):
            if origin == "c":
                continue  # a CREATE INDEX: listed from sqlite_master with its text
            primary = primary or origin == "pk"
            cols = ", ".join(c if c is not None else "<expression>" for _, c in query(INDEX_COLUMNS, (name,)))
            yield Item("primary key" if origin == "pk" else "unique", table, name, f"({cols})", True)
        if not primary:  # an INTEGER PRIMARY KEY is the rowid itself: no index, only the column's pk number
            keyed = sorted((r[5], r[1]) for r in query(COLUMNS, (table,)) if r[5])
            if keyed:
                yield Item("primary key", table, "rowid", f"({', '.join(name for _, name in keyed)})", True)

    def _foreign_keys(self, query: Query, table: str) -> Iterator[Item]:
        keys: dict[int, list[tuple]] = {}
        for fk_id, _, ref, col, to, on_update, on_delete, match in query(FOREIGN_KEYS, (table,)):
            keys.setdefault(fk_id, []).append((ref, col, to, on_update, on_delete, match))
        for fk_id, parts in sorted(keys.items()):
            ref, _, _, on_update, on_delete, _ = parts[0]
            cols = ", ".join(p[1] for p in parts)
            refs = ", ".join(p[2] or "<primary key>" for p in parts)
            # pragma_foreign_key_list numbers keys, it does not name them: the number is not part of the meaning.
            yield Item("foreign key", table, f"#{fk_id}", f"({cols}) REFERENCES {ref} ({refs}) ON UPDATE {on_update} ON DELETE {on_delete}", True)
