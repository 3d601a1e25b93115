"""MySQL's and MariaDB's schema as SQL: the server's own SHOW CREATE text, without its volatile parts.

What SHOW CREATE says is what the server would build again, so the dump is that text with what changes
between two builds of one schema taken out: the AUTO_INCREMENT counter of a table, the DEFINER (the account
that happened to run the script) and an event's STARTS when it is only the time the event was created.

Order: sequences (a column default may call NEXTVAL), tables by name under ``FOREIGN_KEY_CHECKS=0`` (a
foreign key may name a table that comes later), functions and procedures (their bodies are not resolved
when created, and a view may call a function), views (each after the views it reads: the server resolves a
view's tables when it is created), triggers (in their firing order, since FOLLOWS names an earlier one) and
events. Routine, trigger and event bodies are wrapped in ``DELIMITER`` blocks as mysqldump writes them, so
that the mysql client, and sqlrun's splitter which follows it, send each one whole.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from ..snapshot import SQLRUN_TABLES
from ..catalog.mysql import quote

if TYPE_CHECKING:
    from ..catalog import Query

TABLES = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
# MariaDB's Oracle-mode packages are routines too; sqlrun's splitter and this dump know only these two kinds.
ROUTINES = """SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE')"""
TRIGGERS = """SELECT EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, TRIGGER_NAME
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"""
EVENTS = "SELECT EVENT_NAME, STARTS = CREATED FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"

# The column of each SHOW CREATE result that holds the statement.
TEXT_COLUMN = {"TABLE": 1, "SEQUENCE": 1, "VIEW": 1, "FUNCTION": 2, "PROCEDURE": 2, "TRIGGER": 2, "EVENT": 3}

_NAME = r"(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|[^\s@`']+)"
_DEFINER = re.compile(r"\s+DEFINER\s*=\s*" + _NAME + r"(?:\s*@\s*" + _NAME + ")?", re.IGNORECASE)
# The table options follow the closing parenthesis of the column list, on a line of their own.
_AUTO_INCREMENT = re.compile(r"^(\)[^\n]*?) AUTO_INCREMENT=\d+", re.MULTILINE)
_STARTS = re.compile(r" STARTS '[^']*'")
DELIMITERS = (";;", "$$", "//")


def dump(query: Query) -> str:
    """The schema of the current database as SQL that the server, the mysql client and sqlrun all accept."""
    parts = list(_objects(query))
    if not parts:
        return ""
    return "\n\n".join(["SET FOREIGN_KEY_CHECKS=0;", *parts, "SET FOREIGN_KEY_CHECKS=1;"]) + "\n"


def _objects(query: Query) -> Iterator[str]:
    session_mode = str(query("SELECT @@SESSION.sql_mode", ())[0][0])
    tables = sorted((name, kind) for name, kind in query(TABLES, ()) if name not in SQLRUN_TABLES)
    for name, kind in tables:
        if kind == "SEQUENCE":
            yield show(query, "SEQUENCE", name)[0] + ";"
    for name, kind in tables:
        if kind not in ("SEQUENCE", "VIEW"):
            yield table_text(show(query, "TABLE", name)[0]) + ";"
    for kind, name in sorted(query(ROUTINES, ())):
        yield compound(*show(query, str(kind), name), session_mode)
    yield from (text + ";" for text in _views(query, [name for name, kind in tables if kind == "VIEW"]))
    triggers = sorted(row for row in query(TRIGGERS, ()) if row[0] not in SQLRUN_TABLES)
    for *_, name in triggers:
        yield compound(*show(query, "TRIGGER", name), session_mode)
    for name, starts_when_created in sorted(query(EVENTS, ())):
        text, sql_mode = show(query, "EVENT", name)
        # STARTS equal to the creation time is the server's default, not something the script said.
        yield compound(_STARTS.sub("", text, count=1) if starts_when_created else text, sql_mode, session_mode)


