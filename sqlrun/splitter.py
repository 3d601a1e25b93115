"""Cut SQL scripts into statements exactly where mysql, psql and sqlite3 do.

The rules are read from each client's own lexer, not from a grammar:

MySQL / MariaDB (``client/mysql.cc`` ``add_line()``, ``com_delimiter()``)
    * ``'...'`` and ``"..."`` take backslash escapes and doubled quotes; `` `...` `` only doubling.
    * Comments: ``#`` to end of line; ``--`` followed by whitespace (or any ``--`` before the
      first token of a statement, as the client does); ``/* */`` does not nest.
    * ``/*! */``, ``/*M! */`` and ``/*+ */`` are executable comments: kept in the text and
      scanned like code (the client ends a statement at a ``;`` inside them too).
    * ``DELIMITER x`` (any case, first token of a statement) sets the delimiter to its first
      argument (quoted or up to whitespace); the rest of its line is ignored, it is never sent.
      A non-``;`` delimiter still active at end of file with unterminated text left is an error.
    * ``\\g`` and ``\\G`` end a statement, ``\\N`` is NULL, ``\\-`` (mariadb-dump's sandbox
      marker inside ``/*M!999999\\- ... */``) is left in the text (the server ignores that comment);
      any other backslash command is a SplitError, it cannot be sent to a server.
    * Better than the client: with the ``;`` delimiter, ``CREATE [OR REPLACE] [DEFINER=...]
      [AGGREGATE] PROCEDURE|FUNCTION|TRIGGER|EVENT`` and MariaDB's ``BEGIN NOT ATOMIC`` keep
      their compound body whole: ``BEGIN``/``CASE`` and statement-position ``IF``/``REPEAT``
      (after ``;``, ``:``, ``BEGIN``, ``THEN``, ``ELSE``, ``DO``, ``LOOP``, ``ROW``, ``)``...),
      ``LOOP``, ``WHILE`` open a block, ``END`` (with its optional ``IF``/``CASE``/``LOOP``...
      word) closes one, and ``;`` ends the statement only at depth 0. So
      ``CREATE FUNCTION f() RETURNS INT RETURN 1;`` ends at its ``;`` and a plain ``BEGIN;``
      (transaction) is never tracked. Words after ``.`` (``t.end``) are column names. Keywords
      hidden inside executable comments are not tracked (mariadb-dump uses ``DELIMITER ;;``).
      With any other delimiter there is no tracking: the user said where statements end.

PostgreSQL (``src/fe_utils/psqlscan.l``, ``src/bin/psql/mainloop.c``)
    * ``'...'`` standard strings (backslash is ordinary), ``E'...'`` with backslash escapes,
      ``U&'...'``, ``"..."`` identifiers, ``$tag$...$tag$`` dollar quotes (``$1`` is a
      parameter, ``a$b`` an identifier); ``--`` comments; ``/* */`` comments nest. As in
      psql 15+, ``$1E`` and ``1E`` are single (junk) tokens, so a quote right after them opens
      a standard string, while after a closing ``$$`` a new token starts (``$$x$$E'..'``).
    * ``;`` ends a statement only outside parentheses and, in ``CREATE [OR REPLACE]
      FUNCTION|PROCEDURE``, outside ``BEGIN ... END`` (psql counts BEGIN, CASE-inside-BEGIN and
      END at parenthesis depth 0; so do we).
    * ``COPY ... FROM stdin;`` is one Statement whose ``copy_data`` holds the following lines up
      to the line ``\\.`` (held in memory per statement). ``FROM STDIN`` counts as two words
      outside strings, quoted names, comments and parentheses (``pg_copy_direction``).
    * psql meta-commands cannot be sent to a server: a SplitError names the command, except
      ``\\restrict``/``\\unrestrict`` (written by pg_dump 15.14+/16.10+/17.6+) and
      ``\\connect``/``\\c`` (written by ``pg_dump -C``), which are skipped: sqlrun always applies
      a script to the configured database. ``:variables`` are sent as written.

SQLite (``src/complete.c`` ``sqlite3_complete()``, ``src/shell.c.in``)
    * ``'...'``, ``"..."``, `` `...` ``, ``[...]``, no backslash escapes; ``--`` and non-nesting
      ``/* */`` comments. ``CREATE [TEMP|TEMPORARY] TRIGGER`` ends only at ``; END ;``.
      A shell dot-command at the start of a statement is a SplitError; a line starting with
      ``#`` before a statement is skipped like the shell does.

All dialects: a UTF-8 BOM is dropped; ``\\r\\n`` is kept inside statement text; statement text
has no delimiter and no surrounding whitespace, and no leading comments (``line``/``column``
point at its first token; comments inside and after the first token are kept); empty statements
and comment-only tails are ignored; text after the last delimiter is a statement. Unterminated
strings, quoted identifiers, comments and dollar quotes raise SplitError where they opened.

Speed: each statement is usually matched by one precompiled regex per dialect (strings,
comments and parenthesis groups included); anything unusual falls back to a token-by-token
scanner with the same rules. Compound bodies have shortcuts too: a PostgreSQL routine with no
BEGIN outside its quotes ends at its first ;, a SQLite trigger body is one regex, and MySQL
blocks are tracked over runs of tokens that cannot matter. The token scanners are the reference:
tests/test_splitter.py checks every shortcut against them on random scripts. Streaming keeps
only the unconsumed tail in memory.
"""

from __future__ import annotations

import functools
import gc
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, TextIO

from .errors import SplitError

__all__ = ["Statement", "split", "iter_split", "SplitError", "DIALECTS"]

DIALECTS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}

CHUNK_SIZE = 1 << 20
_GC_PAUSE_SIZE = 1 << 16  # drains of less text than this do not touch the garbage collector
_MARGIN = 16  # lookahead any rule needs past a token start (longest: "\\unrestrict "); nearer the buffer end we wait for more text

# Possessive quantifiers (Python 3.11+) are part of the rules, not only a speed-up: once a
# comment or string has matched, backtracking must never stretch it to a later */ or quote.
_P = "+"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as sent to the server, with where it starts in the file (1-based)."""

    text: str
    line: int
    column: int
    copy_data: str | None = None


_new_object = object.__new__
_set_text = Statement.text.__set__  # type: ignore[attr-defined]
_set_line = Statement.line.__set__  # type: ignore[attr-defined]
_set_column = Statement.column.__set__  # type: ignore[attr-defined]
_set_copy = Statement.copy_data.__set__  # type: ignore[attr-defined]


def split(text: str, dialect: str, *, filename: str | None = None) -> list[Statement]:
    """Split ``text`` into statements the way ``dialect``'s official client does."""
    splitter = _new_splitter(dialect, filename)
    splitter.feed(text)
    splitter.finish()
    return splitter.drain()


