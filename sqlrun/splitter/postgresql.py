"""PostgreSQL rules, read from psql's ``src/fe_utils/psqlscan.l`` and ``src/bin/psql/mainloop.c``.

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
  outside strings, quoted names, comments and parentheses (``copy_direction``).
* psql meta-commands cannot be sent to a server: a SplitError names the command, except
  ``\\restrict``/``\\unrestrict`` (written by pg_dump 15.14+/16.10+/17.6+) and
  ``\\connect``/``\\c`` (written by ``pg_dump -C``), which are skipped: sqlrun always applies
  a script to the configured database. ``:variables`` are sent as written.
"""

from __future__ import annotations

import functools
import re

from ..errors import SplitError
from .engine import IDC, IDC_NO_DOLLAR, IDC_START, MARGIN, TRAIL, NeedMore, P, Splitter, Statement, line_regex, seq

_TAG = r"(?:[" + IDC_START + "][" + IDC_NO_DOLLAR + "]*)?"
# E'...': an E that starts a word (psqlscan.l xestart); inside, \x and '' are escapes.
_ESTR = r"'[^'\\]*(?:(?:''|\\[\s\S])[^'\\]*)*'"
_FLAT_COMMENT = r"/\*[^*/]*(?:(?:\*(?!/)|/(?!\*))[^*/]*)*\*/"  # nested ones go to the slow path
_LEAD = re.compile(r"(?:\s+|--[^\n]*|" + _FLAT_COMMENT + r")*" + P)
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<estr>[Ee]" + _ESTR + r")|(?P<eopen>[Ee]')"
    r"|(?P<word>[" + IDC_START + "][" + IDC + r"]*)|(?P<num>[0-9][0-9A-Za-z_.$]*)"
    r"|(?P<q>'[^']*'|\"[^\"]*\")|(?P<dq>\$" + _TAG + r"\$)|(?P<param>\$[0-9]+[" + IDC + r"]*|\$)"
    r"|(?P<c>--[^\n]*)|(?P<bc>/\*)|(?P<open>['\"])|(?P<bs>\\)|(?P<p>[\s\S])"
)
_COMMENT_EDGE = re.compile(r"/\*|\*/")
_GAP = r"(?:\s|--[^\n]*|/\*[\s\S]*?\*/)++"  # possessive: a comment never stretches to a later */
_CREATE_ROUTINE = re.compile(
    r"create" + _GAP + r"(?:or" + _GAP + r"replace" + _GAP + r")?(?:function|procedure)(?![" + IDC + "])",
    re.IGNORECASE,
)
_SLOW_HEAD = re.compile(_CREATE_ROUTINE.pattern + r"|copy(?![" + IDC + "])", re.IGNORECASE)
_COPY_END = re.compile(r"^\\\.\r?\n", re.MULTILINE)
_LINE_REST = re.compile(r"[ \t\r\f\v]*(?:--[^\n]*)?\n")
_META = re.compile(r"\\([A-Za-z]+|[^\sA-Za-z]?)")
_SKIPPED_META = frozenset({"restrict", "unrestrict", "connect", "c"})


_PLAIN = r"[^;'\"$/\-()\\]*" + P


def _atoms(level: int) -> list[str]:
    """Fast-path atoms (dollar-quote group names must be unique per nesting level)."""
    # Every atom starts with a literal character: the regex engine skips an alternative whose
    # first literal does not match without entering it, so the context checks (lookbehinds)
    # come after that literal and only run at a quote or a dollar sign.
    return [
        *_quoted(level),
        r"-(?!-)",
        r"/(?!\*)",
        # a$b identifier, $1 parameter. After another $ a $tag$ may open a dollar quote ($$x$$$$y$$)
        # or continue an identifier (a$$b$): only the token loop can tell, so neither atom matches.
        r"\$(?:(?<=[" + IDC_NO_DOLLAR + r"]\$)|(?!" + _TAG + r"\$))",
    ]


