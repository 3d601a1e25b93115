"""The migration lock under faults: a busy SQLite file, a lock connection that dies before or after the scripts.

Real second sessions (another process in BEGIN IMMEDIATE, pg_terminate_backend, MariaDB KILL), never mocks.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import TempDatabase, admin
from sqlrun.report import Reporter
from subproc import run

HOLD_WRITE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE IF NOT EXISTS other (x INTEGER)")
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO other VALUES (1)")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the file's write lock (BEGIN IMMEDIATE, WAL) for ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def _project(tmp_path: Path, scripts: dict[str, str]) -> Path:
    folder = tmp_path / "data" / "migrations"
    folder.mkdir(parents=True)
    for name, body in scripts.items():
        (folder / name).write_text(body)
    return tmp_path


def _history(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version, state FROM sqlrun_history ORDER BY version").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("history", [False, True], ids=["creating-history", "history-exists"])
def test_sqlite_busy_file_waits_with_notices_then_exit_5(tmp_path: Path, history: bool) -> None:
    # Without a history table the wait is for CREATE TABLE; with one, for the script's BEGIN IMMEDIATE.
    # --lock-timeout 7: room for the first notice, due after 5 s, on a loaded machine.
    project = _project(tmp_path, {"001_a.sql": "CREATE TABLE a (x INTEGER);"})
    path = tmp_path / "app.db"
    if history:
        assert run(project, "--database-url", f"sqlite:///{path}").code == 0
        (project / "data" / "migrations" / "002_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    holder = _hold_write_lock(path, 30)
    try:
        started = time.monotonic()
        result = run(project, "--database-url", f"sqlite:///{path}", "--lock-timeout", "7")
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 5, result.text
    assert "waiting for another connection's write lock" in result.text and "database is locked" in result.text
    assert "--lock-timeout" in result.err
    assert "unexpected" not in result.text
    assert 6.9 < took < 25, took  # --lock-timeout, not SQLite's 30 s busy timeout
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()}
    assert "b" not in names and ("a" in names) == history


def test_sqlite_busy_file_is_waited_for_until_it_is_free(tmp_path: Path) -> None:
    project = _project(tmp_path, {"001_a.sql": "CREATE TABLE a (x INTEGER);", "002_b.sql": "INSERT INTO a VALUES (2);"})
    path = tmp_path / "app.db"
    holder = _hold_write_lock(path, 1.5)
    try:
        result = run(project, "--database-url", f"sqlite:///{path}", "--lock-timeout", "30")
    finally:
        holder.wait()
    assert result.code == 0, result.text
    assert _history(path) == [(1, "applied"), (2, "applied")]


# --- the lock's connection dies: before a script, before a commit, after the last script ------------------

MYSQL_BATCH = 1000  # statements per round trip (MySQLDatabase.batch_statements)
THREE = {
    "001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
    "002_b.sql": "INSERT INTO a (id) VALUES (2);\n",
    "003_c.sql": "INSERT INTO a (id) VALUES (3);\n",
}


class _DropLockAt(Reporter):
    """Drops the runner's lock connection from another session at one event of the run (script_done or script_started)."""

    def __init__(self, db: TempDatabase, event: str, version: int, delay: float = 0.0) -> None:
        self.db, self.event, self.version, self.delay = db, event, version, delay
        self.dropped = False
        self.timer: threading.Timer | None = None

    def script_started(self, script: Any, count: int) -> None:
        if self.event == "started" and script.version == self.version:
            if self.delay:  # while the script runs, after the lock was checked before it
                self.timer = threading.Timer(self.delay, self._drop)
                self.timer.start()
            else:
                self._drop()

    def script_done(self, result: Any) -> None:
        if self.event == "done" and result.version == self.version:
            self._drop()

    def _drop(self) -> None:
        with admin(self.db.kind) as cur:
            if self.db.kind == "postgresql":
                # One connection per runner: the lock's session is the one running the scripts.
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.db.name,),
                )
                assert cur.fetchall(), "no session of the runner to terminate"
            else:
                cur.execute("SELECT IS_USED_LOCK(%s)", (f"sqlrun:{self.db.name}.sqlrun_history",))
                owner = cur.fetchone()[0]
                assert owner, "the runner holds no lock to drop"
                cur.execute(f"KILL {int(owner)}")
        self.dropped = True


