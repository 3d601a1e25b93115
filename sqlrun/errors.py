"""Exceptions raised by sqlrun: one base class, one subclass per meaning, each with its exit code."""

from __future__ import annotations


class SqlrunError(Exception):
    """Base of every error sqlrun raises on purpose; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class StatementError(SqlrunError):
    """A statement in a script failed with an error that is not tolerated."""

    exit_code = 1


class ConfigError(SqlrunError):
    """Bad usage or configuration: unknown URL scheme, missing directory, unreadable script..."""

    exit_code = 2


class ScriptError(ConfigError):
    """A script cannot be read or split (bad encoding, unterminated quote, duplicate version)."""


class SplitError(ScriptError):
    """A script cannot be cut into statements; names the file, line and column where the problem opened."""

    def __init__(self, message: str, *, filename: str | None = None, line: int = 0, column: int = 0) -> None:
        self.filename = filename
        self.line = line
        self.column = column
        self.reason = message
        where = f"{filename or '<string>'}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class ChangedError(SqlrunError):
    """Applied scripts were edited or removed since they ran; ``repair`` or ``--reapply-changed`` decide."""

    exit_code = 3


class DriftError(SqlrunError):
    """The live database's schema differs from the one the scripts (or a schema file) build: ``diff`` lists how."""

    exit_code = 3  # the code of ChangedError: "the database and the scripts disagree", whichever side moved


class ConnectError(SqlrunError):
    """The database cannot be reached or refuses the login; ``retryable`` is False when waiting cannot help."""

    exit_code = 4

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Interrupted(SqlrunError):
    """The run was interrupted (Ctrl-C, SIGINT); the message says which scripts were applied and what state was left."""

    exit_code = 130  # 128 + SIGINT, what a shell reports for a process a Ctrl-C ended


class LockTimeoutError(SqlrunError):
    """Another runner held the migration lock for longer than ``--lock-timeout``."""

    exit_code = 5


class LockWaitError(StatementError):
    """A script statement waited longer than ``--lock-wait`` for another session's lock, on every retry."""

    exit_code = 1


class ConnectionLostError(ConnectError):
    """The working connection died during a run; the message names the script, the server's reason and the state left."""

    exit_code = 4

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class LockLostError(SqlrunError):
    """The migration lock was lost while the run held it (a lease taken over, a lock connection gone)."""

    exit_code = 5


READ_ONLY_ADVICE = "this is a read-only replica (hot standby); point --database-url at the primary"


class ReadOnlyError(SqlrunError):
    """The target accepts no writes (a replica, a standby, a read-only session); apply, repair and baseline stop."""

    exit_code = 6

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{READ_ONLY_ADVICE} ({reason})")