def show(query: Query, kind: str, name: str) -> tuple[str, str]:
    """The statement SHOW CREATE ``kind`` gives for ``name`` without its DEFINER clause, and (for a routine,
    trigger or event) the sql_mode it was created under."""
    rows = query(f"SHOW CREATE {kind} {quote(name)}", ())
    text = rows[0][TEXT_COLUMN[kind]] if rows else None
    if text is None:
        from ..errors import ConfigError

        raise ConfigError(f"SHOW CREATE {kind} {quote(name)} shows no text: dump as the object's owner, or grant SHOW_ROUTINE")
    if kind in ("TABLE", "SEQUENCE"):
        return str(text), ""
    return _DEFINER.sub("", str(text), count=1), str(rows[0][1]) if kind != "VIEW" else ""


def table_text(text: str) -> str:
    """SHOW CREATE TABLE's text without the AUTO_INCREMENT counter, its keys and checks in a stable order."""
    return _sorted_entries(_AUTO_INCREMENT.sub(r"\1", text, count=1))


# The entries of a CREATE TABLE whose order is the order they were made in (within the groups the server
# keeps: primary key, unique keys, keys), not part of what the table is; foreign keys come sorted by name.
_ENTRY_CLASS = re.compile(r"  (UNIQUE KEY|KEY|FULLTEXT KEY|SPATIAL KEY|CONSTRAINT `(?:[^`]|``)*` (?:CHECK|FOREIGN KEY)) ")


def _sorted_entries(text: str) -> str:
    """``text`` with each run of consecutive keys (or checks) of one class sorted, so that the order in which
    indexes were added (CREATE INDEX b, then a) does not show; the server keeps the order it is given."""
    lines = text.split("\n")
    out: list[str] = []
    run: list[str] = []
    run_class = None
    for line in lines:
        match = _ENTRY_CLASS.match(line)
        kind = match.group(1).split("`")[-1] if match else None
        if run and kind != run_class:
            out += _sorted_run(run)
            run = []
        if kind is None:
            out.append(line)
        else:
            run.append(line)
        run_class = kind
    return "\n".join(out + _sorted_run(run))


def _sorted_run(run: list[str]) -> list[str]:
    """Lines of one class sorted, each keeping its comma but the run's last line (the list's last entry)."""
    if len(run) < 2:
        return run
    last_has_comma = run[-1].endswith(",")
    entries = sorted(line[:-1] if line.endswith(",") else line for line in run)
    return [e + "," for e in entries[:-1]] + [entries[-1] + ("," if last_has_comma else "")]


def compound(text: str, sql_mode: str, session_mode: str) -> str:
    """A statement with a body, between DELIMITER lines, with a delimiter its text does not hold.

    A body keeps the sql_mode it was created under and runs with it (PIPES_AS_CONCAT, ANSI_QUOTES change what
    it means): one made under another mode than the session's default is created under its own, as mysqldump does.
    """
    delimiter = next((d for d in DELIMITERS if d not in text), DELIMITERS[0])
    block = f"DELIMITER {delimiter}\n{text} {delimiter}\nDELIMITER ;"
    if sql_mode == session_mode:
        return block
    mode = sql_mode.replace("'", "''")
    return f"SET @sqlrun_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = '{mode}';\n{block}\nSET SESSION sql_mode = @sqlrun_sql_mode;"


def _views(query: Query, names: list[str]) -> list[str]:
    """Each view's text, a view after the views it reads, else by name."""
    texts = {name: show(query, "VIEW", name)[0] for name in names}
    # SHOW CREATE VIEW quotes every identifier, so a view it reads appears as `name` in its text; a column
    # alias of that name adds an order that is not needed, never one that is missing.
    reads = {name: {other for other in names if other != name and quote(other) in _body(texts[name])} for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and reads[n] <= set(ordered)]
        # A cycle cannot be made by the server; should names collide so, fall back to name order.
        ordered += sorted(ready) or sorted(n for n in names if n not in ordered)
    return [texts[n] for n in ordered]


def _body(view_text: str) -> str:
    """A view's text after its own name (``... VIEW `v` AS select ...``)."""
    return view_text.split(" AS ", 1)[1] if " AS " in view_text else view_text