def iter_split(
    chunks: TextIO | Iterable[str], dialect: str, *, filename: str | None = None
) -> Iterator[Statement]:
    """Stream statements from a text file object (or any iterable of text chunks)."""
    splitter = _new_splitter(dialect, filename)
    for chunk in _read_chunks(chunks):
        splitter.feed(chunk)
        yield from splitter.drain()
    splitter.finish()
    yield from splitter.drain()


def _new_splitter(dialect: str, filename: str | None) -> _Splitter:
    """Return the splitter for ``dialect``; unknown names are a ValueError listing the known ones."""
    name = DIALECTS.get(dialect.lower()) if isinstance(dialect, str) else None
    if name is None:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(sorted(DIALECTS))}")
    return _SPLITTERS[name](filename)


def _read_chunks(chunks: TextIO | Iterable[str]) -> Iterator[str]:
    """Yield text chunks from a file object (read in CHUNK_SIZE pieces), a string or an iterable."""
    if isinstance(chunks, str):
        yield chunks
        return
    read = getattr(chunks, "read", None)
    if read is None:
        yield from chunks
        return
    while chunk := read(CHUNK_SIZE):
        yield chunk


def _seq(plain: str, atoms: list[str], guard: str = "") -> str:
    """``plain (atom plain)*``: runs of ordinary characters cost one step, alternatives are tried only at specials."""
    return plain + "(?:" + guard + "(?:" + "|".join(atoms) + ")" + plain + ")*" + _P


class _NeedMore(Exception):
    """The buffer ends before the current statement can be decided; wait for more text."""


# Characters of an unquoted identifier in all three lexers: A-Z a-z 0-9 _ $, and anything
# non-ASCII (the clients lex bytes, and every UTF-8 byte of such a character is >= 0x80).
# Written as "not one of the other ASCII characters": the same set as [A-Za-z0-9_$\x80-\U0010ffff],
# but a negated class of a few ASCII ranges compiles about 30x faster than one reaching U+10FFFF,
# and the PostgreSQL statement regex repeats it dozens of times.
_IDC = "^\\x00-\\x23\\x25-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"
_IDC_NO_DOLLAR = "^\\x00-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"  # same without $ (dollar-quote tags)
_IDC_START = "^\\x00-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"  # PostgreSQL ident_start: no digits, no $


