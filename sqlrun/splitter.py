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
      parameter, ``a$b`` an identifier); ``--`` comments; ``/* */`` comments nest.
    * ``;`` ends a statement only outside parentheses and, in ``CREATE [OR REPLACE]
      FUNCTION|PROCEDURE``, outside ``BEGIN ... END`` (psql counts BEGIN, CASE-inside-BEGIN and
      END at parenthesis depth 0; so do we).
    * ``COPY ... FROM stdin;`` is one Statement whose ``copy_data`` holds the following lines up
      to the line ``\\.`` (held in memory per statement).
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
scanner with the same rules. Streaming keeps only the unconsumed tail in memory.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, TextIO

from .errors import SplitError

__all__ = ["Statement", "split", "iter_split", "SplitError", "DIALECTS"]

DIALECTS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}

CHUNK_SIZE = 1 << 20
_MARGIN = 16  # lookahead any rule needs past a token start (longest: "\\unrestrict "); nearer the buffer end we wait for more text

# Possessive quantifiers (3.11+) stop the regex engine from backtracking over long statements.
_P = "+" if sys.version_info >= (3, 11) else ""


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


def _make_statement(text: str, line: int, column: int) -> Statement:
    """Statement(text, line, column) without the frozen dataclass __init__ (twice as fast in the hot loop)."""
    stmt = _new_object(Statement)
    _set_text(stmt, text)
    _set_line(stmt, line)
    _set_column(stmt, column)
    _set_copy(stmt, None)
    return stmt


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


def _ident_class() -> str:
    """Characters of an unquoted identifier in all three lexers (bytes >= 0x80 count as letters)."""
    return "A-Za-z0-9_$\\x80-\\U0010ffff"


_IDC = _ident_class()


class _Splitter:
    """Buffer, position and line accounting shared by the dialects; subclasses hold the lexing rules."""

    _lead: re.Pattern[str]
    _stmt: re.Pattern[str]  # LEAD (BODY) TERMINATOR: the fast path, one match per ordinary statement
    _body: re.Pattern[str]

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

    def _join(self) -> None:
        """Drop consumed text (keeping one character of context) and append queued chunks."""
        self._advance(self.pos)
        cut = max(0, self.pos - 1)
        self._lpos -= cut
        self._lstart -= cut
        self.pos -= cut
        self.buf = self.buf[cut:] + "".join(self._parts)
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
        buf, eof = self.buf, self.eof
        limit = len(buf) - _MARGIN
        count, rfind, append, make = buf.count, buf.rfind, out.append, _make_statement
        keyword_starts, needs_slow = self._keyword_starts, self._needs_slow
        line, lpos, lstart = self._line, self._lpos, self._lstart
        pos = self.pos
        # The pattern ends in an empty alternative, so finditer never searches ahead: every
        # match starts where the previous one ended, and an empty one means "not ordinary".
        for m in self._stmt.finditer(buf, pos):
            after = m.end()
            if after == pos or (after > limit and not eof):
                break
            s, e = m.span(1)
            if s == e:
                pos = after
                continue
            if buf[s] in keyword_starts and needs_slow(s, e):
                break
            n = count("\n", lpos, s)
            if n:
                line += n
                lstart = rfind("\n", lpos, s) + 1
            lpos = s
            append(make(buf[s:e].rstrip(), line, s - lstart + 1))
            pos = after
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

    _keyword_starts = ""


# ---------------------------------------------------------------------------------------------
# MySQL / MariaDB
# ---------------------------------------------------------------------------------------------

