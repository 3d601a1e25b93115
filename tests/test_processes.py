"""Real ``python init_db.py`` processes: replicas starting together, and runs killed with SIGKILL at random moments.

The kill test prints its random seed; rerun a failure with SQLRUN_TEST_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import BACKENDS, _raw_url, admin, require, server_url
from subproc import finish, lock_is_free, read_line_with, start

pytestmark = pytest.mark.slow

REPLICAS = 16
KILLS = 20
SMALL_SCRIPTS = 30
HEAVY_VERSION = 16
HEAVY_ROWS = 3000
SEED = int(os.environ.get("SQLRUN_TEST_SEED") or random.SystemRandom().randrange(2**32))


@contextmanager
def target(kind: str, where: Path, *, create: bool) -> Iterator[str]:
    """A database URL that nothing uses yet (created first when ``create``), dropped afterwards."""
    require(kind)
    name = f"sqlrun_p_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        yield f"sqlite:///{where / name / 'app.db'}"
        shutil.rmtree(where / name, ignore_errors=True)
        return
    if create:
        with admin(kind) as cur:
            cur.execute(f"CREATE DATABASE {name}")
    try:
        yield _raw_url(server_url(kind).with_database(name))
    finally:
        with admin(kind) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else ""))


class Session:
    """One connection to the database at ``url`` for a series of queries."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind, self.url = kind, url

    def __enter__(self) -> Session:
        if self.kind == "sqlite":
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            self.cur = self.conn.cursor()
        else:
            self.ctx = admin(self.kind, self.url.rsplit("/", 1)[1])
            self.cur = self.ctx.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.kind == "sqlite":
            self.conn.close()
        else:
            self.ctx.__exit__(*exc)

    def query(self, sql: str) -> list[tuple]:
        """Rows of ``sql``."""
        self.cur.execute(sql)
        return [tuple(r) for r in self.cur.fetchall()]

    def tables(self) -> list[str]:
        """The database's table names, sorted."""
        sql = {
            "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
            "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        }[self.kind]
        return sorted(r[0] for r in self.query(sql))


def query(kind: str, url: str, sql: str) -> list[tuple]:
    """Rows of ``sql`` on the database at ``url``."""
    with Session(kind, url) as s:
        return s.query(sql)


def snapshot(kind: str, url: str) -> dict[str, object]:
    """Schema, every row of every table, and the history as far as it must match an uninterrupted run."""
    with Session(kind, url) as s:
        names = s.tables()
        data = {t: sorted(s.query(f"SELECT id, label FROM {t}")) for t in names if t != "sqlrun_history"}
        history = s.query("SELECT version, name, file, state, checksum FROM sqlrun_history ORDER BY version")
    return {"tables": names, "data": data, "history": history}


# --- 16 replicas at once ---------------------------------------------------------------------------------------


def replica_scripts(folder: Path) -> None:
    """Scripts whose second run would show: rows in a table without a unique key."""
    folder.mkdir()
    (folder / "001_runs.sql").write_text("CREATE TABLE runs (note VARCHAR(20));\nINSERT INTO runs (note) VALUES ('ran');\n")
    (folder / "002_items.sql").write_text("CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(40));\nINSERT INTO items (id, label) VALUES (1, 'one');\n")
    (folder / "003_more.sql").write_text("INSERT INTO runs (note) VALUES ('again');\nCREATE INDEX ix_items_label ON items (label);\n")
    # A repeatable script: its table (sqlrun_repeatable) is created by whichever replica gets there first.
    (folder / "R__note.sql").write_text("INSERT INTO runs (note) VALUES ('repeatable');\n")


@pytest.mark.parametrize("kind", BACKENDS)
def test_sixteen_replicas_start_at_once(kind: str, tmp_path: Path) -> None:
    replica_scripts(tmp_path / "migrations")
    # The database does not exist yet either: the replicas race to create it too.
    with target(kind, tmp_path, create=False) as url:
        procs = [start(tmp_path, "--database-url", url, "--dir", "migrations") for _ in range(REPLICAS)]
        results = [finish(p) for p in procs]

        assert [r.code for r in results] == [0] * REPLICAS, "\n".join(r.text for r in results if r.code)
        assert all("Traceback" not in r.text for r in results)
        for script in ("001_runs.sql", "002_items.sql", "003_more.sql", "R__note.sql"):
            assert sum(r.out.count(f"applied {script}") for r in results) == 1, script
        others = [r for r in results if "applied 001_runs.sql" not in r.out]
        assert len(others) == REPLICAS - 1
        assert all("nothing to do" in r.out for r in others)
        assert query(kind, url, "SELECT note FROM runs ORDER BY note") == [("again",), ("ran",), ("repeatable",)]
        assert query(kind, url, "SELECT name, state FROM sqlrun_repeatable") == [("note", "applied")]
        history = query(kind, url, "SELECT version, state, tolerated FROM sqlrun_history ORDER BY version")
        assert history == [(1, "applied", 0), (2, "applied", 0), (3, "applied", 0)]


# --- SIGKILL at random moments --------------------------------------------------------------------------------


def crash_scripts(folder: Path) -> None:
    """Many small scripts written the way the README advises (explicit keys), and one heavy one."""
    folder.mkdir()
    for v in range(1, SMALL_SCRIPTS + 2):
        name = f"{v:03d}_t{v:03d}.sql"
        if v == HEAVY_VERSION:
            rows = "\n".join(f"INSERT INTO heavy (id, label) VALUES ({i}, 'row {i}');" for i in range(1, HEAVY_ROWS + 1))
            (folder / f"{v:03d}_heavy.sql").write_text(f"CREATE TABLE heavy (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL);\n{rows}\n")
            continue
        t = f"t{v:03d}"
        # On MySQL a CREATE INDEX commits the INSERTs before it, ahead of the history row: a kill after it
        # leaves partial effects that the re-run must tolerate. (Only every third script: DDL is slow there.)
        index = f"CREATE INDEX ix_{t}_label ON {t} (label);\n" if v % 3 == 0 else ""
        (folder / name).write_text(
            f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL);\n"
            f"INSERT INTO {t} (id, label) VALUES (1, 'a{v}'), (2, 'b{v}');\n"
            f"{index}INSERT INTO {t} (id, label) VALUES (3, 'c{v}');\n"
        )


