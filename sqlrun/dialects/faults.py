"""A driver's exception read as a fault: which object already exists or is missing, a duplicate key, or anything else.

Read from the error's code first (SQLSTATE, MySQL's error number, SQLite's extended result code); the object's
name comes from the server's message, which is English unless the server was told otherwise (lc_messages). A
message that cannot be read leaves ``name`` None, and the tolerance rule then cannot prove anything: the error
stays a real error. No driver is imported here: exceptions are read through their attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What an error says: ``what`` is exists, missing, duplicate_key, multiple_primary_keys or other."""

    what: str
    kind: str | None = None  # what the server calls the object: table, relation, column, index, constraint, ...
    name: str | None = None  # the object's own name (unquoted, without schema or database)
    table: str | None = None  # the table it belongs to, when the error says
    code: str = ""


OTHER = Fault("other")

# --- PostgreSQL (SQLSTATEs: Appendix A of the manual) ---------------------------------------------------------
_PG_EXISTS = {"42P07", "42701", "42710", "42P06", "42P04", "42723"}
_PG_MISSING = {"42P01", "42703", "42704", "42883", "3F000"}
_PG_OBJECT = re.compile(r'^(?P<kind>[a-z ]+?) "(?P<name>(?:[^"]|"")+)"(?: (?:of|for|on) (?:relation|table) "(?P<table>(?:[^"]|"")+)")?')
_PG_OPERATOR = re.compile(r"^operator (?P<name>\S+?)(?:\(.*\))? (?:already exists|does not exist)")
_PG_ROUTINE = re.compile(r'^(?:could not find a )?(?P<kind>function|procedure|aggregate|routine)(?: named)? "?(?P<name>[^"(]+)"?')


def postgresql_fault(error: BaseException) -> Fault:
    """The fault a psycopg error reports."""
    state = getattr(error, "sqlstate", None) or ""
    if state == "23505":
        diag = getattr(error, "diag", None)
        return Fault("duplicate_key", "constraint", getattr(diag, "constraint_name", None), getattr(diag, "table_name", None), state)
    if state == "42P16" and "multiple primary keys" in str(error):
        table = re.search(r'table "((?:[^"]|"")+)"', str(error))
        return Fault("multiple_primary_keys", "table", None, table.group(1) if table else None, state)
    what = "exists" if state in _PG_EXISTS else "missing" if state in _PG_MISSING else None
    if what is None:
        return Fault("other", code=state)
    message = str(error).split("\n", 1)[0]
    if state in ("42723", "42883") and message.startswith("operator "):  # "operator ~~ already exists"
        m = _PG_OPERATOR.match(message)
        return Fault(what, "operator", m.group("name"), code=state) if m else Fault(what, code=state)
    m = _PG_ROUTINE.match(message) if state in ("42723", "42883") else _PG_OBJECT.match(message)
    if m is None:
        return Fault(what, code=state)
    table = m.groupdict().get("table")
    return Fault(what, m.group("kind"), _pg_unquote(m.group("name")), _pg_unquote(table) if table else None, state)


def _pg_unquote(name: str) -> str:
    return name.replace('""', '"').strip()


# --- MySQL / MariaDB (mysqld_error.h) ------------------------------------------------------------------------------
_MY_EXISTS = {1007: "database", 1050: "relation", 1060: "column", 1061: "index", 1304: "routine", 1359: "trigger",
              1537: "event", 1826: "constraint"}
_MY_MISSING = {1008: "database", 1051: "table", 1146: "table", 1091: None, 1305: "routine", 1360: "trigger",
               1539: "event", 4091: "sequence", 4092: "view", 1049: "database"}
_MY_DUPLICATE_KEY = {1062, 1586, 1022}
_MY_MULTIPLE_PK = 1068
_MY_USER = 1396  # ER_CANNOT_USER: "Operation CREATE USER failed for 'u'@'h'"
_MY_CANT_CREATE = 1005  # MariaDB: a duplicate foreign key name is 1005 with the engine's errno 121
_MY_QUOTED = re.compile(r"['`]((?:[^'`]|'')+)['`]")
_MY_DROP = re.compile(r"Can't DROP (?:(?P<kind>[A-Z ]+) )?['`](?P<name>[^'`]+)['`]")
_MY_ROUTINE = re.compile(r"^(?P<kind>PROCEDURE|FUNCTION) (?P<name>\S+) (?:already exists|does not exist)")


