"""What a statement means to do: its verb and target, read from its tokens (never from words inside strings or comments).

The runner asks only after a statement failed (and, for statements that create objects without a name, before
it runs), so this module is imported on that path alone. The lexing follows each client's rules as the splitter
does (``/work/shared/SPLITTING.md``): MySQL strings take backslash escapes and ``#`` starts a comment;
PostgreSQL has dollar quotes, ``E''`` strings and nested comments; SQLite quotes identifiers four ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Sequence

_IDC = r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"  # identifier characters (engine.IDC)
_COMMON = r"(?P<ws>\s+)|(?P<num>[0-9][0-9A-Za-z_.]*)|(?P<word>" + _IDC + "+)"
# Pattern texts, compiled on first use: a run needs one dialect's (compiling all three cost ~10 ms).
_LEXER_TEXT = {
    "mysql": (
        _COMMON + r"|(?P<c>#[^\n]*|--(?=\s|$)[^\n]*|/\*(?![!+]|M!)[\s\S]*?\*/|/\*M?!\d*|\*/)"
        r"|(?P<s>'(?:[^'\\]|\\[\s\S]|'')*'|\"(?:[^\"\\]|\\[\s\S]|\"\")*\")|(?P<i>`(?:[^`]|``)*`)|(?P<p>[\s\S])"
    ),
    "postgresql": (
        r"(?P<s>[Ee]'(?:[^'\\]|\\[\s\S]|'')*'|'(?:[^']|'')*')|(?P<dq>\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$)"
        r"|(?P<c>--[^\n]*)|(?P<bc>/\*)|" + _COMMON + r"|(?P<i>\"(?:[^\"]|\"\")*\")|(?P<p>[\s\S])"
    ),
    "sqlite": (
        _COMMON + r"|(?P<c>--[^\n]*|/\*[\s\S]*?(?:\*/|$))|(?P<s>'(?:[^']|'')*')"
        r"|(?P<i>\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\])|(?P<p>[\s\S])"
    ),
}
_LEXERS: dict[str, re.Pattern[str]] = {}


def _lexer(kind: str) -> re.Pattern[str]:
    """The compiled lexer of database ``kind`` (SQLite's for any other name)."""
    kind = kind if kind in _LEXER_TEXT else "sqlite"
    lexer = _LEXERS.get(kind)
    if lexer is None:
        lexer = _LEXERS[kind] = re.compile(_LEXER_TEXT[kind])
    return lexer


_PG_COMMENT_EDGE = re.compile(r"/\*|\*/")


@dataclass(frozen=True)
class Token:
    """One significant token: ``kind`` is w (word), i (quoted identifier), s (string), n (number) or p (punctuation)."""

    kind: str
    text: str  # as written
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The word upper-cased ('' for anything but a bare word)."""
        return self.text.upper() if self.kind == "w" else ""

    def ident(self, kind: str) -> str:
        """The token as an identifier, unquoted, and folded as database ``kind`` compares it (MySQL: as written)."""
        if self.kind == "i":
            return _unquote(self.text)
        return self.text.lower() if kind != "mysql" else self.text


def tokens(text: str, kind: str) -> list[Token]:
    """The statement's significant tokens, comments and whitespace left out."""
    lexer = _lexer(kind)
    out: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        m = lexer.match(text, pos)
        group = m.lastgroup
        stop = m.end()
        if group == "dq":
            close = text.find(m.group(), stop)
            stop = end if close < 0 else close + len(m.group())
            group = "s"
        elif group == "bc":
            stop = _pg_comment_end(text, stop)
            group = "c"
        if group in ("num", "word", "s", "i", "p"):
            out.append(Token({"num": "n", "word": "w"}.get(group, group), text[pos:stop], pos, stop))
        pos = stop
    return out


def _pg_comment_end(text: str, pos: int) -> int:
    """Where a PostgreSQL comment opened just before ``pos`` ends (they nest)."""
    depth = 1
    while depth:
        m = _PG_COMMENT_EDGE.search(text, pos)
        if m is None:
            return len(text)
        depth += 1 if m.group() == "/*" else -1
        pos = m.end()
    return pos


@dataclass(frozen=True)
class Name:
    """A (possibly qualified) object name as written: its parts unquoted, and whether the last part was quoted."""

    parts: tuple[str, ...]
    quoted: bool
    start: int
    end: int

    @property
    def last(self) -> str:
        """The object's own name, without schema or database."""
        return self.parts[-1]

    def key(self, kind: str) -> str:
        """The name as the server folds it: PostgreSQL lower-cases unquoted names; the others compare case-blind here."""
        if kind == "postgresql" and self.quoted:
            return self.last
        return self.last.lower()

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Create:
    """CREATE <kind> <name>: ``name`` None for an index without one (PostgreSQL ``CREATE INDEX ON t``)."""

    kind: str  # table, view, index, trigger, function, procedure, sequence, schema, database, user, role, type...
    name: Name | None
    table: Name | None = None  # the table an index or trigger is on
    unique: bool = False
    replace: bool = False  # OR REPLACE


@dataclass(frozen=True)
class Drop:
    """DROP <kind> <name>[, <name>...] [ON <table>]."""

    kind: str
    names: tuple[Name, ...]
    table: Name | None = None


@dataclass(frozen=True)
class Action:
    """One action of an ALTER TABLE: ``verb`` add, drop or other; ``what`` column, constraint, index, primary..."""

    verb: str
    what: str  # column, constraint, index, unique, primary, foreign, check, other
    name: Name | None
    start: int  # the action's text in the statement
    end: int
    constraint: str = ""  # for ADD CONSTRAINT n <constraint>: primary, unique, foreign, check, exclude


@dataclass(frozen=True)
class Alter:
    """ALTER TABLE <table> <action>[, <action>...]."""

    table: Name
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Insert:
    """INSERT INTO <table> [(columns)] VALUES (row), ...: ``rows`` are the rows' text spans, None for INSERT ... SELECT and other forms."""

    table: Name
    columns: tuple[str, ...] | None  # as written (quotes kept), None when the statement lists none
    head_end: int  # the text up to and including VALUES
    rows: tuple[tuple[int, int], ...] | None
    values: tuple[tuple[str, ...], ...] = ()  # each row's values as written


@dataclass(frozen=True)
class Data:
    """A statement that changes rows by a rule (UPDATE, DELETE, INSERT ... SELECT, REPLACE, MERGE...): never in place."""

    verb: str


@dataclass(frozen=True)
class Other:
    """Anything else: its errors are real errors."""

    verb: str


Intent = Create | Drop | Alter | Insert | Data | Other

_CREATE_FILLER = frozenset({
    "OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "UNLOGGED", "GLOBAL", "LOCAL", "MATERIALIZED", "RECURSIVE",
    "FULLTEXT", "SPATIAL", "AGGREGATE", "CONSTRAINT", "ONLINE", "OFFLINE", "TRUSTED", "PROCEDURAL",
})
_CREATE_OPTIONS = frozenset({"DEFINER", "ALGORITHM", "SQL"})
_KINDS = frozenset({
    "TABLE", "VIEW", "INDEX", "TRIGGER", "FUNCTION", "PROCEDURE", "SEQUENCE", "SCHEMA", "DATABASE", "USER", "ROLE",
    "TYPE", "EXTENSION", "DOMAIN", "EVENT", "LANGUAGE", "SERVER", "POLICY", "RULE", "OPERATOR",
})
_DATA_VERBS = frozenset({"UPDATE", "DELETE", "REPLACE", "MERGE", "TRUNCATE", "COPY", "WITH", "LOAD", "UPSERT"})


def read(text: str, kind: str) -> Intent:
    """What ``text`` (one statement) means to do, for database ``kind``."""
    toks = tokens(text, kind)
    verb = toks[0].upper if toks else ""
    reader = _READERS.get(verb)
    intent = reader(toks, text) if reader else None
    if intent is not None:
        return intent
    return Data(verb) if verb in _DATA_VERBS or verb == "INSERT" else Other(verb)


def _name(toks: Sequence[Token], i: int) -> tuple[Name | None, int]:
    """The (qualified) name starting at ``toks[i]``, and the index after it."""
    parts: list[str] = []
    quoted = False
    start = i
    while i < len(toks) and toks[i].kind in ("w", "i"):
        quoted = toks[i].kind == "i"
        parts.append(_unquote(toks[i].text) if quoted else toks[i].text)
        i += 1
        if i + 1 < len(toks) and toks[i].text == "." and toks[i + 1].kind in ("w", "i"):
            i += 1
            continue
        break
    if not parts:
        return None, i
    return Name(tuple(parts), quoted, toks[start].start, toks[i - 1].end), i


def _account(toks: Sequence[Token], i: int) -> tuple[Name | None, int]:
    """A user or role: a name, or MySQL's 'user'@'host' (the user part is the name; the host is skipped)."""
    if i < len(toks) and toks[i].kind == "s":
        name, i = Name((_unquote(toks[i].text),), True, toks[i].start, toks[i].end), i + 1
    else:
        name, i = _name(toks, i)
    if name is not None and i + 1 < len(toks) and toks[i].text == "@":
        name, i = Name(name.parts, name.quoted, name.start, toks[i + 1].end), i + 2
    return name, i


def _unquote(text: str) -> str:
    if text[0] == "[":
        return text[1:-1]
    q = text[0]
    return text[1:-1].replace(q + q, q)


def _skip(toks: Sequence[Token], i: int, *words: str) -> int:
    """Past the words ``words`` at ``toks[i:]`` when they are all there in order (IF NOT EXISTS...)."""
    for n, word in enumerate(words):
        if i + n >= len(toks) or toks[i + n].upper != word:
            return i
    return i + len(words)


def _word(toks: Sequence[Token], i: int) -> str:
    return toks[i].upper if i < len(toks) else ""


def _read_create(toks: Sequence[Token], text: str) -> Create | None:
    i, unique, replace = 1, False, False
    while (word := _word(toks, i)) in _CREATE_FILLER or word in _CREATE_OPTIONS:
        unique = unique or word == "UNIQUE"
        replace = replace or word == "REPLACE"
        i = _past_option(toks, i) if word in _CREATE_OPTIONS else i + 1
    kind = _word(toks, i)
    if kind not in _KINDS:
        return None
    if kind == "OPERATOR":
        return _create_operator(toks, i + 1)
    i = _skip(toks, i + 1, "CONCURRENTLY")
    i = _skip(toks, i, "IF", "NOT", "EXISTS")
    name: Name | None = None
    if _word(toks, i) != "ON":
        name, i = _account(toks, i) if kind in ("USER", "ROLE") else _name(toks, i)
    table = None
    if kind in ("INDEX", "TRIGGER"):
        table = _after(toks, i, "ON")
    return Create(kind.lower(), name, table, unique, replace)


def _create_operator(toks: Sequence[Token], i: int) -> Create | None:
    """CREATE OPERATOR [schema.]~~ (...): the name is a run of symbol characters (CLASS and FAMILY are not read)."""
    parts: list[str] = []
    start = i
    if i + 1 < len(toks) and toks[i].kind in ("w", "i") and toks[i + 1].text == ".":
        if toks[i].upper in ("CLASS", "FAMILY"):
            return None
        parts.append(_unquote(toks[i].text) if toks[i].kind == "i" else toks[i].text)
        i += 2
    symbol = i
    # Adjacent symbol characters: ~~ lexes as two punctuation tokens; the first space or "(" ends the name.
    while i < len(toks) and toks[i].kind == "p" and toks[i].text != "(" and (i == symbol or toks[i - 1].end == toks[i].start):
        i += 1
    if i == symbol:
        return None
    parts.append("".join(t.text for t in toks[symbol:i]))
    return Create("operator", Name(tuple(parts), False, toks[start].start, toks[i - 1].end))


def _past_option(toks: Sequence[Token], i: int) -> int:
    """Past MySQL's DEFINER = user@host, ALGORITHM = x, SQL SECURITY x."""
    if toks[i].upper == "SQL":
        return i + 3
    i += 1
    if i < len(toks) and toks[i].text == "=":
        i += 2  # = and the value (a user's name, an algorithm)
    while i + 1 < len(toks) and toks[i].text == "@":
        i += 2  # @host
    return i


def _after(toks: Sequence[Token], i: int, word: str) -> Name | None:
    """The name after the first ``word`` at or after ``toks[i]`` (ON <table>), at parenthesis depth 0."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j].text
        depth += (t == "(") - (t == ")")
        if depth == 0 and toks[j].upper == word:
            name, _ = _name(toks, _skip(toks, j + 1, "ONLY"))
            return name
    return None


def _read_drop(toks: Sequence[Token], text: str) -> Drop | None:
    i = _skip(toks, _skip(toks, 1, "MATERIALIZED"), "TEMPORARY")
    kind = _word(toks, i)
    if kind not in _KINDS:
        return None
    i = _skip(toks, i + 1, "CONCURRENTLY")
    i = _skip(toks, i, "IF", "EXISTS")
    names: list[Name] = []
    while True:
        name, i = _account(toks, i) if kind in ("USER", "ROLE") else _name(toks, i)
        if name is None:
            return None
        if i < len(toks) and toks[i].text == "(":  # DROP FUNCTION f(int): the signature is part of the name
            i = _close(toks, i)
            name = Name(name.parts, name.quoted, name.start, toks[i - 1].end)
        names.append(name)
        if i < len(toks) and toks[i].text == ",":
            i += 1
            continue
        break
    table = _after(toks, i, "ON")
    return Drop(kind.lower(), tuple(names), table)


def _close(toks: Sequence[Token], i: int) -> int:
    """The index after the parenthesis that closes the one at ``toks[i]``."""
    depth = 0
    for j in range(i, len(toks)):
        depth += (toks[j].text == "(") - (toks[j].text == ")")
        if depth == 0:
            return j + 1
    return len(toks)


def _read_alter(toks: Sequence[Token], text: str) -> Alter | None:
    i = _skip(toks, 1, "ONLINE")
    i = _skip(toks, i, "IGNORE")
    if _word(toks, i) != "TABLE":
        return None
    i = _skip(toks, i + 1, "IF", "EXISTS")
    i = _skip(toks, i, "ONLY")
    table, i = _name(toks, i)
    if table is None:
        return None
    if i < len(toks) and toks[i].text == "*":
        i += 1
    actions = tuple(_action(part, text) for part in top_level(toks[i:]))
    return Alter(table, actions) if actions else None


def top_level(toks: Sequence[Any]) -> list[Sequence[Any]]:
    """``toks`` (anything with a ``text``) cut at the commas outside parentheses."""
    parts: list[Sequence[Token]] = []
    depth, start = 0, 0
    for j, t in enumerate(toks):
        depth += (t.text == "(") - (t.text == ")")
        if depth == 0 and t.text == ",":
            parts.append(toks[start:j])
            start = j + 1
    parts.append(toks[start:])
    return [p for p in parts if p]


_ADD_KINDS = {"PRIMARY": "primary", "UNIQUE": "unique", "FOREIGN": "foreign", "CHECK": "check", "INDEX": "index",
              "KEY": "index", "FULLTEXT": "index", "SPATIAL": "index", "EXCLUDE": "exclude"}
_NOT_COLUMN = frozenset({"PARTITION", "PERIOD", "SYSTEM", "(", "COLUMNS"})


def _action(toks: Sequence[Token], text: str) -> Action:
    """One ALTER TABLE action: what it adds or drops, and its name when it has one."""
    start, end = toks[0].start, toks[-1].end
    verb = toks[0].upper
    if verb == "ADD":
        what, name, constraint = _add_target(toks)
    elif verb == "DROP":
        what, name, constraint = _drop_target(toks)
    else:
        return Action("other", "other", None, start, end)
    return Action(verb.lower(), what, name, start, end, constraint)


def _add_target(toks: Sequence[Token]) -> tuple[str, Name | None, str]:
    word = _word(toks, 1)
    if word == "CONSTRAINT":
        name, i = _name(toks, 2)
        return "constraint", name, _ADD_KINDS.get(_word(toks, i), "other")
    if word in _ADD_KINDS:
        what = _ADD_KINDS[word]
        i = _skip(toks, 2, "KEY") if what in ("primary", "foreign") else 2
        i = _skip(toks, _skip(toks, i, "INDEX"), "KEY") if what in ("unique", "index") else i
        i = _skip(toks, i, "IF", "NOT", "EXISTS")
        name = None if what in ("check", "primary", "exclude") else _name(toks, i)[0]
        return what, name, ""
    if word in _NOT_COLUMN or (len(toks) > 1 and toks[1].text == "("):
        return "other", None, ""
    i = _skip(toks, _skip(toks, 1, "COLUMN"), "IF", "NOT", "EXISTS")
    return "column", _name(toks, i)[0], ""


def _drop_target(toks: Sequence[Token]) -> tuple[str, Name | None, str]:
    word = _word(toks, 1)
    if word == "PRIMARY":
        return "primary", None, ""
    what = {"CONSTRAINT": "constraint", "INDEX": "index", "KEY": "index", "FOREIGN": "foreign", "CHECK": "check"}.get(word)
    if what is None:
        if word in _NOT_COLUMN:
            return "other", None, ""
        what, i = "column", _skip(toks, 1, "COLUMN")
    else:
        i = _skip(toks, 2, "KEY") if word == "FOREIGN" else 2
    i = _skip(toks, i, "IF", "EXISTS")
    return what, _name(toks, i)[0], ""


def _read_insert(toks: Sequence[Token], text: str) -> Insert | Data | None:
    if _word(toks, 1) in ("IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "OR"):
        return Data("INSERT")  # INSERT IGNORE / OR REPLACE / OR IGNORE decide duplicates themselves
    i = _skip(toks, 1, "INTO")
    table, i = _name(toks, i)
    if table is None:
        return None
    columns = None
    if i < len(toks) and toks[i].text == "(":
        close = _close(toks, i)
        columns = tuple(t.text for t in toks[i + 1:close - 1] if t.text != ",")
        i = close
    if _word(toks, i) not in ("VALUES", "VALUE"):
        return Data("INSERT")
    rows, values, i = _rows(toks, i + 1, text)
    if rows is None or i != len(toks):  # ON CONFLICT, ON DUPLICATE KEY, RETURNING...: the statement decides
        return Data("INSERT")
    return Insert(table, columns, rows[0][0], rows, values)


def _rows(toks: Sequence[Token], i: int, text: str) -> tuple[tuple[tuple[int, int], ...] | None, tuple[tuple[str, ...], ...], int]:
    """The spans and values of the rows of VALUES (...), (...) starting at ``toks[i]``; None if it is not that."""
    spans: list[tuple[int, int]] = []
    values: list[tuple[str, ...]] = []
    while i < len(toks) and toks[i].text == "(":
        close = _close(toks, i)
        inner = toks[i + 1:close - 1]
        spans.append((toks[i].start, toks[close - 1].end))
        values.append(tuple(text[p[0].start:p[-1].end] for p in top_level(inner)))
        i = close
        if i < len(toks) and toks[i].text == ",":
            i += 1
            continue
        break
    return (tuple(spans) if spans else None), tuple(values), i


_READERS = {"CREATE": _read_create, "DROP": _read_drop, "ALTER": _read_alter, "INSERT": _read_insert}
