"""MySQL and MariaDB through pymysql: multi-statement batches, DML grouped between DDL, GET_LOCK."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import socket
from datetime import datetime, timezone

import pymysql
from pymysql.constants import CLIENT

from ..config import DatabaseURL
from ..errors import ConfigError, LockLostError, ReadOnlyError
from .base import (
    HISTORY_COLUMNS, HISTORY_TABLE, BatchOutcome, Blocker, Database, HistoryRow, LockChoice, LockProbe, bad_shape,
    cannot_create_history, client_host, connect_error,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~4 ms of a start; pymysql does not need it)

if TYPE_CHECKING:  # only for annotations: the splitter is not needed to read the history
    from typing import Any, Sequence

    from ..intent import Name
    from ..splitter import Statement
    from .base import Notify
    from .lease import LeaseDriver
    from .faults import Fault

CREATE_HISTORY = """CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    file VARCHAR(1024) NOT NULL,
    checksum CHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    duration_ms INT NOT NULL,
    statements INT NOT NULL,
    tolerated INT NOT NULL,
    applied_by VARCHAR(255) NOT NULL,
    previous_checksum CHAR(64) NULL,
    checksum_replaced_at DATETIME(6) NULL
) DEFAULT CHARSET=utf8mb4"""

# Catalog look-ups, made only after an error, to prove a statement in place.
PROBE_RELATION = "SELECT table_type FROM information_schema.tables WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s"
RELATION_TYPES = {"BASE TABLE": "table", "VIEW": "view", "SEQUENCE": "sequence", "SYSTEM VERSIONED": "table"}
PROBE_CONSTRAINT = (
    "SELECT 1 FROM information_schema.table_constraints"
    " WHERE constraint_schema = COALESCE(%s, DATABASE()) AND table_name = %s AND constraint_name = %s"
)
PROBE_INDEX = "SELECT 1 FROM information_schema.statistics WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s AND index_name = %s"
TABLE_COLUMNS = (
    "SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s"
    " ORDER BY ordinal_position"
)
UNKNOWN_DATABASE = 1049
# 1290 ER_OPTION_PREVENTS_STATEMENT (--read-only), 1792 ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
# 1836 ER_READ_ONLY_MODE (innodb_read_only)
READ_ONLY_CODES = (1290, 1792, 1836)
# Another writer won: 1062 duplicate entry on the same node, 1213 deadlock or (Galera) certification failure.
RACE_CODES = (1062, 1213)
# What tells a replica or a read-only session (SHOW VARIABLES shows the session's values; names missing
# from a server's version are simply absent: super_read_only is MySQL's, tx_read_only MariaDB's).
PROBED_VARIABLES = ("wsrep_on", "read_only", "super_read_only", "innodb_read_only", "tx_read_only", "transaction_read_only")
PROBED = (*PROBED_VARIABLES, "version")
# What MariaDB has of them (no super_read_only; transaction_read_only only from 11.1, as tx_read_only's alias).
MARIADB_PROBED = ("wsrep_on", "read_only", "innodb_read_only", "tx_read_only")
_SHOWN = {"0": "OFF", "1": "ON"}  # a boolean read as @@name is 0/1; SHOW VARIABLES says OFF/ON
UNKNOWN_SYSTEM_VARIABLE = 1193
ACCESS_DENIED = (1044, 1045, 1698)
DEFAULT_CONNECT_TIMEOUT = 10
INT_OPTIONS = {"connect_timeout", "read_timeout", "write_timeout", "port", "max_allowed_packet"}
LOCK_NAME_MAX = 64
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# The session is gone: 2006 server has gone away, 2013 lost connection during query, 2055 lost connection
# (MySQL 8), 1053 server shutdown, 1927 connection killed (MariaDB), 4031 disconnected for inactivity (MySQL
# 8.0.24+), 1047 unknown command: what a Galera node that left the cluster answers to everything.
LOST_CODES = {1047, 1053, 1927, 2006, 2013, 2055, 4031}
# Session variables a script may change and the next one would inherit (mysqldump output ends with SET
# FOREIGN_KEY_CHECKS, SET SQL_MODE, SET NAMES, SET TIME_ZONE...). Read at the first script, restored
# before each later one; the character set variables in the order that leaves collation_connection set.
SESSION_VARIABLES = (
    "sql_mode", "character_set_client", "character_set_connection", "collation_connection", "character_set_results",
    "foreign_key_checks", "unique_checks", "time_zone", "sql_safe_updates", "sql_auto_is_null",
    "group_concat_max_len", "div_precision_increment", "sql_select_limit",
)
LOCK_WAIT_TIMEOUT = 1205  # ER_LOCK_WAIT_TIMEOUT: a metadata lock (lock_wait_timeout) or a row lock (InnoDB's)
# "No limit" for --lock-wait 0: the largest values the servers take (a year; InnoDB's is ~34 years).
MAX_LOCK_WAIT, MAX_INNODB_LOCK_WAIT = 31536000, 1073741824
# Who blocks a waiting session. A row lock names its blocker (INNODB_LOCK_WAITS); a metadata lock does not
# without a plugin or performance_schema, so then the candidates are the other sessions on this database,
# those with an open transaction first: an idle transaction that read the table is the usual culprit.
WAITING = "SELECT state FROM information_schema.processlist WHERE id = %s"
ROW_BLOCKERS = """SELECT b.trx_mysql_thread_id FROM information_schema.innodb_lock_waits w
JOIN information_schema.innodb_trx r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.innodb_trx b ON b.trx_id = w.blocking_trx_id WHERE r.trx_mysql_thread_id = %s"""
SESSIONS = """SELECT p.id, p.user, p.host, p.command, p.time, LEFT(p.info, 200), t.trx_started
FROM information_schema.processlist p LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id
WHERE p.id NOT IN ({exclude}) AND p.id <> CONNECTION_ID() AND p.command NOT IN ('Daemon', 'Binlog Dump', 'Killed')
AND {where} ORDER BY t.trx_started IS NULL, t.trx_started, p.time DESC LIMIT 3"""
# A transactional script's first batch notes the server's clock; its history row's duration_ms runs from it.
MARK_START = "SET @sqlrun_started = UTC_TIMESTAMP(6)"
SERVER_DURATION_MS = "TIMESTAMPDIFF(MICROSECOND, @sqlrun_started, UTC_TIMESTAMP(6)) DIV 1000"
# Statements that answer with result sets of their own (CALL, EXECUTE of a prepared CALL, a compound block)
# or that may end in ';' themselves (routine bodies): see MySQLDatabase.runs_alone. A statement's text starts
# at its first token (the splitter drops leading comments).
_QUOTED_NAME = r"(?:`[^`]*`|'[^']*'|\"[^\"]*\"|[\w$.%-]+)"


@functools.cache
def _alone() -> re.Pattern[str]:
    """The statements that run alone, compiled on first use (a start that applies nothing never needs it)."""
    return re.compile(
        r"(?:CALL|EXECUTE|BEGIN\s+NOT\s+ATOMIC"
        r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*(?:CURRENT_USER(?:\s*\(\s*\))?|" + _QUOTED_NAME
        + r"(?:\s*@\s*" + _QUOTED_NAME + r")?)\s*)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:AGGREGATE\s+)?"
        r"(?:PROCEDURE|FUNCTION|TRIGGER|EVENT))(?![\w$])",
        re.IGNORECASE,
    )


def connect_kwargs(url: DatabaseURL, database: str | None) -> dict[str, Any]:
    """pymysql keyword arguments for ``url``; query options (charset, unix_socket, ssl_*...) pass through."""
    kwargs: dict[str, Any] = {
        "host": url.host or "localhost",
        "port": url.port or 3306,
        "user": url.user or "root",
        "password": url.password or "",
        "charset": "utf8mb4",
        "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
        "client_flag": CLIENT.MULTI_STATEMENTS,
        "autocommit": True,
    }
    for key, value in url.options.items():
        kwargs[key] = int(value) if key in INT_OPTIONS else _flag(value)
    if _local(kwargs) and not any(key.startswith("ssl") for key in kwargs):
        # pymysql's default "use TLS if the server offers it" loads the system's CA store (~20 ms per
        # connection) only to skip verifying; over loopback or a socket TLS protects nothing. Any ssl_*
        # option in the URL (ssl_disabled=false included) restores the driver's behaviour.
        kwargs["ssl_disabled"] = True
    if database:
        kwargs["database"] = database
    return kwargs


def _local(kwargs: dict[str, Any]) -> bool:
    return "unix_socket" in kwargs or kwargs["host"] in LOOPBACK_HOSTS


def _flag(value: str) -> Any:
    return {"true": True, "false": False}.get(value.lower(), value)


def _connect(url: DatabaseURL, database: str | None) -> pymysql.connections.Connection:
    kwargs = connect_kwargs(url, database)
    host = kwargs["host"]
    if "unix_socket" in kwargs or "bind_address" in kwargs or not isinstance(host, str) or not host.isascii():
        return pymysql.connect(**kwargs)
    # The socket is opened here, with the host name as bytes, and handed to pymysql, which would pass it as
    # str: socket.getaddrinfo encodes a str host with the "idna" codec, whose import (with unicodedata and
    # stringprep) is ~2 ms of every start. An ASCII name's idna bytes are its ASCII bytes.
    conn = pymysql.connections.Connection(**kwargs, defer_connect=True)
    try:
        sock = socket.create_connection((host.encode("ascii"), kwargs["port"]), kwargs["connect_timeout"])
    except OSError as exc:  # worded as pymysql words it (2003, CR_CONN_HOST_ERROR)
        raise pymysql.err.OperationalError(2003, f"Can't connect to MySQL server on {host!r} ({exc})") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    conn.host_info = f"socket {host}:{kwargs['port']}"
    conn.connect(sock)
    return conn


def _code(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _message(error: BaseException) -> str:
    args = getattr(error, "args", ())
    return str(args[1]) if len(args) > 1 else str(error)


def _gone(error: BaseException) -> bool:
    """Whether ``error`` means its connection is gone (pymysql says (0, '') for a connection it found closed)."""
    code = _code(error)
    return code in LOST_CODES or (code == 0 and isinstance(error, pymysql.err.InterfaceError))


def quote_ident(name: str) -> str:
    """A MySQL identifier in backquotes."""
    return "`" + name.replace("`", "``") + "`"


class MySQLDatabase(Database):
    """A session on one MySQL or MariaDB database."""

    kind = "mysql"
    ddl_commits_implicitly = True
    batch_statements = 1000
    batch_bytes = 1 << 20  # well under max_allowed_packet (16 MiB on MariaDB, 64 MiB on MySQL 8)

    def __init__(self, url: DatabaseURL, conn: pymysql.connections.Connection) -> None:
        super().__init__(url)
        self.conn = conn
        self.database = url.database or ""
        self.qualified = ""
        self._table_changed()
        self._lock_conn: pymysql.connections.Connection | None = None
        self._mark_start = False
        self._initial: str | None = None  # SET of SESSION_VARIABLES to the values the session started with
        self._prelude: list[str] = []  # statements sent in front of the next script's first batch
        self._lock_wait: list[str] = []
        self._fenced = False  # the working session holds its fence lock (see Database.lock)
        self.galera = False  # @@wsrep_on: GET_LOCK and row locks are local to the node (see choose_lock)
        self.tidb = False
        self._read_only: str | None = None
        # The history rows as last read: a row is replaced only if it is still the one read, so that two
        # runners recording the same version see the clash instead of the last writer silently winning.
        self._seen: dict[int, HistoryRow] = {}

    @classmethod
    def open(cls, url: DatabaseURL, *, create: bool, readonly: bool, notify: Notify) -> MySQLDatabase | None:
        """Connect; create the database (utf8mb4) first when it is missing and ``create`` allows."""
        if not url.database:
            raise ConfigError(f"{url.redacted()} names no database: add it to the URL (mysql://user@host/dbname)")
        try:
            return cls(url, _connect(url, url.database))._probed()
        except pymysql.Error as exc:
            if _code(exc) != UNKNOWN_DATABASE:
                raise connect_error(url, _message(exc), retryable=_code(exc) not in ACCESS_DENIED) from None
        if readonly:
            return None
        if not create:
            raise connect_error(
                url, f"database {url.database!r} does not exist (and --no-create-database was given)", retryable=False
            )
        cls._create_database(url)
        notify(f"created database {url.database} (utf8mb4)")
        try:
            return cls(url, _connect(url, url.database))._probed()
        except pymysql.Error as exc:
            raise connect_error(url, _message(exc)) from None

    @staticmethod
    def _create_database(url: DatabaseURL) -> None:
        try:
            conn = _connect(url, None)
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        f"CREATE DATABASE IF NOT EXISTS {quote_ident(url.database or '')} "
                        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
            finally:
                conn.close()
        except pymysql.Error as exc:
            code = _code(exc)
            if code in READ_ONLY_CODES:
                raise ReadOnlyError(f"database {url.database!r} does not exist and the server is read-only: ({code}) {_message(exc)}") from None
            if code in LOST_CODES or code is None:
                raise connect_error(url, f"({code}) {_message(exc)}") from None
            raise connect_error(
                url,
                f"database {url.database!r} does not exist and could not be created: {_message(exc)}; "
                "create it, or grant CREATE to this user",
                retryable=False,
            ) from None

    def _probed(self) -> MySQLDatabase:
        """Learn whether this is a Galera node and whether it takes writes; a Galera node not ready is a ConnectError."""
        found = self._probe_variables()
        self.galera = found.get("wsrep_on") == "ON"
        # Older TiDB releases accepted GET_LOCK as a no-op (recent ones make it cluster-wide): the lease holds on all.
        self.tidb = "TIDB" in found.get("version", "")
        if self.galera:
            ready = self._query("SHOW STATUS LIKE 'wsrep_ready'")
            if ready and str(ready[0][1]).upper() != "ON":
                self.close()
                raise connect_error(
                    self.url, "this Galera node is not ready (wsrep_ready=OFF; its queries fail with 1047): it has no "
                    "quorum, or is still joining; point --database-url at a node of the primary component, or --wait for this one"
                )
            # Reads wait until this node has applied every write the cluster committed before them: a
            # runner that takes the lock after one on another node must see that runner's history rows.
            self._query("SET SESSION wsrep_sync_wait = 1")
        on = [n for n in PROBED_VARIABLES[1:] if found.get(n) in ("ON", "1")]
        self._read_only = f"{', '.join('@@' + n for n in on)} = ON" if on else None
        return self

    def _probe_variables(self) -> dict[str, str]:
        """PROBED's values as SHOW VARIABLES shows them (``ON``/``OFF``), upper-cased; a missing one is absent."""
        version = self.conn.get_server_info()
        if "MariaDB" in version:
            # MariaDB has every one of these: one SELECT costs its server ~0.2 ms, where SHOW VARIABLES lists
            # all ~680 variables to filter them (0.7 ms), on every start. A build without one falls back.
            try:
                row = self._query("SELECT " + ", ".join(f"@@{n}" for n in MARIADB_PROBED))[0]
            except pymysql.Error as exc:
                if _code(exc) != UNKNOWN_SYSTEM_VARIABLE:
                    raise
            else:
                found = {n: _SHOWN.get(str(v), str(v).upper()) for n, v in zip(MARIADB_PROBED, row)}
                # MariaDB 10's handshake puts "5.5.5-" in front of the version, for clients that expected MySQL 5.
                return {**found, "version": version.removeprefix("5.5.5-").upper()}
        names = ", ".join(f"'{n}'" for n in PROBED)
        return {k.lower(): str(v).upper() for k, v in self._query(f"SHOW VARIABLES WHERE Variable_name IN ({names})")}

    def read_only(self) -> str | None:
        return self._read_only

    def _stop_statement(self) -> None:
        # The whole session, from a connection of its own: KILL QUERY (what the mysql client sends on Ctrl-C)
        # lets SLEEP() return 1 and the rest of the packet, history row and COMMIT included, run on.
        if not self.conn.open:
            return
        killer = _connect(self.url, None)
        try:
            with killer.cursor() as cur:
                cur.execute(f"KILL CONNECTION {int(self.conn.thread_id())}")
        finally:
            killer.close()

    def close(self) -> None:
        try:
            self.unlock()
        except pymysql.Error:
            pass  # a lock connection that died took its lock with it; closing must not hide the run's outcome
        try:
            self.conn.close()
        except pymysql.Error:
            pass

    def _query(self, sql: str, args: Any = None) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def whoami(self) -> str:
        user = self._query("SELECT SUBSTRING_INDEX(USER(), '@', 1)")[0][0]
        return f"{user}@{client_host()}"

    # --- history ----------------------------------------------------------------------------------
    def read_history(self) -> dict[int, HistoryRow]:
        try:
            rows = self._query(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {self.qualified}")
        except pymysql.Error as exc:
            if _code(exc) == 1146:  # ER_NO_SUCH_TABLE
                return {}
            if _code(exc) == 1054:  # ER_BAD_FIELD_ERROR
                raise bad_shape(self.table, _message(exc)) from None
            raise
        self._seen = {r[0]: _row(r) for r in rows}
        return dict(self._seen)

    def ensure_history(self) -> None:
        try:
            self._query(CREATE_HISTORY.format(table=self.qualified))
        except pymysql.Error as exc:
            if self.connection_lost(exc):
                raise  # not a permission problem: the runner reports a lost connection
            raise cannot_create_history(self.table, f"({_code(exc)}) {_message(exc)}") from None

    def write_history(self, row: HistoryRow) -> None:
        sql = self._write_sql(row)
        if self.conn.get_autocommit() and row.version in self._seen:
            sql = f"START TRANSACTION;\n{sql};\nCOMMIT"  # outside a script's transaction: both or neither
        with self.conn.cursor() as cur:
            cur.execute(sql)
            while cur.nextset():
                pass
        self._seen[row.version] = row

    def _write_sql(self, row: HistoryRow, values: list[str] | None = None) -> str:
        """DELETE of the row as last read (if there was one), then INSERT: never REPLACE.

        When another runner recorded the version meanwhile, the DELETE matches nothing and the INSERT fails
        (1062 on this node, 1213 certification failure on Galera): the clash is seen, not overwritten.
        """
        values = values or [_literal(v) for v in _history_values(row)]
        insert = f"INSERT INTO {self.qualified} ({', '.join(HISTORY_COLUMNS)}) VALUES ({', '.join(values)})"
        old = self._seen.get(row.version)
        if old is None:
            return insert
        match = " AND ".join(f"{c} = {_literal(v)}" for c, v in (("checksum", old.checksum), ("state", old.state), ("applied_at", _naive_utc(old.applied_at))))
        return f"DELETE FROM {self.qualified} WHERE version = {row.version} AND {match};\n{insert}"

    def commit_with_history(self, row: HistoryRow) -> None:
        if self.conn.get_autocommit():
            self.write_history(row)
            return
        # One packet instead of three round trips (INSERT, COMMIT, SET autocommit=1; issue 6, 500 small
        # scripts). autocommit stays off: the next script's begin() then costs nothing, and rollback() or a
        # no-transaction script's begin() turns it back on.
        with self.conn.cursor() as cur:
            cur.execute(self._finish_sql(row, server_clock=False))
            while cur.nextset():
                pass
        self._seen[row.version] = row

    def _finish_sql(self, row: HistoryRow, *, server_clock: bool) -> str:
        """The history row's write (see _write_sql) and COMMIT, in one packet, values written as literals.

        ``server_clock``: applied_at is the server's clock at the INSERT and duration_ms runs from the
        script's first statement (``@sqlrun_started``), for a row sent before the client has seen its
        script's last batch end.
        """
        values = [_literal(v) for v in _history_values(row)]
        if server_clock:
            values[HISTORY_COLUMNS.index("applied_at")] = "UTC_TIMESTAMP(6)"
            values[HISTORY_COLUMNS.index("duration_ms")] = f"COALESCE({SERVER_DURATION_MS}, {row.duration_ms})"
        return f"{self._write_sql(row, values)};\nCOMMIT"

    # --- statements -------------------------------------------------------------------------------
    def begin(self, transactional: bool) -> None:
        if self._initial is None:
            self._initial = self._session_sql()
        # DDL commits implicitly whatever we do; autocommit off still groups runs of DML into one commit.
        self.conn.autocommit(not transactional)
        self._mark_start = transactional  # the first batch notes the server's clock, for duration_ms

    def commit(self) -> None:
        self.conn.commit()
        self.conn.autocommit(True)

    def rollback(self) -> None:
        try:
            self.conn.rollback()
            self.conn.autocommit(True)
        except pymysql.Error:
            pass

    def _session_sql(self) -> str:
        """One SET that puts SESSION_VARIABLES back to their values now."""
        values = self._query("SELECT " + ", ".join(f"@@SESSION.{v}" for v in SESSION_VARIABLES))[0]
        return "SET SESSION " + ", ".join(f"{n} = {_setting(v)}" for n, v in zip(SESSION_VARIABLES, values))

    def after_script(self, used_use: bool) -> None:
        # Sent in front of the next script's first statement: no round trip of its own.
        self._prelude = ([f"USE {quote_ident(self.database)}"] if used_use else []) + [self._initial or "DO 0"] + self._lock_wait

    def set_lock_wait(self, seconds: float) -> None:
        # Whole seconds, at least 1 (the servers' minimum); lock_wait_timeout bounds metadata locks (ALTER
        # behind an open transaction), innodb_lock_wait_timeout row locks (UPDATE behind an UPDATE).
        whole = max(1, math.ceil(seconds)) if seconds > 0 else 0
        self._lock_wait = [
            f"SET SESSION lock_wait_timeout = {whole or MAX_LOCK_WAIT}, innodb_lock_wait_timeout = {whole or MAX_INNODB_LOCK_WAIT}"
        ]
        self._prelude += self._lock_wait

    def lock_waited(self, error: BaseException) -> bool:
        return _code(error) == LOCK_WAIT_TIMEOUT

    def lock_probe(self) -> LockProbe:
        exclude = [self.conn.thread_id()] + ([self._lock_conn.thread_id()] if self._lock_conn else [])
        return _Probe(self.url, self.database, exclude)

    def connection_lost(self, error: BaseException) -> bool:
        return _gone(error) or not self.conn.open

    def runs_alone(self, statement: Statement) -> bool:
        """A text ending in ';', a routine, CALL or a compound block: sent in a packet of its own.

        Inside ``DELIMITER $$`` a trigger body may end ``end;$$``: the client sends that ';', and joined
        into a batch with another ';' it makes an empty statement (1064). CALL and compound blocks answer
        with result sets of their own, so counting results would blame the wrong statement for an error,
        and a tolerated error would then skip a statement that never ran.
        """
        text = statement.text
        alone = text[-1] == ";" or (text[0] in "bBcCeE" and _alone().match(text) is not None)
        return alone or super().runs_alone(statement)

    def run_batch(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> BatchOutcome:
        # One multi-statement packet; the server stops at the first error, and the result that raises
        # tells exactly which statement it was: no re-run is needed to find it. So the history row and
        # COMMIT can ride behind the last batch: they run only if every statement before them did.
        texts = [s.text for s in statements]
        lead_texts = self._prelude + ([MARK_START] if self._mark_start else [])
        lead = len(lead_texts)
        texts[:0] = lead_texts
        commits = finish is not None and not self.conn.get_autocommit()
        if commits:
            texts.append(self._finish_sql(finish, server_clock=True))
        done = 0
        with self.conn.cursor() as cur:
            try:
                # Only a statement that runs alone may end in ';' (runs_alone): then that ';' ends it.
                cur.execute("\n;\n".join(texts) if len(statements) > 1 else _packet(texts))
                done = 1
                while cur.nextset():
                    done += 1
            except pymysql.Error as exc:
                self._mark_start = self._mark_start and done < lead
                self._prelude = self._prelude if done < lead else []
                # done - lead >= len(statements): the history row or the COMMIT failed, not a statement
                ran = min(max(0, done - lead), len(statements))
                return BatchOutcome(ran, exc, uncertain=commits and ran == len(statements))
        self._mark_start = False
        self._prelude = []
        if commits:
            self._seen.pop(finish.version, None)  # written with the server's clock: not known to the row
        return BatchOutcome(len(statements), committed=commits)

    def fault(self, error: BaseException) -> Fault:
        from .faults import mysql_fault

        return mysql_fault(error)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple] | None:
        try:
            return self._query(sql, tuple(params) or None)
        except pymysql.Error:
            return None

    def probe(self, kind: str, name: Name, table: Name | None = None) -> bool | None:
        if kind in ("table", "view", "sequence"):
            rows = self.query(PROBE_RELATION, (_schema(name), name.last))
            return None if rows is None else any(RELATION_TYPES.get(r[0]) == kind for r in rows)
        if kind in ("constraint", "index") and table is not None:
            rows = self.query(PROBE_CONSTRAINT if kind == "constraint" else PROBE_INDEX, (_schema(table), table.last, name.last))
            return None if rows is None else bool(rows)
        return None

    def columns(self, table: Name) -> list[str]:
        return [r[0] for r in self.query(TABLE_COLUMNS, (_schema(table), table.last)) or []]

    def quote(self, ident: str) -> str:
        return quote_ident(ident)

    def null_safe_equal(self, left: str, right: str) -> str:
        return f"{left} <=> {right}"

    def _table_changed(self) -> None:
        self.qualified = f"{quote_ident(self.database)}.{quote_ident(self.table)}"

    def describe(self, error: BaseException) -> str:
        code = _code(error)
        return f"({code}) {_message(error)}" if code is not None else str(error)

    # --- lock -------------------------------------------------------------------------------------
    def choose_lock(self, mode: str) -> LockChoice:
        if mode == "auto" and self.galera:
            return LockChoice("table", "Galera cluster (@@wsrep_on), where GET_LOCK holds on one node only")
        if mode == "auto" and self.tidb:
            return LockChoice("table", "TiDB, where older releases made GET_LOCK a no-op")
        if mode == "auto":
            return LockChoice("session", "GET_LOCK")
        if mode == "session" and self.galera:
            return LockChoice("session", "--lock", "--lock=session on a Galera cluster: GET_LOCK holds on this node only, so "
                              "runners on other nodes are not kept out; --lock=auto takes the lease row")
        return super().choose_lock(mode)

    def lease_driver(self) -> LeaseDriver:
        from .lease import LOCK_TABLE, LeaseDriver

        galera = self.galera

        def connect() -> pymysql.connections.Connection:
            conn = _connect(self.url, self.database)
            if galera:  # read the holder as the whole cluster last committed it, not as this node lags
                with conn.cursor() as cur:
                    cur.execute("SET SESSION wsrep_sync_wait = 1")
            return conn

        def conflict(error: BaseException) -> bool:
            return _code(error) in RACE_CODES

        return LeaseDriver(connect, f"{quote_ident(self.database)}.{quote_ident(LOCK_TABLE)}", conflict, (pymysql.Error,))

    def lock_name(self) -> str:
        name = f"sqlrun:{self.database}.{HISTORY_TABLE}"  # one lock per database, whichever ledger is in use
        if len(name) > LOCK_NAME_MAX:
            name = "sqlrun:" + hashlib.sha256(name.encode()).hexdigest()[: LOCK_NAME_MAX - 7]
        return name

    def try_lock(self) -> bool:
        # GET_LOCK belongs to the session of a connection of its own; the server frees it when that dies.
        if self._lock_conn is None:
            try:
                self._lock_conn = _connect(self.url, self.database)
            except pymysql.Error as exc:
                raise connect_error(self.url, f"opening the lock's connection: {_message(exc)}") from None
        with self._lock_conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (self.lock_name(),))
            return cur.fetchone()[0] == 1

    def _fence_name(self) -> str:
        return self.lock_name()[: LOCK_NAME_MAX - 5] + ":work"

    def try_fence(self) -> bool:
        with self.conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (self._fence_name(),))
            self._fenced = cur.fetchone()[0] == 1
        return self._fenced

    def unlock(self) -> None:
        if self._fenced:
            self._fenced = False
            try:
                with self.conn.cursor() as cur:
                    cur.execute("SELECT RELEASE_LOCK(%s)", (self._fence_name(),))
            except pymysql.Error:
                pass  # the session is gone, and its lock with it
        if self._lock_conn is not None:
            try:
                with self._lock_conn.cursor() as cur:
                    cur.execute("SELECT RELEASE_LOCK(%s)", (self.lock_name(),))
            except pymysql.Error as exc:
                if not _gone(exc):
                    raise
                # It died, and the server released the lock with it: nothing is left to release.
            finally:
                try:
                    self._lock_conn.close()
                except pymysql.Error:
                    pass  # already closed by the driver when the connection broke
                self._lock_conn = None

    def check_lock(self) -> None:
        if self._lock_conn is None:
            return
        try:
            with self._lock_conn.cursor() as cur:
                cur.execute("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (self.lock_name(),))
                held, why = cur.fetchone()[0] == 1, "another session holds it now"
        except pymysql.Error as exc:
            held, why = False, f"its connection was lost: ({_code(exc)}) {_message(exc)}"
        if not held:
            raise LockLostError(
                f"the migration lock {self.lock_name()} is no longer held ({why}); stopped before going on, "
                "so that no other runner can apply the same script; run again to apply the rest"
            )


def _setting(value: Any) -> str:
    """A session variable's value as read back, as the literal that sets it again (NULL, a number, a name)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = value.decode() if isinstance(value, bytes) else str(value)
    # Mode, character set and time zone names have no backslash, so the script's sql_mode cannot change
    # how this literal reads (NO_BACKSLASH_ESCAPES); a quote is doubled all the same.
    return "'" + text.replace("'", "''") + "'"

def _packet(texts: list[str]) -> str:
    """Statements joined into one packet; a text that already ends in ';' (``end;$$``) gets no second one."""
    return "".join(t + ("\n" if t[-1] == ";" else "\n;\n") for t in texts[:-1]) + texts[-1]


def _schema(name: Name) -> str | None:
    """The database a name is in when it says (db.t), else None: the session's current one (a script may USE another)."""
    return name.parts[-2] if len(name.parts) > 1 else None


def _history_values(row: HistoryRow) -> list[Any]:
    values = list(row.values())
    values[5] = _naive_utc(row.applied_at)
    values[11] = _naive_utc(row.checksum_replaced_at)
    return values


def _literal(value: Any) -> str:
    """``value`` as an SQL literal that reads the same whatever the session's sql_mode (no escapes in it)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat(sep=' ', timespec='microseconds')}'"
    return f"_utf8mb4 X'{str(value).encode().hex()}'"


def _naive_utc(value: datetime | str | None) -> datetime | str | None:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(value, datetime) else value


def _row(r: tuple) -> HistoryRow:
    def when(v: object) -> datetime | str | None:
        # pymysql hands back a zero or invalid DATETIME ('0000-00-00 00:00:00') as text: kept as it is.
        return v.replace(tzinfo=timezone.utc) if isinstance(v, datetime) else (None if v is None else str(v))

    return HistoryRow(r[0], r[1], r[2], r[3], r[4], when(r[5]), r[6], r[7], r[8], r[9], r[10], when(r[11]))


class _Probe(LockProbe):
    """The sessions the working session waits for, asked on a connection of the probe's own."""

    def __init__(self, url: DatabaseURL, database: str, exclude: list[int]) -> None:
        self.url, self.database, self.exclude = url, database, exclude
        self.conn: pymysql.connections.Connection | None = None

    def _rows(self, sql: str, args: Any = None) -> list[tuple]:
        if self.conn is None:
            self.conn = _connect(self.url, self.database)
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def blockers(self) -> tuple[Blocker, ...]:
        me = self.exclude[0]
        named = [r[0] for r in self._rows(ROW_BLOCKERS, (me,))]
        if named:  # a row lock: InnoDB says who holds it
            where, args = f"p.id IN ({', '.join(['%s'] * len(named))})", named
        else:  # a metadata lock ("Waiting for table metadata lock"), or nothing
            state = self._rows(WAITING, (me,))
            if not state or "lock" not in (state[0][0] or "").lower():
                return ()
            where, args = "p.db = %s", [self.database]
        holes = ", ".join(["%s"] * len(self.exclude))
        rows = self._rows(SESSIONS.format(exclude=holes, where=where), (*self.exclude, *args))
        wanted = "a row lock" if named else "a metadata lock; the likeliest holders first"
        return tuple(_blocker(r, wanted) for r in rows)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except pymysql.Error:
                pass
            self.conn = None


def _blocker(r: tuple, wanted: str) -> Blocker:
    since = f"in a transaction since {r[6]}" if r[6] else f"{r[4]}s in this state"
    return Blocker(str(r[0]), r[1] or "?", f"host {r[2]}", (r[3] or "?").lower(), since, r[5] or "", wanted)
