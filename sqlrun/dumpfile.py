"""``dump``: the target database's schema as a SQL file that code review can read (issue #16).

The text comes from the catalogs through the connection sqlrun already has (``sqlrun.dumpsql``), never
from pg_dump or mysqldump, and it is deterministic: no timestamp, no database name, so the file changes
only when the schema does. (Not ``sqlrun/dump.py``: importing it would bind ``sqlrun.dump`` to the module,
hiding the library function of that name.)
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError
from .model import Options

if TYPE_CHECKING:
    from .config import DatabaseURL
    from .report import Reporter

NAMES = {"sqlite": "SQLite", "mysql": "MySQL/MariaDB", "postgresql": "PostgreSQL"}
HEADER = "-- Schema of a {name} database, written by `sqlrun dump` (sqlrun's own tables left out).\n"


def dump(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> str:
    """The schema of the database at ``url`` as SQL that database accepts, read without changing anything."""
    from .dumpsql import dump_sql
    from .report import Reporter as Silent
    from .plan import connect
    from .snapshot import query_of

    # Never created: a dump of a database that does not exist yet is a mistake in the URL, not an empty file.
    db = connect(url, replace(options, create_database=False), reporter or Silent(), readonly=True)
    if db is None or _file_missing(db):
        if db is not None:
            db.close()
        raise ConfigError(f"{url.redacted()}: no such database: check the URL, or apply the scripts first")
    try:
        body = dump_sql(db.kind, query_of(db)).strip("\n")
    finally:
        db.close()
    return HEADER.format(name=NAMES[url.kind]) + (f"\n{body}\n" if body else "")


def _file_missing(db: object) -> bool:
    """A database file that is not there: read-only, SQLite answers with an empty database in memory instead."""
    path = getattr(db, "path", None)
    return isinstance(path, str) and path != ":memory:" and not os.path.exists(path)


def write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, then renamed over it."""
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{target}: the folder {folder} does not exist: create it, or give another path")
    if target.is_file() and target.read_bytes() == text.encode():
        return  # the same schema: leave the file, and its time, alone
    # mkstemp makes the file private (0600); the dump is a project file, readable as the one it replaces.
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
