"""SQLite rules, read from ``src/complete.c`` ``sqlite3_complete()`` and the shell's ``src/shell.c.in``.

* ``'...'``, ``"..."``, `` `...` ``, ``[...]``, no backslash escapes; ``--`` and non-nesting
  ``/* */`` comments. ``CREATE [TEMP|TEMPORARY] TRIGGER`` ends only at ``; END ;``.
  A shell dot-command at the start of a statement is a SplitError; a line starting with
  ``#`` before a statement is skipped like the shell does.
* A statement's text keeps the whitespace and comments before its ``;``, as the shell sends them
  (SQLite stores that text in ``sqlite_master``); only an unterminated last statement is trimmed.
"""

from __future__ import annotations

import functools
import re

from .engine import IDC, MARGIN, TRAIL, NeedMore, P, Splitter, header_tokens, line_regex, seq

_WS = "[ \\t\\n\\f\\r]"  # complete.c: only these are tkWS
_LEAD = re.compile(r"(?:" + _WS + r"+|--[^\n]*|/\*[\s\S]*?\*/|(?<![^\n])#[^\n]*)*" + P)
_QUOTED = r"'[^']*" + P + r"(?:''[^']*" + P + r")*" + P + r"'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]"
_TOKEN = re.compile(
    r"(?P<ws>" + _WS + r"+)|(?P<word>[" + IDC + r"]+)|(?P<q>" + _QUOTED + r")"
    r"|(?P<c>--[^\n]*|/\*[\s\S]*?\*/)|(?P<open>['\"`\[]|/\*)|(?P<p>[\s\S])"
)
_GAP_ITEM = _WS + r"|--[^\n]*|/\*[\s\S]*?\*/"  # what complete.c skips between tokens
_SLOW_HEAD = re.compile(
    r"explain(?![" + IDC + r"])|create(?:\s|--[^\n]*|/\*[\s\S]*?\*/)++(?:temp|temporary|trigger)(?![" + IDC + "])",
    re.IGNORECASE,
)
# The same states for a statement starting with CREATE, in one regex (EXPLAIN ... goes token by token).
_TRIGGER_HEAD = re.compile(
    r"create(?:" + _GAP_ITEM + r")++(?:temp(?:orary)?(?:" + _GAP_ITEM + r")++)*+"
    r"trigger(?![" + IDC + "])",
    re.IGNORECASE,
)
_OPENERS = {"'": "string '...'", '"': 'quoted identifier "..."', "`": "quoted identifier `...`", "[": "quoted identifier [...]", "/": "comment /* ... */"}
_PLAIN = r"[^;'\"`\[\-/]*" + P
_ATOMS = [_QUOTED, r"--[^\n]*", r"-(?!-)", r"/\*[\s\S]*?\*/", r"/(?!\*)"]
_BODY = seq(_PLAIN, _ATOMS)
_STMT = re.compile(_LEAD.pattern + "(" + _BODY + ");" + TRAIL + "|")


@functools.cache
def _line_regex() -> re.Pattern[str]:
    """The line lane (engine.line_regex): _STMT's rules."""
    # A statement line starts with a character that is plain text in _BODY (so the line has no
    # lead) and is none of the _keyword_starts, which the match loop checks against _SLOW_HEAD.
    first = r"[^\s;'\"`\[\-/#cCeE]"
    lead = r"(?:[ \t\f\r]+|--[^\n]*|/\*[^\n]*?\*/|(?<![^\n])#[^\n]*)*+"  # _LEAD, within the line
    return line_regex(first, _BODY, lead, strip=False)


# A whole CREATE TRIGGER in one match: complete.c ends it only at ; END ; (whitespace and
# comments allowed between), so a ; is part of the body unless END and another ; follow.
_GAP = r"(?:" + _GAP_ITEM + r")*" + P
_THEN_END = _GAP + r"[Ee][Nn][Dd](?![" + IDC + "])" + _GAP
_TRIGGER = re.compile(
    "("
    + seq(_PLAIN, [*_ATOMS, ";(?!" + _THEN_END + ";)"])
    + ";"
    + _THEN_END
    + ");"
)


class SQLiteSplitter(Splitter):
    """sqlite3_complete() rules: a statement ends at ; except inside CREATE TRIGGER ... END."""

    _lead = _LEAD
    _stmt = _STMT
    _keyword_starts = "cCeE"
    _slow_head = _SLOW_HEAD
    # SQLite stores a CREATE INDEX's (and a WITHOUT ROWID table's) text up to the ';' as it was sent, and the
    # shell sends the whitespace and comments before the ';': keep them, so that sqlite_master compares equal.
    # Sent without the ';', the text is stored the same (build.c takes it up to the last token seen).
    _keep_tail = True

    def __init__(self, filename: str | None) -> None:
        super().__init__(filename)
        self._lines = _line_regex()  # compiled on first use: keeps the import cheap

    def _command(self, start: int) -> bool:
        """A shell dot-command (line starting with '.') cannot be sent to the library."""
        if self.buf[start] == "." and (start == 0 or self.buf[start - 1] == "\n"):
            word = self.buf[start : start + 40].split(None, 1)[0]
            raise self._error(f"{word} is a sqlite3 shell dot-command, not SQL: it cannot be run by sqlrun", start)
        return False

    def _compound(self, start: int, end: int) -> bool:
        """complete.c states 0-4: [EXPLAIN ...] CREATE [TEMP|TEMPORARY] TRIGGER."""
        if self.buf[start] in "cC":
            return _TRIGGER_HEAD.match(self.buf, start, end) is not None
        return self._compound_tokens(start, end)

    def _compound_tokens(self, start: int, end: int) -> bool:
        """The header states token by token (the reference _TRIGGER_HEAD is tested against)."""
        state = 1
        for word in header_tokens(_TOKEN, self.buf, start, end, 16):
            state = _HEADER.get((state, word), _HEADER_DEFAULT.get(state, 2))
            if state == 5:
                return True
            if state == 2:
                return False
        return False

    def _scan(self, start: int, *, track: bool) -> tuple[int, int]:
        buf, eof = self.buf, self.eof
        n = len(buf)
        token = _TOKEN.match
        pos, state = start, 5  # complete.c: 5 TRIGGER, 6 after ;, 7 after ; END
        if track:
            m = _TRIGGER.match(buf, start)
            if m is not None and (eof or m.end() + MARGIN < n):
                return m.end(1), m.end()
            # no match: unterminated or cut by the buffer end; the token loop decides which
        while True:
            if not eof and pos + MARGIN >= n:
                raise NeedMore()
            if pos >= n:
                return n, n
            if buf[pos] == ";" and (not track or state == 7):
                return pos, pos + 1
            m = token(buf, pos)
            kind = m.lastgroup
            if kind == "open":
                raise self._unterminated(_OPENERS[buf[pos]], pos)
            if track and kind not in ("ws", "c"):
                state = _trigger_state(state, m.group())
            pos = m.end()


# complete.c transition table, restricted to the header states (1 START, 3 EXPLAIN, 4 CREATE).
_HEADER = {
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
_HEADER_DEFAULT = {1: 2, 3: 3, 4: 2}


def _trigger_state(state: int, token: str) -> int:
    """complete.c states 5-7 for one non-whitespace token inside a trigger."""
    if token == ";":
        return 6
    if state == 6 and token.upper() == "END":
        return 7
    return 5