def expected_rows(table: str) -> int:
    """How many rows the script that creates ``table`` leaves."""
    return HEAVY_ROWS if table == "heavy" else 3


def assert_only_complete_scripts_recorded(kind: str, url: str) -> int:
    """Every script on record as applied ran all its statements; returns how many are on record."""
    with Session(kind, url) as s:
        if "sqlrun_history" not in s.tables():
            return 0
        history = s.query("SELECT version, name, state FROM sqlrun_history")
        for version, name, state in history:
            assert state == "applied", (version, state)
            table = "heavy" if name == "heavy" else f"t{version:03d}"
            assert s.query(f"SELECT count(*) FROM {table}") == [(expected_rows(table),)], f"{table} recorded but incomplete"
    return len(history)


def timed_run(cwd: Path, url: str) -> float:
    """Seconds from the runner's first line to its exit, for an uninterrupted run (to aim the kills)."""
    proc = start(cwd, "--database-url", url, "--dir", "migrations")
    first = read_line_with(proc, "database:")
    began = time.monotonic()
    result = finish(proc, before=first)
    assert result.code == 0, result.text
    return time.monotonic() - began


@pytest.mark.parametrize("kind", BACKENDS)
def test_sigkill_at_random_moments_converges(kind: str, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-{kind}")
    print(f"SQLRUN_TEST_SEED={SEED}")
    crash_scripts(tmp_path / "migrations")
    with target(kind, tmp_path, create=True) as url:
        span = timed_run(tmp_path, url)
        reference = snapshot(kind, url)
    assert len(reference["history"]) == SMALL_SCRIPTS + 1
    interrupted = 0
    for attempt in range(KILLS):
        delay = rng.uniform(0, span)
        with target(kind, tmp_path, create=True) as url:
            proc = start(tmp_path, "--database-url", url, "--dir", "migrations")
            read_line_with(proc, "database:")
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            exists = kind != "sqlite" or Path(url.removeprefix("sqlite:///")).exists()
            recorded = assert_only_complete_scripts_recorded(kind, url) if exists else 0
            interrupted += recorded < SMALL_SCRIPTS + 1
            if exists:
                assert lock_is_free(url), f"attempt {attempt}: the killed runner's lock was not freed"
            again = finish(start(tmp_path, "--database-url", url, "--dir", "migrations", "--lock-timeout", "30"))
            print(f"{kind} attempt {attempt}: killed after {delay:.3f}s with {recorded} script(s) recorded; rerun exit {again.code}")
            assert again.code == 0, again.text
            assert snapshot(kind, url) == reference, f"attempt {attempt} (delay {delay:.3f}s) did not converge"
    # The kills are aimed at the run; if none landed before its end the test would prove nothing.
    assert interrupted > 0


def test_sigkill_while_a_big_first_script_is_split_as_it_runs(tmp_path: Path) -> None:
    # PostgreSQL splits a first script of 1 MB or more in a thread while its batches run: a kill at any
    # moment must leave it either wholly applied and recorded, or not at all; the next run finishes it.
    rng = random.Random(f"{SEED}-overlap")
    folder = tmp_path / "migrations"
    folder.mkdir()
    rows = 12000  # about 1.1 MB: above execute.OVERLAP_BYTES
    body = "\n".join(f"INSERT INTO heavy (id, label) VALUES ({i}, 'row {i} of a script that is long enough');" for i in range(1, rows + 1))
    (folder / "001_heavy.sql").write_text(f"CREATE TABLE heavy (id INTEGER PRIMARY KEY, label VARCHAR(60) NOT NULL);\n{body}\n")
    assert (folder / "001_heavy.sql").stat().st_size >= 1 << 20
    (folder / "002_after.sql").write_text("CREATE TABLE after_heavy (id INTEGER PRIMARY KEY, label VARCHAR(40));\n")
    with target("postgresql", tmp_path, create=True) as url:
        span = timed_run(tmp_path, url)
    for attempt in range(6):
        delay = rng.uniform(0, span)
        with target("postgresql", tmp_path, create=True) as url:
            proc = start(tmp_path, "--database-url", url, "--dir", "migrations")
            read_line_with(proc, "database:")
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            with Session("postgresql", url) as s:
                tables = s.tables()
                recorded = s.query("SELECT version FROM sqlrun_history ORDER BY version") if "sqlrun_history" in tables else []
                heavy = s.query("SELECT count(*) FROM heavy")[0][0] if "heavy" in tables else 0
            print(f"attempt {attempt}: killed after {delay:.3f}s: recorded {recorded}, {heavy} rows")
            assert heavy == (rows if recorded else 0), (recorded, heavy)
            assert lock_is_free(url)
            again = finish(start(tmp_path, "--database-url", url, "--dir", "migrations", "--lock-timeout", "30"))
            assert again.code == 0, again.text
            with Session("postgresql", url) as s:
                assert s.query("SELECT version FROM sqlrun_history ORDER BY version") == [(1,), (2,)]
                assert s.query("SELECT count(*) FROM heavy") == [(rows,)]
