"""The pytest plugin: a migrated database per session and a fresh copy per test, in a real pytest process."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import BACKENDS, TempDatabase, _raw_url, admin, require, server_url

MIGRATION = """CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL);
INSERT INTO items (id, name) VALUES (1, 'seed');
CREATE VIEW item_names AS SELECT name FROM items;
"""

INNER_CONFTEST = '''
import sqlite3
from sqlrun.config import parse_url

def connect(text):
    """A DB-API connection to the URL a fixture handed out (autocommit where the driver has it)."""
    url = parse_url(text)
    if url.kind == "sqlite":
        return sqlite3.connect(url.database, isolation_level=None)
    if url.kind == "mysql":
        import pymysql
        return pymysql.connect(host=url.host, port=url.port or 3306, user=url.user, password=url.password or "",
                               database=url.database, autocommit=True)
    import psycopg
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.user, dbname=url.database, autocommit=True)

def rows(text):
    conn = connect(text)
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, name FROM items ORDER BY id")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()

def insert(text, key):
    conn = connect(text)
    try:
        conn.cursor().execute(f"INSERT INTO items (id, name) VALUES ({key}, 'test')")
    finally:
        conn.close()
'''

INNER_TESTS = '''
import os
import pytest
from conftest import insert, rows

def _note(url):
    with open(os.environ["NAMES_FILE"], "a") as out:
        out.write(url.rsplit("/", 1)[-1].split("?")[0] + "\\n")

@pytest.mark.parametrize("n", range(6))
def test_clean_copy_is_fresh(sqlrun_clean_database, n):
    _note(sqlrun_clean_database)
    assert rows(sqlrun_clean_database) == [(1, "seed")]
    insert(sqlrun_clean_database, 100 + n)
    assert rows(sqlrun_clean_database) == [(1, "seed"), (100 + n, "test")]

def test_session_database_is_shared_a(sqlrun_database):
    _note(sqlrun_database)
    insert(sqlrun_database, 7)

def test_session_database_is_shared_b(sqlrun_database):
    assert (7, "test") in rows(sqlrun_database)
'''


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "app"
    (project / "data" / "migrations").mkdir(parents=True)
    (project / "data" / "migrations" / "001_items.sql").write_text(MIGRATION)
    (project / "tests").mkdir()
    (project / "tests" / "conftest.py").write_text(INNER_CONFTEST)
    (project / "tests" / "test_app.py").write_text(INNER_TESTS)
    return project


def _run_inner(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    names = project / "names.txt"
    names.write_text("")
    env = {"NAMES_FILE": str(names), "PATH": "/usr/bin:/bin", "HOME": str(project)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", *args],
        cwd=project, env=env, text=True, capture_output=True, timeout=300,
    )


def _server_args(kind: str) -> tuple[str, ...]:
    if kind == "sqlite":
        return ()
    require(kind)
    return ("--sqlrun-url", _raw_url(server_url(kind).with_database("sqlrunplug")))


def _leftovers(kind: str, names: list[str]) -> list[str]:
    if kind == "sqlite":
        return []
    with admin(kind) as cur:
        if kind == "postgresql":
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sqlrunplug%'")
        else:
            cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'sqlrunplug%'")
        return [row[0] for row in cur.fetchall() if row[0] in names]


@pytest.mark.parametrize("kind", BACKENDS)
def test_each_test_gets_a_fresh_copy_and_nothing_is_left(kind: str, tmp_path: Path) -> None:
    """Six tests each see only the seed row; the session database keeps what a test wrote; all are dropped."""
    project = _project(tmp_path)
    done = _run_inner(project, *_server_args(kind))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout
    names = (project / "names.txt").read_text().split()
    assert len(names) == 7 and len(set(names)) == 7  # six copies and the session database, all distinct
    assert _leftovers(kind, names) == []


@pytest.mark.parametrize("kind", BACKENDS)
def test_xdist_workers_get_their_own_databases(kind: str, tmp_path: Path) -> None:
    """Under pytest -n 2 each worker names its databases after itself, and the tests still pass."""
    project = _project(tmp_path)
    (project / "tests" / "test_app.py").write_text(INNER_TESTS.split("def test_session_database_is_shared_a")[0])
    done = _run_inner(project, "-n", "2", *_server_args(kind))
    assert done.returncode == 0, done.stdout + done.stderr
    names = (project / "names.txt").read_text().split()
    assert len(names) == 6
    workers = {name.split("_")[1] for name in names}
    assert workers <= {"gw0", "gw1"} and len(workers) == 2
    assert _leftovers(kind, names) == []


def test_more_tests_than_the_pool_holds_each_get_a_fresh_copy_and_all_are_dropped(tmp_path: Path) -> None:
    """On PostgreSQL, 30 quick tests (more than the copies the pool lets stand, so used ones are dropped in
    batches mid-session and at the end, after tests that ran faster than the drops): each sees only the seed."""
    project = _project(tmp_path)
    many = INNER_TESTS.split("def test_session_database_is_shared_a")[0].replace("range(6)", "range(30)")
    (project / "tests" / "test_app.py").write_text(many)
    done = _run_inner(project, *_server_args("postgresql"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "30 passed" in done.stdout
    names = (project / "names.txt").read_text().split()
    assert len(names) == 30 and len(set(names)) == 30
    assert _leftovers("postgresql", names) == []


def _standing(prefix: str) -> set[str]:
    with admin("postgresql") as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",))
        return {row[0] for row in cur.fetchall()}


def _pool(pg: TempDatabase, budget: int) -> tuple[object, str]:
    from sqlrun.config import parse_url
    from sqlrun.scratch import CopyPool

    pg.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO items VALUES (1, 'seed')")
    prefix = f"sqlrun_pool_{uuid.uuid4().hex[:8]}_"
    return CopyPool(parse_url(pg.url), lambda: prefix + uuid.uuid4().hex[:8], budget=budget), prefix


def test_copy_pool_keeps_within_its_budget_and_close_drops_every_copy(pg: TempDatabase) -> None:
    """Ten copies through a pool of three: never more than three stand, each is pristine, and close drops all,
    the one still in use included."""
    pool, prefix = _pool(pg, budget=3)
    try:
        for n in range(10):
            url = pool.take()
            assert len(_standing(prefix)) <= 3
            copy = TempDatabase("postgresql", "", url.database or "")
            assert copy.query("SELECT id, name FROM items ORDER BY id") == [(1, "seed")]
            copy.execute(f"INSERT INTO items VALUES ({100 + n}, 'test')")
            pool.give_back(url)
        in_use = pool.take()
        assert in_use.database in _standing(prefix)
    finally:
        pool.close()
    assert _standing(prefix) == set()


def test_copy_pool_drops_nothing_while_a_copy_is_in_use(pg: TempDatabase) -> None:
    """A used copy waits for the batch: dropping it now would force a checkpoint that writes out the copy in use."""
    pool, prefix = _pool(pg, budget=2)
    try:
        first = pool.take()
        pool.give_back(first)
        second = pool.take()
        time.sleep(0.5)
        assert first.database in _standing(prefix)
        pool.give_back(second)
        third = pool.take()  # made once both were used and dropped together
        assert _standing(prefix) & {first.database, second.database} == set()
        pool.give_back(third)
    finally:
        pool.close()
    assert _standing(prefix) == set()


def test_a_failing_migration_fails_the_fixture_with_the_scripts_message(tmp_path: Path) -> None:
    """A script that does not apply errors the tests that use the fixture, naming file and line."""
    project = _project(tmp_path)
    (project / "data" / "migrations" / "002_bad.sql").write_text("SELECT 1;\nINSERT INTO missing (x) VALUES (1);\n")
    done = _run_inner(project)
    assert done.returncode == 1
    assert "002_bad.sql:2" in done.stdout
    assert "8 errors" in done.stdout


def test_a_pool_that_cannot_copy_says_so_as_sqlruns_error(pg: TempDatabase) -> None:
    """The server's refusal reaches the test that asks for a copy as a SqlrunError naming the template (the
    driver's error is its cause), and close() still returns."""
    from sqlrun.config import parse_url
    from sqlrun.errors import SqlrunError
    from sqlrun.scratch import CopyPool

    missing = parse_url(pg.url).with_database(f"sqlrun_gone_{uuid.uuid4().hex[:8]}")
    pool = CopyPool(missing, lambda: f"sqlrun_pool_{uuid.uuid4().hex[:8]}", budget=2)
    try:
        with pytest.raises(SqlrunError, match=f"could not make a copy of the test database {missing.database}: .*does not exist") as caught:
            pool.take(timeout=30)
        assert caught.value.__cause__ is not None and not isinstance(caught.value.__cause__, SqlrunError)
    finally:
        pool.close()


def test_a_pool_that_makes_nothing_in_time_says_which_database(pg: TempDatabase) -> None:
    import psycopg

    from sqlrun.config import parse_url
    from sqlrun.errors import SqlrunError
    from sqlrun.scratch import CopyPool

    pg.execute("CREATE TABLE items (id INTEGER PRIMARY KEY)")
    holder = psycopg.connect(pg.url, autocommit=True)  # a session on the template: CREATE DATABASE waits, then fails
    try:
        pool = CopyPool(parse_url(pg.url), lambda: f"sqlrun_pool_{uuid.uuid4().hex[:8]}", budget=2)
        try:
            with pytest.raises(SqlrunError, match=f"test database {pg.name}"):
                pool.take(timeout=0.05)
        finally:
            holder.close()
            pool.close()
    finally:
        holder.close()
