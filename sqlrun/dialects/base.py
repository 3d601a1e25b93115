"""The interface every database implements; the runner owns the logic, a dialect only knows its database."""

from __future__ import annotations

import _weakref  # the builtin behind weakref: its ref without weakref's ~0.8 ms import, paid by every start
import os
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from datetime import datetime, timezone

from ..config import DatabaseURL
from ..errors import ConfigError, ConnectError, LockTimeoutError
from ..values import value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:  # only for annotations: the splitter is not needed to read the history
    from typing import Any, Callable, Iterator, Sequence

    from ..intent import Name
    from ..splitter import Statement
    from .lease import LeaseDriver
    from .faults import Fault

    Notify = Callable[[str], None]

HISTORY_TABLE = "sqlrun_history"
# Repeatable scripts (R__name.sql) keep their rows apart, in a table of the same shape keyed by a number
# derived from the name: an older sqlrun, which reads only sqlrun_history, never sees them.
REPEATABLE_TABLE = "sqlrun_repeatable"
# Every session still open in this process, so that a Ctrl-C in a fan-out can stop the statements its
# worker threads are running (the signal reaches only the main thread). By id, each held weakly: an entry
# goes with its session.
_OPEN: dict[int, _weakref.ReferenceType[Database]] = {}
HISTORY_COLUMNS = (
    "version", "name", "file", "checksum", "state", "applied_at", "duration_ms",
    "statements", "tolerated", "applied_by", "previous_checksum", "checksum_replaced_at",
)
# How often a waiting runner says what it waits for.
WAIT_NOTICE_SECONDS = 5.0



@value
class HistoryRow:
    """One row of ``sqlrun_history``: what was applied, when, by whom, and how it went."""

    version: int
    name: str
    file: str
    checksum: str
    state: str  # "applied" or "failed" (any other value was not written by sqlrun: see runner.statuses)
    applied_at: datetime | str  # str: a value written by hand that is not a time, kept as it is
    duration_ms: int = 0
    statements: int = 0
    tolerated: int = 0
    applied_by: str = ""
    previous_checksum: str | None = None
    checksum_replaced_at: datetime | None = None

    def values(self) -> tuple[Any, ...]:
        """The row's values in HISTORY_COLUMNS order."""
        return tuple(getattr(self, c) for c in HISTORY_COLUMNS)


@value
class LockChoice:
    """The lock a run takes: ``mode`` is session, transaction, table or none; ``why`` says what chose it."""

    mode: str
    why: str
    warning: str = ""  # said before taking it: the user chose a lock that does not hold here


@value
class BatchOutcome:
    """How far a batch got: ``done`` statements ran; ``error`` is what stopped the next one, if anything did.

    ``committed`` is True when the batch also wrote the history row it was given and committed. An error
    with ``done`` equal to the batch's length means every statement ran and the row or the COMMIT failed.
    """

    done: int
    error: BaseException | None = None
    committed: bool = False
    #: the connection dropped while the batch's COMMIT may have been running: whether it committed is unknown
    uncertain: bool = False
    #: False when ``done`` is not known to point at the failed statement (it is somewhere in the batch)
    located: bool = True


@value
class Blocker:
    """A session holding a lock that a script statement waits for, as the server describes it."""

    session: str  # the server's id for it: a PostgreSQL pid, a MySQL connection id
    user: str
    client: str  # application_name, or the client's host
    state: str
    since: str  # when its transaction (or query) started, or for how long it has been in its state
    query: str  # its current or last query, shortened
    wanted: str = ""  # the lock the working session waits for, when the server says (a table and a lock mode)

    def __str__(self) -> str:
        query = " ".join(self.query.split())[:100]
        return f"session {self.session} (user {self.user}, {self.client}, {self.state}, {self.since}){': ' + query if query else ''}"