def _apply(db: TempDatabase, folder: Path, reporter: Reporter) -> Any:
    from sqlrun import runner
    from sqlrun.config import parse_url
    from sqlrun.model import Options

    return runner.apply(parse_url(db.url), Options(directory=folder, lock_timeout=10), reporter)


@pytest.mark.parametrize("db", ["mysql", "postgresql"], indirect=True)
def test_lock_lost_between_scripts_stops_the_run_and_a_rerun_converges(db: TempDatabase, scripts, tmp_path: Path) -> None:
    from sqlrun.errors import ConnectionLostError, LockLostError

    # MySQL's lock has a connection of its own: losing it is a lost lock (5). PostgreSQL's lives on the
    # working session, whose loss the next script's first round trip meets: a lost connection (4).
    expected = LockLostError if db.kind == "mysql" else ConnectionLostError
    folder = scripts(THREE)
    dropper = _DropLockAt(db, "done", 1)
    with pytest.raises(expected) as caught:
        _apply(db, folder, dropper)
    assert dropper.dropped and caught.value.exit_code == (5 if db.kind == "mysql" else 4)
    assert "lock" in str(caught.value) and "run again" in str(caught.value)
    assert [r[:3] for r in db.history()] == [(1, "a", "applied")]
    assert run(tmp_path, "--database-url", db.url, "--dir", str(folder)).code == 0
    assert db.query("SELECT id FROM a ORDER BY id") == [(2,), (3,)]


@pytest.mark.parametrize("db", ["mysql", "postgresql"], indirect=True)
def test_lock_lost_after_the_last_script_is_still_success(db: TempDatabase, scripts) -> None:
    folder = scripts(THREE)
    dropper = _DropLockAt(db, "done", 3)
    result = _apply(db, folder, dropper)  # releasing a lock whose connection is gone must not fail the run
    assert dropper.dropped
    assert [s.version for s in result.scripts] == [1, 2, 3]
    assert [r[2] for r in db.history()] == ["applied"] * 3


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_lock_lost_during_a_script_is_seen_before_its_commit(db: TempDatabase, scripts) -> None:
    # MySQL holds the lock on a connection of its own: the script's session lives on, its commit must not.
    from sqlrun.errors import LockLostError

    folder = scripts(THREE)
    with pytest.raises(LockLostError):
        _apply(db, folder, _DropLockAt(db, "started", 2))
    assert [r[:3] for r in db.history()] == [(1, "a", "applied")]
    assert db.query("SELECT id FROM a") == []


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_failing_script_is_reported_even_when_the_lock_connection_died_too(db: TempDatabase, scripts) -> None:
    from sqlrun.errors import StatementError

    # The lock connection is killed while the script's first batch sleeps, after the lock was checked before
    # the script; the failing statement is in that batch, before the lock is checked for the commit.
    filler = "INSERT INTO a (id) VALUES (1000);\n" * MYSQL_BATCH
    folder = scripts({**THREE, "002_b.sql": "DO SLEEP(1.5);\nINSERT INTO no_such_table (id) VALUES (2);\n" + filler})
    dropper = _DropLockAt(db, "started", 2, delay=0.3)
    with pytest.raises(StatementError) as caught:
        _apply(db, folder, dropper)
    assert dropper.timer is not None
    dropper.timer.join()
    assert dropper.dropped
    assert "002_b.sql:2" in str(caught.value) and "no_such_table" in str(caught.value)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_script_that_releases_the_session_lock_stops_the_run_before_the_next_one(db: TempDatabase, scripts, tmp_path: Path) -> None:
    # The lock lives on the working session, so only a script's own statement can release it; it is
    # looked for again after script statements ran, not before every script (one round trip per script).
    folder = scripts({**THREE, "001_a.sql": THREE["001_a.sql"] + "SELECT pg_advisory_unlock_all();\n"})
    first = run(tmp_path, "--database-url", db.url, "--dir", str(folder))
    assert first.code == 5, first.text
    assert "no longer held by this session" in first.err and "pg_advisory_unlock_all" in first.err
    assert [r[:3] for r in db.history()] == [(1, "a", "applied")]
    assert run(tmp_path, "--database-url", db.url, "--dir", str(folder)).code == 0
    assert [r[0] for r in db.history()] == [1, 2, 3]