class _Splitter:
    """Buffer, position and line accounting shared by the dialects; subclasses hold the lexing rules."""

    _lead: re.Pattern[str]
    _stmt: re.Pattern[str]  # LEAD (BODY) TERMINATOR: the fast path, one match per ordinary statement
    _delim = ";"

    def __init__(self, filename: str | None) -> None:
        self.filename = filename
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._parts: list[str] = []
        self._parts_len = 0
        self._want = 0
        self._started = False
        self._last = ""
        self._line = 1  # line number at buffer index _lpos
        self._lpos = 0
        self._lstart = 0  # buffer index where that line starts (negative once trimmed away)
        self._handover = (-1, -1)  # (start, end) of the statement the fast path last handed to _slow_statement

    # -- input -------------------------------------------------------------------------------

    def feed(self, chunk: str) -> None:
        """Queue a chunk of text; a BOM on the very first character is dropped."""
        if not chunk:
            return
        if not self._started:
            self._started = True
            if chunk[0] == "\ufeff":
                chunk = chunk[1:]
                if not chunk:
                    return
        self._parts.append(chunk)
        self._parts_len += len(chunk)
        self._last = chunk[-1]

    def finish(self) -> None:
        """Mark the end of input; a final newline is added so every rule sees a line end."""
        if self._last and self._last != "\n":
            self.feed("\n")
        self.eof = True

    def drain(self) -> list[Statement]:
        """Return every statement the buffered text completes; keep the undecided tail."""
        out: list[Statement] = []
        if not self.eof and self._parts_len < self._want:
            return out  # retry only once the pending text has doubled: keeps huge statements O(n)
        self._join()
        # A big drain makes one small object per statement, and every 700 of them wake the
        # cyclic garbage collector to walk the growing list: about 10% of the time. Statements
        # hold only strings and ints, so there is nothing for it to find; pause it meanwhile.
        pause = len(self.buf) - self.pos > _GC_PAUSE_SIZE and gc.isenabled()
        if pause:
            gc.disable()
        try:
            while True:
                try:
                    self._run(out)
                    self._slow_statement(out)
                except _NeedMore:
                    self._want = max(1, len(self.buf) - self.pos)
                    return out
                if self.pos >= len(self.buf):
                    self._at_end()
                    return out
        finally:
            if pause:
                gc.enable()

    def _join(self) -> None:
        """Drop consumed text (keeping one character of context) and append queued chunks."""
        self._advance(self.pos)
        cut = max(0, self.pos - 1)
        self._lpos -= cut
        self._lstart -= cut
        self.pos -= cut
        self.buf = self.buf[cut:] + "".join(self._parts)
        self._handover = (-1, -1)  # indices moved
        self._parts.clear()
        self._parts_len = 0

    def _at_end(self) -> None:
        """Hook called when the whole input is consumed."""

    # -- positions ---------------------------------------------------------------------------

    def _advance(self, i: int) -> None:
        """Move the line counter to buffer index ``i`` (never backwards)."""
        if i > self._lpos:
            buf = self.buf
            n = buf.count("\n", self._lpos, i)
            if n:
                self._line += n
                self._lstart = buf.rfind("\n", self._lpos, i) + 1
            self._lpos = i

    def _where(self, i: int) -> tuple[int, int]:
        """1-based (line, column) of buffer index ``i``."""
        self._advance(i)
        return self._line, i - self._lstart + 1

    def _error(self, message: str, i: int) -> SplitError:
        """A SplitError located at buffer index ``i``."""
        line, column = self._where(i)
        return SplitError(message, filename=self.filename, line=line, column=column)

    def _unterminated(self, what: str, i: int) -> _NeedMore:
        """More text may close the construct opened at ``i``; at end of file it is an error."""
        if not self.eof:
            return _NeedMore()
        raise self._error(f"unterminated {what} (opened here, never closed before end of file)", i)

    # -- the scanning loop ---------------------------------------------------------------------

    def _run(self, out: list[Statement]) -> None:
        """Append the statements the fast regex matches from ``pos``; stop at anything unusual."""
        buf = self.buf
        limit = len(buf) if self.eof else len(buf) - _MARGIN
        dlen = len(self._delim)
        count, rfind, append = buf.count, buf.rfind, out.append
        new, cls, set_text, set_line, set_column, set_copy = _new_object, Statement, _set_text, _set_line, _set_column, _set_copy
        keyword_starts, slow_head, needs_slow = self._keyword_starts, self._slow_head.match, self._needs_slow
        line, lpos, lstart = self._line, self._lpos, self._lstart
        pos = self.pos
        # The pattern ends in an empty alternative, so finditer never searches ahead: every
        # match starts where the previous one ended, and the empty one (group 1 unset, span
        # -1) means "not ordinary". A match ends right after group 1 and the delimiter.
        for m in self._stmt.finditer(buf, pos):
            s, e = m.span(1)
            if s < 0 or e + dlen > limit:
                break
            if s != e:
                if buf[s] in keyword_starts and slow_head(buf, s, e) and needs_slow(s, e):
                    self._handover = (s, e)
                    break
                # Lines are counted in two cheap steps instead of one count() over everything
                # since the last statement: the newline(s) in the lead (usually one, right
                # after the previous delimiter), then any inside this statement's own text.
                k = rfind("\n", lpos, s)
                if k >= 0:
                    line += 1 if k == lpos else count("\n", lpos, k + 1)
                    lstart = k + 1
                raw = buf[s:e]
                # Statement(...) without the frozen dataclass __init__ (twice as fast): this runs
                # once per statement of every script
                stmt = new(cls)
                set_text(stmt, raw.rstrip())
                set_line(stmt, line)
                set_column(stmt, s - lstart + 1)
                set_copy(stmt, None)
                append(stmt)
                if "\n" in raw:
                    line += raw.count("\n")
                    lstart = s + raw.rfind("\n") + 1
                lpos = e + dlen  # a delimiter never holds a newline
            pos = e + dlen
        self.pos = pos
        self._line, self._lpos, self._lstart = line, lpos, lstart

    def _slow_statement(self, out: list[Statement]) -> None:
        """Handle one statement the fast regex could not: commands, odd tokens, compound bodies."""
        start = self._skip_lead(self.pos)
        if start >= len(self.buf):
            if not self.eof:
                raise _NeedMore()
            self.pos = start
            return
        if not self.eof and start + _MARGIN >= len(self.buf):
            raise _NeedMore()
        if self._command(start):
            return
        s, e = self._handover
        if s == start and self._compound(s, e):
            # The fast path already found a compound header here: one tracking scan is enough.
            end, after = self._scan(start, track=True)
        else:
            end, after = self._scan(start, track=False)
            if after > end and self._compound(start, end):
                end, after = self._scan(start, track=True)
        text = self.buf[start:end].rstrip()
        if not text:
            self.pos = after
            return
        out.append(self._statement(text, start, end, after))

    def _statement(self, text: str, start: int, end: int, after: int) -> Statement:
        """Build the Statement for ``buf[start:end]`` and move past its terminator."""
        line, column = self._where(start)
        if after == end and self.eof:
            self._check_final(text, start)
        self.pos = after
        return Statement(text, line, column)

    def _check_final(self, text: str, start: int) -> None:
        """Hook: the last statement of the file has no terminator."""

    def _skip_lead(self, pos: int) -> int:
        """Index of the first token at or after ``pos`` (whitespace and comments skipped)."""
        while True:
            pos = self._lead.match(self.buf, pos).end()
            nxt = self._skip_special(pos)
            if nxt is None:
                return pos
            pos = nxt

    def _skip_special(self, pos: int) -> int | None:
        """Hook: skip a leading construct the lead regex cannot (PostgreSQL nested comments)."""
        return None

    def _command(self, start: int) -> bool:
        """Hook: handle a client command at the start of a statement; True if consumed."""
        return False

    def _needs_slow(self, start: int, end: int) -> bool:
        """Must the statement the fast regex found at ``start`` go through the slow path?"""
        return self._compound(start, end)

    def _compound(self, start: int, end: int) -> bool:
        """Hook: does the statement at ``start`` need block tracking past the ``;`` at ``end``?"""
        return False

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        """Token-by-token scan from ``start``: (end of text, index after the terminator)."""
        raise NotImplementedError

    # A statement the fast regex matched goes to the slow path only if it starts with one of
    # these characters, then matches _slow_head (one C call, looser than the real rules), then
    # passes _needs_slow: most CREATE TABLE statements stop at the second check.
    _keyword_starts = ""
    _slow_head: re.Pattern[str] = re.compile("(?!)")


# ---------------------------------------------------------------------------------------------
# MySQL / MariaDB
# ---------------------------------------------------------------------------------------------

