"""One small module per database; each is imported only when its database is used (drivers are heavy)."""

from __future__ import annotations

from ..config import DatabaseURL
from .base import Database, HistoryRow

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from .base import Notify

__all__ = ["Database", "HistoryRow", "open_database"]


def open_database(url: DatabaseURL, *, create: bool = True, readonly: bool = False, notify: Notify) -> Database | None:
    """Connect to ``url``; None when ``readonly`` and the database does not exist yet (nothing is applied there)."""
    if url.kind == "sqlite":
        from .sqlite import SQLiteDatabase as cls
    elif url.kind == "postgresql":
        from .postgresql import PostgreSQLDatabase as cls  # type: ignore[assignment]
    else:
        from .mysql import MySQLDatabase as cls  # type: ignore[assignment]
    return cls.open(url, create=create, readonly=readonly, notify=notify)
