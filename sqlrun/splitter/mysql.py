"""MySQL / MariaDB rules, read from ``client/mysql.cc`` ``add_line()`` and ``com_delimiter()``.

* ``'...'`` and ``"..."`` take backslash escapes and doubled quotes; `` `...` `` only doubling.
* Comments: ``#`` to end of line; ``--`` followed by whitespace (or any ``--`` before the
  first token of a statement, as the client does); ``/* */`` does not nest.
* ``/*! */``, ``/*M! */`` and ``/*+ */`` are executable comments: kept in the text and
  scanned like code (the client ends a statement at a ``;`` inside them too).
* ``DELIMITER x`` (any case, first token of a statement) sets the delimiter to its first
  argument (quoted or up to whitespace); the rest of its line is ignored, it is never sent.
  Text left at end of file while another delimiter is active is the last statement, as the client
  sends it then (mysql.cc read_and_execute: ``com_go`` on what is left in the buffer at EOF).
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
"""

from __future__ import annotations

import functools
import re

from .engine import IDC, MARGIN, TRAIL, NeedMore, P, Splitter, header_tokens, line_regex, seq

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from typing import Iterable

# Strings: backslash escapes any character, a doubled quote is two adjacent strings (same split).
# Taking '' inside the string (rather than as two adjacent strings) saves regex steps.
_SQ = r"'[^'\\]*" + P + r"(?:(?:''|\\[\s\S])[^'\\]*" + P + r")*" + P + "'"
_DQ = r'"[^"\\]*' + P + r'(?:(?:""|\\[\s\S])[^"\\]*' + P + r")*" + P + '"'
_BQ = r"`[^`]*`"
# /*! and /*M! (and /*+ hints) are not comments for the client: add_line() keeps scanning inside.
_NOT_EXEC = r"(?![!+]|M!)"
_BLOCK = r"/\*" + _NOT_EXEC + r"[\s\S]*?\*/"
_LEAD = re.compile(r"(?:\s+|#[^\n]*|--[^\n]*|" + _BLOCK + r")*" + P)
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<word>[" + IDC + r"]+)|(?P<q>" + _SQ + "|" + _DQ + "|" + _BQ + r")"
    r"|(?P<c>#[^\n]*|--(?=\s)[^\n]*|" + _BLOCK + r")|(?P<open>['\"`]|/\*" + _NOT_EXEC + r")"
    r"|(?P<bs>\\)|(?P<p>[\s\S])"
)
_DELIMITER = re.compile(r"delimiter(?=[ \t\r\n])", re.IGNORECASE)
_GAP = r"(?:\s|#[^\n]*|--[^\n]*|/\*[\s\S]*?\*/)++"
_SLOW_HEAD = re.compile(
    r"delimiter[ \t\r\n]|begin(?![" + IDC + r"])|create" + _GAP + r"(?:or|replace|definer|current_user|"
    r"aggregate|sql|security|invoker|procedure|function|trigger|event)(?![" + IDC + "])",
    re.IGNORECASE,
)
_OPENERS = {"'": "string '...'", '"': 'string "..."', "`": "quoted identifier `...`", "/": "comment /* ... */"}
_KINDS = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_HEADER_FILLER = frozenset({"OR", "REPLACE", "DEFINER", "CURRENT_USER", "AGGREGATE", "SQL", "SECURITY", "INVOKER"})
# Tokens after which IF/REPEAT/LOOP/WHILE start a statement rather than call a function.
_STMT_PREV = frozenset(
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
# effect (the previous token is "something else"). _TRACK jumps over runs of those in
# one match, so a routine body costs a few matches per block keyword instead of one per token.
# Words that open or close a block in _track, plus the words of _STMT_PREV: any other token
# only ever sets "previous token" to something that matters to none of the rules.
_BLOCK_WORDS = frozenset({"BEGIN", "CASE", "LOOP", "WHILE", "END", "IF", "REPEAT"})
_RELEVANT = (
    "(?:"
    + _words_regex(w.lower() for w in _BLOCK_WORDS | {w for w in _STMT_PREV if w.isalpha()})
    + ")(?![" + IDC + "])"
)
_OTHER = (
    r"(?!" + _RELEVANT + r")[" + IDC + r"]+" + P + "|" + _SQ + "|" + _DQ + "|" + _BQ
    + r"|-(?!-\s)|/(?!\*" + _NOT_EXEC + r")|[!%&(*+,<=>?@\[\]^{|}~]"
)
_TRACK_GAP = r"\s+|#[^\n]*|--(?=\s)[^\n]*|" + _BLOCK
_TRACK = re.compile(
    "(?:" + _TRACK_GAP + ")*" + P + r"(?:(?P<w>" + _RELEVANT + r")|(?P<p>[;:).])"
    r"|(?P<x>(?:" + _OTHER + ")(?:" + _OTHER + "|" + _TRACK_GAP + ")*" + P + "))"
)


def _statement_body(delim: str) -> str:
    """What the fast path takes as one statement before ``delim``: the delimiter wins over any token."""
    special = set(";'\"`#/-\\") if delim == ";" else set("'\"`#/-\\")
    plain = "[^" + "".join(re.escape(c) for c in sorted(special | {delim[0]})) + "]*" + P
    atoms = [_SQ, _DQ, _BQ, r"#[^\n]*", r"--(?=\s)[^\n]*", r"-(?!-\s)", _BLOCK, r"/(?!\*" + _NOT_EXEC + ")"]
    guard = ""
    if delim != ";":
        guard = "(?!" + re.escape(delim) + ")"
        if delim[0] not in special:
            atoms.append(re.escape(delim[0]))
    return seq(plain, atoms, guard)


def _statement_regex(delim: str) -> re.Pattern[str]:
    """The fast-path statement regex for a MySQL delimiter."""
    return re.compile(_LEAD.pattern + "(" + _statement_body(delim) + ")" + re.escape(delim) + TRAIL + "|")


@functools.cache
def _line_regex() -> re.Pattern[str]:
    """The line lane (engine.line_regex) for the ; delimiter: the statement regex's rules."""
    # A statement line starts with a character that is plain text in the body (so the line has no
    # lead) and is none of the _keyword_starts, which the match loop checks against _SLOW_HEAD.
    first = r"[^\s;'\"`#/\-\\cCbBdD]"
    lead = r"(?:[^\S\n]+|#[^\n]*|--[^\n]*|/\*" + _NOT_EXEC + r"[^\n]*?\*/)*+"  # _LEAD, within the line
    return line_regex(first, _statement_body(";"), lead, strip=True)


class MySQLSplitter(Splitter):
    """mysql/mariadb client rules, plus keeping compound CREATE bodies whole."""

    _lead = _LEAD
    _keyword_starts = "cCbBdD"
    _slow_head = _SLOW_HEAD

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._set_delimiter(";")

    def _set_delimiter(self, delim: str) -> None:
        """Switch the statement terminator (DELIMITER command)."""
        if delim not in self._patterns:
            self._patterns[delim] = _statement_regex(delim)
        self._delim = delim
        self._stmt = self._patterns[delim]
        self._lines = _line_regex() if delim == ";" else None  # the lane knows only the ; rules

    def _command(self, start: int) -> bool:
        """DELIMITER at the start of a statement (mysql.cc com_delimiter): never sent to the server."""
        buf = self.buf
        if buf[start] not in "dD" or not _DELIMITER.match(buf, start):
            return False
        nl = buf.find("\n", start)
        if nl < 0:
            raise self._unterminated("DELIMITER line", start)
        delim = self._delimiter_argument(buf[start + 9 : nl], start)
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

    def _needs_slow(self, start: int, end: int) -> bool:
        """DELIMITER lines and compound CREATE statements."""
        return _DELIMITER.match(self.buf, start) is not None or self._compound(start, end)

    def _compound(self, start: int, end: int) -> bool:
        """CREATE ... PROCEDURE|FUNCTION|TRIGGER|EVENT or BEGIN NOT ATOMIC, with the ; delimiter."""
        if self._delim != ";":
            return False
        words = header_tokens(_TOKEN, self.buf, start, end, 12)
        first = next(words, None)
        if first == "BEGIN":
            return next(words, None) == "NOT" and next(words, None) == "ATOMIC"
        return first == "CREATE" and _routine_header(words)

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        if track:
            found = self._scan_blocks(start)
            if found is not None:
                return found
        buf, eof, delim = self.buf, self.eof, self._delim
        n = len(buf)
        token = _TOKEN.match
        pos, depth, prev = start, 0, ""
        while True:
            if not eof and pos + MARGIN >= n:
                raise NeedMore()
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
                raise self._unterminated(_OPENERS[buf[pos]], pos)
            elif kind == "bs":
                if buf[pos + 1] in "gG":
                    return pos, pos + 2
                self._backslash(pos)
                m = None
                pos += 2
                continue
            pos = m.end()

    def _scan_blocks(self, start: int) -> tuple[int, int] | None:
        """The block-tracking scan over _TRACK runs; None when anything unusual needs the token loop."""
        buf, eof = self.buf, self.eof
        n = len(buf)
        match = _TRACK.match
        pos, depth, prev = start, 0, ""
        while True:
            m = match(buf, pos)
            if m is None or (not eof and m.end() + MARGIN >= n):
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
        if word in ("IF", "REPEAT") and prev in _STMT_PREV:
            if not self.eof and end + 1 >= len(self.buf):
                raise NeedMore()
            called = self.buf[end] == "(" and prev in ("THEN", "ELSE")  # CASE ... THEN IF(a,b,c)
            return depth + (0 if called else 1), word
        return depth, word


def _routine_header(words: Iterable[str]) -> bool:
    """After CREATE: OR REPLACE, DEFINER=user, AGGREGATE, SQL SECURITY x, then the object kind."""
    after_sign = False
    for word in words:
        if word in _KINDS:
            return True
        if word in ("=", "@", ".", "%", "(", ")", "Q"):
            after_sign = word in ("=", "@")
            continue
        if word not in _HEADER_FILLER and not after_sign:
            return False
        after_sign = False
    return False