class LockProbe:
    """Looks, on a connection of its own, for the sessions that block the working session; used from another thread."""

    def blockers(self) -> tuple[Blocker, ...]:
        """The sessions holding what the working session waits for now (empty when it waits for nothing)."""
        return ()

    def close(self) -> None:
        """Close the probe's connection (idempotent)."""


KNOWN_STATES = ("applied", "failed")


def as_time(value: object) -> datetime | str | None:
    """A timestamp read back from the history: a datetime, or (written by hand, unparsable) the text as it is."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(timezone.utc)


def client_host() -> str:
    """This machine's name (a container's id in docker), recorded in applied_by."""
    return os.uname().nodename  # what socket.gethostname() returns, without importing socket


class Database(ABC):
    """An open session on one target database, plus the SQL and error codes that are particular to it."""

    kind: str = ""
    #: DDL ends the transaction on the server (MySQL's implicit commit): a failed script may have left
    #: committed changes behind even in "one transaction", so it is recorded as failed, and its own
    #: BEGIN/COMMIT are sent as written rather than absorbed into a transaction that cannot hold DDL.
    ddl_commits_implicitly: bool = False
    #: a big first script may be split while its batches run (see runner._checked_while_running): DDL is
    #: transactional, and a batch is one round trip, waited for without the GIL. Not SQLite: one call per
    #: statement would hand the GIL back and forth with the splitting thread (3.5x slower, measured).
    split_while_running: bool = False
    #: statements sent per round trip on the fast path; 1 disables batching
    batch_statements: int = 1
    #: the migration lock is taken inside each script's transaction by begin() (behind a transaction pooler):
    #: the runner then reads the script's history row again in that transaction before running it
    locks_each_script: bool = False
    #: the session lock is taken on the working connection itself (one connection per runner)
    locks_working_connection: bool = False
    batch_bytes: int = 1 << 20
    #: some statements take effect only outside a transaction (see ``outside_transaction``)
    has_outside_statements: bool = False

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url
        self.table = HISTORY_TABLE
        self.interrupted = False  # set by interrupt(): the runner sends nothing more
        key = id(self)
        _OPEN[key] = _weakref.ref(self, lambda _, key=key: _OPEN.pop(key, None))

    @contextmanager
    def ledger(self, table: str) -> Iterator[None]:
        """Read and write history rows in ``table`` for a while (REPEATABLE_TABLE for repeatable scripts)."""
        saved = self.table
        self.table = table
        self._table_changed()
        try:
            yield
        finally:
            self.table = saved
            self._table_changed()

    def _table_changed(self) -> None:
        """Hook: a dialect that caches the history table's qualified name computes it again."""

    # --- connection -------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def open(cls, url: DatabaseURL, *, create: bool, readonly: bool, notify: Notify) -> Database | None:
        """Connect to ``url``, creating the database when ``create`` allows; None when ``readonly`` and it does not exist."""

    @abstractmethod
    def close(self) -> None:
        """Close the session (idempotent)."""

    def interrupt(self) -> None:
        """From another thread: stop the statement this session runs, and the runner from sending more (Ctrl-C)."""
        self.interrupted = True
        self._stop_statement()

    def _stop_statement(self) -> None:
        """Hook: make the running statement fail, so that its transaction cannot commit."""

    @abstractmethod
    def whoami(self) -> str:
        """The database user and this client's host, for applied_by."""

    # --- history ----------------------------------------------------------------------------------
    @abstractmethod
    def read_history(self) -> dict[int, HistoryRow]:
        """Every history row by version; empty when the table does not exist yet."""

    @abstractmethod
    def ensure_history(self) -> None:
        """Create the history table if it is missing (called under the lock)."""

    @abstractmethod
    def write_history(self, row: HistoryRow) -> None:
        """Insert or replace the row for ``row.version`` (inside the current transaction, if any)."""

    def commit_with_history(self, row: HistoryRow) -> None:
        """Write ``row`` and commit; dialects override it to do both in one round trip."""
        self.write_history(row)
        self.commit()

    # --- transactions and statements --------------------------------------------------------------
    @abstractmethod
    def begin(self, transactional: bool) -> None:
        """Start a script: one transaction, or autocommit when ``transactional`` is False."""

    @abstractmethod
    def commit(self) -> None:
        """Commit the script's transaction (no-op in autocommit)."""

    @abstractmethod
    def rollback(self) -> None:
        """Roll back the script's transaction, leaving the session usable."""

    def outside_transaction(self, statement: Statement) -> str | None:
        """Why ``statement`` takes effect only outside a transaction (SQLite's PRAGMA foreign_keys), else None."""
        return None

    def runs_alone(self, statement: Statement) -> bool:
        """Whether ``statement`` needs a round trip of its own (a COPY, which has a protocol of its own)."""
        return statement.copy_data is not None

    @abstractmethod
    def run_batch(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> BatchOutcome:
        """Run statements in order until one fails; that one's effects must be undone, earlier ones kept.

        ``finish`` is the script's history row, given with its last batch: a dialect may write it and commit
        in the same round trip once every statement succeeded (``BatchOutcome.committed``), taking
        ``applied_at`` and ``duration_ms`` from the server's clock, since the row is written before the
        client sees the batch end. A dialect that ignores it leaves the commit to ``commit_with_history``.
        """

    # --- what an error means, and the catalog look-ups that prove a statement in place (error path only) ---
    @abstractmethod
    def fault(self, error: BaseException) -> Fault:
        """What ``error`` says: which object exists or is missing, a duplicate key, or something else."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple] | None:
        """Rows of a read-only query inside the script's transaction; None when it fails (and nothing of it is kept)."""

    @abstractmethod
    def probe(self, kind: str, name: Name, table: Name | None = None) -> bool | None:
        """Whether an object of ``kind`` (table, view, sequence, index, constraint) named ``name`` exists; None: cannot tell."""

    @abstractmethod
    def columns(self, table: Name) -> list[str]:
        """The table's column names in order (empty when it does not exist)."""

    @abstractmethod
    def quote(self, ident: str) -> str:
        """``ident`` as a quoted identifier."""

    @abstractmethod
    def null_safe_equal(self, left: str, right: str) -> str:
        """SQL that is true when the two expressions are equal or both NULL."""

    @abstractmethod
    def describe(self, error: BaseException) -> str:
        """The database's own message for ``error``, with its code."""

    def after_script(self, used_use: bool) -> None:
        """Undo session changes a script may leave behind that would misdirect the next one.

        Dialects restore the session's initial state before the next script's first statement (in the
        same round trip where they can), as if each script were run by a client of its own.
        """

    def set_lock_wait(self, seconds: float) -> None:
        """Make every later script statement give up after waiting ``seconds`` for a lock (0: no limit)."""

    def lock_waited(self, error: BaseException) -> bool:
        """Whether ``error`` is a statement giving up on another session's lock (after ``set_lock_wait``)."""
        return False

    def lock_probe(self) -> LockProbe | None:
        """A probe naming the sessions the working session waits for; None when the database has none."""
        return None

    def connection_lost(self, error: BaseException) -> bool:
        """Whether ``error`` means the working connection is gone (the server ended it, or the network did)."""
        return False

    # --- what the target is ------------------------------------------------------------------------
    def read_only(self) -> str | None:
        """Why this target accepts no writes (a replica, a standby, a read-only session), or None."""
        return None

    # --- lock -------------------------------------------------------------------------------------
    def choose_lock(self, mode: str) -> LockChoice:
        """The lock ``mode`` (--lock) means here; dialects override it to choose for ``auto`` or refuse a mode."""
        if mode == "auto":
            return LockChoice("session", "an advisory lock on a connection of its own")
        if mode == "transaction":
            raise ConfigError(
                f"--lock=transaction is not available on {self.kind}: its DDL is not transactional or it has no "
                "transaction-scoped lock; use --lock=session or --lock=table"
            )
        return LockChoice(mode, "--lock")

    def lease_driver(self) -> LeaseDriver:
        """How the lease lock (``--lock=table``, sqlrun/dialects/lease.py) reaches this database."""
        raise ConfigError(f"--lock=table is not available on {self.kind}")

    @abstractmethod
    def lock_name(self) -> str:
        """What the lock is called, for messages."""

    @abstractmethod
    def try_lock(self) -> bool:
        """Try once to take the migration lock on a dedicated connection; True when taken."""

    @abstractmethod
    def unlock(self) -> None:
        """Release the migration lock and close its connection."""

    def check_lock(self) -> None:
        """Raise LockLostError when the session lock is no longer held (its connection dropped); cheap."""

    def try_fence(self) -> bool:
        """Try once to take the working session's own lock (see ``lock``); True when taken or not needed."""
        return True

    def lock(self, timeout: float, notify: Notify) -> None:
        """Take the migration lock, saying what it waits for every few seconds; LockTimeoutError after ``timeout``.

        Then take a second lock on the working session. The server frees a killed runner's migration lock
        as soon as its lock connection drops, but its working session may still be finishing a statement or
        a COMMIT on the server; that session holds this second lock until it really ends, so waiting for it
        keeps a new runner from reading the history (or re-running a script) before the dead one is done.
        """
        start = time.monotonic()
        name = self.lock_name()
        held = f"another sqlrun held the lock {name} for {timeout:.0f}s"
        self._wait(self.try_lock, start, timeout, notify, f"the migration lock {name} held by another runner", held)
        ending = f"the session of a stopped runner was still working on the server after {timeout:.0f}s"
        self._wait(self.try_fence, start, timeout, notify, "the session of a stopped runner to end on the server", ending)

    def _wait(self, attempt: Callable[[], bool], start: float, timeout: float, notify: Notify, what: str, failure: str) -> None:
        wait_for(attempt, start, timeout, notify, what, failure)


def wait_for(attempt: Callable[[], bool], start: float, timeout: float, notify: Notify, what: str, failure: str) -> None:
    """Call ``attempt`` until True, backing off, saying what it waits for; LockTimeoutError(failure) after ``timeout``."""
    next_notice = start + WAIT_NOTICE_SECONDS
    delay = 0.05
    while not attempt():
        now = time.monotonic()
        if now - start >= timeout:
            raise LockTimeoutError(f"{failure}; wait for it to finish, or raise --lock-timeout")
        if now >= next_notice:
            notify(f"waiting for {what} ({now - start:.0f}s)")
            next_notice = now + WAIT_NOTICE_SECONDS
        time.sleep(min(delay, max(0.0, timeout - (now - start))))
        delay = min(delay * 2, 0.5)


def cannot_create_history(table: str, error: object) -> ConfigError:
    """The error for a history table this user may not create (a read-only login, say)."""
    return ConfigError(
        f"cannot create the history table {table}: {error}; grant this user CREATE on the database, "
        "or have an administrator create the table once"
    )


def bad_shape(table: str, error: object) -> ConfigError:
    """The error for a history table that exists with columns sqlrun does not know."""
    return ConfigError(
        f"table {table} exists but does not have sqlrun's columns ({error}); "
        "it may belong to another tool: rename it, or point sqlrun at another database"
    )


def connect_error(url: DatabaseURL, message: str, *, retryable: bool = True) -> ConnectError:
    """A ConnectError naming the redacted URL; ``retryable`` False when waiting for the server cannot help."""
    return ConnectError(f"cannot connect to {url.redacted()}: {message}", retryable=retryable)


def interrupt_all() -> None:
    """Stop the statement every open session of this process is running (Ctrl-C in a fan-out)."""
    for ref in list(_OPEN.values()):
        db = ref()
        if db is None:
            continue
        try:
            db.interrupt()
        except Exception:  # noqa: BLE001 - a session that cannot be reached ends with the process anyway
            pass