# Strings: backslash escapes any character, a doubled quote is two adjacent strings (same split).
_MY_SQ = r"'[^'\\]*" + _P + r"(?:\\[\s\S][^'\\]*" + _P + r")*" + _P + "'"
_MY_DQ = r'"[^"\\]*' + _P + r'(?:\\[\s\S][^"\\]*' + _P + r")*" + _P + '"'
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
_MY_OPENERS = {"'": "string '...'", '"': 'string "..."', "`": "quoted identifier `...`", "/": "comment /* ... */"}
_MY_KINDS = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_MY_HEADER_FILLER = frozenset({"OR", "REPLACE", "DEFINER", "CURRENT_USER", "AGGREGATE", "SQL", "SECURITY", "INVOKER"})
# Tokens after which IF/REPEAT/LOOP/WHILE start a statement rather than call a function.
_MY_STMT_PREV = frozenset(
    {";", ":", ")", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ROW", "DETERMINISTIC", "DATA", "SQL", "DEFINER", "INVOKER"}
)


def _mysql_patterns(delim: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(statement regex, body regex) for a MySQL delimiter; the delimiter wins over any token."""
    special = set(";'\"`#/-\\") if delim == ";" else set("'\"`#/-\\")
    plain = "[^" + "".join(re.escape(c) for c in sorted(special | {delim[0]})) + "]*" + _P
    atoms = [_MY_SQ, _MY_DQ, _MY_BQ, r"#[^\n]*", r"--(?=\s)[^\n]*", r"-(?!-\s)", _MY_BLOCK, r"/(?!\*" + _MY_NOT_EXEC + ")"]
    guard = ""
    if delim != ";":
        guard = "(?!" + re.escape(delim) + ")"
        if delim[0] not in special:
            atoms.append(re.escape(delim[0]))
    body = _seq(plain, atoms, guard)
    return re.compile(_MY_LEAD.pattern + "(" + body + ")" + re.escape(delim) + "|"), re.compile(body)


class _MySQLSplitter(_Splitter):
    """mysql/mariadb client rules, plus keeping compound CREATE bodies whole."""

    _lead = _MY_LEAD
    _keyword_starts = "cCbBdD"

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._patterns: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}
        self._delimiter_at: tuple[int, int] | None = None
        self._set_delimiter(";")

    def _set_delimiter(self, delim: str) -> None:
        """Switch the statement terminator (DELIMITER command)."""
        if delim not in self._patterns:
            self._patterns[delim] = _mysql_patterns(delim)
        self.delim = delim
        self._stmt, self._body = self._patterns[delim]

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
                f"DELIMITER {self.delim} set here is still active at end of file and the statement "
                f"starting on line {sline} is not terminated by {self.delim!r}",
                filename=self.filename,
                line=line,
                column=column,
            )

    def _needs_slow(self, start: int, end: int) -> bool:
        """DELIMITER lines and compound CREATE statements."""
        return _MY_DELIMITER.match(self.buf, start) is not None or self._compound(start, end)

    def _compound(self, start: int, end: int) -> bool:
        """CREATE ... PROCEDURE|FUNCTION|TRIGGER|EVENT or BEGIN NOT ATOMIC, with the ; delimiter."""
        if self.delim != ";":
            return False
        words = _header_tokens(_MY_TOKEN, self.buf, start, end, 12)
        if not words or words[0] not in ("CREATE", "BEGIN"):
            return False
        if words[0] == "BEGIN":
            return words[1:3] == ["NOT", "ATOMIC"]
        return _mysql_routine_header(words[1:])

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        buf, eof, delim = self.buf, self.eof, self.delim
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


def _mysql_routine_header(words: list[str]) -> bool:
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


def _header_tokens(token: re.Pattern[str], buf: str, start: int, end: int, limit: int) -> list[str]:
    """The first ``limit`` significant tokens of ``buf[start:end]``: upper-cased words, punctuation, Q for quotes."""
    out: list[str] = []
    pos = start
    while pos < end and len(out) < limit:
        m = token.match(buf, pos, end)
        kind = m.lastgroup
        if kind in ("word", "num"):
            out.append(m.group().upper())
        elif kind in ("q", "dq", "estr"):
            out.append("Q")
        elif kind in ("p", "param"):
            out.append(m.group())
        elif kind not in ("ws", "c"):
            break
        pos = m.end()
    return out


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

_PG_TAG = r"(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?"
# E'...': an E that starts a word (psqlscan.l xestart); inside, \x and '' are escapes.
_PG_IS_E = r"(?<=[Ee])(?<![" + _IDC + r"][Ee])"
_PG_NOT_E = r"(?:(?<![Ee])|(?<=[" + _IDC + r"][Ee]))"
_PG_ESTR = r"'[^'\\]*(?:(?:''|\\[\s\S])[^'\\]*)*'"
_PG_FLAT_COMMENT = r"/\*[^*/]*(?:(?:\*(?!/)|/(?!\*))[^*/]*)*\*/"  # nested ones go to the slow path
_PG_LEAD = re.compile(r"(?:\s+|--[^\n]*|" + _PG_FLAT_COMMENT + r")*" + _P)
_PG_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<estr>[Ee]" + _PG_ESTR + r")|(?P<eopen>[Ee]')"
    r"|(?P<word>[A-Za-z_\x80-\U0010ffff][" + _IDC + r"]*)|(?P<num>[0-9][0-9A-Za-z_.$]*)"
    r"|(?P<q>'[^']*'|\"[^\"]*\")|(?P<dq>\$" + _PG_TAG + r"\$)|(?P<param>\$[0-9]*)"
    r"|(?P<c>--[^\n]*)|(?P<bc>/\*)|(?P<open>['\"])|(?P<bs>\\)|(?P<p>[\s\S])"
)
_PG_COMMENT_EDGE = re.compile(r"/\*|\*/")
_PG_CREATE_ROUTINE = re.compile(
    r"create(?:\s|--[^\n]*|/\*[\s\S]*?\*/)+(?:or(?:\s|--[^\n]*|/\*[\s\S]*?\*/)+replace(?:\s|--[^\n]*|/\*[\s\S]*?\*/)+)?"
    r"(?:function|procedure)(?![" + _IDC + "])",
    re.IGNORECASE,
)
_PG_COPY_FROM_STDIN = re.compile(r"copy\s[\s\S]*?(?<![" + _IDC + r"])from\s+stdin(?![" + _IDC + "])", re.IGNORECASE)
_PG_COPY_END = re.compile(r"^\\\.\r?\n", re.MULTILINE)
_PG_LINE_REST = re.compile(r"[ \t\r\f\v]*(?:--[^\n]*)?\n")
_PG_META = re.compile(r"\\([A-Za-z]+|[^\sA-Za-z]?)")
_PG_SKIPPED_META = frozenset({"restrict", "unrestrict", "connect", "c"})


_PG_PLAIN = r"[^;'\"$/\-()\\]*" + _P


def _pg_atoms(level: int) -> list[str]:
    """Fast-path atoms (dollar-quote group names must be unique per nesting level)."""
    tag = f"t{level}"
    return [
        r"(?<![Ee])'[^']*" + _P + "'",
        _PG_IS_E + _PG_ESTR,
        r"(?<=[" + _IDC + r"][Ee])'[^']*" + _P + "'",
        r'"[^"]*' + _P + '"',
        r"--[^\n]*",
        r"-(?!-)",
        _PG_FLAT_COMMENT,
        r"/(?!\*)",
        r"(?<![" + _IDC + r"])\$(?P<" + tag + ">" + _PG_TAG + r")\$[\s\S]*?\$(?P=" + tag + r")\$",
        r"(?<=[" + _IDC + r"])\$|\$(?!" + _PG_TAG + r"\$)",
    ]


@functools.cache
def _pg_patterns(depth: int = 3) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Statement regex: ; outside parentheses; groups nest ``depth`` deep, deeper goes to the slow path."""
    group = r"\(" + _seq(_PG_PLAIN, [*_pg_atoms(1), ";"]) + r"\)"
    for level in range(2, depth + 1):
        group = r"\(" + _seq(_PG_PLAIN, [*_pg_atoms(level), ";", group]) + r"\)"
    body = _seq(_PG_PLAIN, [group, *_pg_atoms(depth + 1), r"\)"])
    return re.compile(_PG_LEAD.pattern + "(" + body + ");|"), re.compile(body)


class _PostgresSplitter(_Splitter):
    """psql rules: dollar quotes, nested comments, parentheses, BEGIN ATOMIC, COPY FROM stdin."""

    _lead = _PG_LEAD
    _keyword_starts = "cC"

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._stmt, self._body = _pg_patterns()  # compiled on first use: keeps the import cheap

    def _needs_slow(self, start: int, end: int) -> bool:
        """CREATE FUNCTION/PROCEDURE (BEGIN ATOMIC bodies) and COPY ... FROM stdin (data follows)."""
        return self._compound(start, end) or _PG_COPY_FROM_STDIN.match(self.buf, start, end) is not None

    def _skip_special(self, pos: int) -> int | None:
        """Nested /* */ comments before a statement."""
        if self.buf.startswith("/*", pos):
            return self._comment_end(pos)
        return None

    def _comment_end(self, start: int) -> int:
        """Index after the nested comment opened at ``start`` (psqlscan.l xc state counts depth)."""
        depth, pos = 0, start
        search = _PG_COMMENT_EDGE.search
        while True:
            m = search(self.buf, pos)
            if m is None:
                raise self._unterminated("comment /* ... */", start)
            depth += 1 if m.group() == "/*" else -1
            pos = m.end()
            if depth == 0:
                return pos

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
        if not _PG_COPY_FROM_STDIN.match(text) or after == end:
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
_SQ_QUOTED = r"'[^']*'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]"
_SQ_TOKEN = re.compile(
    r"(?P<ws>" + _SQ_WS + r"+)|(?P<word>[" + _IDC + r"]+)|(?P<q>" + _SQ_QUOTED + r")"
    r"|(?P<c>--[^\n]*|/\*[\s\S]*?\*/)|(?P<open>['\"`\[]|/\*)|(?P<p>[\s\S])"
)
_SQ_OPENERS = {"'": "string '...'", '"': 'quoted identifier "..."', "`": "quoted identifier `...`", "[": "quoted identifier [...]", "/": "comment /* ... */"}
_SQ_BODY = _seq(r"[^;'\"`\[\-/]*" + _P, [_SQ_QUOTED, r"--[^\n]*", r"-(?!-)", r"/\*[\s\S]*?\*/", r"/(?!\*)"])
_SQ_STMT = re.compile(_SQ_LEAD.pattern + "(" + _SQ_BODY + ");|")


class _SQLiteSplitter(_Splitter):
    """sqlite3_complete() rules: a statement ends at ; except inside CREATE TRIGGER ... END."""

    _lead = _SQ_LEAD
    _stmt = _SQ_STMT
    _body = re.compile(_SQ_BODY)
    _keyword_starts = "cCeE"

    def _command(self, start: int) -> bool:
        """A shell dot-command (line starting with '.') cannot be sent to the library."""
        if self.buf[start] == "." and (start == 0 or self.buf[start - 1] == "\n"):
            word = self.buf[start : start + 40].split(None, 1)[0]
            raise self._error(f"{word} is a sqlite3 shell dot-command, not SQL: it cannot be run by sqlrun", start)
        return False

    def _compound(self, start: int, end: int) -> bool:
        """complete.c states 0-4: [EXPLAIN ...] CREATE [TEMP|TEMPORARY] TRIGGER."""
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
