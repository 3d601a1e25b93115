"""sqlrun: apply numbered SQL scripts to SQLite, MySQL/MariaDB or PostgreSQL, each exactly once.

The library API mirrors the command line::

    import sqlrun
    result = sqlrun.apply("postgresql://app@db/app", directory="data/migrations")

Drivers are imported only when their database is used, so ``import sqlrun`` stays light.
"""

from __future__ import annotations

from os import PathLike

from .errors import (
    ChangedError,
    ConfigError,
    ConnectError,
    DriftError,
    LockLostError,
    LockTimeoutError,
    ReadOnlyError,
    ScriptError,
    SplitError,
    SqlrunError,
    StatementError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Any

    from typing import Iterable, Iterator, TextIO

    from .converge import CheckResult
    from .drift import DriftResult
    from .fanout import Outcome
    from .model import Options, Result, ScriptResult, ScriptStatus
    from .splitter import Statement

__version__ = "0.1.0"
__all__ = [
    "apply", "apply_many", "Outcome", "status", "check", "diff", "dump", "split", "iter_split", "Options", "Result", "ScriptResult", "ScriptStatus", "SqlrunError",
    "StatementError", "ConfigError", "ScriptError", "SplitError", "ChangedError", "ConnectError", "LockTimeoutError",
    "LockLostError", "ReadOnlyError", "DriftError",
    "__version__",
]
_MODEL = frozenset({"Options", "Result", "ScriptResult", "ScriptStatus"})


def __getattr__(name: str) -> Any:
    """The value classes of sqlrun.model, imported on first use: `import sqlrun` loads only the errors."""
    if name in _MODEL:
        from . import model

        return getattr(model, name)
    if name == "Outcome":  # apply_many's value for one database (threading comes with it: not on every start)
        from .fanout import Outcome

        return Outcome
    raise AttributeError(f"module 'sqlrun' has no attribute {name!r}")


def _resolve(url: str | None, directory: str | PathLike[str], **fields: Any):  # noqa: ANN202
    from pathlib import Path

    from .config import resolve_url
    from .model import Options

    database, _ = resolve_url(url)
    return database, Options(directory=Path(directory), **fields)


def apply(
    url: str | None = None,
    directory: str | PathLike[str] = "data/migrations",
    *,
    target: int | None = None,
    dry_run: bool = False,
    wait: float = 0.0,
    create_database: bool = True,
    lock_timeout: float | None = None,
    strict: bool = False,
    reapply_changed: bool = False,
    variables: dict[str, str] | None = None,
    lock: str = "auto",
) -> Result:
    """Apply pending scripts in version order, each exactly once; see docs/operations.md ("Library API").

    ``url`` None means DATABASE_URL, MYSQL_*, PG* from the environment, else ``sqlite:///data/app.db``
    (``.env`` is not read: that is the command line's job). Progress goes to the ``sqlrun`` logger, never to
    stdout. Raises a ``SqlrunError`` subclass: StatementError, ConfigError/ScriptError/SplitError,
    ChangedError, ConnectError (``wait`` ran out, or the login is refused) or LockTimeoutError
    (``lock_timeout`` seconds, default an hour, waiting for another runner), LockLostError, ReadOnlyError (a
    replica). ``variables`` turn ``${name}`` placeholders on with these values (see README, "Placeholders").
    ``lock`` is the command line's --lock: auto, session, transaction, table or none.
    """
    from . import runner

    # lock_timeout None keeps model.DEFAULT_LOCK_TIMEOUT (Options' default).
    extra: dict[str, Any] = {} if lock_timeout is None else {"lock_timeout": lock_timeout}
    if variables is not None:
        from .placeholders import resolve

        extra["placeholders"] = resolve([f"{k}={v}" for k, v in variables.items()], {}, {})
    database, opts = _resolve(
        url, directory, target=target, dry_run=dry_run, wait=wait, create_database=create_database,
        strict=strict, reapply_changed=reapply_changed, lock=lock, **extra,
    )
    return runner.apply(database, opts)


def apply_many(
    urls: Iterable[str],
    directory: str | PathLike[str] = "data/migrations",
    *,
    jobs: int | None = None,
    fail_fast: bool = False,
    **options: Any,
) -> list[Outcome]:
    """``apply`` on every database in ``urls``, ``jobs`` at a time (default min(4, count)) in threads of this process.

    Returns one ``Outcome`` per URL, in order: ``.value`` is its Result, or ``.error`` its SqlrunError (nothing
    is raised for one database's failure); ``.exit_code`` is the command line's code for it. ``options`` are
    apply's (target, dry_run, wait, create_database, lock_timeout, strict, reapply_changed). With
    ``fail_fast`` no database is started after the first failure (``.started`` False for those).
    """
    from . import runner
    from .config import parse_url
    from pathlib import Path

    from .fanout import default_jobs, given_targets, run_each
    from .model import Options

    targets = given_targets(list(urls), "urls[{}]", 0)
    opts = Options(directory=Path(directory), **options)  # bad values: one ConfigError now, not one per database
    return run_each(
        targets, lambda t: runner.apply(parse_url(t.url), opts), jobs=default_jobs(len(targets)) if jobs is None else jobs, fail_fast=fail_fast
    )


def status(
    url: str | None = None,
    directory: str | PathLike[str] = "data/migrations",
    *,
    wait: float = 0.0,
    strict: bool = False,
) -> list[ScriptStatus]:
    """Each script's state (applied, pending, changed, failed, missing), changing nothing (not even creating the database)."""
    from . import runner

    database, opts = _resolve(url, directory, wait=wait, strict=strict)
    return runner.status(database, opts)


def check(
    url: str | None = None,
    directory: str | PathLike[str] = "data/migrations",
    *,
    wait: float = 0.0,
) -> CheckResult:
    """Prove that the scripts converge: on a scratch database beside ``url`` (dropped afterwards), apply them,
    run them all again from the top, and report each statement that changed the schema or data, or failed.

    ``result.converges`` is True when nothing did; ``result.findings`` lists the others with file and line.
    """
    from .converge import check as _check

    database, opts = _resolve(url, directory, wait=wait)
    return _check(database, opts)


def diff(
    url: str | None = None,
    directory: str | PathLike[str] = "data/migrations",
    *,
    against: str | PathLike[str] | None = None,
    wait: float = 0.0,
) -> DriftResult:
    """Compare the schema of the database at ``url`` with the one the scripts build on a scratch database beside it
    (dropped afterwards), or, with ``against``, the one that schema file builds.

    ``result.differences`` lists each object added, removed or changed (``Drift``: both definitions);
    ``result.drifted`` is True when there is any; ``result.raise_for_drift()`` raises DriftError then.
    """
    from pathlib import Path

    from .drift import diff as _diff

    database, opts = _resolve(url, directory, wait=wait)
    return _diff(database, opts, against=None if against is None else Path(against))


def dump(url: str | None = None, *, wait: float = 0.0) -> str:
    """The schema of the database at ``url`` as SQL that the same database accepts, read from its catalogs,
    changing nothing: the same schema always gives the same text (see README, "Schema dump").

    Raises ConfigError when the database does not exist, ConnectError when it cannot be reached.
    """
    from .dumpfile import dump as _dump

    database, opts = _resolve(url, "data/migrations", wait=wait)
    return _dump(database, opts)


def split(text: str, dialect: str, *, filename: str | None = None) -> list[Statement]:
    """Split ``text`` into statements the way ``dialect``'s official client does (see sqlrun.splitter)."""
    from .splitter import split as _split

    return _split(text, dialect, filename=filename)


def iter_split(chunks: TextIO | Iterable[str], dialect: str, *, filename: str | None = None) -> Iterator[Statement]:
    """Stream statements from a text file object or an iterable of text chunks (see sqlrun.splitter)."""
    from .splitter import iter_split as _iter_split

    return _iter_split(chunks, dialect, filename=filename)