def _quoted(level: int) -> list[str]:
    """The atoms that open something (strings, quoted identifiers, comments, dollar quotes), matched whole."""
    tag = f"t{level}"
    return [
        # Without a backslash, E'...' and '...' lex alike: the common case needs no E check.
        r"'[^'\\]*" + P + r"(?:''[^'\\]*" + P + ")*" + P + "'",
        r"'(?<![Ee]')[^']*" + P + "'",  # standard string: backslash is an ordinary character
        r"'(?<=[" + IDC_NO_DOLLAR + r"][Ee]')[^']*" + P + "'",  # ...also after a word ending in E (tablE'x')
        # E'...' where E starts a word: backslash escapes. After $E the E may end an identifier
        # (a$E'x') or start a token ($$E'x', $1E'x'); only the token loop can tell: no match here.
        r"'(?<=[Ee]')(?<!\$[Ee]')" + _ESTR[1:],
        r'"[^"]*' + P + '"',
        r"--[^\n]*",
        _FLAT_COMMENT,
        r"\$(?<![" + IDC + r"]\$)(?P<" + tag + ">" + _TAG + r")\$[\s\S]*?\$(?P=" + tag + r")\$",
    ]


def _statement_body(depth: int = 3) -> str:
    """What the fast path takes as one statement: ; ends it outside parentheses, which nest ``depth`` deep."""
    group = r"\(" + seq(_PLAIN, [*_atoms(1), ";"]) + r"\)"
    for level in range(2, depth + 1):
        group = r"\(" + seq(_PLAIN, [*_atoms(level), ";", group]) + r"\)"
    return seq(_PLAIN, [group, *_atoms(depth + 1), r"\)"])


@functools.cache
def _statement_regex() -> re.Pattern[str]:
    """Statement regex: ; outside parentheses; deeper nesting than _statement_body's goes to the slow path."""
    return re.compile(_LEAD.pattern + "(" + _statement_body() + ");" + TRAIL + "|")


@functools.cache
def _line_regex() -> re.Pattern[str]:
    """The line lane (engine.line_regex): the statement regex's rules."""
    # A statement line starts with a character that is plain text in the body (so the line has no
    # lead) and is none of the _keyword_starts, which the match loop checks against _SLOW_HEAD.
    first = r"[^\s;'\"$/\-()\\cC]"
    lead = r"(?:[^\S\n]+|--[^\n]*|/\*[^*/\n]*(?:(?:\*(?!/)|/(?!\*))[^*/\n]*)*\*/)*+"  # _LEAD, within the line
    return line_regex(first, _statement_body(), lead, strip=True)


class PostgreSQLSplitter(Splitter):
    """psql rules: dollar quotes, nested comments, parentheses, BEGIN ATOMIC, COPY FROM stdin."""

    _lead = _LEAD
    _keyword_starts = "cC"
    _slow_head = _SLOW_HEAD

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._stmt = _statement_regex()  # compiled on first use: keeps the import cheap
        self._lines = _line_regex()

    def _needs_slow(self, start: int, end: int) -> bool:
        """CREATE FUNCTION/PROCEDURE with a BEGIN outside quotes, and COPY ... FROM stdin (data follows)."""
        if self._compound(start, end):
            return _has_begin(self.buf, start, end)
        return copy_direction(self.buf[start:end]) == "in"

    def _skip_special(self, pos: int) -> int | None:
        """Nested /* */ comments before a statement."""
        if self.buf.startswith("/*", pos):
            return self._comment_end(pos)
        return None

    def _comment_end(self, start: int) -> int:
        """Index after the nested comment opened at ``start`` (psqlscan.l xc state counts depth)."""
        end = _comment_close(self.buf, start)
        if end is None:
            raise self._unterminated("comment /* ... */", start)
        return end

    def _command(self, start: int) -> bool:
        """psql meta-commands: pg_dump's \\restrict, \\unrestrict and \\connect are skipped, others refused."""
        if self.buf[start] != "\\":
            return False
        name = _META.match(self.buf, start).group(1)
        if name not in _SKIPPED_META:
            raise self._meta_error(start)
        nl = self.buf.find("\n", start)
        if nl < 0:
            raise self._unterminated("psql meta-command line", start)
        self.pos = nl + 1
        return True

    def _meta_error(self, pos: int) -> SplitError:
        """A psql backslash command, which only psql understands."""
        name = _META.match(self.buf, pos).group(1)
        return self._error(
            f"\\{name} is a psql meta-command, not SQL: it cannot be sent to a server "
            "(only \\connect, \\restrict and \\unrestrict from pg_dump are skipped)",
            pos,
        )

    def _compound(self, start: int, end: int) -> bool:
        """CREATE [OR REPLACE] FUNCTION|PROCEDURE: psql tracks BEGIN ... END depth."""
        return _CREATE_ROUTINE.match(self.buf, start, end) is not None

    def _statement(self, text: str, start: int, end: int, after: int) -> Statement:
        if after == end or copy_direction(text) != "in":
            return super()._statement(text, start, end, after)
        data_start, data_end, resume = self._copy_data(start, after)
        line, column = self._where(start)
        self.pos = resume
        return Statement(text, line, column, self.buf[data_start:data_end])

    def _copy_data(self, start: int, after: int) -> tuple[int, int, int]:
        """(data start, data end, index after the \\. line) of the COPY ... FROM stdin at ``start``."""
        buf = self.buf
        rest = _LINE_REST.match(buf, after)
        if rest is None:
            if buf.find("\n", after) < 0:
                raise self._unterminated("COPY ... FROM stdin data (no \\. line)", start)
            raise self._error("text after COPY ... FROM stdin; on the same line is not supported", after)
        m = _COPY_END.search(buf, rest.end())
        if m is None:
            raise self._unterminated("COPY ... FROM stdin data (no \\. line)", start)
        return rest.end(), m.start(), m.end()

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        buf, eof = self.buf, self.eof
        n = len(buf)
        token = _TOKEN.match
        pos, parens, begins = start, 0, 0
        while True:
            if not eof and pos + MARGIN >= n:
                raise NeedMore()
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
                    begins = _track(m.group().lower(), begins)
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


def copy_direction(text: str) -> str | None:
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
    token = _TOKEN.match
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
            pos = _comment_close(text, m.start()) or n
            continue
        if kind == "dq":
            close = text.find(m.group(), pos)
            pos = n if close < 0 else close + len(m.group())
        elif kind == "p":
            parens += (m.group() == "(") - (m.group() == ")" and parens > 0)
        if parens == 0:
            words.append("")  # any other token separates FROM from STDIN
    return None


def _comment_close(text: str, start: int) -> int | None:
    """Index after the nested /* */ comment opened at ``start``; None if it never closes."""
    depth = 0
    for m in _COMMENT_EDGE.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return None


def _has_begin(buf: str, start: int, end: int) -> bool:
    """Is there a BEGIN word outside strings, quotes and comments in ``buf[start:end]``?

    Without one psql's block depth stays 0 (CASE and END only count inside BEGIN), so the
    fast path's cut at the first ; is psql's cut. That covers the usual ``AS $$ ... $$``
    routines, whose BEGIN is inside the dollar quote; BEGIN ATOMIC bodies take the slow path.
    """
    for m in _begin_scan().finditer(buf, start, end):
        if m.lastgroup == "begin":
            return True
    return False


@functools.cache
def _begin_scan() -> re.Pattern[str]:
    """Quoted constructs (skipped whole, exactly as the fast path lexes them) or a BEGIN word."""
    # Each alternative starts with a literal or a class, so the search skips other text in C.
    begin = r"(?P<begin>[Bb](?<![" + IDC + r"][Bb])[Ee][Gg][Ii][Nn](?![" + IDC + r"]))"
    return re.compile("|".join([*_quoted(0), begin]))


def _track(word: str, begins: int) -> int:
    """psqlscan.l: BEGIN opens, CASE opens only inside BEGIN, END closes (at parenthesis depth 0)."""
    if word == "begin":
        return begins + 1
    if word == "case":
        return begins + 1 if begins else 0
    if word == "end":
        return begins - 1 if begins else 0
    return begins

