"""PostgreSQL through psycopg 3: transactional scripts, savepoint-guarded batches, a session advisory lock."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

import psycopg
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus

from ..config import DatabaseURL
from ..errors import ConnectError, LockLostError, ReadOnlyError
from .base import (
    HISTORY_COLUMNS, HISTORY_TABLE, BatchOutcome, Blocker, Database, HistoryRow, LockChoice, LockProbe, bad_shape, cannot_create_history,
    client_host, connect_error,
)

_T = TypeVar("_T")

if TYPE_CHECKING:  # only for annotations: the splitter is not needed to read the history
    from ..intent import Name
    from ..splitter import Statement
    from .base import Notify
    from .faults import Fault
    from .lease import LeaseDriver

CREATE_HISTORY = """CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    checksum TEXT NOT NULL,
    state TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    duration_ms INTEGER NOT NULL,
    statements INTEGER NOT NULL,
    tolerated INTEGER NOT NULL,
    applied_by TEXT NOT NULL,
    previous_checksum TEXT,
    checksum_replaced_at TIMESTAMPTZ
)"""

# Catalog look-ups, made only after an error, to prove a statement in place.
PROBE_RELATION = "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)"
RELATION_KINDS = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "view", "S": "sequence", "i": "index", "I": "index"}
PROBE_CONSTRAINT = "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)"
PROBE_INDEX_ON = "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(%s) AND indrelid = to_regclass(%s)"
TABLE_COLUMNS = "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
PROBE_SAVEPOINT = "sqlrun_probe"
NOT_IN_TRANSACTION = "25001"  # active_sql_transaction: CREATE INDEX CONCURRENTLY, CREATE DATABASE, VACUUM...
DEFAULT_CONNECT_TIMEOUT = "10"
MAINTENANCE_DATABASES = ("postgres", "template1")
# admin_shutdown, crash_shutdown, cannot_connect_now and the connection_exception class: the session is gone.
LOST_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006"}
# What a fresh session has (RESET ALL goes back to the values set at connection start, from the URL's
# options or PGOPTIONS included); DISCARD ALL would also release the advisory locks. Sent outside the
# script's transaction, in front of its BEGIN.
RESET_SESSION = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; "
LOCK_NOT_AVAILABLE = "55P03"  # what lock_timeout raises
# The sessions the working session waits for, as pg_stat_activity describes them.
BLOCKERS = """SELECT pid, usename, coalesce(nullif(application_name, ''), client_addr::text, 'local'), state,
    to_char(coalesce(xact_start, query_start), 'YYYY-MM-DD HH24:MI:SS TZ'), left(query, 200)
FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids(%s)) ORDER BY xact_start"""
WANTED = "SELECT coalesce(relation::regclass::text, locktype), mode FROM pg_locks WHERE pid = %s AND NOT granted LIMIT 1"
POOLER_LOGIN_RETRY = 15  # seconds: PgBouncer's default server_login_retry
SAVEPOINT = "sqlrun_batch"
TRIAL_SAVEPOINT = "sqlrun_trial"
NEXT_SAVEPOINT = f"RELEASE SAVEPOINT {SAVEPOINT}; SAVEPOINT {SAVEPOINT}"
# A script's time on the server: from its transaction's start (its first batch) to its history row.
SERVER_DURATION_MS = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer"


def connect_kwargs(url: DatabaseURL, database: str | None = None) -> dict[str, Any]:
    """libpq keyword arguments for ``url`` (never a DSN string, so no password can leak into a message)."""
    kwargs: dict[str, Any] = {"connect_timeout": DEFAULT_CONNECT_TIMEOUT, **url.options}
    host: str | None = url.host
    port: object = url.port
    if url.hosts:  # libpq's multi-host form: comma-separated lists, an empty port meaning the default
        host = ",".join(h for h, _ in url.hosts)
        port = ",".join(str(p or "") for _, p in url.hosts)
    for key, value in (("host", host), ("port", port), ("user", url.user), ("password", url.password)):
        if value is not None:
            kwargs[key] = value
    dbname = database or url.database
    if dbname:
        kwargs["dbname"] = dbname
    return kwargs


def _connect(url: DatabaseURL, database: str | None = None) -> psycopg.Connection:
    # No server-side prepared statements, ever: behind a transaction pooler (PgBouncer) one prepared on a
    # server connection is met by the next client of that connection (DuplicatePreparedStatement) or is
    # missing on the connection the next transaction lands on (InvalidSqlStatementName). psycopg prepares
    # a query after its 5th execution by default, and polling for the lock repeats one.
    return psycopg.connect(autocommit=True, prepare_threshold=None, **connect_kwargs(url, database))


def database_missing(url: DatabaseURL) -> bool | None:
    """Ask a maintenance database whether the target exists: True/False, or None when that cannot be told."""
    for maintenance in MAINTENANCE_DATABASES:
        try:
            with _connect(url, maintenance) as conn:
                row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone()
                return row is None
        except psycopg.Error:
            continue
    return None


def create_database(url: DatabaseURL) -> bool:
    """CREATE DATABASE from a maintenance database; another runner creating it first is fine.

    True when a pooler stands in between (see PostgreSQLDatabase._probe).
    """
    last: psycopg.Error | None = None
    for maintenance in MAINTENANCE_DATABASES:
        try:
            with _connect(url, maintenance) as conn:
                pooled = conn.execute("SELECT pg_backend_pid()").fetchone()[0] != conn.info.backend_pid
                try:
                    conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(url.database or "")))
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    pass  # two CREATE DATABASE at once: the loser meets the winner's row in pg_database's unique index
                return pooled
        except psycopg.errors.ReadOnlySqlTransaction:
            # A standby cannot create it; "grant CREATEDB" would send the user the wrong way.
            raise ReadOnlyError(f"database {url.database!r} does not exist on {url.redacted()}, and it cannot be created there") from None
        except psycopg.Error as exc:
            last = exc
    raise ConnectError(
        f"database {url.database!r} does not exist on {url.redacted()} and could not be created: {_first_line(last)}; "
        "create it, or grant CREATEDB to this user",
        retryable=False,
    )


def _connect_created(url: DatabaseURL, pooled: bool, notify: Notify) -> psycopg.Connection:
    """Connect to a database just created; through a pooler, wait for it to try the login again."""
    if not pooled:
        return _connect(url)
    # PgBouncer remembers the login that failed while the database was missing and tries the next one only
    # after server_login_retry (15 s by default); meanwhile the client waits in its queue.
    notify("waiting for the pooler to log in to the new database (PgBouncer's server_login_retry, 15s by default)")
    kwargs = {**connect_kwargs(url), "connect_timeout": str(max(int(connect_kwargs(url)["connect_timeout"]), POOLER_LOGIN_RETRY + 10))}
    return psycopg.connect(autocommit=True, prepare_threshold=None, **kwargs)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error else "no maintenance database answered"


class PostgreSQLDatabase(Database):
    """A session on one PostgreSQL database."""

    kind = "postgresql"
    split_while_running = True
    locks_working_connection = True
    # Bigger batches mean fewer round trips (100,000 INSERTs at a 2.4 ms round trip: 1.89 s with 500 per
    # batch, 1.54 s with 2000); finding a failed statement costs about 2 x log2(n) round trips (_locate).
    batch_statements = 2000
    batch_bytes = 1 << 20

    def __init__(self, url: DatabaseURL, conn: psycopg.Connection) -> None:
        super().__init__(url)
        self.conn = conn
        self.in_transaction = False
        self._begin_pending = False  # BEGIN not sent yet: it rides with the first batch (one round trip fewer)
        self._schema: str | None = None
        self._prelude = ""  # session set-up sent in front of the next script's BEGIN (or alone, before it)
        self._lock_wait_sql = ""
        self._locked = False  # the working session holds the session advisory lock
        # No script statement ran on the session since the lock was last seen held: only a script's own
        # statement (DISCARD ALL, pg_advisory_unlock_all) can release a lock held by the working session, so
        # check_lock asks the server only after one, and a script's COMMIT carries the question along with
        # it (no round trip of its own in a run of small scripts).
        self._lock_seen = False
        self._lock_wait: tuple[float, Notify] = (0.0, lambda _: None)
        self._read_only: str | None = None
        self.pooled = self._probe()
        # Behind a pooler the lock is taken inside each script's transaction (lock_script): the one lock a
        # transaction pooler keeps on one server connection; a session lock would stay behind on whichever
        # pooled connection took it, and its unlock could land on another. Correct in session pooling too.
        self.locks_each_script = False  # set by choose_lock

    def _probe(self) -> bool:
        """Note a read-only target; True when a pooler stands between us and the server.

        The backend pid libpq got at login is the server's own; a pooler (PgBouncer, in session and in
        transaction mode alike) hands out one of its own making, so it differs from pg_backend_pid().
        """
        pid, recovery, read_only = self.conn.execute(
            "SELECT pg_backend_pid(), pg_is_in_recovery(), current_setting('transaction_read_only')"
        ).fetchone()
        if recovery:
            self._read_only = "pg_is_in_recovery() is true: a hot standby"
        elif read_only == "on":
            self._read_only = "default_transaction_read_only is on for this user or database"
        self._server_pid = pid
        return pid != self.conn.info.backend_pid

    def read_only(self) -> str | None:
        """Why this target accepts no writes (a hot standby, a read-only default), or None."""
        return self._read_only

    @classmethod
    def open(cls, url: DatabaseURL, *, create: bool, readonly: bool, notify: Notify) -> PostgreSQLDatabase | None:
        """Connect; create the database first when it is missing and ``create`` allows; None when missing and readonly."""
        try:
            return cls(url, _connect(url))
        except psycopg.OperationalError as exc:
            first = exc
        missing = database_missing(url) if url.database else None
        if missing is False:  # another runner created it since the first try (replicas starting together)
            try:
                return cls(url, _connect(url))
            except psycopg.OperationalError as exc:
                first = exc
        if missing:
            if readonly:
                return None
            if not create:
                raise connect_error(
                    url, f"database {url.database!r} does not exist (and --no-create-database was given)", retryable=False
                )
            pooled = create_database(url)
            notify(f"created database {url.database}")
            try:
                return cls(url, _connect_created(url, pooled, notify))
            except psycopg.OperationalError as exc:
                first = exc
        message = _first_line(first).removeprefix("connection failed: ")
        # libpq gives no SQLSTATE for a refused login; its wording is the only signal, used only to stop waiting.
        permanent = any(m in message for m in ("authentication failed", "no pg_hba.conf entry", "does not exist"))
        raise connect_error(url, message, retryable=not permanent)

    def close(self) -> None:
        try:
            self.unlock()
        except psycopg.Error:
            pass  # a lock connection that died took its lock with it; closing must not hide the run's outcome
        self.conn.close()

    def _stop_statement(self) -> None:
        # A cancel request on a connection of its own, as psql sends on Ctrl-C: the statement fails with
        # 57014, and the rest of its round trip (the history row and COMMIT behind the last batch) is skipped.
        if not self.conn.closed:
            self.conn.cancel_safe(timeout=5.0)

    def whoami(self) -> str:
        user = self.conn.execute("SELECT current_user").fetchone()[0]
        return f"{user}@{client_host()}"

    # --- history ----------------------------------------------------------------------------------
    def _table(self) -> pgsql.Composable:
        # Qualified once, so that a script's SET search_path cannot send the history row elsewhere.
        if self._schema is None:
            self._schema = self.conn.execute("SELECT current_schema()").fetchone()[0]
            if self._schema is None:
                raise bad_shape(self.table, RuntimeError("no schema in search_path exists"))
        return pgsql.Identifier(self._schema, self.table)

    def read_history(self) -> dict[int, HistoryRow]:
        query = pgsql.SQL("SELECT {} FROM {}").format(
            pgsql.SQL(", ").join(map(pgsql.Identifier, HISTORY_COLUMNS)),
            self._table() if self._schema else pgsql.Identifier(self.table),
        )
        try:
            rows = self.conn.execute(query).fetchall()
        except psycopg.errors.UndefinedTable:
            self._after_error()
            return {}
        except psycopg.errors.UndefinedColumn as exc:
            self._after_error()
            raise bad_shape(self.table, _first_line(exc)) from None
        return {r[0]: HistoryRow(*r) for r in rows}

    def _after_error(self) -> None:
        if self.in_transaction:
            self.conn.execute("ROLLBACK")
            self.in_transaction = False

    def _create_history(self) -> None:
        try:
            self.conn.execute(pgsql.SQL(CREATE_HISTORY).format(table=self._table()))
        except psycopg.Error as exc:
            if self.connection_lost(exc):
                raise  # not a permission problem: the runner reports a lost connection
            raise cannot_create_history(self.table, _first_line(exc)) from None

    def write_history(self, row: HistoryRow) -> None:
        self._start()
        table = self._table()
        self.conn.execute(pgsql.SQL("DELETE FROM {} WHERE version = %s").format(table), (row.version,))
        insert = pgsql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table,
            pgsql.SQL(", ").join(map(pgsql.Identifier, HISTORY_COLUMNS)),
            pgsql.SQL(", ").join(pgsql.Placeholder() * len(HISTORY_COLUMNS)),
        )
        self.conn.execute(insert, row.values())

    def commit_with_history(self, row: HistoryRow) -> None:
        if not self.in_transaction:
            # A no-transaction script's SETs are still in force: its statement_timeout or role must not
            # fail the history row that records it.
            self.conn.execute(RESET_SESSION + self._lock_wait_sql)
            self.write_history(row)
            return
        self._start()
        self._saw_lock(self.conn.execute(self._history_sql(row, server_clock=False)))
        self.in_transaction = False

    def _history_sql(self, row: HistoryRow, *, server_clock: bool) -> str:
        """DELETE and INSERT of ``row``, then COMMIT, as one query string (values rendered as literals by
        psycopg, since a query of several statements cannot take parameters).

        ``server_clock``: applied_at is the server's clock at the INSERT and duration_ms runs from the start
        of the transaction (``now()``), for a row sent before the client has seen its script's last batch end.
        """
        values: list[pgsql.Composable] = [pgsql.Literal(v) for v in row.values()]
        if server_clock:
            values[HISTORY_COLUMNS.index("applied_at")] = pgsql.SQL("clock_timestamp()")
            values[HISTORY_COLUMNS.index("duration_ms")] = pgsql.SQL(SERVER_DURATION_MS)
        table = self._table()
        # The script's SETs are still in force in its transaction: its statement_timeout = 1 or SET ROLE
        # must not fail the row that records it (RESET inside a transaction is undone with it).
        body = pgsql.SQL(RESET_SESSION + self._lock_wait_sql + "DELETE FROM {table} WHERE version = {version};\nINSERT INTO {table} ({columns}) VALUES ({values});\nCOMMIT").format(
            table=table,
            version=pgsql.Literal(row.version),
            columns=pgsql.SQL(", ").join(map(pgsql.Identifier, HISTORY_COLUMNS)),
            values=pgsql.SQL(", ").join(values),
        )
        return body.as_string(self.conn) + self._lock_tail()

    def _lock_tail(self) -> str:
        """Behind a script's COMMIT, in the same round trip: is the session lock still held? (see _lock_seen)"""
        if not self._locked:
            return ""
        return ";\n" + self._lock_held_sql()

    def _lock_held_sql(self) -> str:
        classid, objid = (self._lock_key() >> 32) & 0xFFFFFFFF, self._lock_key() & 0xFFFFFFFF
        return (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            f" AND classid = {classid}::bigint::oid AND objid = {objid}::bigint::oid AND objsubid = 1"
        )

    def _saw_lock(self, cur: psycopg.Cursor[Any]) -> None:
        """Read the answer of _lock_tail (the last result of ``cur``): held means check_lock need not ask again."""
        if not self._locked:
            return
        while cur.nextset():
            pass
        row = cur.fetchone()
        self._lock_seen = bool(row and row[0])

    # --- statements -------------------------------------------------------------------------------
    def begin(self, transactional: bool) -> None:
        self._table()  # resolve the schema before any script statement can change search_path
        if transactional:
            self.in_transaction = self._begin_pending = True
            if self.locks_each_script:
                self.lock_script(*self._lock_wait)
        elif self._prelude:
            self.conn.execute(self._prelude)
            self._prelude = ""

    def _begin_sql(self) -> str:
        """The deferred BEGIN, after the session set-up that is due (cleared by _begun once it ran)."""
        return f"{self._prelude}BEGIN; SAVEPOINT {SAVEPOINT}"

    def _begun(self) -> None:
        self._begin_pending = False
        self._prelude = ""

    def _start(self) -> None:
        """Send the BEGIN that begin() deferred, when something other than a batch needs the transaction."""
        if self._begin_pending:
            self.conn.execute(self._begin_sql())
            self._begun()

    def after_script(self, used_use: bool) -> None:
        # A script's SET search_path, set_config(), SET ROLE or statement_timeout must not reach the next one.
        self._prelude = RESET_SESSION + self._lock_wait_sql

    def set_lock_wait(self, seconds: float) -> None:
        # In milliseconds, 0 meaning no limit, as PostgreSQL has it; sent with each script's set-up, since
        # the reset between scripts (RESET ALL) would undo it.
        ms = max(1, round(seconds * 1000)) if seconds > 0 else 0
        self._lock_wait_sql = f"SET lock_timeout = {ms}; "
        self._prelude += self._lock_wait_sql

    def lock_waited(self, error: BaseException) -> bool:
        return getattr(error, "sqlstate", None) == LOCK_NOT_AVAILABLE

    def lock_probe(self) -> LockProbe:
        return _Probe(self.url, self._server_pid)  # the server's pid: a pooler reports one of its own

    def connection_lost(self, error: BaseException) -> bool:
        return self.conn.closed or self.conn.broken or getattr(error, "sqlstate", None) in LOST_STATES

    def commit(self) -> None:
        if self.in_transaction and not self._begin_pending:
            self.conn.execute("COMMIT")
        self.in_transaction = self._begin_pending = False

    def rollback(self) -> None:
        if self.in_transaction and not self._begin_pending:
            self.conn.execute("ROLLBACK")
            # The set-up sent with the BEGIN was part of the transaction, and went with it.
            self._prelude = RESET_SESSION + self._lock_wait_sql
        self.in_transaction = self._begin_pending = False

    def runs_alone(self, statement: Statement) -> bool:
        # COPY speaks a protocol of its own: FROM STDIN sends the data lines, TO STDOUT must read its rows
        # back (psql prints them; here they are discarded, like a SELECT's). Inside a multi-statement query
        # a COPY TO STDOUT would leave the connection in the middle of that protocol.
        if statement.copy_data is not None:
            return True
        if statement.text[0] not in "cC":  # settles almost every statement without a call
            return False
        from ..splitter.postgresql import copy_direction

        return copy_direction(statement.text) == "out"

    def run_batch(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> BatchOutcome:
        self._lock_seen = False
        if not self.in_transaction:
            return self._autocommit(statements)
        if self.runs_alone(statements[0]):
            finish = None  # COPY goes alone, through its own protocol; the row follows in commit_with_history
        error = self._guarded(statements, finish)
        if error is None:
            return BatchOutcome(len(statements), committed=finish is not None)
        if self.conn.broken or self.conn.closed:  # nothing to locate: the session and its transaction are gone
            # The server says why when it ended the session itself (it aborted what ran, the COMMIT with it);
            # a dropped network says nothing, and the COMMIT may have landed before it dropped.
            aborted = getattr(error, "sqlstate", None) in LOST_STATES
            return BatchOutcome(0, error, uncertain=finish is not None and not aborted)
        if self.interrupted:  # cancelled from another thread: run nothing of it again
            return BatchOutcome(0, error)
        if self.lock_waited(error):
            # Locating the statement would run parts of the batch again, each waiting once more while the
            # application's queries queue behind the lock request; the script is retried whole anyway.
            return BatchOutcome(0, error, located=len(statements) == 1)
        if not self.in_transaction:  # the COMMIT failed and took the transaction with it: nothing to retry
            return BatchOutcome(len(statements), error)
        if finish is not None:
            # The row may be what failed: without it, a clean run means commit_with_history will raise that
            # error again, where the runner can say so.
            error = self._guarded(statements)
            if error is None:
                return BatchOutcome(len(statements))
        return self._locate(statements, error)

    def _locate(self, statements: Sequence[Statement], error: psycopg.Error) -> BatchOutcome:
        """Find the first of ``statements`` (which failed together with ``error``) that fails, keeping those before it.

        The batch is halved until one statement is left: about 2 x log2(n) round trips, where trying them
        one by one took n/2 on average (500 statements: at most 18 instead of 250). A multi-statement query
        does not say which statement failed, and a syntax error anywhere rejects all of it.
        """
        if len(statements) == 1:
            return BatchOutcome(0, error)
        mid = len(statements) // 2
        head_error = self._guarded(statements[:mid])
        if head_error is not None:
            return self._locate(statements[:mid], head_error)
        tail_error = self._guarded(statements[mid:])
        if tail_error is None:  # the two halves ran where the whole did not (a statement that is not repeatable)
            return BatchOutcome(len(statements))
        tail = self._locate(statements[mid:], tail_error)
        return BatchOutcome(mid + tail.done, tail.error)

    def _guarded(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> psycopg.Error | None:
        """Run statements in one round trip after the standing savepoint; on error roll back to it and return the error.

        The savepoint is set by the *previous* round trip (the tail of the last batch) or, for a script's
        first batch, by the deferred BEGIN sent in front of it. The tail sets the next savepoint, or, with
        ``finish``, writes the history row and commits. PostgreSQL parses a whole multi-statement query
        before running any of it, so after a syntax error nothing of it ran, the BEGIN included: the
        transaction status tells the two cases apart.
        """
        alone = len(statements) == 1 and self.runs_alone(statements[0])
        if alone:
            self._start()
        prefix = f"{self._begin_sql()};\n" if self._begin_pending else ""
        tail = self._history_sql(finish, server_clock=True) if finish else NEXT_SAVEPOINT
        try:
            if alone:
                self._copy(statements[0])
                self.conn.execute(NEXT_SAVEPOINT)
            else:
                body = "\n;\n".join(s.text for s in statements)
                cur = self.conn.execute(f"{prefix}{body}\n;\n{tail}")
                if finish is not None:
                    self._saw_lock(cur)
            if prefix:
                self._begun()
            self.in_transaction = finish is None
            return None
        except psycopg.Error as exc:
            if self.conn.broken or self.conn.closed:
                self.in_transaction = self._begin_pending = False
                return exc
            idle = self.conn.info.transaction_status == TransactionStatus.IDLE
            if idle and self._begin_pending:
                self._start()  # nothing ran (or all of it, and its COMMIT failed): start again, nothing to undo
            elif idle:
                # Only the COMMIT failing (a deferred constraint, say) ends the transaction mid-script: the
                # earlier batches are gone with it and cannot be retried one by one.
                self.in_transaction = False
            else:
                if prefix:
                    self._begun()
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
            return exc

    def _autocommit(self, statements: Sequence[Statement]) -> BatchOutcome:
        for done, stmt in enumerate(statements):
            try:
                if self.runs_alone(stmt):
                    self._copy(stmt)
                else:
                    self.conn.execute(stmt.text)
            except psycopg.Error as exc:
                return BatchOutcome(done, exc)
        return BatchOutcome(len(statements))

    def _copy(self, stmt: Statement) -> None:
        with self.conn.cursor() as cur, cur.copy(stmt.text) as copy:
            if stmt.copy_data:
                copy.write(stmt.copy_data)
            elif stmt.copy_data is None:  # COPY ... TO STDOUT: read the rows to the end, keep none
                for _ in copy:
                    pass

    def fault(self, error: BaseException) -> Fault:
        from .faults import postgresql_fault

        return postgresql_fault(error)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple] | None:
        # Inside the script's transaction a failed query would abort it: a savepoint of its own undoes just that.
        guard = self.in_transaction
        if guard:
            self._start()
            self.conn.execute(f"SAVEPOINT {PROBE_SAVEPOINT}")
        try:
            rows = self.conn.execute(sql, tuple(params) or None).fetchall()
        except psycopg.Error:
            if guard:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {PROBE_SAVEPOINT}; RELEASE SAVEPOINT {PROBE_SAVEPOINT}")
            return None
        if guard:
            self.conn.execute(f"RELEASE SAVEPOINT {PROBE_SAVEPOINT}")
        return rows

    def probe(self, kind: str, name: Name, table: Name | None = None) -> bool | None:
        if kind == "index" and table is not None:
            rows = self.query(PROBE_INDEX_ON, (self._regclass(name), self._regclass(table)))
            return None if rows is None else bool(rows)
        if kind in ("table", "view", "sequence", "index"):
            rows = self.query(PROBE_RELATION, (self._regclass(name),))
            return None if rows is None else any(RELATION_KINDS.get(r[0]) == kind for r in rows)
        if kind == "constraint" and table is not None:
            rows = self.query(PROBE_CONSTRAINT, (name.key(self.kind), self._regclass(table)))
            return None if rows is None else bool(rows)
        return None

    def columns(self, table: Name) -> list[str]:
        return [r[0] for r in self.query(TABLE_COLUMNS, (self._regclass(table),)) or []]

    def _regclass(self, name: Name) -> str:
        """``name`` as to_regclass() reads it: each part quoted as the server folds it."""
        # Only the last part's quoting is known; a schema is taken as written unquoted (folded to lower case).
        return ".".join(self.quote(p) for p in [*(s.lower() for s in name.parts[:-1]), name.key(self.kind)])

    def quote(self, ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'

    def null_safe_equal(self, left: str, right: str) -> str:
        return f"{left} IS NOT DISTINCT FROM {right}"

    def describe(self, error: BaseException) -> str:
        state = getattr(error, "sqlstate", None)
        text = _first_line(error)
        diag = getattr(error, "diag", None)
        detail = getattr(diag, "message_detail", None) if diag else None
        hint = getattr(diag, "message_hint", None) if diag else None
        if state == NOT_IN_TRANSACTION:
            hint = "put the line '-- sqlrun: no-transaction' first in the script to run it outside a transaction"
        parts = [f"{text} (SQLSTATE {state})" if state else text]
        parts += [f"DETAIL: {detail}"] if detail else []
        parts += [f"HINT: {hint}"] if hint else []
        return "; ".join(parts)

    def trial(self, text: str, read: Callable[[], _T]) -> tuple[_T, _T] | None:
        """Run ``text`` and undo it at once: what ``read`` sees before and after it; None when ``text`` fails.

        For sqlrun.equivalent: the server spells what a statement would add, in a savepoint of the script's
        transaction (or a transaction of its own outside one), which is then rolled back.
        """
        self._start()  # a script's deferred BEGIN: the trial must run inside its transaction
        own = not self.in_transaction
        self.conn.execute("BEGIN" if own else f"SAVEPOINT {TRIAL_SAVEPOINT}")
        try:
            before = read()
            try:
                self.conn.execute(text)
            except psycopg.Error:
                return None
            return before, read()
        finally:
            self.conn.execute("ROLLBACK" if own else f"ROLLBACK TO SAVEPOINT {TRIAL_SAVEPOINT}; RELEASE SAVEPOINT {TRIAL_SAVEPOINT}")

    # --- lock -------------------------------------------------------------------------------------
    def _lock_key(self) -> int:
        name = f"sqlrun:{self.conn.info.dbname}.{HISTORY_TABLE}"  # one lock per database, whichever ledger is in use
        return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)

    def lock_name(self) -> str:
        kind = "pg_advisory_xact_lock" if self.locks_each_script else "pg_advisory_lock"
        return f"{kind}({self._lock_key()}) on database {self.conn.info.dbname}"

    def choose_lock(self, mode: str) -> LockChoice:
        if mode == "auto" and self.pooled:
            choice = LockChoice("transaction", "behind a connection pooler: the login's backend pid is not pg_backend_pid()")
        elif mode == "auto":
            choice = LockChoice("session", "pg_advisory_lock")
        elif mode == "transaction":
            choice = LockChoice("transaction", "--lock")
        else:
            choice = super().choose_lock(mode)
        self.locks_each_script = choice.mode == "transaction"
        return choice

    def lease_driver(self) -> LeaseDriver:
        from .lease import LOCK_TABLE, LeaseDriver

        self._table()  # the schema the history lives in: the lock table goes next to it
        table = pgsql.Identifier(self._schema or "public", LOCK_TABLE).as_string(self.conn)
        url = self.url

        def conflict(error: BaseException) -> bool:
            # A duplicate key; a serialization failure is how CockroachDB reports a concurrent insert.
            return isinstance(error, (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure))

        return LeaseDriver(lambda: _connect(url), table, conflict, (psycopg.Error,))

    def lock(self, timeout: float, notify: Notify) -> None:
        """The session lock on the working connection; behind a pooler, nothing yet (see lock_script).

        One connection per runner: the lock lives as long as the session that runs the scripts, so a killed
        runner's lock is freed only when its last statement has really ended on the server (no second
        "fence" lock is needed), and a session pool of size 1 serves a runner without deadlocking.
        """
        self._lock_wait = (timeout, notify)
        if self.locks_each_script:
            return
        name = self.lock_name()
        held = f"another sqlrun held the lock {name} for {timeout:.0f}s"
        self._wait(self.try_lock, time.monotonic(), timeout, notify, f"the migration lock {name} held by another runner", held)

    def try_lock(self) -> bool:
        if not self._locked:
            self._locked = self._lock_seen = bool(self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key(),)).fetchone()[0])
        return self._locked

    def lock_script(self, timeout: float, notify: Notify) -> None:
        """BEGIN, then wait for pg_advisory_xact_lock, then the batches' savepoint (behind a pooler)."""
        # Taken before the savepoint, in the top-level transaction: a lock taken inside a savepoint that is
        # rolled back to would be released with it.
        self.conn.execute(f"{self._prelude}BEGIN")
        self._begun()
        name = self.lock_name()
        held = f"another sqlrun held the lock {name} for {timeout:.0f}s"
        self._wait(self._try_xact_lock, time.monotonic(), timeout, notify, f"the migration lock {name} held by another runner", held)
        self.conn.execute(f"SAVEPOINT {SAVEPOINT}")

    def _try_xact_lock(self) -> bool:
        return bool(self.conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (self._lock_key(),)).fetchone()[0])

    def check_lock(self) -> None:
        if not self._locked or self._lock_seen:
            return
        # Outside a transaction (between scripts, or after a no-transaction script's statements) the session
        # is put back first: a script's own statement_timeout = 1 would cancel the question (seen in CI).
        reset = "" if self.in_transaction else RESET_SESSION + self._lock_wait_sql
        try:
            cur = self.conn.execute(reset + self._lock_held_sql())
            while cur.nextset():
                pass
            held = cur.fetchone()[0]
        except psycopg.Error as exc:
            self._locked = False
            raise LockLostError(
                f"the connection holding the migration lock {self.lock_name()} was lost ({_first_line(exc)}); "
                "stopped before going on; run again to apply the rest"
            ) from None
        if held:
            self._lock_seen = True
            return
        self._locked = False
        raise LockLostError(
            f"the migration lock {self.lock_name()} is no longer held by this session (a script released it with "
            "DISCARD ALL or pg_advisory_unlock_all, or a transaction pooler sent this query to another server "
            "connection: use --lock=transaction there); stopped before going on; run again to apply the rest"
        )

    def ensure_history(self) -> None:
        if not self.locks_each_script:
            return self._create_history()
        # Two runners creating the table at once collide in pg_type's unique index: under the lock, once.
        timeout, notify = self._lock_wait
        self.lock_script(timeout, notify)
        try:
            self._create_history()
            self.conn.execute("COMMIT")
        finally:
            if self.conn.info.transaction_status != TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")

    def unlock(self) -> None:
        if self._locked:
            self._locked = False
            try:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key(),))
            except psycopg.Error:
                pass  # the session is gone, and its lock with it


class _Probe(LockProbe):
    """pg_blocking_pids() of the working session, asked on a connection of the probe's own."""

    def __init__(self, url: DatabaseURL, pid: int) -> None:
        self.url, self.pid = url, pid
        self.conn: psycopg.Connection | None = None

    def blockers(self) -> tuple[Blocker, ...]:
        if self.conn is None:
            self.conn = _connect(self.url)
            self.conn.execute("SET application_name = 'sqlrun lock probe'")
        rows = self.conn.execute(BLOCKERS, (self.pid,)).fetchall()
        if not rows:
            return ()
        wanted = self.conn.execute(WANTED, (self.pid,)).fetchone()
        what = f"{wanted[1]} on {wanted[0]}" if wanted else ""
        return tuple(Blocker(str(r[0]), r[1] or "?", r[2], r[3] or "?", f"since {r[4]}" if r[4] else "?", r[5] or "", what) for r in rows)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