# Strings: backslash escapes any character, a doubled quote is two adjacent strings (same split).
# Taking '' inside the string (rather than as two adjacent strings) saves regex steps.
_MY_SQ = r"'[^'\\]*" + _P + r"(?:(?:''|\\[\s\S])[^'\\]*" + _P + r")*" + _P + "'"
_MY_DQ = r'"[^"\\]*' + _P + r'(?:(?:""|\\[\s\S])[^"\\]*' + _P + r")*" + _P + '"'
_MY_BQ = r"`[^`]*`"
# /*! and /*M! (and /*+ hints) are not comments for the client: add_line() keeps scanning inside.
_MY_NOT_EXEC = r"(?![!+]|M!)"
_MY_BLOCK = r"/\*" + _MY_NOT_EXEC + r"[\s\S]*?\*/"
_MY_LEAD = re.compile(r"(?:\s+|#[^\n]*|--[^\n]*|" + _MY_BLOCK + r")*" + _P)
_MY_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<word>[" + _IDC + r"]+)|(?P<q>" + _MY_SQ + "|" + _MY_DQ + "|" + _MY_BQ + r")"
    r"|(?P<c>#[^\n]*|--(?=\s)[^\n]*|" + _MY_BLOCK + r")|(?P<open>['\"`]|/\*" + _MY_NOT_EXEC + r")"
    r"|(?P<bs>\\)|(?P<p>[\s\S])"
)
_MY_DELIMITER = re.compile(r"delimiter(?=[ \t\r\n])", re.IGNORECASE)
_MY_GAP = r"(?:\s|#[^\n]*|--[^\n]*|/\*[\s\S]*?\*/)++"
_MY_SLOW_HEAD = re.compile(
    r"delimiter[ \t\r\n]|begin(?![" + _IDC + r"])|create" + _MY_GAP + r"(?:or|replace|definer|current_user|"
    r"aggregate|sql|security|invoker|procedure|function|trigger|event)(?![" + _IDC + "])",
    re.IGNORECASE,
)
_MY_OPENERS = {"'": "string '...'", '"': 'string "..."', "`": "quoted identifier `...`", "/": "comment /* ... */"}
_MY_KINDS = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_MY_HEADER_FILLER = frozenset({"OR", "REPLACE", "DEFINER", "CURRENT_USER", "AGGREGATE", "SQL", "SECURITY", "INVOKER"})
# Tokens after which IF/REPEAT/LOOP/WHILE start a statement rather than call a function.
_MY_STMT_PREV = frozenset(
    {";", ":", ")", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ROW", "DETERMINISTIC", "DATA", "SQL", "DEFINER", "INVOKER"}
)


def _words_regex(words: Iterable[str]) -> str:
    """Case-insensitive alternation of ``words`` as a prefix tree whose branches each start with
    a character class: the regex engine rejects such a branch in one step, not so (?i:a|b|c)."""
    heads: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        heads.setdefault(word[:1], []).append(word[1:])
    branches = []
    for head, tails in heads.items():
        if not head:
            continue
        branch = "[" + head.upper() + head.lower() + "]"
        rest = [t for t in tails if t]
        if len(rest) == 1 and len(tails) == 1:
            branch += "".join("[" + c.upper() + c.lower() + "]" for c in rest[0])
        elif rest:
            branch += "(?:" + _words_regex(rest) + ")" + ("?" if len(rest) < len(tails) else "")
        branches.append(branch)
    return "|".join(branches)


# The block tracker only looks at a few words and marks; every other token has the same
# effect (the previous token is "something else"). _MY_TRACK jumps over runs of those in
# one match, so a routine body costs a few matches per block keyword instead of one per token.
# Words that open or close a block in _track, plus the words of _MY_STMT_PREV: any other token
# only ever sets "previous token" to something that matters to none of the rules.
_MY_BLOCK_WORDS = frozenset({"BEGIN", "CASE", "LOOP", "WHILE", "END", "IF", "REPEAT"})
_MY_RELEVANT = (
    "(?:"
    + _words_regex(w.lower() for w in _MY_BLOCK_WORDS | {w for w in _MY_STMT_PREV if w.isalpha()})
    + ")(?![" + _IDC + "])"
)
_MY_OTHER = (
    r"(?!" + _MY_RELEVANT + r")[" + _IDC + r"]+" + _P + "|" + _MY_SQ + "|" + _MY_DQ + "|" + _MY_BQ
    + r"|-(?!-\s)|/(?!\*" + _MY_NOT_EXEC + r")|[!%&(*+,<=>?@\[\]^{|}~]"
)
_MY_TRACK_GAP = r"\s+|#[^\n]*|--(?=\s)[^\n]*|" + _MY_BLOCK
_MY_TRACK = re.compile(
    "(?:" + _MY_TRACK_GAP + ")*" + _P + r"(?:(?P<w>" + _MY_RELEVANT + r")|(?P<p>[;:).])"
    r"|(?P<x>(?:" + _MY_OTHER + ")(?:" + _MY_OTHER + "|" + _MY_TRACK_GAP + ")*" + _P + "))"
)


def _mysql_statement(delim: str) -> re.Pattern[str]:
    """The fast-path statement regex for a MySQL delimiter; the delimiter wins over any token."""
    special = set(";'\"`#/-\\") if delim == ";" else set("'\"`#/-\\")
    plain = "[^" + "".join(re.escape(c) for c in sorted(special | {delim[0]})) + "]*" + _P
    atoms = [_MY_SQ, _MY_DQ, _MY_BQ, r"#[^\n]*", r"--(?=\s)[^\n]*", r"-(?!-\s)", _MY_BLOCK, r"/(?!\*" + _MY_NOT_EXEC + ")"]
    guard = ""
    if delim != ";":
        guard = "(?!" + re.escape(delim) + ")"
        if delim[0] not in special:
            atoms.append(re.escape(delim[0]))
    body = _seq(plain, atoms, guard)
    return re.compile(_MY_LEAD.pattern + "(" + body + ")" + re.escape(delim) + "|")


class _MySQLSplitter(_Splitter):
    """mysql/mariadb client rules, plus keeping compound CREATE bodies whole."""

    _lead = _MY_LEAD
    _keyword_starts = "cCbBdD"
    _slow_head = _MY_SLOW_HEAD

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._delimiter_at: tuple[int, int] | None = None
        self._set_delimiter(";")

    def _set_delimiter(self, delim: str) -> None:
        """Switch the statement terminator (DELIMITER command)."""
        if delim not in self._patterns:
            self._patterns[delim] = _mysql_statement(delim)
        self._delim = delim
        self._stmt = self._patterns[delim]

    def _command(self, start: int) -> bool:
        """DELIMITER at the start of a statement (mysql.cc com_delimiter): never sent to the server."""
        buf = self.buf
        if buf[start] not in "dD" or not _MY_DELIMITER.match(buf, start):
            return False
        nl = buf.find("\n", start)
        if nl < 0:
            raise self._unterminated("DELIMITER line", start)
        delim = self._delimiter_argument(buf[start + 9 : nl], start)
        self._delimiter_at = None if delim == ";" else self._where(start)
        self._set_delimiter(delim)
        self.pos = nl + 1
        return True

    def _delimiter_argument(self, rest: str, start: int) -> str:
        """The first argument of DELIMITER: quoted, or up to whitespace (mysql.cc get_arg())."""
        rest = rest.strip()
        if rest[:1] in ("'", '"', "`") and rest.find(rest[0], 1) > 1:
            delim = rest[1 : rest.find(rest[0], 1)]
        else:
            delim = rest.split()[0] if rest else ""
        if not delim:
            raise self._error("DELIMITER must be followed by a delimiter character or string", start)
        if "\\" in delim:
            raise self._error("DELIMITER cannot contain a backslash character", start)
        return delim

    def _check_final(self, text: str, start: int) -> None:
        """Text left at end of file while DELIMITER x is active: the closing x is missing."""
        if self._delimiter_at is not None:
            line, column = self._delimiter_at
            sline, _ = self._where(start)
            raise SplitError(
                f"DELIMITER {self._delim} set here is still active at end of file and the statement "
                f"starting on line {sline} is not terminated by {self._delim!r}",
                filename=self.filename,
                line=line,
                column=column,
            )

    def _needs_slow(self, start: int, end: int) -> bool:
        """DELIMITER lines and compound CREATE statements."""
        return _MY_DELIMITER.match(self.buf, start) is not None or self._compound(start, end)

    def _compound(self, start: int, end: int) -> bool:
        """CREATE ... PROCEDURE|FUNCTION|TRIGGER|EVENT or BEGIN NOT ATOMIC, with the ; delimiter."""
        if self._delim != ";":
            return False
        words = _header_tokens(_MY_TOKEN, self.buf, start, end, 12)
        first = next(words, None)
        if first == "BEGIN":
            return next(words, None) == "NOT" and next(words, None) == "ATOMIC"
        return first == "CREATE" and _mysql_routine_header(words)

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        if track:
            found = self._scan_blocks(start)
            if found is not None:
                return found
        buf, eof, delim = self.buf, self.eof, self._delim
        n = len(buf)
        token = _MY_TOKEN.match
        pos, depth, prev = start, 0, ""
        while True:
            if not eof and pos + _MARGIN >= n:
                raise _NeedMore()
            if pos >= n:
                return n, n
            if depth == 0 and buf.startswith(delim, pos):
                return pos, pos + len(delim)
            m = token(buf, pos)
            kind = m.lastgroup
            if kind == "word":
                if track:
                    depth, prev = self._track(m.group().upper(), m.end(), depth, prev)
            elif kind == "q":
                prev = "Q"
            elif kind == "p":
                prev = m.group()
            elif kind == "open":
                raise self._unterminated(_MY_OPENERS[buf[pos]], pos)
            elif kind == "bs":
                if buf[pos + 1] in "gG":
                    return pos, pos + 2
                self._backslash(pos)
                m = None
                pos += 2
                continue
            pos = m.end()

    def _scan_blocks(self, start: int) -> tuple[int, int] | None:
        """The block-tracking scan over _MY_TRACK runs; None when anything unusual needs the token loop."""
        buf, eof = self.buf, self.eof
        n = len(buf)
        match = _MY_TRACK.match
        pos, depth, prev = start, 0, ""
        while True:
            m = match(buf, pos)
            if m is None or (not eof and m.end() + _MARGIN >= n):
                return None  # backslash command, unterminated quote, end of file or of the buffer
            kind = m.lastgroup
            if kind == "x":
                prev = "X"
            elif kind == "w":
                depth, prev = self._track(m.group(kind).upper(), m.end(), depth, prev)
            else:
                prev = m.group(kind)
                if prev == ";" and depth == 0:
                    return m.start(kind), m.end()
            pos = m.end()

    def _backslash(self, pos: int) -> None:
        """A client backslash command outside strings: only \\N and \\- may stay in the text."""
        c = self.buf[pos + 1]
        if c not in "N-":
            raise self._error(
                f"mysql client command \\{c.strip() or repr(c)} is not supported: it is a client command, "
                "not SQL, and cannot be sent to a server",
                pos,
            )

    def _track(self, word: str, end: int, depth: int, prev: str) -> tuple[int, str]:
        """Update the BEGIN/END block depth for one word of a compound CREATE body."""
        if prev == ".":
            return depth, "W"
        if word == "END":
            return max(0, depth - 1), "END"
        if prev == "END" and word in ("IF", "CASE", "LOOP", "WHILE", "REPEAT"):
            return depth, word
        if word in ("BEGIN", "CASE", "LOOP", "WHILE"):
            return depth + 1, word
        if word in ("IF", "REPEAT") and prev in _MY_STMT_PREV:
            if not self.eof and end + 1 >= len(self.buf):
                raise _NeedMore()
            called = self.buf[end] == "(" and prev in ("THEN", "ELSE")  # CASE ... THEN IF(a,b,c)
            return depth + (0 if called else 1), word
        return depth, word


def _mysql_routine_header(words: Iterable[str]) -> bool:
    """After CREATE: OR REPLACE, DEFINER=user, AGGREGATE, SQL SECURITY x, then the object kind."""
    after_sign = False
    for word in words:
        if word in _MY_KINDS:
            return True
        if word in ("=", "@", ".", "%", "(", ")", "Q"):
            after_sign = word in ("=", "@")
            continue
        if word not in _MY_HEADER_FILLER and not after_sign:
            return False
        after_sign = False
    return False


def _header_tokens(token: re.Pattern[str], buf: str, start: int, end: int, limit: int) -> Iterator[str]:
    """The first ``limit`` significant tokens of ``buf[start:end]``: upper-cased words, punctuation, Q for quotes.

    A generator: most headers are decided by their first two words (CREATE TABLE ...).
    """
    pos = start
    while pos < end and limit:
        m = token.match(buf, pos, end)
        kind = m.lastgroup
        if kind in ("word", "num"):
            yield m.group().upper()
        elif kind in ("q", "dq", "estr"):
            yield "Q"
        elif kind in ("p", "param"):
            yield m.group()
        elif kind not in ("ws", "c"):
            return
        else:
            limit += 1  # whitespace and comments do not count
        limit -= 1
        pos = m.end()


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

_PG_TAG = r"(?:[" + _IDC_START + "][" + _IDC_NO_DOLLAR + "]*)?"
# E'...': an E that starts a word (psqlscan.l xestart); inside, \x and '' are escapes.
_PG_ESTR = r"'[^'\\]*(?:(?:''|\\[\s\S])[^'\\]*)*'"
_PG_FLAT_COMMENT = r"/\*[^*/]*(?:(?:\*(?!/)|/(?!\*))[^*/]*)*\*/"  # nested ones go to the slow path
_PG_LEAD = re.compile(r"(?:\s+|--[^\n]*|" + _PG_FLAT_COMMENT + r")*" + _P)
_PG_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<estr>[Ee]" + _PG_ESTR + r")|(?P<eopen>[Ee]')"
    r"|(?P<word>[" + _IDC_START + "][" + _IDC + r"]*)|(?P<num>[0-9][0-9A-Za-z_.$]*)"
    r"|(?P<q>'[^']*'|\"[^\"]*\")|(?P<dq>\$" + _PG_TAG + r"\$)|(?P<param>\$[0-9]+[" + _IDC + r"]*|\$)"
    r"|(?P<c>--[^\n]*)|(?P<bc>/\*)|(?P<open>['\"])|(?P<bs>\\)|(?P<p>[\s\S])"
)
_PG_COMMENT_EDGE = re.compile(r"/\*|\*/")
_PG_GAP = r"(?:\s|--[^\n]*|/\*[\s\S]*?\*/)++"  # possessive: a comment never stretches to a later */
_PG_CREATE_ROUTINE = re.compile(
    r"create" + _PG_GAP + r"(?:or" + _PG_GAP + r"replace" + _PG_GAP + r")?(?:function|procedure)(?![" + _IDC + "])",
    re.IGNORECASE,
)
_PG_SLOW_HEAD = re.compile(_PG_CREATE_ROUTINE.pattern + r"|copy(?![" + _IDC + "])", re.IGNORECASE)
_PG_COPY_END = re.compile(r"^\\\.\r?\n", re.MULTILINE)
_PG_LINE_REST = re.compile(r"[ \t\r\f\v]*(?:--[^\n]*)?\n")
_PG_META = re.compile(r"\\([A-Za-z]+|[^\sA-Za-z]?)")
_PG_SKIPPED_META = frozenset({"restrict", "unrestrict", "connect", "c"})


