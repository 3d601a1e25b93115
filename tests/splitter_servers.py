"""Server helpers for the splitter tests: connect, temporary databases, skip (or fail under CI) when unreachable."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pytest

from conftest import unavailable

DEFAULT_POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306/"


@dataclass(frozen=True)
class Server:
    """Where a test server listens, parsed from SQLRUN_TEST_*_URL."""

    host: str
    port: int
    user: str
    password: str
    database: str


def _server(env: str, default: str, port: int) -> Server:
    """Parse the URL in ``env`` (or ``default``)."""
    url = urlsplit(os.environ.get(env) or default)
    return Server(
        host=url.hostname or "127.0.0.1",
        port=url.port or port,
        user=unquote(url.username or ""),
        password=unquote(url.password or ""),
        database=url.path.lstrip("/"),
    )


def postgresql_server() -> Server:
    """The PostgreSQL server the tests use."""
    return _server("SQLRUN_TEST_POSTGRESQL_URL", DEFAULT_POSTGRESQL_URL, 5432)


def mysql_server() -> Server:
    """The MySQL/MariaDB server the tests use."""
    return _server("SQLRUN_TEST_MYSQL_URL", DEFAULT_MYSQL_URL, 3306)


def require_tool(name: str) -> str:
    """Path of a command-line client, or skip/fail when it is not installed."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed")
    return path  # type: ignore[return-value]


def pg_connect(database: str | None = None, *, autocommit: bool = True):  # noqa: ANN201
    """A psycopg connection to ``database`` (default: the URL's), or skip/fail if unreachable."""
    import psycopg

    s = postgresql_server()
    try:
        return psycopg.connect(
            host=s.host, port=s.port, user=s.user or None, password=s.password or None,
            dbname=database or s.database or "postgres", autocommit=autocommit, connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {s.host}:{s.port} is not reachable: {exc}")


def my_connect(database: str | None = None):  # noqa: ANN201
    """A pymysql connection (utf8mb4, autocommit) to ``database``, or skip/fail if unreachable."""
    import pymysql

    s = mysql_server()
    try:
        return pymysql.connect(
            host=s.host, port=s.port, user=s.user or "root", password=s.password,
            database=database or (s.database or None), charset="utf8mb4", autocommit=True, connect_timeout=3,
        )
    except pymysql.err.OperationalError as exc:
        unavailable(f"MySQL/MariaDB at {s.host}:{s.port} is not reachable: {exc}")


def temp_name() -> str:
    """A random database name."""
    return "sqlrun_split_" + uuid.uuid4().hex[:12]


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = temp_name()
    with pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def my_database() -> Iterator[str]:
    """A fresh MySQL/MariaDB database (utf8mb4), dropped afterwards."""
    name = temp_name()
    conn = my_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def psql_args(database: str) -> list[str]:
    """psql command line for ``database``."""
    s = postgresql_server()
    return [require_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.host, "-p", str(s.port),
            "-U", s.user or "postgres", "-d", database]


def pg_env() -> dict[str, str]:
    """Environment for psql/pg_dump (password via PGPASSWORD, never on the command line)."""
    env = dict(os.environ)
    if postgresql_server().password:
        env["PGPASSWORD"] = postgresql_server().password
    return env


def mysql_args(tool: str, database: str) -> list[str]:
    """mariadb / mariadb-dump command line for ``database`` (falls back to mysql / mysqldump)."""
    fallback = {"mariadb": "mysql", "mariadb-dump": "mysqldump"}[tool]
    exe = shutil.which(tool) or require_tool(fallback)
    s = mysql_server()
    return [exe, "-h", s.host, "-P", str(s.port), "-u", s.user or "root", "--default-character-set=utf8mb4", database]


def my_env() -> dict[str, str]:
    """Environment for the mariadb client (password via MYSQL_PWD)."""
    env = dict(os.environ)
    if mysql_server().password:
        env["MYSQL_PWD"] = mysql_server().password
    return env


def run(args: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run a client; return stdout, or fail the test with its stderr."""
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"{args[0]} exited with {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout
