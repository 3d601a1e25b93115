"""The engine every dialect shares: buffer, positions, the fast regex loop and the slow-path hooks.

All dialects: a UTF-8 BOM is dropped; ``\\r\\n`` is kept inside statement text; statement text
has no delimiter and no surrounding whitespace, and no leading comments (``line``/``column``
point at its first token; comments inside and after the first token are kept); empty statements
and comment-only tails are ignored; text after the last delimiter is a statement. Unterminated
strings, quoted identifiers, comments and dollar quotes raise SplitError where they opened.

Speed: each statement is usually matched by one precompiled regex per dialect (strings,
comments and parenthesis groups included), and where statements start and end lines (data
rows), a line lane takes them with less Python work each; anything unusual falls back to a
token-by-token scanner with the same rules. Compound bodies have shortcuts too: a PostgreSQL
routine with no BEGIN outside its quotes ends at its first ;, a SQLite trigger body is one
regex, and MySQL blocks are tracked over runs of tokens that cannot matter. The token scanners
are the reference: tests/test_splitter.py checks every shortcut against them on random
scripts. Streaming keeps only the unconsumed tail in memory.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass

from ..errors import SplitError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from typing import Iterator

_GC_PAUSE_SIZE = 1 << 16  # drains of less text than this do not touch the garbage collector
# Text the match loop takes before it pauses, at a line start, to let the line lane try again (see
# Splitter._run): enough that scripts the lane does not fit pay for a failed try rarely, little
# enough that the lane soon resumes after, say, a CREATE TABLE amid rows.
_MATCH_SPAN = 4096
MARGIN = 16  # lookahead any rule needs past a token start (longest: "\\unrestrict "); nearer the buffer end we wait for more text

# Possessive quantifiers (Python 3.11+) are part of the rules, not only a speed-up: once a
# comment or string has matched, backtracking must never stretch it to a later */ or quote.
P = "+"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as sent to the server, with where it starts in the file (1-based)."""

    text: str
    line: int
    column: int
    copy_data: str | None = None


class _Builder:
    """A Statement under construction: the same slots, without the frozen class's __setattr__.

    The fast path fills one with plain attribute stores, then makes it a Statement by assigning
    ``__class__`` (allowed between classes of the same layout): a third of the cost of the frozen
    dataclass's __init__, which sets each field through object.__setattr__. Nothing else sees one.
    """

    __slots__ = ("text", "line", "column", "copy_data")


# A statement's delimiter may be followed, on its line, by spaces and a line comment: the
# statement regexes take those and the newline (all of it what the next lead would skip anyway),
# so that the next statement's lead usually holds no newline to count.
TRAIL_NL = r"[ \t\r]*+(?:--[^\n]*+)?\n"
TRAIL = "(?:" + TRAIL_NL + ")?+"


def seq(plain: str, atoms: list[str], guard: str = "") -> str:
    """``plain (atom plain)*``: runs of ordinary characters cost one step, alternatives are tried only at specials."""
    return plain + "(?:" + guard + "(?:" + "|".join(atoms) + ")" + plain + ")*" + P


def line_regex(first: str, body: str, lead: str, *, strip: bool) -> re.Pattern[str]:
    """The line lane's regex (see Splitter._run_lines): from a line start, a statement or a line of lead.

    A statement (group 1, without its ``;``) is ``first``, a character that is plain text in ``body``
    and starts no keyword the match loop sends to the slow path (so there is no lead before it), then
    the rest of ``body`` (the dialect's statement body), ``;`` and TRAIL_NL: it ends a line. A line of
    lead is whitespace and comments (``lead``) and its newline. Anything else matches the empty
    alternative, where the lane stops.

    With ``strip`` the text must not end in whitespace (what rstrip() would remove): such a
    statement is left to the match loop, which strips it.
    """
    tail = r"(?<!\s)" if strip else ""
    return re.compile("(" + first + body + ")" + tail + ";" + TRAIL_NL + "|" + lead + r"\n|")


class NeedMore(Exception):
    """The buffer ends before the current statement can be decided; wait for more text."""


# Characters of an unquoted identifier in all three lexers: A-Z a-z 0-9 _ $, and anything
# non-ASCII (the clients lex bytes, and every UTF-8 byte of such a character is >= 0x80).
# Written as "not one of the other ASCII characters": the same set as [A-Za-z0-9_$\x80-\U0010ffff],
# but a negated class of a few ASCII ranges compiles about 30x faster than one reaching U+10FFFF,
# and the PostgreSQL statement regex repeats it dozens of times.
IDC = "^\\x00-\\x23\\x25-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"
IDC_NO_DOLLAR = "^\\x00-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"  # same without $ (dollar-quote tags)
IDC_START = "^\\x00-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"  # PostgreSQL ident_start: no digits, no $


class Splitter:
    """Buffer, position and line accounting shared by the dialects; subclasses hold the lexing rules."""

    _lead: re.Pattern[str]
    _stmt: re.Pattern[str]  # LEAD (BODY) TERMINATOR: the fast path, one match per ordinary statement
    _lines: re.Pattern[str] | None = None  # the line lane (line_regex), where the dialect has one
    _delim = ";"
    #: keep what stands between the last token and the terminator (see the SQLite splitter)
    _keep_tail = False

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
                except NeedMore:
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

    def _unterminated(self, what: str, i: int) -> NeedMore:
        """More text may close the construct opened at ``i``; at end of file it is an error."""
        if not self.eof:
            return NeedMore()
        raise self._error(f"unterminated {what} (opened here, never closed before end of file)", i)

    # -- the scanning loop ---------------------------------------------------------------------

    def _run(self, out: list[Statement]) -> None:
        """Append the statements the fast paths take from ``pos``; stop at anything unusual.

        The line lane takes what it can; the match loop takes the rest, pausing at the first line
        start after _MATCH_SPAN characters so that the lane gets another go.
        """
        lines = self._lines
        while True:
            if lines is not None and (not self.pos or self.buf[self.pos - 1] == "\n"):
                self._run_lines(lines, out)
            if not self._run_matches(out):
                return

    def _run_lines(self, lines: re.Pattern[str], out: list[Statement]) -> None:
        """The line lane: from ``pos``, a line start, take statements that start and end a line, and lines of lead.

        Rows of a data script are such lines. Every statement the lane takes starts a line, so its
        column is 1 and its line a counter: no positions to read but where the lane stops.
        """
        buf, pos = self.buf, self.pos
        limit = len(buf) if self.eof else len(buf) - MARGIN
        if pos >= limit:
            return
        self._advance(pos)  # the line counter stands at pos: the lane counts on from it
        line, builder, cls, append = self._line, _Builder, Statement, out.append
        for m in lines.finditer(buf, pos, limit):
            text = m[1]
            if text is None:
                if m.end() == m.start():
                    break  # the empty alternative: not a line the lane can take
                line += 1  # a line of lead
                continue
            stmt = builder()  # as in _run_matches: a Statement without its frozen __init__
            stmt.text = text
            stmt.line = line
            stmt.column = 1
            stmt.copy_data = None
            stmt.__class__ = cls
            append(stmt)
            line += text.count("\n") + 1 if "\n" in text else 1
        # finditer ends with the empty alternative's match at the latest, so m is the one the loop broke at
        self.pos = self._lpos = self._lstart = m.start()
        self._line = line

    def _run_matches(self, out: list[Statement]) -> bool:
        """Append the statements the statement regex matches from ``pos``; True if it paused for the line lane."""
        buf = self.buf
        limit = len(buf) if self.eof else len(buf) - MARGIN
        pause = self.pos + _MATCH_SPAN if self._lines is not None else len(buf)  # no end is past len(buf)
        dlen = len(self._delim)
        count, rfind, append = buf.count, buf.rfind, out.append
        builder, cls = _Builder, Statement
        keyword_starts, slow_head, needs_slow = self._keyword_starts, self._slow_head.match, self._needs_slow
        keep_tail = self._keep_tail
        line, lpos, lstart = self._line, self._lpos, self._lstart
        pos = self.pos
        paused = False
        # The pattern ends in an empty alternative, so finditer never searches ahead: every
        # match starts where the previous one ended, and the empty one (group 1 unset, span
        # -1) means "not ordinary". A match ends after group 1, the delimiter and TRAIL.
        for m in self._stmt.finditer(buf, pos):
            s, e = m.span(1)
            end = m.end()
            if s < 0 or end > limit:
                break
            if s != e:
                if buf[s] in keyword_starts and slow_head(buf, s, e) and needs_slow(s, e):
                    self._handover = (s, e)
                    break
                # Lines are counted in cheap steps instead of one count() over everything since
                # the last statement: newlines in the lead (usually none: TRAIL took the one
                # after the previous delimiter), in the statement's own text, and in TRAIL.
                if s > lpos:
                    k = rfind("\n", lpos, s)
                    if k >= 0:
                        line += 1 if k == lpos else count("\n", lpos, k + 1)
                        lstart = k + 1
                raw = buf[s:e]
                # Statement(...) without the frozen dataclass __init__ (three times as fast): this
                # runs once per statement of every script
                stmt = builder()
                stmt.text = raw if keep_tail else raw.rstrip()
                stmt.line = line
                stmt.column = s - lstart + 1
                stmt.copy_data = None
                stmt.__class__ = cls
                append(stmt)
                if "\n" in raw:
                    line += raw.count("\n")
                    lstart = s + raw.rfind("\n") + 1
                if end > e + dlen:  # TRAIL ends with the one newline it takes
                    line += 1
                    lstart = end
                    if end > pause:  # at a line start: the lane's turn
                        pos = lpos = end
                        paused = True
                        break
                lpos = end
            pos = end
        self.pos = pos
        self._line, self._lpos, self._lstart = line, lpos, lstart
        return paused

    def _slow_statement(self, out: list[Statement]) -> None:
        """Handle one statement the fast regex could not: commands, odd tokens, compound bodies."""
        start = self._skip_lead(self.pos)
        if start >= len(self.buf):
            if not self.eof:
                raise NeedMore()
            self.pos = start
            return
        if not self.eof and start + MARGIN >= len(self.buf):
            raise NeedMore()
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
        if self._keep_tail and after > end:
            text = self.buf[start:end]
        out.append(self._statement(text, start, end, after))

    def _statement(self, text: str, start: int, end: int, after: int) -> Statement:
        """Build the Statement for ``buf[start:end]`` and move past its terminator."""
        line, column = self._where(start)
        self.pos = after
        return Statement(text, line, column)

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




def header_tokens(token: re.Pattern[str], buf: str, start: int, end: int, limit: int) -> Iterator[str]:
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

