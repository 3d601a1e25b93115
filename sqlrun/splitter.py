"""Cut SQL scripts into statements exactly where mysql, psql and sqlite3 do.  (STUB: being written.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, TextIO

from .errors import SplitError

__all__ = ["Statement", "split", "iter_split", "SplitError", "DIALECTS"]

DIALECTS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as sent to the server, with where it starts in the file (1-based)."""

    text: str
    line: int
    column: int
    copy_data: str | None = None


def split(text: str, dialect: str, *, filename: str | None = None) -> list[Statement]:
    """Split ``text`` into statements the way ``dialect``'s official client does."""
    return list(iter_split(iter([text]), dialect, filename=filename))


def iter_split(chunks: TextIO | Iterator[str], dialect: str, *, filename: str | None = None) -> Iterator[Statement]:
    """Stream statements from a text file object (or any iterable of text chunks)."""
    d = DIALECTS[dialect]
    buf = "".join(chunks)
    if buf.startswith("\ufeff"):
        buf = buf[1:]
    line = 1
    for part in buf.split(";"):
        stripped = part.strip()
        if stripped:
            lead = part[: len(part) - len(part.lstrip())]
            yield Statement(stripped, line + lead.count("\n"), 1)
        line += part.count("\n")
    del d
