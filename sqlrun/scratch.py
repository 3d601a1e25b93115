"""Scratch databases beside a target: copy and drop whole databases (the pytest plugin stands on it).

A copy is what a test suite wants many times a session, so each engine copies the fastest way it has:
PostgreSQL clones a template database on the server (``CREATE DATABASE ... TEMPLATE``), SQLite copies the
file, and MySQL/MariaDB, which has no clone, replays the source's DDL (read once, see ``MySQLRecipe``) and
copies rows server-side with ``INSERT ... SELECT``: about twice as fast as applying the scripts again.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from .config import DatabaseURL
from .errors import SqlrunError

TYPE_CHECKING = False
NO_SUCH_TABLE = 1146
VIEWS_HERE = "-- views"  # a marker in MySQLRecipe.steps, compared by identity

if TYPE_CHECKING:
    from typing import Any, Callable


def url_text(url: DatabaseURL) -> str:
    """The URL as a connectable string, password included: for the process that owns the database only."""
    if url.kind == "sqlite":
        return f"sqlite:///{url.database}"
    auth = quote(url.user or "", safe="")
    if url.password is not None:
        auth += ":" + quote(url.password, safe="")
    host = url.host or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in url.query)
    netloc = f"{auth}@{host}" if auth else host
    return f"{url.scheme or url.kind}://{netloc}{port}/{quote(url.database or '', safe='')}" + (f"?{query}" if query else "")


def drop(url: DatabaseURL) -> None:
    """Drop the database ``url`` names, if it exists, whoever is still connected to it."""
    copier = Copier(url)
    try:
        copier.drop(url)
    finally:
        copier.close()


@dataclass
class Copier:
    """Makes and drops copies of one source database over one admin connection; the source must not change,
    nor be in use, while it copies."""

    source: DatabaseURL
    _recipe: MySQLRecipe | None = field(default=None, init=False, repr=False)
    _admin: Any = field(default=None, init=False, repr=False)

    def copy(self, name: str) -> DatabaseURL:
        """A new database called ``name`` (a file path for SQLite) holding what the source holds."""
        target = self.source.with_database(name)
        if self.source.kind == "postgresql":
            # WAL_LOG (PostgreSQL 15's default) copies block by block through the WAL; FILE_COPY forces two
            # checkpoints and measured 4-5x slower for a small database.
            self._run([f"CREATE DATABASE {_pg_ident(name)} TEMPLATE {_pg_ident(self.source.database)}"])
        elif self.source.kind == "mysql":
            if self._recipe is None:
                self._recipe = MySQLRecipe.read(self.source)
            self._run(self._recipe.steps(name), views=self._recipe.views)
        else:
            shutil.copyfile(self.source.database or "", name)
        return target

    def drop(self, url: DatabaseURL) -> None:
        """Drop the database ``url`` names (on the source's server), if it exists, even while in use."""
        if url.kind == "postgresql":
            self._run([f"DROP DATABASE IF EXISTS {_pg_ident(url.database)} WITH (FORCE)"])
        elif url.kind == "mysql":
            self._run([f"DROP DATABASE IF EXISTS {_my_ident(url.database)}"])
        elif url.database and url.database != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(url.database + suffix)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        """Close the admin connection."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def _run(self, statements: list[str], views: tuple[str, ...] = ()) -> None:
        if self._admin is None:
            self._admin = _pg_admin(self.source) if self.source.kind == "postgresql" else _my_admin(self.source)
        if self.source.kind == "postgresql":
            for sql in statements:
                self._admin.execute(sql.encode())
            return
        with self._admin.cursor() as cur:
            for sql in statements:
                if sql is VIEWS_HERE:
                    _create_views(cur, views)
                else:
                    cur.execute(sql)


@dataclass(frozen=True)
class MySQLRecipe:
    """What it takes to rebuild a MySQL/MariaDB database: its DDL in a safe order, and which tables hold rows."""

    source: str
    tables: tuple[str, ...]  # CREATE TABLE statements
    filled: tuple[tuple[str, str], ...]  # (table, column list) of tables with rows, generated columns left out
    views: tuple[str, ...]  # CREATE VIEW statements, in name order (_create_views finds an order that works)
    later: tuple[tuple[str, str], ...]  # (sql_mode, CREATE PROCEDURE/FUNCTION/TRIGGER), made after the rows

    @classmethod
    def read(cls, url: DatabaseURL) -> MySQLRecipe:
        """Read the recipe of the database ``url`` names."""
        from .dialects.mysql import _connect

        conn = _connect(url, url.database)
        try:
            with conn.cursor() as cur:
                return cls(url.database or "", *_read_mysql(cur, url.database or ""))
        finally:
            conn.close()

    def steps(self, name: str) -> list[str]:
        """The statements that create database ``name`` and fill it from the source (VIEWS_HERE: the views)."""
        target = _my_ident(name)
        source = _my_ident(self.source)
        steps = [
            f"CREATE DATABASE {target} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            f"USE {target}",
            "SET SESSION FOREIGN_KEY_CHECKS = 0",
            *self.tables,
            *(f"INSERT INTO {target}.{_my_ident(t)} ({cols}) SELECT {cols} FROM {source}.{_my_ident(t)}" for t, cols in self.filled),
            "SET SESSION FOREIGN_KEY_CHECKS = 1",
            VIEWS_HERE,
        ]
        for mode, ddl in self.later:
            steps += [f"SET SESSION sql_mode = '{mode}'", ddl]
        return steps


def _read_mysql(cur: Any, database: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    cur.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
        (database,),
    )
    kinds = cur.fetchall()
    tables, filled, views = [], [], []
    for table, kind in kinds:
        if kind == "VIEW":
            cur.execute(f"SHOW CREATE VIEW {_my_ident(table)}")
            views.append(cur.fetchone()[1])
            continue
        cur.execute(f"SHOW CREATE TABLE {_my_ident(table)}")
        tables.append(cur.fetchone()[1])
        cur.execute(f"SELECT 1 FROM {_my_ident(table)} LIMIT 1")
        if cur.fetchone():
            filled.append((table, _copied_columns(cur, database, table)))
    return tuple(tables), tuple(filled), tuple(views), _routines_and_triggers(cur, database)


def _copied_columns(cur: Any, database: str, table: str) -> str:
    # Generated columns compute themselves and refuse a value.
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND extra NOT LIKE '%%GENERATED%%' ORDER BY ordinal_position",
        (database, table),
    )
    return ", ".join(_my_ident(row[0]) for row in cur.fetchall())


def _routines_and_triggers(cur: Any, database: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    cur.execute(
        "SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = %s ORDER BY routine_name",
        (database,),
    )
    for kind, name in cur.fetchall():
        cur.execute(f"SHOW CREATE {kind} {_my_ident(name)}")
        row = cur.fetchone()
        found.append((row[1], row[2]))
    cur.execute("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = %s ORDER BY action_order", (database,))
    for (name,) in cur.fetchall():
        cur.execute(f"SHOW CREATE TRIGGER {_my_ident(name)}")
        row = cur.fetchone()
        found.append((row[1], row[2]))
    return tuple(found)


def _pg_ident(name: str | None) -> str:
    return '"' + (name or "").replace('"', '""') + '"'


def _my_ident(name: str | None) -> str:
    return "`" + (name or "").replace("`", "``") + "`"


def _pg_admin(url: DatabaseURL) -> Any:
    import psycopg

    from .dialects.postgresql import MAINTENANCE_DATABASES, connect_kwargs

    return psycopg.connect(autocommit=True, **connect_kwargs(url, MAINTENANCE_DATABASES[0]))


def _my_admin(url: DatabaseURL) -> Any:
    from .dialects.mysql import _connect

    return _connect(url, None)


def _create_views(cur: Any, views: tuple[str, ...]) -> None:
    """Create views in an order that works: one that reads a view not made yet waits for the next pass."""
    import pymysql

    pending = list(views)
    while pending:
        waiting = []
        for ddl in pending:
            try:
                cur.execute(ddl)
            except pymysql.err.ProgrammingError as exc:
                if exc.args[0] != NO_SUCH_TABLE:
                    raise
                waiting.append(ddl)
        if len(waiting) == len(pending):
            cur.execute(waiting[0])  # no progress: let the server's own error say which view and why
        pending = waiting


class CopyPool:
    """Copies of one PostgreSQL source made ahead by a few threads, each used once, and dropped in batches.

    On PostgreSQL 15 every ``DROP DATABASE`` forces an immediate checkpoint, and a checkpoint writes out and
    fsyncs every copy still standing that is not on disk yet: a WAL_LOG copy lives in shared buffers and the
    page cache until then (about 380 files for a 20-table schema), and once on disk, dropping it unlinks real
    blocks too. Dropping each used copy while the next ones stood ready made every copy pay all of that (204 ms
    a test here). So at most ``budget`` copies stand at once, and used ones are dropped only when every standing
    copy is used (none ready, in use or being made), all at once, one connection each, so that their
    checkpoints find nothing else to write and their files never reach the disk (docs/benchmarks.md).
    """

    def __init__(self, source: DatabaseURL, name: Callable[[], str], *, workers: int = 2, ahead: int = 4, budget: int = 8) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self._source = source
        self._name = name
        self._workers, self._ahead, self._budget = workers, min(ahead, budget), budget
        self._cv = threading.Condition()
        self._ready: list[DatabaseURL] = []
        self._used: list[DatabaseURL] = []
        self._standing: set[DatabaseURL] = set()  # made and not dropped: whatever close() must drop
        self._making = 0
        self._out = 0  # taken and not given back
        self._closing = False
        self._failure: BaseException | None = None
        self._local = threading.local()
        self._copiers: list[Copier] = []
        self._jobs = ThreadPoolExecutor(max(workers, budget), thread_name_prefix="sqlrun-copy")
        self._manager = threading.Thread(target=self._manage, name="sqlrun-copy-pool", daemon=True)
        self._manager.start()

    @staticmethod
    def budget_for(source: DatabaseURL, *, share: int = 1) -> int:
        """How many copies may stand at once: as many as the server's shared buffers hold, less one (2 to 16, one
        connection each when a batch is dropped), split between ``share`` pools (pytest-xdist workers).

        Fewer batches mean fewer waits for a batch to drop and the next copy to be made: budget 14 measured
        42-60 ms a test against 60-65 for 7 (128 MB of shared buffers, 8.4 MB template); 20 and 28, past what
        the buffers hold, were no faster (docs/benchmarks.md)."""
        admin = _pg_admin(source)
        try:
            row = admin.execute(
                "SELECT pg_database_size(%s), pg_size_bytes(current_setting('shared_buffers'))", (source.database,)
            ).fetchone()
        finally:
            admin.close()
        size, buffers = max(int(row[0]), 1), int(row[1])
        return max(2, min(16, (buffers // size - 1) // max(share, 1)))

    def take(self, timeout: float = 300.0) -> DatabaseURL:
        """A ready copy (waiting for one if need be); the error that stopped the pool, if any."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while not self._ready:
                if isinstance(self._failure, SqlrunError):
                    raise self._failure
                if self._failure is not None:  # the driver's error, as the cause of one that says what failed
                    what = f"could not make a copy of the test database {self._source.database}"
                    raise SqlrunError(f"{what}: {self._failure}") from self._failure
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SqlrunError(
                        f"no copy of the test database {self._source.database} was ready after {timeout:.0f}s: the "
                        "server made none; look for a session holding a lock on it, or a full disk"
                    )
                self._cv.wait(left)
            self._out += 1
            url = self._ready.pop(0)
            self._cv.notify_all()
            return url

    def give_back(self, url: DatabaseURL) -> None:
        """Mark ``url`` used: it is dropped with the next batch."""
        with self._cv:
            self._out -= 1
            self._used.append(url)
            self._cv.notify_all()

    def close(self) -> None:
        """Stop making copies and drop every copy this pool made (in use or not); the first error, if any."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._manager.join()
        try:
            self._drop_all(sorted(self._standing, key=lambda u: u.database or ""))
        finally:
            self._jobs.shutdown()
            for copier in self._copiers:
                copier.close()

    def _manage(self) -> None:
        """Decide, under the lock, what to do next: make copies, drop a batch, or stop (at close)."""
        try:
            while True:
                with self._cv:
                    batch, count = self._next_step()
                if batch:
                    self._drop_all(batch)
                elif count:
                    for _ in range(count):
                        self._jobs.submit(self._make)
                else:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the test that asks for a copy next
            self._fail(exc)

    def _next_step(self) -> tuple[list[DatabaseURL], int]:
        """A batch to drop, or a number of copies to make; neither once closing and nothing is being made."""
        while True:
            if self._closing or self._failure is not None:
                if self._making == 0:
                    return [], 0
            elif self._used and not self._ready and not self._out and not self._making and len(self._used) >= self._budget:
                batch, self._used = self._used, []
                return batch, 0
            else:
                count = min(self._ahead - len(self._ready) - self._making, self._budget - len(self._standing) - self._making,
                            self._workers - self._making)
                if count > 0:
                    self._making += count
                    return [], count
            self._cv.wait()

    def _make(self) -> None:
        try:
            url = self._copier().copy(self._name())
        except BaseException as exc:  # noqa: BLE001 - handed to the test that asks for a copy next
            with self._cv:
                self._making -= 1
            self._fail(exc)
            return
        with self._cv:
            self._making -= 1
            self._standing.add(url)
            self._ready.append(url)
            self._cv.notify_all()

    def _drop_all(self, urls: list[DatabaseURL]) -> None:
        """Drop ``urls`` at once, one connection each: concurrent drops share their checkpoints."""
        for future in [self._jobs.submit(self._drop, url) for url in urls]:
            future.result()

    def _drop(self, url: DatabaseURL) -> None:
        self._copier().drop(url)
        with self._cv:
            self._standing.discard(url)

    def _copier(self) -> Copier:
        """This thread's own admin connection."""
        copier = getattr(self._local, "copier", None)
        if copier is None:
            copier = self._local.copier = Copier(self._source)
            with self._cv:
                self._copiers.append(copier)
        return copier

    def _fail(self, exc: BaseException) -> None:
        with self._cv:
            self._failure = self._failure or exc
            self._cv.notify_all()