_PG_PLAIN = r"[^;'\"$/\-()\\]*" + _P


def _pg_atoms(level: int) -> list[str]:
    """Fast-path atoms (dollar-quote group names must be unique per nesting level)."""
    # Every atom starts with a literal character: the regex engine skips an alternative whose
    # first literal does not match without entering it, so the context checks (lookbehinds)
    # come after that literal and only run at a quote or a dollar sign.
    return [
        *_pg_quoted(level),
        r"-(?!-)",
        r"/(?!\*)",
        # a$b identifier, $1 parameter. After another $ a $tag$ may open a dollar quote ($$x$$$$y$$)
        # or continue an identifier (a$$b$): only the token loop can tell, so neither atom matches.
        r"\$(?:(?<=[" + _IDC_NO_DOLLAR + r"]\$)|(?!" + _PG_TAG + r"\$))",
    ]


def _pg_quoted(level: int) -> list[str]:
    """The atoms that open something (strings, quoted identifiers, comments, dollar quotes), matched whole."""
    tag = f"t{level}"
    return [
        # Without a backslash, E'...' and '...' lex alike: the common case needs no E check.
        r"'[^'\\]*" + _P + r"(?:''[^'\\]*" + _P + ")*" + _P + "'",
        r"'(?<![Ee]')[^']*" + _P + "'",  # standard string: backslash is an ordinary character
        r"'(?<=[" + _IDC_NO_DOLLAR + r"][Ee]')[^']*" + _P + "'",  # ...also after a word ending in E (tablE'x')
        # E'...' where E starts a word: backslash escapes. After $E the E may end an identifier
        # (a$E'x') or start a token ($$E'x', $1E'x'); only the token loop can tell: no match here.
        r"'(?<=[Ee]')(?<!\$[Ee]')" + _PG_ESTR[1:],
        r'"[^"]*' + _P + '"',
        r"--[^\n]*",
        _PG_FLAT_COMMENT,
        r"\$(?<![" + _IDC + r"]\$)(?P<" + tag + ">" + _PG_TAG + r")\$[\s\S]*?\$(?P=" + tag + r")\$",
    ]