def mysql_fault(error: BaseException) -> Fault:
    """The fault a pymysql error reports."""
    args = getattr(error, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    message = str(args[1]) if len(args) > 1 else str(error)
    if code in _MY_DUPLICATE_KEY:
        key = re.search(r"for key '([^']+)'", message)
        return Fault("duplicate_key", "index", key.group(1).rsplit(".", 1)[-1] if key else None, None, str(code))
    if code == _MY_MULTIPLE_PK:
        return Fault("multiple_primary_keys", code=str(code))
    if code == _MY_USER:
        verb = "exists" if "CREATE" in message else "missing" if "DROP" in message else "other"
        return Fault(verb, "user", _my_name(message), None, str(code))
    if code == _MY_CANT_CREATE and re.search(r"errno: 121\b", message):
        table = re.search(r"`[^`]*`\.`([^`]+)`", message)  # the message names the table only
        return Fault("exists", "constraint", None, table.group(1) if table else None, str(code))
    if code in _MY_EXISTS:
        return Fault("exists", _MY_EXISTS[code], _my_name(message), None, str(code))
    if code in _MY_MISSING:
        return _my_missing(code, message)
    return Fault("other", code=str(code))


def _my_missing(code: int, message: str) -> Fault:
    if code == 1091:
        m = _MY_DROP.search(message)
        kind = (m.group("kind") or "").lower() or None if m else None
        return Fault("missing", kind, m.group("name") if m else None, None, str(code))
    return Fault("missing", _MY_MISSING[code], _my_name(message), None, str(code))


def _my_name(message: str) -> str | None:
    """The object's name in a MySQL message: the first quoted one, without its database ('db.t' -> t)."""
    m = _MY_ROUTINE.match(message)
    if m:
        return m.group("name").rsplit(".", 1)[-1]
    m = _MY_QUOTED.search(message)
    if m is None:
        return None
    return m.group(1).rsplit(".", 1)[-1]


# --- SQLite (only the generic SQLITE_ERROR and the message tell what exists) -----------------------------------
_SQLITE_EXISTS = re.compile(r"^(?P<kind>table|index|trigger|view) (?P<name>.+) already exists$")
_SQLITE_COLUMN = re.compile(r"^duplicate column name: (?P<name>.+)$")
_SQLITE_MISSING = re.compile(r"^no such (?P<kind>table|index|trigger|view|column): (?P<name>.+)$")
_SQLITE_DUPLICATE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def sqlite_fault(error: BaseException) -> Fault:
    """The fault a sqlite3 error reports."""
    code = getattr(error, "sqlite_errorname", "") or ""
    message = str(error)
    if code in _SQLITE_DUPLICATE or (not code and type(error).__name__ == "IntegrityError" and "UNIQUE" in message):
        table = re.match(r"UNIQUE constraint failed: ([^.\s]+)\.", message)
        return Fault("duplicate_key", "index", None, table.group(1) if table else None, code)
    if code not in ("SQLITE_ERROR", ""):
        return Fault("other", code=code)
    for what, pattern in (("exists", _SQLITE_EXISTS), ("exists", _SQLITE_COLUMN), ("missing", _SQLITE_MISSING)):
        m = pattern.match(message)
        if m:
            kind = m.groupdict().get("kind") or "column"
            return Fault(what, kind, _sqlite_unquote(m.group("name")), None, code)
    return Fault("other", code=code)


def _sqlite_unquote(name: str) -> str:
    name = name.strip()
    if len(name) > 1 and name[0] == name[-1] and name[0] in "\"'`":
        return name[1:-1]
    return name[1:-1] if name[:1] == "[" and name[-1:] == "]" else name
