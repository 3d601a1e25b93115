"""A script statement blocked by another session's lock: --lock-wait bounds the wait, retries, names the blocker.

A real second session holds the lock; sqlrun runs as a real process; a third session's plain SELECT on the
table must not be held up (queued behind sqlrun's lock request) for longer than --lock-wait.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import TempDatabase, admin, make_database
from subproc import finish, read_line_with, start

LOCK_WAIT = 2.0
RETRIES = 3
SLACK = 0.75  # seconds of scheduling noise allowed on a loaded machine


@pytest.fixture(params=["mysql", "postgresql"])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """An empty database on each server backend, with a table t (id, x) holding one row."""
    for db in make_database(request.param, tmp_path):
        db.execute("CREATE TABLE t (id INT PRIMARY KEY, x INT)")
        db.execute("INSERT INTO t VALUES (1, 1)")
        yield db


class Holder:
    """A second session that holds a lock on t in an open transaction until released."""

    def __init__(self, db: TempDatabase, how: str) -> None:
        self.ctx = admin(db.kind, db.name)
        self.cur = self.ctx.__enter__()
        if db.kind == "postgresql":
            self.cur.execute("SET application_name = 'holder_app'")
            self.cur.execute("BEGIN")
        else:
            self.cur.execute("START TRANSACTION")
        self.cur.execute(how)
        self.id = self._id(db.kind)

    def _id(self, kind: str) -> int:
        self.cur.execute("SELECT pg_backend_pid()" if kind == "postgresql" else "SELECT CONNECTION_ID()")
        return int(self.cur.fetchone()[0])

    def release(self) -> None:
        """Commit, which lets the lock go, and close."""
        if self.ctx is not None:
            self.cur.execute("COMMIT")
            self.ctx.__exit__(None, None, None)
            self.ctx = None


HOLD = {"postgresql": "LOCK TABLE t IN ACCESS SHARE MODE", "mysql": "SELECT * FROM t"}  # what an idle reader holds


def _timed_select(db: TempDatabase, box: dict[str, Any]) -> None:
    started = time.monotonic()
    box["rows"] = db.query("SELECT count(*) FROM t")
    box["seconds"] = time.monotonic() - started


def _run(db: TempDatabase, folder: Path, *extra: str):  # noqa: ANN202 - a Popen
    return start(folder.parent, "--database-url", db.url, "--dir", str(folder), "--lock-wait", f"{LOCK_WAIT:g}", *extra)


def test_blocked_alter_gives_up_names_the_blocker_and_never_holds_readers_longer(server_db: TempDatabase, scripts) -> None:
    folder = scripts({"001_alter.sql": "ALTER TABLE t ADD COLUMN y INT;\n"})
    holder = Holder(server_db, HOLD[server_db.kind])
    try:
        began = time.monotonic()
        proc = _run(server_db, folder)
        notice = read_line_with(proc, "waiting for a lock")
        box: dict[str, Any] = {}
        reader = threading.Thread(target=_timed_select, args=(server_db, box))
        reader.start()  # queued behind sqlrun's pending exclusive lock
        reader.join(60)
        run = finish(proc, timeout=120, before=notice)
        elapsed = time.monotonic() - began
    finally:
        holder.release()
    assert box["rows"] == [(1,)]
    assert box["seconds"] <= LOCK_WAIT + SLACK, box
    assert run.code == 1, run.text
    assert f"session {holder.id}" in notice, notice
    assert f"session {holder.id}" in run.err and "gave up waiting for another session's lock" in run.err, run.err
    assert "001_alter.sql:1" in run.err and "--lock-wait" in run.err
    if server_db.kind == "postgresql":
        assert "holder_app" in run.err and "AccessExclusiveLock on t" in notice, run.text
        assert "rolled back and is not recorded" in run.err
    assert run.out.count("retry") == RETRIES, run.out
    # Four waits and the pauses between them, and no more: it neither hung nor gave up early.
    assert (RETRIES + 1) * LOCK_WAIT + 3.5 - SLACK <= elapsed <= 2 * (RETRIES + 1) * LOCK_WAIT + 3.5 + 10, elapsed
    assert "y" not in _columns(server_db)
    assert [r[2] for r in server_db.history()] in ([], ["failed"])  # MySQL records a failed DDL script; PG rolled it back


def test_a_retry_succeeds_once_the_blocker_is_gone(server_db: TempDatabase, scripts) -> None:
    folder = scripts({"001_alter.sql": "ALTER TABLE t ADD COLUMN y INT;\nINSERT INTO t (id, x, y) VALUES (2, 2, 2);\n"})
    holder = Holder(server_db, HOLD[server_db.kind])
    try:
        proc = _run(server_db, folder)
        seen = read_line_with(proc, "retry 1 of 3")
    finally:
        holder.release()
    run = finish(proc, timeout=60, before=seen)
    assert run.code == 0, run.text
    assert "y" in _columns(server_db)
    assert server_db.query("SELECT count(*) FROM t") == [(2,)]
    assert [r[:3] for r in server_db.history()] == [(1, "alter", "applied")]


def test_mysql_row_lock_retries_the_statement_and_names_its_holder(tmp_path: Path, scripts) -> None:
    for db in make_database("mysql", tmp_path):
        db.execute("CREATE TABLE t (id INT PRIMARY KEY, x INT) ENGINE=InnoDB")
        db.execute("INSERT INTO t VALUES (1, 1)")
        folder = scripts({"001_update.sql": "CREATE TABLE u (x INT);\nUPDATE t SET x = 3 WHERE id = 1;\n"})
        holder = Holder(db, "UPDATE t SET x = 2 WHERE id = 1")
        try:
            run = finish(start(folder.parent, "--database-url", db.url, "--dir", str(folder), "--lock-wait", "1"), timeout=60)
        finally:
            holder.release()
        assert run.code == 1, run.text
        assert "001_update.sql:2" in run.err and f"session {holder.id}" in run.err, run.text
        assert "running that statement again" in run.out and run.out.count("retry") == RETRIES, run.out
        assert "recorded as failed" in run.err
        assert db.query("SELECT x FROM t") == [(2,)]


def test_postgresql_no_transaction_script_retries_the_statement(tmp_path: Path, scripts) -> None:
    for db in make_database("postgresql", tmp_path):
        db.execute("CREATE TABLE t (id INT PRIMARY KEY, x INT)")
        folder = scripts({"001_alter.sql": "-- sqlrun: no-transaction\nCREATE TABLE u (x INT);\nALTER TABLE t ADD COLUMN y INT;\n"})
        holder = Holder(db, HOLD["postgresql"])
        try:
            proc = start(folder.parent, "--database-url", db.url, "--dir", str(folder), "--lock-wait", "1")
            seen = read_line_with(proc, "running that statement again in 0.5s (retry 1 of 3)")
        finally:
            holder.release()
        run = finish(proc, timeout=60, before=seen)
        assert run.code == 0, run.text
        assert "001_alter.sql:3" in seen
        assert {"t", "u"} <= db.tables() and "y" in _columns(db, "t")


def _columns(db: TempDatabase, table: str = "t") -> set[str]:
    if db.kind == "postgresql":
        rows = db.query("SELECT column_name FROM information_schema.columns WHERE table_name = %s", table)
    else:
        rows = db.query("SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = %s", table)
    return {r[0] for r in rows}