@functools.cache
def _pg_statement(depth: int = 3) -> re.Pattern[str]:
    """Statement regex: ; outside parentheses; groups nest ``depth`` deep, deeper goes to the slow path."""
    group = r"\(" + _seq(_PG_PLAIN, [*_pg_atoms(1), ";"]) + r"\)"
    for level in range(2, depth + 1):
        group = r"\(" + _seq(_PG_PLAIN, [*_pg_atoms(level), ";", group]) + r"\)"
    body = _seq(_PG_PLAIN, [group, *_pg_atoms(depth + 1), r"\)"])
    return re.compile(_PG_LEAD.pattern + "(" + body + ");|")


class _PostgresSplitter(_Splitter):
    """psql rules: dollar quotes, nested comments, parentheses, BEGIN ATOMIC, COPY FROM stdin."""

    _lead = _PG_LEAD
    _keyword_starts = "cC"
    _slow_head = _PG_SLOW_HEAD

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._stmt = _pg_statement()  # compiled on first use: keeps the import cheap

    def _needs_slow(self, start: int, end: int) -> bool:
        """CREATE FUNCTION/PROCEDURE with a BEGIN outside quotes, and COPY ... FROM stdin (data follows)."""
        if self._compound(start, end):
            return _pg_has_begin(self.buf, start, end)
        return pg_copy_direction(self.buf[start:end]) == "in"

    def _skip_special(self, pos: int) -> int | None:
        """Nested /* */ comments before a statement."""
        if self.buf.startswith("/*", pos):
            return self._comment_end(pos)
        return None

    def _comment_end(self, start: int) -> int:
        """Index after the nested comment opened at ``start`` (psqlscan.l xc state counts depth)."""
        end = _pg_comment_close(self.buf, start)
        if end is None:
            raise self._unterminated("comment /* ... */", start)
        return end

    def _command(self, start: int) -> bool:
        """psql meta-commands: pg_dump's \\restrict, \\unrestrict and \\connect are skipped, others refused."""
        if self.buf[start] != "\\":
            return False
        name = _PG_META.match(self.buf, start).group(1)
        if name not in _PG_SKIPPED_META:
            raise self._meta_error(start)
        nl = self.buf.find("\n", start)
        if nl < 0:
            raise self._unterminated("psql meta-command line", start)
        self.pos = nl + 1
        return True

    def _meta_error(self, pos: int) -> SplitError:
        """A psql backslash command, which only psql understands."""
        name = _PG_META.match(self.buf, pos).group(1)
        return self._error(
            f"\\{name} is a psql meta-command, not SQL: it cannot be sent to a server "
            "(only \\connect, \\restrict and \\unrestrict from pg_dump are skipped)",
            pos,
        )

    def _compound(self, start: int, end: int) -> bool:
        """CREATE [OR REPLACE] FUNCTION|PROCEDURE: psql tracks BEGIN ... END depth."""
        return _PG_CREATE_ROUTINE.match(self.buf, start, end) is not None

    def _statement(self, text: str, start: int, end: int, after: int) -> Statement:
        if after == end or pg_copy_direction(text) != "in":
            return super()._statement(text, start, end, after)
        data_start, data_end, resume = self._copy_data(start, after)
        line, column = self._where(start)
        self.pos = resume
        return Statement(text, line, column, self.buf[data_start:data_end])

    def _copy_data(self, start: int, after: int) -> tuple[int, int, int]:
        """(data start, data end, index after the \\. line) of the COPY ... FROM stdin at ``start``."""
        buf = self.buf
        rest = _PG_LINE_REST.match(buf, after)
        if rest is None:
            if buf.find("\n", after) < 0:
                raise self._unterminated("COPY ... FROM stdin data (no \\. line)", start)
            raise self._error("text after COPY ... FROM stdin; on the same line is not supported", after)
        m = _PG_COPY_END.search(buf, rest.end())
        if m is None:
            raise self._unterminated("COPY ... FROM stdin data (no \\. line)", start)
        return rest.end(), m.start(), m.end()

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        buf, eof = self.buf, self.eof
        n = len(buf)
        token = _PG_TOKEN.match
        pos, parens, begins = start, 0, 0
        while True:
            if not eof and pos + _MARGIN >= n:
                raise _NeedMore()
            if pos >= n:
                return n, n
            c = buf[pos]
            if c == ";" and parens == 0 and begins == 0:
                return pos, pos + 1
            m = token(buf, pos)
            kind = m.lastgroup
            end = m.end()
            if kind == "p":
                parens = parens + 1 if c == "(" else parens - 1 if c == ")" and parens else parens
            elif kind == "word":
                if track and parens == 0:
                    begins = _pg_track(m.group().lower(), begins)
            elif kind == "dq":
                close = buf.find(m.group(), end)
                if close < 0:
                    raise self._unterminated(f"dollar-quoted string {m.group()}", pos)
                end = close + len(m.group())
            elif kind == "bc":
                end = self._comment_end(pos)
            elif kind == "eopen":
                raise self._unterminated("string E'...'", pos)
            elif kind == "open":
                raise self._unterminated("string '...'" if c == "'" else 'quoted identifier "..."', pos)
            elif kind == "bs":
                raise self._meta_error(pos)
            pos = end


