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
    """Copies of one source made ahead of need by a few threads, and dropped behind, each with its own Copier.

    ``CREATE DATABASE ... TEMPLATE`` spends its time waiting for the server's disk: one at a time a copy took
    179 ms here, four at once 35 ms each. A test that takes a ready copy waits for none of that.
    """

    def __init__(self, source: DatabaseURL, name: Callable[[], str], workers: int = 4, ahead: int = 4) -> None:
        import queue
        import threading

        self._source = source
        self._name = name
        self._ready: queue.Queue[DatabaseURL] = queue.Queue(maxsize=ahead)
        self._trash: queue.Queue[DatabaseURL] = queue.Queue()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._threads = [threading.Thread(target=self._work, args=(Copier(source),), name=f"sqlrun-copy-{n}", daemon=True)
                         for n in range(workers)]
        for t in self._threads:
            t.start()

    def take(self, timeout: float = 300.0) -> DatabaseURL:
        """A ready copy (waiting for one if need be); the error that stopped the workers, if any."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            if self._failure is not None:
                raise self._failure
            try:
                return self._ready.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no copy of the test database was ready after {timeout:.0f}s") from None

    def give_back(self, url: DatabaseURL) -> None:
        """Drop ``url`` in the background."""
        self._trash.put(url)

    def close(self) -> None:
        """Stop making copies, and drop the ready ones and those given back."""
        import queue

        self._stop.set()
        for t in self._threads:
            t.join()
        leftover = Copier(self._source)
        try:
            for q in (self._ready, self._trash):
                while True:
                    try:
                        leftover.drop(q.get_nowait())
                    except queue.Empty:
                        break
        finally:
            leftover.close()

    def _work(self, copier: Copier) -> None:
        import queue

        try:
            while not self._stop.is_set():
                try:
                    copier.drop(self._trash.get_nowait())  # behind: a dropped copy frees the server's disk for the next
                    continue
                except queue.Empty:
                    pass
                if self._ready.full():
                    self._stop.wait(0.01)
                    continue
                url = copier.copy(self._name())
                try:
                    self._ready.put_nowait(url)
                except queue.Full:  # another worker filled the last place meanwhile
                    self._trash.put(url)
        except BaseException as exc:  # noqa: BLE001 - handed to the test that asks for a copy next
            self._failure = exc
        finally:
            copier.close()
