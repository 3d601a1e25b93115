"""MySQL's and MariaDB's catalog as snapshot items: information_schema of the current database."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterator, Sequence

from . import Item, Query, TableData
from . import squeeze

HERE = "TABLE_SCHEMA = DATABASE()"
ONE_TABLE = "(%s IS NULL OR TABLE_NAME = %s)"

TABLES = f"SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE {HERE} AND {ONE_TABLE}"
COLUMNS = f"""SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA
FROM information_schema.COLUMNS WHERE {HERE} AND {ONE_TABLE}
  AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES WHERE {HERE} AND TABLE_TYPE <> 'VIEW')
ORDER BY TABLE_NAME, ORDINAL_POSITION"""
STATISTICS = f"""SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE
FROM information_schema.STATISTICS WHERE {HERE} AND {ONE_TABLE} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"""
FOREIGN_KEYS = f"""SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
  r.UPDATE_RULE, r.DELETE_RULE, k.REFERENCED_TABLE_SCHEMA = DATABASE()
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.{HERE} AND (%s IS NULL OR k.TABLE_NAME = %s) AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"""
# MariaDB names checks per table (CONSTRAINT_1 in many tables) and lists their table; MySQL 8 names them
# per schema and lists the table only in TABLE_CONSTRAINTS.
CHECKS_MARIADB = """SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND (%s IS NULL OR TABLE_NAME = %s)"""
CHECKS_MYSQL = """SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS c
JOIN information_schema.TABLE_CONSTRAINTS t ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME
WHERE c.CONSTRAINT_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK' AND (%s IS NULL OR t.TABLE_NAME = %s)"""
TRIGGERS = """SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, ACTION_STATEMENT
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND (%s IS NULL OR EVENT_OBJECT_TABLE = %s)"""
VIEWS = "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
ROUTINES = """SELECT r.ROUTINE_NAME, r.ROUTINE_TYPE, COALESCE(r.DTD_IDENTIFIER, ''), r.ROUTINE_DEFINITION,
  (SELECT GROUP_CONCAT(CONCAT_WS(' ', p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) ORDER BY p.ORDINAL_POSITION SEPARATOR ', ')
   FROM information_schema.PARAMETERS p WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME
     AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0)
FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = DATABASE()"""
EVENTS = "SELECT EVENT_NAME, EVENT_DEFINITION FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
DATA = (
    "SELECT {n}, COUNT(*), COALESCE(SUM(CAST(CONV(SUBSTRING(h, 1, 15), 16, 10) AS UNSIGNED)), 0), "
    "COALESCE(SUM(CAST(CONV(SUBSTRING(h, 16, 15), 16, 10) AS UNSIGNED)), 0) "
    "FROM (SELECT MD5(CONCAT_WS(0x1f, {columns})) AS h FROM {table}) AS x"
)
DATA_COLUMNS = "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
DATA_CHUNK = 200  # tables summarised per query: one round trip instead of one per table

# The names the server makes up: foreign keys child_ibfk_N; checks CONSTRAINT_N (MariaDB), child_chk_N
# (MySQL), or a column check named after its column; keys named after their first column, then col_2...
_FK_NAME = re.compile(r".+_ibfk_\d+")
_CHECK_NAME = re.compile(r"CONSTRAINT_\d+|.+_chk_\d+")


def quote(name: str) -> str:
    """An identifier in backquotes."""
    return "`" + name.replace("`", "``") + "`"


def key_generated(name: str, first_column: str) -> bool:
    """Whether an index name is the one MySQL makes up for a key written without one (``email``, ``email_2``)."""
    return name == first_column or re.fullmatch(re.escape(first_column) + r"_\d+", name) is not None