def pg_copy_direction(text: str) -> str | None:
    """"in" for ``COPY ... FROM STDIN``, "out" for ``COPY ... TO STDOUT``, else None.

    psql knows from the server's CopyInResponse or CopyOutResponse; the grammar allows those
    only for ``COPY table [(columns)] FROM STDIN ...`` and ``COPY table|(query) TO STDOUT ...``,
    so the two words stand next to each other, outside strings, quoted names, comments and
    parentheses: ``COPY (SELECT 'from stdin') TO STDOUT`` has no data lines after it.
    """
    if text[:4].lower() != "copy":
        return None
    words: list[str] = []
    parens, pos, n = 0, 0, len(text)
    token = _PG_TOKEN.match
    while pos < n:
        m = token(text, pos)
        kind, pos = m.lastgroup, m.end()
        if kind == "word":
            if parens == 0:
                words.append(m.group().lower())
                pair = words[-2:]
                if pair == ["from", "stdin"] or pair == ["to", "stdout"]:
                    return None if words[0] != "copy" else "in" if pair[0] == "from" else "out"
            continue
        if kind in ("ws", "c"):
            continue  # FROM -- note \n STDIN still names stdin
        if kind == "bc":
            pos = _pg_comment_close(text, m.start()) or n
            continue
        if kind == "dq":
            close = text.find(m.group(), pos)
            pos = n if close < 0 else close + len(m.group())
        elif kind == "p":
            parens += (m.group() == "(") - (m.group() == ")" and parens > 0)
        if parens == 0:
            words.append("")  # any other token separates FROM from STDIN
    return None


def _pg_comment_close(text: str, start: int) -> int | None:
    """Index after the nested /* */ comment opened at ``start``; None if it never closes."""
    depth = 0
    for m in _PG_COMMENT_EDGE.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return None


def _pg_has_begin(buf: str, start: int, end: int) -> bool:
    """Is there a BEGIN word outside strings, quotes and comments in ``buf[start:end]``?

    Without one psql's block depth stays 0 (CASE and END only count inside BEGIN), so the
    fast path's cut at the first ; is psql's cut. That covers the usual ``AS $$ ... $$``
    routines, whose BEGIN is inside the dollar quote; BEGIN ATOMIC bodies take the slow path.
    """
    for m in _pg_begin_scan().finditer(buf, start, end):
        if m.lastgroup == "begin":
            return True
    return False


@functools.cache
def _pg_begin_scan() -> re.Pattern[str]:
    """Quoted constructs (skipped whole, exactly as the fast path lexes them) or a BEGIN word."""
    # Each alternative starts with a literal or a class, so the search skips other text in C.
    begin = r"(?P<begin>[Bb](?<![" + _IDC + r"][Bb])[Ee][Gg][Ii][Nn](?![" + _IDC + r"]))"
    return re.compile("|".join([*_pg_quoted(0), begin]))


def _pg_track(word: str, begins: int) -> int:
    """psqlscan.l: BEGIN opens, CASE opens only inside BEGIN, END closes (at parenthesis depth 0)."""
    if word == "begin":
        return begins + 1
    if word == "case":
        return begins + 1 if begins else 0
    if word == "end":
        return begins - 1 if begins else 0
    return begins


# ---------------------------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------------------------

