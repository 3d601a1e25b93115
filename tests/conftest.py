"""Shared fixtures: a fresh, empty database per test on each backend, and a CLI runner.

Servers come from SQLRUN_TEST_MYSQL_URL / SQLRUN_TEST_POSTGRESQL_URL, else the local default ports. When a
server cannot be reached the backend's tests are skipped with the reason, except under CI=true, where that is
a failure: CI must prove every backend.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import sys
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

import pytest

# The sqlrun under test is this checkout's, in this process and in every subprocess a test starts (which may
# run from another directory): not whichever checkout the venv's editable install points at, as it would be
# for a second worktree sharing one venv.
ROOT = Path(__file__).resolve().parents[1]
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

from sqlrun.config import DatabaseURL, parse_url  # noqa: E402

DEFAULT_URLS = {"mysql": "mysql://root@127.0.0.1:3306/", "postgresql": "postgresql://postgres@127.0.0.1:5432/postgres"}
ENV_URLS = {"mysql": "SQLRUN_TEST_MYSQL_URL", "postgresql": "SQLRUN_TEST_POSTGRESQL_URL"}
SERVER_URLS = {kind: os.environ.get(var) or DEFAULT_URLS[kind] for kind, var in ENV_URLS.items()}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ("sqlite", "mysql", "postgresql")
_unreachable: dict[str, str] = {}


def _server_reason(kind: str) -> str | None:
    """Why the server for ``kind`` cannot be used, or None when it answers."""
    if kind not in _unreachable:
        _unreachable[kind] = _probe(kind)
    return _unreachable[kind] or None


def _probe(kind: str) -> str:
    """'' when a server for ``kind`` answers (starting a throwaway one if need be), else why not."""
    try:
        with admin(kind) as cur:
            cur.execute("SELECT 1")
        return ""
    except Exception as exc:  # any failure to reach it is a reason to look further
        first = f"{kind} server not reachable at {server_url(kind).redacted()}: {exc}"
    if os.environ.get(ENV_URLS[kind]):
        return first  # the user named a server: do not quietly test another one
    import servers

    try:
        SERVER_URLS[kind] = servers.start_mysql() if kind == "mysql" else servers.start_postgresql()
        with admin(kind) as cur:
            cur.execute("SELECT 1")
        print(f"\nusing a throwaway {kind} server at {SERVER_URLS[kind]}")
        return ""
    except Exception as exc:  # no binaries, or they would not start
        return f"{first}; no throwaway server either: {exc}"


def server_url(kind: str) -> DatabaseURL:
    """The admin URL of the test server for ``kind``."""
    return parse_url(SERVER_URLS[kind])


class admin:
    """A cursor on the test server's admin connection, autocommit: ``with admin("mysql") as cur: ...``."""

    def __init__(self, kind: str, database: str | None = None) -> None:
        self.kind, self.database = kind, database

    def __enter__(self) -> Any:
        url = server_url(self.kind)
        if self.kind == "mysql":
            import pymysql

            from sqlrun.dialects.mysql import connect_kwargs

            kwargs = connect_kwargs(url, self.database)
            kwargs["connect_timeout"] = 3
            self.conn = pymysql.connect(**kwargs)
        else:
            import psycopg

            from sqlrun.dialects.postgresql import connect_kwargs

            kwargs = connect_kwargs(url, self.database)
            kwargs["connect_timeout"] = 3
            self.conn = psycopg.connect(autocommit=True, **kwargs)
        self.cur = self.conn.cursor()
        return self.cur

    def __exit__(self, *exc: object) -> None:
        self.cur.close()
        self.conn.close()


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason`` (what cannot run, and why); fail it under CI=true, which must never skip one."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def need_client(*names: str) -> None:
    """Skip unless the official client programs ``names`` are installed; under CI=true their absence fails."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not installed (.ci/run installs the clients)")


def require(kind: str) -> None:
    """Skip (or fail under CI=true) when the server for ``kind`` is not reachable."""
    if kind == "sqlite":
        return
    reason = _server_reason(kind)
    if reason:
        unavailable(f"a backend cannot run: {reason}")


@dataclass
class TempDatabase:
    """A database made for one test, and helpers to look inside it."""

    kind: str
    url: str
    name: str
    path: Path | None = None

    def query(self, sql: str, *params: Any) -> list[tuple]:
        """Rows of ``sql`` run on a fresh connection."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(str(self.path))
            try:
                return [tuple(r) for r in conn.execute(sql, params).fetchall()]
            finally:
                conn.close()
        with admin(self.kind, self.name) as cur:
            cur.execute(sql, params or None)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def execute(self, sql: str) -> None:
        """Run one statement outside sqlrun (to build a schema the old way, say)."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(str(self.path), isolation_level=None)
            try:
                conn.executescript(sql)
            finally:
                conn.close()
            return
        with admin(self.kind, self.name) as cur:
            cur.execute(sql)

    def tables(self) -> set[str]:
        """Names of the tables in the database."""
        if self.kind == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        elif self.kind == "mysql":
            rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
        else:
            rows = self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}

    def history(self) -> list[tuple]:
        """(version, name, state, statements, tolerated) per history row, in version order."""
        return self.query("SELECT version, name, state, statements, tolerated FROM sqlrun_history ORDER BY version")


def make_database(kind: str, tmp_path: Path) -> Iterator[TempDatabase]:
    """Create an empty database for one test and drop it afterwards."""
    require(kind)
    name = f"sqlrun_t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = tmp_path / f"{name}.db"
        yield TempDatabase(kind, f"sqlite:///{path}" if not path.is_absolute() else f"sqlite:///{path}", name, path)
        return
    base = server_url(kind)
    url = base.with_database(name)
    raw = _raw_url(url)
    with admin(kind) as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield TempDatabase(kind, raw, name)
    finally:
        with admin(kind) as cur:
            if kind == "postgresql":
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                cur.execute(f"DROP DATABASE IF EXISTS {name}")


def _raw_url(url: DatabaseURL) -> str:
    """The URL as text, password included (tests only)."""
    from urllib.parse import quote

    auth = quote(url.user or "", safe="")
    if url.password:
        auth += ":" + quote(url.password, safe="")
    host = url.host or "127.0.0.1"
    port = f":{url.port}" if url.port else ""
    query = "&".join(f"{k}={v}" for k, v in url.query)
    return f"{url.kind}://{auth}{'@' if auth else ''}{host}{port}/{url.database}" + (f"?{query}" if query else "")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """An empty database on each backend in turn."""
    kind = request.param
    yield from make_database(kind, tmp_path)


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[TempDatabase]:
    """An empty PostgreSQL database, for behaviour only PostgreSQL has (deferred constraints, COPY...)."""
    yield from make_database("postgresql", tmp_path)


@dataclass(frozen=True)
class CliResult:
    """What a CLI call (in-process, or a real process) returned and printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr together."""
        return self.out + self.err


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Call ``sqlrun.cli.main(argv)`` in-process and capture its output."""
    from sqlrun.cli import main

    def run(*argv: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def scripts(tmp_path: Path) -> Callable[..., Path]:
    """Write scripts into a fresh migrations folder: ``scripts({"001_a.sql": "..."})`` returns the folder."""
    folder = tmp_path / "migrations"
    folder.mkdir()

    def write(files: dict[str, str | bytes]) -> Path:
        for name, body in files.items():
            target = folder / name
            if isinstance(body, bytes):
                target.write_bytes(body)
            else:
                target.write_text(body, encoding="utf-8", newline="")
        return folder

    return write
