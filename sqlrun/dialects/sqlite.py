"""SQLite through the standard library: one file, a flock() on it as the migration lock."""

from __future__ import annotations

import functools
import os
import sqlite3
import time
import _thread  # the builtin behind threading: its lock without threading's ~3 ms import
from datetime import datetime

from ..config import DatabaseURL
from ..errors import ConfigError
from .base import HISTORY_COLUMNS, BatchOutcome, as_time, Database, HistoryRow, bad_shape, cannot_create_history, client_host, connect_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:  # only for annotations: the splitter is not needed to read the history
    import re
    from typing import Any, Sequence

    from ..intent import Name
    from ..splitter import Statement
    from .base import Notify
    from .lease import LeaseDriver
    from .faults import Fault

CREATE_HISTORY = """CREATE TABLE IF NOT EXISTS main.{table} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    checksum TEXT NOT NULL,
    state TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    statements INTEGER NOT NULL,
    tolerated INTEGER NOT NULL,
    applied_by TEXT NOT NULL,
    previous_checksum TEXT,
    checksum_replaced_at TEXT
)"""
SELECT_HISTORY = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM main.{{table}}"
INSERT_HISTORY = f"INSERT INTO main.{{table}} ({', '.join(HISTORY_COLUMNS)}) VALUES ({', '.join('?' * len(HISTORY_COLUMNS))})"

BUSY_TIMEOUT = 30.0
# SQLite runs a statement inside one C call, where Python cannot act on a Ctrl-C until it returns (a long
# statement: minutes of an ignored Ctrl-C). A progress handler calls back into Python every this many
# virtual machine steps (~1 ms); the callback lets Python run its SIGINT handler, whose KeyboardInterrupt
# aborts the statement as "interrupted".
PROGRESS_STEPS = 100_000
# PRAGMAs that SQLite silently ignores (foreign_keys) or refuses (synchronous, journal_mode) inside a
# transaction (pragma.c); the sqlite3 shell runs them in autocommit, where they take effect.


@functools.cache
def _outside_pragma() -> re.Pattern[str]:
    """The PRAGMAs SQLite ignores or refuses in a transaction; compiled on first use (a no-op start never needs re)."""
    import re

    return re.compile(r"PRAGMA\s+(?:\w+\s*\.\s*)?(foreign_keys|synchronous|journal_mode)\s*[=(]", re.IGNORECASE)
# Connection settings a script may change and the next one would inherit (PRAGMA foreign_keys is a no-op
# inside a transaction, but a no-transaction script's sticks); read at the first script, restored before each.
SESSION_PRAGMAS = ("foreign_keys", "recursive_triggers", "legacy_alter_table")
# While sqlrun itself waits for another connection's write lock (see _with_write_lock), each attempt waits
# only this long inside SQLite, so that the wait can say what it waits for and end at --lock-timeout.
BUSY_POLL_MS = 200
# Closing any descriptor of a file drops every POSIX lock the process holds on it (fcntl(2)), SQLite's own
# included: a session of the app, or of this process, would lose its locks mid-transaction. So the flock
# descriptor of each file stays open for the life of the process and is only ever unlocked.
_LOCK_FDS: dict[tuple[int, int], int] = {}
_LOCKS_HELD: set[tuple[int, int]] = set()
_LOCK_GUARD = _thread.allocate_lock()


class SQLiteDatabase(Database):
    """A session on a SQLite file (or ``:memory:``)."""

    kind = "sqlite"
    has_outside_statements = True
    # No round trip to save, but the runner's work per batch (the lock watch, the interrupt and tolerance
    # checks) is paid per statement at 1: 100,000 INSERTs spent ~10% of their CPU there.
    batch_statements = 500

    def __init__(self, url: DatabaseURL, conn: sqlite3.Connection, path: str | None) -> None:
        super().__init__(url)
        self.conn = conn
        self.path = path
        self._lock_key: tuple[int, int] | None = None
        self._initial: list[str] | None = None  # PRAGMAs that put SESSION_PRAGMAS back as they were at the first script
        self._reset = False
        self._lock_wait: tuple[float, Notify] = (BUSY_TIMEOUT, lambda _: None)
        conn.set_progress_handler(_keep_going, PROGRESS_STEPS)

    @classmethod
    def open(cls, url: DatabaseURL, *, create: bool, readonly: bool, notify: Notify) -> SQLiteDatabase:
        """Open the file; a missing file is created (with its folder) unless ``readonly`` or not ``create``."""
        path = url.database or ":memory:"
        if path == ":memory:":
            return cls(url, sqlite3.connect(":memory:", isolation_level=None), None)
        exists = os.path.exists(path)
        if not exists and readonly:
            return cls(url, sqlite3.connect(":memory:", isolation_level=None), path)
        if not exists and not create:
            raise connect_error(url, f"database file {path} does not exist (and --no-create-database was given)", retryable=False)
        if exists and not readonly:
            _check_writable(path)
        try:
            if not exists:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            target = f"file:{path}?mode=ro" if readonly else path
            conn = sqlite3.connect(target, uri=readonly, isolation_level=None, timeout=BUSY_TIMEOUT)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        except (sqlite3.Error, OSError) as exc:
            raise connect_error(url, f"{exc}; check the path and its permissions") from None
        if not exists:
            notify(f"created database file {path}")
        return cls(url, conn, path)

    def close(self) -> None:
        self.unlock()
        self.conn.close()

    def _stop_statement(self) -> None:
        self.conn.interrupt()

    def whoami(self) -> str:
        return f"{os.environ.get('USER') or os.getuid()}@{client_host()}"

    # --- history ----------------------------------------------------------------------------------
    def read_history(self) -> dict[int, HistoryRow]:
        try:
            rows = self.conn.execute(SELECT_HISTORY.format(table=self.table)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return {}
            raise bad_shape(self.table, exc) from None
        return {r[0]: _row(r) for r in rows}

    def ensure_history(self) -> None:
        try:
            self._with_write_lock(CREATE_HISTORY.format(table=self.table))
        except sqlite3.Error as exc:
            raise cannot_create_history(self.table, exc) from None

    def write_history(self, row: HistoryRow) -> None:
        values = list(row.values())
        values[5] = _iso(row.applied_at)
        values[11] = _iso(row.checksum_replaced_at)
        self.conn.execute(f"DELETE FROM main.{self.table} WHERE version = ?", (row.version,))
        self.conn.execute(INSERT_HISTORY.format(table=self.table), values)

    # --- statements -------------------------------------------------------------------------------
    def begin(self, transactional: bool) -> None:
        if self._initial is None:
            self._initial = [f"PRAGMA {p} = {self.conn.execute(f'PRAGMA {p}').fetchone()[0]}" for p in SESSION_PRAGMAS]
        elif self._reset:
            for pragma in self._initial:
                self.conn.execute(pragma)
        self._reset = False
        if transactional:
            self._with_write_lock("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.conn.in_transaction:
            # In rollback-journal mode COMMIT waits for readers to finish; a busy COMMIT keeps the transaction.
            self._with_write_lock("COMMIT")

    def _with_write_lock(self, sql: str) -> None:
        """Run ``sql``, which needs the file's write lock, waiting for another connection's with notices.

        "database is locked" used to come after 30 silent seconds as an unexpected error: now the wait says
        every few seconds what it waits for, like a wait for the migration lock, and ends with exit 5 after
        --lock-timeout.
        """
        timeout, notify = self._lock_wait
        previous = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self.conn.execute(f"PRAGMA busy_timeout = {min(BUSY_POLL_MS, int(timeout * 1000))}")
        try:
            self._wait(
                lambda: self._try(sql), time.monotonic(), timeout, notify,
                f"another connection's write lock on {self.path} (SQLite: database is locked)",
                f"another connection held a write lock on {self.path} (SQLite: database is locked) for {timeout:.0f}s",
            )
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {previous}")

    def _try(self, sql: str) -> bool:
        try:
            self.conn.execute(sql)
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return False
            raise
        return True

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def after_script(self, used_use: bool) -> None:
        self._reset = True

    def outside_transaction(self, statement: Statement) -> str | None:
        text = statement.text
        if text[0] not in "pP":
            return None
        m = _outside_pragma().match(text)
        return f"SQLite ignores or refuses PRAGMA {m.group(1).lower()} inside a transaction" if m else None

    def run_batch(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> BatchOutcome:
        # In-process: there is no round trip to save (``finish`` is left to commit_with_history), and
        # SQLite undoes a failed statement by itself.
        execute = self.conn.execute
        for done, stmt in enumerate(statements):
            try:
                execute(stmt.text).close()
            except sqlite3.Error as exc:
                if str(exc) == "interrupted" and not self.interrupted:
                    raise KeyboardInterrupt from None  # the Ctrl-C the progress handler let through
                return BatchOutcome(done, exc)
        return BatchOutcome(len(statements))

    def fault(self, error: BaseException) -> Fault:
        from .faults import sqlite_fault

        return sqlite_fault(error)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple] | None:
        try:
            return self.conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error:
            return None

    def probe(self, kind: str, name: Name, table: Name | None = None) -> bool | None:
        if kind not in ("table", "view", "index", "trigger"):
            return None
        rows = self.query("SELECT type, tbl_name FROM sqlite_master WHERE name = ? COLLATE NOCASE", (name.last,))
        if rows is None:
            return None
        return any(r[0] == kind and (table is None or r[1].lower() == table.last.lower()) for r in rows)

    def columns(self, table: Name) -> list[str]:
        return [r[1] for r in self.query(f"PRAGMA table_info({self.quote(table.last)})") or []]

    def quote(self, ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'

    def null_safe_equal(self, left: str, right: str) -> str:
        return f"{left} IS {right}"

    def describe(self, error: BaseException) -> str:
        name = getattr(error, "sqlite_errorname", None)
        return f"{error} ({name})" if name else str(error)

    # --- lock -------------------------------------------------------------------------------------
    def lease_driver(self) -> LeaseDriver:
        # The lease works on SQLite too (--lock=table), but a script's write transaction blocks its renewal
        # for as long as the script runs: flock (session) is the lock to use here.
        from .lease import LOCK_TABLE, LeaseDriver

        path = self.path or ":memory:"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False)

        def conflict(error: BaseException) -> bool:
            return isinstance(error, sqlite3.IntegrityError)

        return LeaseDriver(connect, f"main.{LOCK_TABLE}", conflict, (sqlite3.Error,), placeholder="?")

    def lock_name(self) -> str:
        return f"flock({self.path})"

    def lock(self, timeout: float, notify: Notify) -> None:
        """The flock; waits for another connection's write lock then honour the same timeout and notices."""
        self._lock_wait = (timeout, notify)
        super().lock(timeout, notify)

    def try_lock(self) -> bool:
        # flock() locks belong to the open file description, so they neither clash with SQLite's own POSIX
        # byte-range locks nor vanish when SQLite closes another descriptor of the file; the kernel drops
        # them when the process dies, and they work across containers that share the file.
        if self.path is None or self._lock_key is not None:
            return True
        import fcntl

        st = os.stat(self.path)
        key = (st.st_dev, st.st_ino)
        with _LOCK_GUARD:
            if key in _LOCKS_HELD:  # another session of this process: flock alone would let it share the lock
                return False
            fd = _LOCK_FDS.get(key)
            if fd is None:
                fd = _LOCK_FDS[key] = os.open(self.path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            _LOCKS_HELD.add(key)
        self._lock_key = key
        return True

    def unlock(self) -> None:
        if self._lock_key is not None:
            import fcntl

            with _LOCK_GUARD:
                fcntl.flock(_LOCK_FDS[self._lock_key], fcntl.LOCK_UN)
                _LOCKS_HELD.discard(self._lock_key)
            self._lock_key = None


def _keep_going() -> int:
    """The progress handler: 0 (go on); calling it is what matters (see PROGRESS_STEPS)."""
    return 0


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (and its extended codes): another connection holds the lock this statement needs."""
    name = getattr(error, "sqlite_errorname", None)
    return name.startswith("SQLITE_BUSY") if name else "database is locked" in str(error)


def _check_writable(path: str) -> None:
    """Refuse a file (or folder) this user cannot write: SQLite would report it as the first statement's failure."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(path, os.W_OK):
        raise ConfigError(f"database file {path} is read-only for this user: sqlrun must write to it; fix its permissions or owner")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the folder {folder} of database file {path} is read-only for this user, and SQLite writes its journal "
            "next to the file: make the folder writable"
        )


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def _row(r: tuple) -> HistoryRow:
    return HistoryRow(r[0], r[1], r[2], r[3], r[4], as_time(r[5]) or "", r[6], r[7], r[8], r[9], r[10], as_time(r[11]))  # type: ignore[arg-type]