_SQ_WS = "[ \\t\\n\\f\\r]"  # complete.c: only these are tkWS
_SQ_LEAD = re.compile(r"(?:" + _SQ_WS + r"+|--[^\n]*|/\*[\s\S]*?\*/|(?<![^\n])#[^\n]*)*" + _P)
_SQ_QUOTED = r"'[^']*" + _P + r"(?:''[^']*" + _P + r")*" + _P + r"'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]"
_SQ_TOKEN = re.compile(
    r"(?P<ws>" + _SQ_WS + r"+)|(?P<word>[" + _IDC + r"]+)|(?P<q>" + _SQ_QUOTED + r")"
    r"|(?P<c>--[^\n]*|/\*[\s\S]*?\*/)|(?P<open>['\"`\[]|/\*)|(?P<p>[\s\S])"
)
_SQ_GAP_ITEM = _SQ_WS + r"|--[^\n]*|/\*[\s\S]*?\*/"  # what complete.c skips between tokens
_SQ_SLOW_HEAD = re.compile(
    r"explain(?![" + _IDC + r"])|create(?:\s|--[^\n]*|/\*[\s\S]*?\*/)++(?:temp|temporary|trigger)(?![" + _IDC + "])",
    re.IGNORECASE,
)
# The same states for a statement starting with CREATE, in one regex (EXPLAIN ... goes token by token).
_SQ_TRIGGER_HEAD = re.compile(
    r"create(?:" + _SQ_GAP_ITEM + r")++(?:temp(?:orary)?(?:" + _SQ_GAP_ITEM + r")++)*+"
    r"trigger(?![" + _IDC + "])",
    re.IGNORECASE,
)
_SQ_OPENERS = {"'": "string '...'", '"': 'quoted identifier "..."', "`": "quoted identifier `...`", "[": "quoted identifier [...]", "/": "comment /* ... */"}
_SQ_PLAIN = r"[^;'\"`\[\-/]*" + _P
_SQ_ATOMS = [_SQ_QUOTED, r"--[^\n]*", r"-(?!-)", r"/\*[\s\S]*?\*/", r"/(?!\*)"]
_SQ_BODY = _seq(_SQ_PLAIN, _SQ_ATOMS)
_SQ_STMT = re.compile(_SQ_LEAD.pattern + "(" + _SQ_BODY + ");|")
# A whole CREATE TRIGGER in one match: complete.c ends it only at ; END ; (whitespace and
# comments allowed between), so a ; is part of the body unless END and another ; follow.
_SQ_GAP = r"(?:" + _SQ_GAP_ITEM + r")*" + _P
_SQ_THEN_END = _SQ_GAP + r"[Ee][Nn][Dd](?![" + _IDC + "])" + _SQ_GAP
_SQ_TRIGGER = re.compile(
    "("
    + _seq(_SQ_PLAIN, [*_SQ_ATOMS, ";(?!" + _SQ_THEN_END + ";)"])
    + ";"
    + _SQ_THEN_END
    + ");"
)


class _SQLiteSplitter(_Splitter):
    """sqlite3_complete() rules: a statement ends at ; except inside CREATE TRIGGER ... END."""

    _lead = _SQ_LEAD
    _stmt = _SQ_STMT
    _keyword_starts = "cCeE"
    _slow_head = _SQ_SLOW_HEAD

    def _command(self, start: int) -> bool:
        """A shell dot-command (line starting with '.') cannot be sent to the library."""
        if self.buf[start] == "." and (start == 0 or self.buf[start - 1] == "\n"):
            word = self.buf[start : start + 40].split(None, 1)[0]
            raise self._error(f"{word} is a sqlite3 shell dot-command, not SQL: it cannot be run by sqlrun", start)
        return False

    def _compound(self, start: int, end: int) -> bool:
        """complete.c states 0-4: [EXPLAIN ...] CREATE [TEMP|TEMPORARY] TRIGGER."""
        if self.buf[start] in "cC":
            return _SQ_TRIGGER_HEAD.match(self.buf, start, end) is not None
        return self._compound_tokens(start, end)

    def _compound_tokens(self, start: int, end: int) -> bool:
        """The header states token by token (the reference _SQ_TRIGGER_HEAD is tested against)."""
        state = 1
        for word in _header_tokens(_SQ_TOKEN, self.buf, start, end, 16):
            state = _SQ_HEADER.get((state, word), _SQ_HEADER_DEFAULT.get(state, 2))
            if state == 5:
                return True
            if state == 2:
                return False
        return False

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        buf, eof = self.buf, self.eof
        n = len(buf)
        token = _SQ_TOKEN.match
        pos, state = start, 5  # complete.c: 5 TRIGGER, 6 after ;, 7 after ; END
        if track:
            m = _SQ_TRIGGER.match(buf, start)
            if m is not None and (eof or m.end() + _MARGIN < n):
                return m.end(1), m.end()
            # no match: unterminated or cut by the buffer end; the token loop decides which
        while True:
            if not eof and pos + _MARGIN >= n:
                raise _NeedMore()
            if pos >= n:
                return n, n
            if buf[pos] == ";" and (not track or state == 7):
                return pos, pos + 1
            m = token(buf, pos)
            kind = m.lastgroup
            if kind == "open":
                raise self._unterminated(_SQ_OPENERS[buf[pos]], pos)
            if track and kind not in ("ws", "c"):
                state = _sqlite_trigger_state(state, m.group())
            pos = m.end()


# complete.c transition table, restricted to the header states (1 START, 3 EXPLAIN, 4 CREATE).
_SQ_HEADER = {
    (1, "EXPLAIN"): 3,
    (1, "CREATE"): 4,
    (3, "CREATE"): 4,
    (3, "EXPLAIN"): 2,
    (3, "TEMP"): 2,
    (3, "TEMPORARY"): 2,
    (3, "TRIGGER"): 2,
    (3, "END"): 2,
    (4, "TEMP"): 4,
    (4, "TEMPORARY"): 4,
    (4, "TRIGGER"): 5,
}
_SQ_HEADER_DEFAULT = {1: 2, 3: 3, 4: 2}


def _sqlite_trigger_state(state: int, token: str) -> int:
    """complete.c states 5-7 for one non-whitespace token inside a trigger."""
    if token == ";":
        return 6
    if state == 6 and token.upper() == "END":
        return 7
    return 5


_SPLITTERS: dict[str, type[_Splitter]] = {"mysql": _MySQLSplitter, "postgresql": _PostgresSplitter, "sqlite": _SQLiteSplitter}
