"""Small pure helpers that read the start of a statement: its first keywords, and what kind of statement it is."""

from __future__ import annotations

import re

# Whitespace and comments that may precede a statement's first keyword (MySQL's '#' included: harmless elsewhere
# because a statement cannot start with '#' in PostgreSQL or SQLite).
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*(?!!|M!).*?\*/)*", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def keywords(text: str, count: int = 3) -> tuple[str, ...]:
    """The first ``count`` words of a statement, upper-cased, skipping comments (but not /*! executable ones)."""
    pos = _LEADING.match(text).end()
    words: list[str] = []
    while len(words) < count:
        m = _WORD.match(text, pos)
        if m is None:
            break
        words.append(m.group().upper())
        pos = _LEADING.match(text, m.end()).end()
    return tuple(words)


def first_line(text: str, limit: int = 120) -> str:
    """The statement's first non-empty line, shortened for messages."""
    pos = _LEADING.match(text).end()
    line = text[pos:].split("\n", 1)[0].strip() or text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def transaction_control(text: str) -> str | None:
    """'begin', 'commit' or 'rollback' when the statement opens or ends a transaction itself, else None."""
    words = keywords(text, 2)
    if not words:
        return None
    head = words[0]
    nxt = words[1] if len(words) > 1 else ""
    if head == "BEGIN" and nxt not in ("ATOMIC", "NOT") or head == "START" and nxt == "TRANSACTION":
        return "begin"
    if head in ("COMMIT", "END"):
        return "commit"
    if head in ("ROLLBACK", "ABORT") and nxt != "TO":
        return "rollback"
    return None


def is_use(text: str) -> bool:
    """True for MySQL's USE, which changes the session's current database."""
    return keywords(text, 1) == ("USE",)


# A plain CREATE TABLE (IF NOT EXISTS creates nothing when the table is there), and the table an ALTER TABLE
# or a CREATE INDEX ... ON is about; the name as written, quotes and a schema prefix included.
_NAME = r"((?:[`\"\[]?[^\s(.`\"\[\]]+[`\"\]]?\.)?[`\"\[]?[^\s(.`\"\[\]]+[`\"\]]?)"
_CREATES_TABLE = re.compile(r"\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMPORARY\s+|TEMP\s+|UNLOGGED\s+)?TABLE\s+(?!IF\b)" + _NAME, re.IGNORECASE)
_TABLE_OF = re.compile(
    r"\s*(?:ALTER\s+(?:ONLINE\s+|IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?ON\s+(?:ONLY\s+)?)" + _NAME,
    re.IGNORECASE,
)


def created_table(text: str, kind: str) -> str | None:
    """The table a plain ``CREATE TABLE t`` (not IF NOT EXISTS) makes, as ``table_key`` spells it; else None."""
    m = _CREATES_TABLE.match(text)
    return table_key(m.group(1), kind) if m else None


def altered_table(text: str, kind: str) -> str | None:
    """The table an ``ALTER TABLE t`` or ``CREATE INDEX ... ON t`` is about, as ``table_key`` spells it; else None."""
    m = _TABLE_OF.match(text)
    return table_key(m.group(1), kind) if m else None


def table_key(name: str, kind: str) -> str:
    """A table name without quotes and schema, folded as the server folds it (PostgreSQL: unquoted to lower case)."""
    last = name.rsplit(".", 1)[-1]
    if last[:1] in "`\"[":
        return last[1:-1]
    return last if kind == "mysql" else last.lower()