class MySQLCatalog:
    """Reads a MySQL or MariaDB database's catalog into snapshot items."""

    def items(self, query: Query, *, table: str | None = None) -> Iterator[Item]:
        """Every schema object of the current database, or (``table``) only those of one table."""
        scope = (table, table)
        columns: dict[str, set[str]] = defaultdict(set)
        for name, kind, engine in query(TABLES, scope):
            if kind == "SEQUENCE":
                yield Item("sequence", "", name, "")
            elif kind != "VIEW":
                yield Item("table", name, name, f"ENGINE={engine}" if engine else "")
        for t, name, pos, typ, nullable, default, extra in query(COLUMNS, scope):
            columns[t].add(name)
            parts = [f"#{pos}", str(typ), "NULL" if nullable == "YES" else "NOT NULL"]
            parts += [f"DEFAULT {default}"] if default is not None and default != "NULL" else []
            parts += [str(extra).upper()] if extra else []
            yield Item("column", t, name, " ".join(parts))
        yield from self._indexes(query, scope)
        yield from self._foreign_keys(query, scope)
        yield from self._checks(query, scope, columns)
        for t, name, timing, event, order, body in query(TRIGGERS, scope):
            yield Item("trigger", t, name, f"{timing} {event} #{order}: {squeeze(body)}")
        if table is None:
            yield from self._others(query)

    def tables(self, query: Query) -> list[str]:
        """Names of the base tables whose data a snapshot summarises."""
        return [name for name, kind, _ in query(TABLES, (None, None)) if kind not in ("VIEW", "SEQUENCE")]

    def data(self, query: Query, tables: Sequence[str]) -> dict[str, TableData]:
        """Row count and multiset digest of each of ``tables``, computed by the server in one query per DATA_CHUNK."""
        names: dict[str, list[str]] = defaultdict(list)
        for t, column in query(DATA_COLUMNS, ()):
            names[t].append(column)
        out: dict[str, TableData] = {}
        for start in range(0, len(tables), DATA_CHUNK):
            chunk = tables[start:start + DATA_CHUNK]
            parts = []
            for n, t in enumerate(chunk):
                # QUOTE keeps NULL apart from 'NULL'; as binary, columns of different collations concatenate
                # (utf8 beside latin1 was error 1271, "Illegal mix of collations for operation 'concat_ws'").
                columns = ", ".join(f"CAST(QUOTE({quote(c)}) AS BINARY)" for c in names[t]) or "''"
                parts.append(DATA.format(n=n, columns=columns, table=quote(t)))
            for n, count, low, high in query(" UNION ALL ".join(parts), ()):
                out[chunk[int(n)]] = TableData(int(count), f"{low}:{high}")
        return out

    def _indexes(self, query: Query, scope: tuple[Any, Any]) -> Iterator[Item]:
        keys: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        for t, name, non_unique, column, sub_part, index_type in query(STATISTICS, scope):
            keys[(t, name)].append((non_unique, column, sub_part, index_type))
        for (t, name), parts in keys.items():
            cols = ", ".join(f"{c or '<expression>'}{f'({s})' if s else ''}" for _, c, s, _ in parts)
            kind = "primary key" if name == "PRIMARY" else ("index" if parts[0][0] else "unique")
            using = "" if parts[0][3] == "BTREE" else f" USING {parts[0][3]}"
            generated = name == "PRIMARY" or key_generated(name, parts[0][1] or "")
            yield Item(kind, t, name, f"({cols}){using}", generated)

    def _foreign_keys(self, query: Query, scope: tuple[Any, Any]) -> Iterator[Item]:
        keys: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        for t, name, column, ref_table, ref_column, on_update, on_delete, same in query(FOREIGN_KEYS, scope):
            keys[(t, name)].append((column, ref_table, ref_column, on_update, on_delete, same))
        for (t, name), parts in keys.items():
            _, ref_table, _, on_update, on_delete, same = parts[0]
            cols = ", ".join(p[0] for p in parts)
            refs = ", ".join(p[2] for p in parts)
            where = ref_table if same else f"<other schema>.{ref_table}"
            text = f"({cols}) REFERENCES {where} ({refs}) ON UPDATE {on_update} ON DELETE {on_delete}"
            yield Item("foreign key", t, name, text, bool(_FK_NAME.fullmatch(name)))

    def _checks(self, query: Query, scope: tuple[Any, Any], columns: dict[str, set[str]]) -> Iterator[Item]:
        mariadb = "mariadb" in str(query("SELECT VERSION()", ())[0][0]).lower()
        rows = query(CHECKS_MARIADB if mariadb else CHECKS_MYSQL, scope)
        for t, name, clause in rows:
            generated = bool(_CHECK_NAME.fullmatch(name)) or name in columns.get(t, ())
            yield Item("check", t, name, squeeze(clause), generated)

    def _others(self, query: Query) -> Iterator[Item]:
        schema = query("SELECT DATABASE()", ())[0][0] or ""
        for name, definition, check_option in query(VIEWS, ()):
            text = _unqualified(squeeze(definition), schema)
            yield Item("view", "", name, text + (f" WITH {check_option} CHECK OPTION" if check_option not in (None, "NONE") else ""))
        for name, kind, returns, definition, params in query(ROUTINES, ()):
            yield Item(str(kind).lower(), "", f"{name}({params or ''})", f"{returns} {squeeze(definition)}".strip())
        for name, definition in query(EVENTS, ()):
            yield Item("event", "", name, squeeze(definition))


def _unqualified(text: str, schema: str) -> str:
    """``text`` without the current database's name in front of its tables (views are stored so)."""
    return text.replace(quote(schema) + ".", "") if schema else text
