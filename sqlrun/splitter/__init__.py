"""Cut SQL scripts into statements exactly where mysql, psql and sqlite3 do.

The rules are read from each client's own lexer, not from a grammar: one module per client
(``mysql``, ``postgresql``, ``sqlite``, each with its rules as its docstring) on top of a shared
``engine``. Only the module of the dialect asked for is imported, so only its regexes are compiled.
"""

from __future__ import annotations

from ..errors import SplitError
from ..kinds import DIALECTS
from .engine import Statement

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from typing import Iterable, Iterator, TextIO

    from .engine import Splitter

__all__ = ["Statement", "split", "iter_split", "SplitError", "DIALECTS"]

CHUNK_SIZE = 1 << 20


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


def _new_splitter(dialect: str, filename: str | None) -> Splitter:
    """Return the splitter for ``dialect``; unknown names are a ValueError listing the known ones."""
    name = DIALECTS.get(dialect.lower()) if isinstance(dialect, str) else None
    if name is None:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(sorted(DIALECTS))}")
    return splitter_class(name)(filename)


def splitter_class(kind: str) -> type[Splitter]:
    """The splitter class of database ``kind``, importing (and compiling) only that dialect's rules."""
    if kind == "mysql":
        from .mysql import MySQLSplitter

        return MySQLSplitter
    if kind == "postgresql":
        from .postgresql import PostgreSQLSplitter

        return PostgreSQLSplitter
    from .sqlite import SQLiteSplitter

    return SQLiteSplitter


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
