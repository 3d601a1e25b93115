"""Objects without a name: is an equivalent one already in the catalog? And is a re-added primary key the same one?

A statement that adds a key, index or check without naming it (``ALTER TABLE child ADD UNIQUE (email)``,
``ADD FOREIGN KEY``, ``ADD CHECK``, PostgreSQL's ``CREATE INDEX ON child (parent_id)``, MySQL's
``ADD INDEX (c)``) never fails when run again: the server makes up a new name (``child_email_key1``,
``email_2``) and builds a duplicate. So before such a statement runs, the catalog is asked for an object with
the same table, columns or expression, referenced table and columns, predicate and uniqueness; when one
exists the statement is in place and is skipped, naming that object.

How the look-up compares depends on the database. PostgreSQL and SQLite have transactional DDL: the
statement is tried inside a savepoint and undone, so that the server itself spells the new object's
definition (no parser of ours has to agree with the server's deparser on an expression). MySQL's DDL commits
as it runs, so there the statement's parts are read and compared with the catalog's: column lists exactly,
check expressions once quotes, case and spaces are set aside; anything not shown equal counts as different,
so that a doubt costs at worst a duplicate, never a missing key.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from . import snapshot
    from .dialects import Database
    from .intent import Token
    from .splitter import Statement

_CONCURRENTLY = re.compile(r"(?<=INDEX)\s+CONCURRENTLY\b", re.IGNORECASE)
_KINDS = {"UNIQUE": "unique", "INDEX": "index", "KEY": "index", "FOREIGN": "foreign key", "CHECK": "check"}
_SAME_RULE = {"NO ACTION": "RESTRICT"}  # InnoDB treats the two alike, and the servers report either


@dataclass(frozen=True)
class Key:
    """An object without a name that a statement adds: its kind, columns (or expression) and, for a foreign key, what it references."""

    kind: str  # unique, index, foreign key, check
    columns: tuple[str, ...] = ()
    references: str = ""
    ref_columns: tuple[str, ...] = ()
    rules: tuple[str, str] = ("RESTRICT", "RESTRICT")  # ON UPDATE, ON DELETE
    expression: str = ""


@dataclass(frozen=True)
class Unnamed:
    """A statement that only adds objects without names to ``table``."""

    table: str
    keys: tuple[Key, ...]


def look(db: Database, statement: Statement) -> str | None:
    """Why ``statement`` is already in place (naming the equivalent object), or None: it must run."""
    unnamed = parse(statement.text, db.kind)
    if unnamed is None:
        return None
    if db.kind == "mysql":
        return _compare(db, unnamed)
    return _try(db, statement.text, unnamed.table)


# --- reading the statement -------------------------------------------------------------------------------


def parse(text: str, kind: str) -> Unnamed | None:
    """The table and unnamed keys ``text`` adds; None when it does anything else (named objects included)."""
    from .intent import tokens, top_level

    toks = tokens(text, kind)
    words = [t.upper for t in toks]
    if words[:1] == ["CREATE"]:
        return _create_index(toks, kind)
    if words[:1] != ["ALTER"]:
        return None
    i = _skip(words, 1, "ONLINE", "IGNORE")
    if words[i:i + 1] != ["TABLE"]:
        return None
    i = _skip(words, i + 1, "IF", "EXISTS", "ONLY")
    table, i = _table(toks, i, kind)
    keys = [_add(part, kind) for part in top_level(toks[i:])]
    if not keys or any(k is None for k in keys):
        return None
    return Unnamed(table, tuple(k for k in keys if k is not None))


def _create_index(toks: Sequence[Token], kind: str) -> Unnamed | None:
    words = [t.upper for t in toks]
    unique = words[1:2] == ["UNIQUE"]
    i = _skip(words, 2 if unique else 1, "INDEX", "CONCURRENTLY", "IF", "NOT", "EXISTS")
    if words[i:i + 1] != ["ON"] or kind != "postgresql":
        return None
    table, _ = _table(toks, _skip(words, i + 1, "ONLY"), kind)
    return Unnamed(table, (Key("unique" if unique else "index"),))


def _add(toks: Sequence[Token], kind: str) -> Key | None:
    """One ``ADD ...`` action, when it adds an object without a name."""
    words = [t.upper for t in toks]
    if words[:1] != ["ADD"] or words[1:2] == ["CONSTRAINT"] or len(toks) < 3:
        return None
    what = _KINDS.get(words[1])
    if what is None:
        return None
    i = _skip(words, 2, "KEY", "INDEX")
    if what == "check":
        return Key("check", expression=_text(toks[i:]))
    if toks[i].text != "(":
        return None  # a name follows: the error path judges named objects
    columns, i = _columns(toks, i, kind)
    if what != "foreign key":
        return Key(what, columns)
    return _foreign(toks, i, columns, kind)


def _foreign(toks: Sequence[Token], i: int, columns: tuple[str, ...], kind: str) -> Key | None:
    words = [t.upper for t in toks]
    if words[i:i + 1] != ["REFERENCES"]:
        return None
    ref, i = _table(toks, i + 1, kind)
    ref_columns: tuple[str, ...] = ()
    if i < len(toks) and toks[i].text == "(":
        ref_columns, i = _columns(toks, i, kind)
    rules = {"UPDATE": "RESTRICT", "DELETE": "RESTRICT"}
    while i < len(words):
        if words[i] == "ON" and i + 1 < len(words) and words[i + 1] in rules:
            event, j = words[i + 1], i + 2
            rule = words[j] if words[j] != "NO" and words[j] != "SET" else f"{words[j]} {words[j + 1]}"
            rules[event] = _SAME_RULE.get(rule, rule)
            i = j + len(rule.split())
        else:
            i += 1
    return Key("foreign key", columns, ref, ref_columns, (rules["UPDATE"], rules["DELETE"]))


def _table(toks: Sequence[Token], i: int, kind: str) -> tuple[str, int]:
    """A possibly qualified table name at ``i`` as the catalog spells it, and the index after it."""
    parts = [toks[i].ident(kind)]
    i += 1
    while i + 1 < len(toks) and toks[i].text == ".":
        parts.append(toks[i + 1].ident(kind))
        i += 2
    if kind == "postgresql" and len(parts) == 2 and parts[0] == "public":
        parts = parts[1:]
    return (parts[-1] if kind != "postgresql" else ".".join(parts)), i


def _columns(toks: Sequence[Token], i: int, kind: str) -> tuple[tuple[str, ...], int]:
    """The parenthesised column list at ``i`` (with MySQL prefix lengths, as ``c(10)``), and the index after it."""
    out: list[str] = []
    depth, current = 0, ""
    for j in range(i, len(toks)):
        t = toks[j]
        if t.text == "(":
            depth += 1
            if depth > 1:
                current += "("
        elif t.text == ")":
            depth -= 1
            if depth == 0:
                out.append(current)
                return tuple(out), j + 1
            current += ")"
        elif t.text == "," and depth == 1:
            out.append(current)
            current = ""
        elif t.upper in ("ASC",):
            continue
        else:
            current += t.ident(kind) if t.kind in "wi" else t.text
    return tuple(out), len(toks)


def _text(toks: Sequence[Token]) -> str:
    return " ".join(t.text for t in toks)


def _skip(words: Sequence[str], i: int, *optional: str) -> int:
    while i < len(words) and words[i] in optional:
        i += 1
    return i


# --- MySQL: compare the statement's parts with the catalog ---------------------------------------------------


def _compare(db: Database, unnamed: Unnamed) -> str | None:
    from . import snapshot

    items = snapshot.table_items(db, unnamed.table)
    found = []
    for key in unnamed.keys:
        match = next((item for item in items if _matches(key, item)), None)
        if match is None:
            return None
        found.append(match)
    return _reason(found)


def _matches(key: Key, item: snapshot.Item) -> bool:
    if item.kind != key.kind:
        return False
    if key.kind == "check":
        return _squash(item.definition) == _squash(_unwrap(key.expression))
    cols = ", ".join(key.columns)
    if key.kind != "foreign key":
        return item.definition.lower() in (f"({cols})".lower(), f"({cols}) using btree".lower())
    refs = ", ".join(key.ref_columns)
    on_update, on_delete = key.rules
    wanted = f"({cols}) REFERENCES {key.references} ({refs}) ON UPDATE {on_update} ON DELETE {on_delete}"
    have = item.definition.replace("NO ACTION", "RESTRICT")
    return have.lower() == wanted.lower()


def _unwrap(expression: str) -> str:
    text = expression.strip()
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _squash(text: str) -> str:
    """An expression without quotes around names, spaces or case: what two spellings of one check share."""
    return re.sub(r"[`\"\s]", "", text).lower()


# --- PostgreSQL: try the statement in a savepoint, see what it would add, undo it -----------------------------


def _try(db: Database, text: str, table: str) -> str | None:
    from . import snapshot

    trial = getattr(db, "trial", None)
    if trial is None:
        return None
    # CONCURRENTLY cannot run inside the trial's transaction; it changes how an index is built, not what it is.
    outcome = trial(_CONCURRENTLY.sub(" ", text, count=1), lambda: snapshot.table_items(db, table))
    if outcome is None:
        return None  # the statement fails: let it run and fail where the runner reports it
    before, after = outcome
    added = Counter(_shape(i) for i in after) - Counter(_shape(i) for i in before)
    if not added:
        return None
    found = []
    for shape in added.elements():
        match = next((i for i in before if _shape(i) == shape), None)
        if match is None:
            return None
        found.append(match)
    return _reason(found)


def _shape(item: snapshot.Item) -> tuple[str, str, str]:
    """What an object is, whatever it is called: a key named by hand is still the same key."""
    return item.kind, item.table, item.definition


def _reason(found: Sequence[snapshot.Item]) -> str:
    return "; ".join(f"an equivalent {i.kind} already exists: {i.name} ({i.definition})" for i in found)


# --- re-added primary keys ---------------------------------------------------------------------------------


def primary_key_in_place(db: Database, table: str, action: str) -> str | None:
    """Why ``action`` (``ADD [CONSTRAINT n] PRIMARY KEY (cols)`` on ``table``) is in place, else None (a real error).

    In place when the table's primary key has the same columns and, when the action names it (PostgreSQL;
    MySQL calls every primary key PRIMARY), the same name.
    """
    from . import snapshot
    from .intent import tokens

    toks = tokens(action, db.kind)
    words = [t.upper for t in toks]
    name = toks[2].ident(db.kind) if words[1:2] == ["CONSTRAINT"] and len(toks) > 2 else None
    try:
        start = words.index("KEY", words.index("PRIMARY"))
    except ValueError:
        return None
    columns, _ = _columns(toks, start + 1, db.kind)
    for item in snapshot.table_items(db, table):
        if item.kind == "primary key" and _key_columns(item.definition) == [c.lower() for c in columns]:
            if name is not None and db.kind == "postgresql" and item.name != name:
                return None
            return f"the primary key {item.name} ({', '.join(columns)}) is already in place"
    return None


def _key_columns(definition: str) -> list[str]:
    inner = definition[definition.find("(") + 1: definition.rfind(")")]
    return [c.strip().strip('"`').lower() for c in inner.split(",")]


def catalog_table(parts: Sequence[str], quoted: bool, kind: str) -> str:
    """A table name as written (its parts, whether the last was quoted) as the catalog readers spell it."""
    last = parts[-1] if quoted or kind != "postgresql" else parts[-1].lower()
    if kind != "postgresql" or len(parts) < 2 or parts[-2].lower() == "public":
        return last
    return f"{parts[-2].lower()}.{last}"
