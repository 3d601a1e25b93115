"""sqlrun: apply numbered SQL scripts to SQLite, MySQL/MariaDB or PostgreSQL, each exactly once.

The library API mirrors the command line::

    import sqlrun
    result = sqlrun.apply("postgresql://app@db/app", directory="data/migrations")

Drivers are imported only when their database is used, so ``import sqlrun`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    ChangedError,
    ConfigError,
    ConnectError,
    LockTimeoutError,
    ScriptError,
    SplitError,
    SqlrunError,
    StatementError,
)
from .splitter import Statement, iter_split, split

if TYPE_CHECKING:
    from .runner import Result, ScriptStatus

__version__ = "0.1.0"
__all__ = [
    "apply", "status", "split", "iter_split", "Statement", "SqlrunError", "StatementError", "ConfigError",
    "ScriptError", "SplitError", "ChangedError", "ConnectError", "LockTimeoutError", "__version__",
]


def _resolve(url: str | None, directory: str, options: dict[str, Any]):  # noqa: ANN202
    from pathlib import Path

    from .config import resolve_url
    from .runner import Options

    database, _ = resolve_url(url)
    return database, Options(directory=Path(directory), **options)


def apply(url: str | None = None, directory: str = "data/migrations", **options: Any) -> Result:
    """Apply pending scripts; ``options`` are runner.Options fields (target, lock_timeout, wait, dry_run...)."""
    from . import runner

    database, opts = _resolve(url, directory, options)
    return runner.apply(database, opts)


def status(url: str | None = None, directory: str = "data/migrations", **options: Any) -> list[ScriptStatus]:
    """Each script's state (applied, pending, changed, failed, missing), changing nothing."""
    from . import runner

    database, opts = _resolve(url, directory, options)
    return runner.status(database, opts)
